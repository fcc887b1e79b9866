// accel_requant: per-lane requantiser = accel.fixed.quantize (optional ReLU first), two register stages.
//
// Built like hardware: stage 1 registers each lane's value on the output grid (ReLU, shift and the rounding
// add: the one carry chain), stage 2 the overflow check and saturation into the output register (accel_skid,
// whose spare register keeps s_axis_tready a flip-flop).  Stage 1 advances while the output register can
// take a beat, so the throughput is one beat per cycle and the latency two.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_requant #(
    parameter IN_WIDTH   = 16,  // input element width (1..62, an accumulator's widest; >= 2 when signed)
    parameter IN_SIGNED  = 1,   // 1: input two's complement, 0: unsigned
    parameter integer IN_FRAC  = 8,  // input fractional bits (may be negative; integer: a negative override stays signed)
    parameter OUT_WIDTH  = 8,   // output element width (1..32; >= 2 when signed)
    parameter OUT_SIGNED = 1,   // 1: output two's complement, 0: unsigned
    parameter integer OUT_FRAC = 4,  // output fractional bits (may be negative)
    parameter ROUNDING   = 0,   // 0 truncate (floor), 1 round half up, 2 round half to even
    parameter OVERFLOW   = 0,   // 0 wrap, 1 saturate, 2 symmetric saturate
    parameter RELU       = 0,   // 1: max(x, 0) before quantising
    parameter LANES      = 1,   // elements per beat
    parameter BEATS      = 1    // beats per frame (TLAST on every BEATS-th output beat)
) (
    input  wire                       clk,
    input  wire                       rst,
    input  wire [LANES*IN_WIDTH-1:0]  s_axis_tdata,
    input  wire                       s_axis_tvalid,
    output wire                       s_axis_tready,
    input  wire                       s_axis_tlast,
    output wire [LANES*OUT_WIDTH-1:0] m_axis_tdata,
    output wire                       m_axis_tvalid,
    input  wire                       m_axis_tready,
    output wire                       m_axis_tlast
);

    localparam SHIFT = OUT_FRAC - IN_FRAC;          // > 0: left shift, < 0: rounding right shift
    localparam ASHIFT = (SHIFT < 0) ? -SHIFT : SHIFT;
    // working width: input, shift, sign and rounding carry, and at least the output and its sign (an output
    // wider than the input, e.g. an accumulator of sparse weights widened by the activation after it)
    localparam WW = (IN_WIDTH + ASHIFT + 3 > OUT_WIDTH + 1) ? IN_WIDTH + ASHIFT + 3 : OUT_WIDTH + 1;
    localparam BW = (BEATS > 1) ? $clog2(BEATS) : 1; // beat counter bits

    initial begin
        if (IN_WIDTH < 1 || IN_WIDTH > 62 || OUT_WIDTH < 1 || OUT_WIDTH > 32 ||
            (IN_SIGNED != 0 && IN_WIDTH < 2) || (OUT_SIGNED != 0 && OUT_WIDTH < 2) ||
            ROUNDING < 0 || ROUNDING > 2 || OVERFLOW < 0 || OVERFLOW > 2 || LANES < 1 || BEATS < 1 || ASHIFT > 64) begin
            $error("%m: accel_requant parameters out of range (input width 1..62, output 1..32, ROUNDING/OVERFLOW 0..2, LANES, BEATS >= 1)");
            $finish;
        end
    end

    reg mid_valid, mid_last;       // stage 1 holds a beat (and whether it ends the frame)
    reg [BW-1:0] beat;  // input beat index within the frame
    wire in_last = (beat == BEATS[BW-1:0] - 1'b1) || (BEATS == 1);
    wire en;            // the pipeline advances: the output register (accel_skid) takes a beat, a flip-flop
    wire [LANES*OUT_WIDTH-1:0] q;

    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : lane
            wire [IN_WIDTH-1:0] xin = s_axis_tdata[i*IN_WIDTH +: IN_WIDTH];
            wire x_neg = (IN_SIGNED != 0) && xin[IN_WIDTH-1];
            // sign- or zero-extend, then ReLU
            wire signed [WW-1:0] xe = {{(WW-IN_WIDTH){x_neg}}, xin};
            wire signed [WW-1:0] xr = (RELU != 0 && x_neg) ? {WW{1'b0}} : xe;
            wire signed [WW-1:0] v;  // value on the output grid, before overflow handling
            if (SHIFT > 0) begin : left
                assign v = xr <<< ASHIFT;
            end else if (SHIFT < 0) begin : right
                wire signed [WW-1:0] fl = xr >>> ASHIFT;  // floor
                wire half = xr[ASHIFT-1];                 // the dropped MSB: remainder >= half
                wire rest;                                // any dropped bit below it
                if (ASHIFT >= 2) begin : r2
                    assign rest = |xr[ASHIFT-2:0];
                end else begin : r1
                    assign rest = 1'b0;
                end
                wire up = (ROUNDING == 1) ? half :
                          (ROUNDING == 2) ? (half && (rest || fl[0])) : 1'b0;
                assign v = fl + {{(WW-1){1'b0}}, up};
            end else begin : same
                assign v = xr;
            end
            reg signed [WW-1:0] vr;  // stage 1
            always @(posedge clk) begin
                if (en) vr <= v;
            end
            // overflow: does vr fit the output range?
            wire fits;
            if (OUT_SIGNED != 0) begin : fs
                assign fits = (vr[WW-1:OUT_WIDTH-1] == {(WW-OUT_WIDTH+1){1'b0}}) ||
                              (vr[WW-1:OUT_WIDTH-1] == {(WW-OUT_WIDTH+1){1'b1}});
            end else begin : fu
                assign fits = (vr[WW-1:OUT_WIDTH] == {(WW-OUT_WIDTH){1'b0}});
            end
            wire neg = vr[WW-1];
            wire [OUT_WIDTH-1:0] low = vr[OUT_WIDTH-1:0];
            wire [OUT_WIDTH-1:0] vmax = (OUT_SIGNED != 0) ? {1'b0, {(OUT_WIDTH-1){1'b1}}} : {OUT_WIDTH{1'b1}};
            wire [OUT_WIDTH-1:0] vmin = (OUT_SIGNED != 0) ? {1'b1, {(OUT_WIDTH-1){1'b0}}} : {OUT_WIDTH{1'b0}};
            wire [OUT_WIDTH-1:0] sat = fits ? low : (neg ? vmin : vmax);
            wire [OUT_WIDTH-1:0] res = (OVERFLOW == 0) ? low :
                                       (OVERFLOW == 2 && OUT_SIGNED != 0 && sat == vmin) ? vmin + 1'b1 : sat;
            assign q[i*OUT_WIDTH +: OUT_WIDTH] = res;
        end
    endgenerate

    assign s_axis_tready = en;

    accel_skid #(.WIDTH(LANES*OUT_WIDTH)) out (
        .clk(clk), .rst(rst),
        .s_axis_tdata(q), .s_axis_tvalid(mid_valid), .s_axis_tready(en), .s_axis_tlast(mid_last),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast)
    );

    // One output beat per input beat; frame ends are counted (s_axis_tlast is not used).
    wire unused_tlast = s_axis_tlast;
    // a beat taken: the unit of work the cycle model counts (the co-simulation's progress wire; the pipeline never
    // refuses a beat while its output register can take one, so a beat taken per cycle is the block's full rate)
    wire take = s_axis_tvalid && s_axis_tready;
    always @(posedge clk) begin
        if (en) begin
            mid_last <= in_last;
        end
        if (rst) begin
            mid_valid <= 1'b0;
            beat <= {BW{1'b0}};
        end else begin
            if (en) begin
                mid_valid <= s_axis_tvalid;
            end
            if (take) beat <= in_last ? {BW{1'b0}} : beat + 1'b1;
        end
    end

endmodule

`resetall
