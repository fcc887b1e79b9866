// accel_threshold: per lane, out = LEVELS[number of THRESHOLDS <= x] (accel's threshold op), two register stages.
//
// The step functions QKeras's power-of-two and sign activations are on a fixed-point input (tabulated by the
// frontend).  Stage 1 compares each lane with every threshold and registers the count; stage 2 looks the level
// up into the output register (accel_skid).  Stage 1 advances while the output register can take a beat: one
// beat per cycle, latency two.
//
// GROUPS = 0: one table for every element: thresholds are constants (THR_FILE, N_THR words, non-decreasing),
// levels LVL_FILE (N_THR + 1 words).
// GROUPS >= 1: one table per channel (a batch normalization folded into the step function).  Lanes carry
// consecutive channels of a pixel, so beat b of a pixel holds channels (b % GROUPS) * LANES + lane; the files hold
// one wide word per group (THR_FILE: GROUPS words of LANES*N_THR*IN_WIDTH bits, LVL_FILE: GROUPS words of
// LANES*(N_THR+1)*OUT_WIDTH bits; lane l's threshold t at bits [(l*N_THR + t)*IN_WIDTH +: IN_WIDTH], levels
// likewise).  The thresholds and levels of the group the next input beat belongs to sit in register rows (a
// registered read of the ROMs at a registered address when a beat is taken, and on reset), so the comparators
// see registers as in the constant form; stage 1 registers the lane's levels with its count, and the output
// selects among them as the constant form selects among its constants (no ROM on any path but into a row).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_threshold #(
    parameter IN_WIDTH  = 8,    // input element width (1..62, a conv accumulator; >= 2 when signed)
    parameter IN_SIGNED = 1,    // 1: input two's complement, 0: unsigned
    parameter OUT_WIDTH = 8,    // output element width (1..32), raw bits of the levels
    parameter N_THR     = 1,    // number of thresholds (>= 1)
    parameter LANES     = 1,    // elements per beat
    parameter BEATS     = 1,    // beats per frame (TLAST on every BEATS-th output beat)
    parameter GROUPS    = 0,    // 0: one table; >= 1: per-channel tables, channels / LANES beats per pixel
    parameter THR_FILE  = "thresholds.mem",  // words of IN_WIDTH bits (two's complement when signed)
    parameter LVL_FILE  = "levels.mem"       // words of OUT_WIDTH bits
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

    localparam IB = $clog2(N_THR + 1);              // bits of the count 0..N_THR
    localparam BW = (BEATS > 1) ? $clog2(BEATS) : 1; // beat counter bits
    localparam [IB-1:0] ONE = 1;
    localparam NG = (GROUPS > 0) ? GROUPS : 1;      // table groups
    localparam NT = (GROUPS > 0) ? LANES : 1;       // tables per group
    localparam GW = (NG > 1) ? $clog2(NG) : 1;      // group index bits

    initial begin
        if (IN_WIDTH < 1 || IN_WIDTH > 62 || OUT_WIDTH < 1 || OUT_WIDTH > 32 || (IN_SIGNED != 0 && IN_WIDTH < 2) ||
            N_THR < 1 || LANES < 1 || BEATS < 1 || GROUPS < 0 || (GROUPS > 0 && BEATS % NG != 0)) begin
            $error("%m: accel_threshold parameters out of range (input width 1..62, output width 1..32, N_THR, LANES, BEATS >= 1, GROUPS >= 0 dividing BEATS)");
            $finish;
        end
    end

    localparam TW = NT*N_THR*IN_WIDTH;        // thresholds of one group
    localparam LW = NT*(N_THR+1)*OUT_WIDTH;   // levels of one group
    // one table: a word per threshold / level; per-channel tables: a word per group
    localparam THR_WORDS = (GROUPS > 0) ? NG : N_THR;
    localparam LVL_WORDS = (GROUPS > 0) ? NG : N_THR + 1;
    localparam THR_BITS = (GROUPS > 0) ? TW : IN_WIDTH;
    localparam LVL_BITS = (GROUPS > 0) ? LW : OUT_WIDTH;
    reg [THR_BITS-1:0] thr [0:THR_WORDS-1];
    reg [LVL_BITS-1:0] lvl [0:LVL_WORDS-1];
    initial begin
        $readmemh(THR_FILE, thr);
        $readmemh(LVL_FILE, lvl);
    end

    reg mid_valid, mid_last;  // stage 1 holds a beat (and whether it ends the frame)
    reg [BW-1:0] beat;        // input beat index within the frame
    wire in_last = (beat == BEATS[BW-1:0] - 1'b1) || (BEATS == 1);
    wire en;                  // the pipeline advances: the output register (accel_skid) takes a beat
    wire take;                // an input beat is taken
    wire [LANES*OUT_WIDTH-1:0] q;

    // the thresholds the lanes compare with (NT tables of N_THR words) and the levels they read (NT tables of
    // N_THR + 1 words)
    wire [TW-1:0] thr_now;
    wire [LW-1:0] lvl_now;
    genvar i, t;
    generate
        if (GROUPS > 0) begin : groups
            // the table group after the next input beat's (whose tables are in the rows): the ROM address, a register
            reg [GW-1:0] nxt;
            wire [GW-1:0] nxt_next = (NG == 1 || nxt == NG[GW-1:0] - 1'b1) ? {GW{1'b0}} : nxt + 1'b1;
            wire [GW-1:0] one_grp = (NG > 1) ? {{(GW-1){1'b0}}, 1'b1} : {GW{1'b0}};
            reg [TW-1:0] thr_row;  // the thresholds of the next input beat's group
            reg [LW-1:0] lvl_row;  // its levels
            always @(posedge clk) begin
                if (rst || take) begin
                    thr_row <= thr[rst ? {GW{1'b0}} : nxt];
                    lvl_row <= lvl[rst ? {GW{1'b0}} : nxt];
                end
                if (rst) nxt <= one_grp;
                else if (take) nxt <= nxt_next;
            end
            assign thr_now = thr_row;
            assign lvl_now = lvl_row;
        end else begin : one
            for (t = 0; t < N_THR; t = t + 1) begin : c
                assign thr_now[t*IN_WIDTH +: IN_WIDTH] = thr[t];  // constants
            end
            assign lvl_now = {LW{1'b0}};  // not read: the lanes read lvl[] directly
            wire unused_lvl_now = ^lvl_now;
        end
    endgenerate

    generate
        for (i = 0; i < LANES; i = i + 1) begin : lane
            wire [IN_WIDTH-1:0] x = s_axis_tdata[i*IN_WIDTH +: IN_WIDTH];
            wire [N_THR-1:0] ge;  // x >= threshold t
            for (t = 0; t < N_THR; t = t + 1) begin : cmp
                wire [IN_WIDTH-1:0] th = thr_now[(((GROUPS > 0) ? i : 0)*N_THR + t)*IN_WIDTH +: IN_WIDTH];
                if (IN_SIGNED != 0) begin : s
                    assign ge[t] = $signed(x) >= $signed(th);
                end else begin : u
                    assign ge[t] = x >= th;
                end
            end
            // the number of thresholds at or below x
            reg [IB-1:0] count;
            integer k;
            always @(*) begin
                count = {IB{1'b0}};
                for (k = 0; k < N_THR; k = k + 1)
                    count = count + (ge[k] ? ONE : {IB{1'b0}});
            end
            reg [IB-1:0] idx;  // stage 1
            always @(posedge clk) begin
                if (en) idx <= count;
            end
            if (GROUPS > 0) begin : pc
                // this lane's levels, registered with the count (stage 1), and the one the count selects
                reg [(N_THR+1)*OUT_WIDTH-1:0] mid_lv;
                always @(posedge clk) begin
                    if (en) mid_lv <= lvl_now[i*(N_THR+1)*OUT_WIDTH +: (N_THR+1)*OUT_WIDTH];
                end
                wire [OUT_WIDTH-1:0] lv [0:N_THR];
                for (t = 0; t <= N_THR; t = t + 1) begin : l
                    assign lv[t] = mid_lv[t*OUT_WIDTH +: OUT_WIDTH];
                end
                assign q[i*OUT_WIDTH +: OUT_WIDTH] = lv[idx];
            end else begin : one
                assign q[i*OUT_WIDTH +: OUT_WIDTH] = lvl[idx];
            end
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
    // a beat taken: the unit of work the cycle model counts (the co-simulation's progress wire)
    assign take = s_axis_tvalid && s_axis_tready;
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
