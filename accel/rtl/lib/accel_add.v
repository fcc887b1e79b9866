// accel_add: element-wise sum of two streams after aligning their fixed-point grids (residual join)
//
// out = (a << A_SHIFT) + (b << B_SHIFT), exact in the OUT_W-bit output type (accel's add type covers
// every possible sum, so nothing can overflow).  The two inputs are joined beat by beat: a beat is
// consumed from both at once, so each input must be buffered (FIFO) by its producer path as needed.
// More than two operands: chain accel_add blocks.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_add #(
    parameter H = 2,         // height (for counting frames)
    parameter W = 2,         // width
    parameter C = 4,         // channels
    parameter P = 2,         // lanes per beat (divides C), the same on both inputs and the output
    parameter A_W = 8,       // input 0 element width
    parameter A_SIGNED = 1,  // 1: input 0 is two's complement
    parameter A_SHIFT = 0,   // left shift aligning input 0 to the output grid
    parameter B_W = 8,       // input 1 element width
    parameter B_SIGNED = 1,  // 1: input 1 is two's complement
    parameter B_SHIFT = 0,   // left shift aligning input 1 to the output grid
    parameter OUT_W = 9      // output element width (two's complement if either input is); the caller
                             // guarantees every sum fits, so it may be narrower than an input (a partial
                             // sum of a chain typed by the range of its operands, not of its input types)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire [P*A_W-1:0]   s0_axis_tdata,
    input  wire               s0_axis_tvalid,
    output wire               s0_axis_tready,
    input  wire               s0_axis_tlast,  // ignored: frames are counted
    input  wire [P*B_W-1:0]   s1_axis_tdata,
    input  wire               s1_axis_tvalid,
    output wire               s1_axis_tready,
    input  wire               s1_axis_tlast,  // ignored: frames are counted
    output wire [P*OUT_W-1:0] m_axis_tdata,
    output wire               m_axis_tvalid,
    input  wire               m_axis_tready,
    output wire               m_axis_tlast
);

localparam BEATS = H * W * (C / P);  // beats per frame
// operands are extended to IW bits, summed, and the low OUT_W bits kept: exact because the sum fits OUT_W
localparam IW0 = (A_W + A_SHIFT > B_W + B_SHIFT) ? A_W + A_SHIFT : B_W + B_SHIFT;
localparam IW = (IW0 > OUT_W ? IW0 : OUT_W) + 1;
localparam NW = $clog2(BEATS + 1);
/* verilator lint_off WIDTH */
localparam [NW-1:0] N_LAST = BEATS - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C % P != 0 || OUT_W < 1 || A_SHIFT < 0 || B_SHIFT < 0) begin
        $error("%m: illegal parameters (C=%0d P=%0d A_W=%0d A_SHIFT=%0d B_W=%0d B_SHIFT=%0d OUT_W=%0d)",
               C, P, A_W, A_SHIFT, B_W, B_SHIFT, OUT_W);
        $finish;
    end
end

reg [NW-1:0] count;
wire [P*OUT_W-1:0] sum;
wire out_ready;      // the output register (accel_skid) takes a beat: a flip-flop, not m_axis_tready

wire take = s0_axis_tvalid && s1_axis_tvalid && out_ready;
assign s0_axis_tready = take;
assign s1_axis_tready = take;

accel_skid #(.WIDTH(P*OUT_W)) out (
    .clk(clk), .rst(rst),
    .s_axis_tdata(sum), .s_axis_tvalid(take), .s_axis_tready(out_ready), .s_axis_tlast(count == N_LAST),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

genvar k;
generate
    for (k = 0; k < P; k = k + 1) begin : lane
        wire [A_W-1:0] a = s0_axis_tdata[k*A_W +: A_W];
        wire [B_W-1:0] b = s1_axis_tdata[k*B_W +: B_W];
        wire [IW-1:0] ax = {{(IW - A_W){A_SIGNED != 0 && a[A_W-1]}}, a};
        wire [IW-1:0] bx = {{(IW - B_W){B_SIGNED != 0 && b[B_W-1]}}, b};
        wire [IW-1:0] full = (ax << A_SHIFT) + (bx << B_SHIFT);
        /* verilator lint_off UNUSEDSIGNAL */
        wire [IW-1:0] full_all = full;  // the bits above OUT_W are sign copies: the sum fits OUT_W
        /* verilator lint_on UNUSEDSIGNAL */
        assign sum[k*OUT_W +: OUT_W] = full_all[OUT_W-1:0];
    end
endgenerate

always @(posedge clk) begin
    if (take) begin
        count <= (count == N_LAST) ? {NW{1'b0}} : count + 1'b1;
    end
    if (rst) begin
        count <= {NW{1'b0}};
    end
end

// tlast inputs are not needed (frames are counted)
/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s0_axis_tlast ^ s1_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
