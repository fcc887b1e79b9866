// accel_dwu: depthwise vector unit: per-channel KxK dot products (depth multiplier M), PE channels at once.
//
// Input: accel_window's stream with P = PE lanes: per output pixel, KK = KH*KW taps in (ky, kx) order,
// each tap as CG = C/PE beats of PE channels.  Output: frames of PIXELS pixels with C*M channels
// (channel c*M + m), PE*M per beat (beat g holds channels g*PE .. g*PE+PE-1, m inner); each element is
// the exact accumulator (OUT_WIDTH bits), i.e. accel.reference.kernels.depthwise_conv2d.
// One beat per cycle: PIXELS*KK*CG cycles per frame.  Partial sums of the CG channel groups are kept in
// a CG-entry accumulator memory because the window interleaves the groups within each tap.
// Weight ROM (WEIGHT_FILE): KK*CG words, word t*CG+g holds w[ky][kx][g*PE+p][m] at bits
// [(p*M+m)*W_WIDTH +: W_WIDTH] (t = ky*KW+kx).  Bias ROM (BIAS_FILE): CG words, word g holds
// (bias[(g*PE+p)*M+m] << bias_shift) at bits [(p*M+m)*OUT_WIDTH +: OUT_WIDTH].
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_dwu #(
    parameter C = 4,               // input channels (multiple of PE)
    parameter M = 1,               // depth multiplier (outputs per input channel)
    parameter KK = 9,              // taps per window (KH*KW)
    parameter PE = 2,              // channels per input beat
    parameter PIXELS = 1,          // output pixels per frame
    parameter IN_WIDTH = 4,        // input element width
    parameter IN_SIGNED = 1,       // 1: input two's complement
    parameter W_WIDTH = 4,         // weight width
    parameter W_SIGNED = 1,        // 1: weights two's complement
    parameter SUM_WIDTH = 16,      // signed width holding every partial dot product exactly
    parameter OUT_WIDTH = 16,      // output (accumulator type) width
    parameter PSHIFT = 0,          // left shift of the dot product onto the accumulator grid
    parameter WEIGHT_FILE = "weights.mem",  // weight ROM image
    parameter BIAS_FILE = "bias.mem"        // bias ROM image (already shifted)
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire [PE*IN_WIDTH-1:0]    s_axis_tdata,
    input  wire                      s_axis_tvalid,
    output wire                      s_axis_tready,
    input  wire                      s_axis_tlast,
    output wire [PE*M*OUT_WIDTH-1:0] m_axis_tdata,
    output wire                      m_axis_tvalid,
    input  wire                      m_axis_tready,
    output wire                      m_axis_tlast
);

    localparam CG = C / PE;
    localparam GW = (CG > 1) ? $clog2(CG) : 1;
    localparam TKW = (KK > 1) ? $clog2(KK) : 1;
    localparam PXW = (PIXELS > 1) ? $clog2(PIXELS) : 1;
    localparam WAW = (KK * CG > 1) ? $clog2(KK * CG) : 1;
    localparam TW = (SUM_WIDTH + PSHIFT > OUT_WIDTH) ? SUM_WIDTH + PSHIFT : OUT_WIDTH;

    initial begin
        if (C < 1 || M < 1 || KK < 1 || PE < 1 || C % PE != 0 || PIXELS < 1 || IN_WIDTH < 1 || W_WIDTH < 1 ||
            SUM_WIDTH < 2 || OUT_WIDTH < 1 || PSHIFT < 0) begin
            $error("%m: accel_dwu parameters are illegal (PE must divide C, sizes >= 1)");
            $finish;
        end
    end

    reg [PE*M*W_WIDTH-1:0] wrom [0:KK*CG-1];
    reg [PE*M*OUT_WIDTH-1:0] brom [0:CG-1];
    initial begin
        $readmemh(WEIGHT_FILE, wrom);
        $readmemh(BIAS_FILE, brom);
    end

    reg [PE*M*SUM_WIDTH-1:0] accm [0:CG-1];
    reg [GW-1:0] g;
    reg [TKW-1:0] t;
    reg [PXW-1:0] px;
    reg [PE*M*OUT_WIDTH-1:0] out_data;
    reg out_valid, out_last;

    /* verilator lint_off WIDTH */
    wire last_g = (g == CG - 1);
    wire last_t = (t == KK - 1);
    wire last_px = (px == PIXELS - 1);
    wire [WAW-1:0] waddr = t * CG + g;
    /* verilator lint_on WIDTH */
    wire first_t = (t == {TKW{1'b0}});
    wire out_free = !out_valid || m_axis_tready;
    wire step = s_axis_tvalid && (!last_t || out_free);
    wire [PE*M*W_WIDTH-1:0] wv = wrom[waddr];
    wire [PE*M*OUT_WIDTH-1:0] bv = brom[g];
    wire [PE*M*SUM_WIDTH-1:0] prev = accm[g];
    wire [PE*IN_WIDTH-1:0] x = s_axis_tdata;
    wire unused_tlast = s_axis_tlast;

    assign s_axis_tready = !last_t || out_free;
    assign m_axis_tvalid = out_valid;
    assign m_axis_tdata = out_data;
    assign m_axis_tlast = out_last;

    wire [PE*M*SUM_WIDTH-1:0] acc_next;
    wire [PE*M*OUT_WIDTH-1:0] result;

    genvar p, m;
    generate
        for (p = 0; p < PE; p = p + 1) begin : pe
            wire signed [IN_WIDTH:0] xe = {IN_SIGNED != 0 && x[p*IN_WIDTH + IN_WIDTH - 1], x[p*IN_WIDTH +: IN_WIDTH]};
            for (m = 0; m < M; m = m + 1) begin : mult
                localparam K = p * M + m;
                wire signed [W_WIDTH:0] we = {W_SIGNED != 0 && wv[K*W_WIDTH + W_WIDTH - 1], wv[K*W_WIDTH +: W_WIDTH]};
                wire signed [SUM_WIDTH-1:0] base = first_t ? {SUM_WIDTH{1'b0}} : prev[K*SUM_WIDTH +: SUM_WIDTH];
                wire signed [SUM_WIDTH-1:0] dot = base + xe * we;
                assign acc_next[K*SUM_WIDTH +: SUM_WIDTH] = dot;
                wire signed [TW-1:0] dot_ext = {{(TW-SUM_WIDTH){dot[SUM_WIDTH-1]}}, dot};
                wire signed [OUT_WIDTH-1:0] b = bv[K*OUT_WIDTH +: OUT_WIDTH];
                wire signed [TW-1:0] b_ext = {{(TW-OUT_WIDTH){b[OUT_WIDTH-1]}}, b};
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [TW-1:0] total = (dot_ext <<< PSHIFT) + b_ext;  // fits OUT_WIDTH by construction
                /* verilator lint_on UNUSEDSIGNAL */
                assign result[K*OUT_WIDTH +: OUT_WIDTH] = total[OUT_WIDTH-1:0];
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (step) begin
            accm[g] <= acc_next;
            if (last_t) begin
                out_data <= result;
                out_last <= last_g && last_px;
            end
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            g <= {GW{1'b0}};
            t <= {TKW{1'b0}};
            px <= {PXW{1'b0}};
            out_valid <= 1'b0;
        end else begin
            if (step && last_t) out_valid <= 1'b1;
            else if (m_axis_tready) out_valid <= 1'b0;
            if (step) begin
                if (!last_g) begin
                    g <= g + 1'b1;
                end else begin
                    g <= {GW{1'b0}};
                    if (!last_t) begin
                        t <= t + 1'b1;
                    end else begin
                        t <= {TKW{1'b0}};
                        px <= last_px ? {PXW{1'b0}} : px + 1'b1;
                    end
                end
            end
        end
    end

endmodule

`resetall
