// accel_concat: channel concatenation of two streams, each aligned to the output fixed-point grid
//
// Per pixel the output carries input 0's C0 channels (C0/P beats) then input 1's C1 channels
// (C1/P beats), each element shifted left by its alignment and extended to OUT_W bits, so the result
// is exactly accel's concat in the union type.  N inputs: chain N-1 accel_concat blocks (the first
// output feeds the next block's input 0), which keeps every block two-input and equally cheap.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_concat #(
    parameter H = 2,         // height (for counting pixels and frames)
    parameter W = 2,         // width
    parameter C0 = 2,        // channels of input 0 (first in the output pixel)
    parameter C1 = 4,        // channels of input 1
    parameter P = 2,         // lanes per beat on both inputs and the output (divides C0 and C1)
    parameter A_W = 8,       // input 0 element width
    parameter A_SIGNED = 1,  // 1: input 0 is two's complement
    parameter A_SHIFT = 0,   // left shift aligning input 0 to the output grid
    parameter B_W = 8,       // input 1 element width
    parameter B_SIGNED = 1,  // 1: input 1 is two's complement
    parameter B_SHIFT = 0,   // left shift aligning input 1 to the output grid
    parameter OUT_W = 8      // output element width (two's complement if either input is)
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

localparam B0 = C0 / P;             // input 0 beats per pixel
localparam BT = (C0 + C1) / P;      // output beats per pixel
localparam PIXELS = H * W;
localparam BW = $clog2(BT + 1);
localparam XW = $clog2(PIXELS + 1);
/* verilator lint_off WIDTH */
localparam [BW-1:0] B0_C = B0;
localparam [BW-1:0] B_LAST = BT - 1;
localparam [XW-1:0] X_LAST = PIXELS - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C0 % P != 0 || C1 % P != 0 || C0 < 1 || C1 < 1 || OUT_W < A_W + A_SHIFT
        || OUT_W < B_W + B_SHIFT) begin
        $error("%m: illegal parameters (C0=%0d C1=%0d P=%0d A_W=%0d A_SHIFT=%0d B_W=%0d B_SHIFT=%0d OUT_W=%0d)",
               C0, C1, P, A_W, A_SHIFT, B_W, B_SHIFT, OUT_W);
        $finish;
    end
end

reg [BW-1:0] beat;   // output beat within the pixel
reg [XW-1:0] pixel;
wire [P*OUT_W-1:0] a_al;
wire [P*OUT_W-1:0] b_al;
wire out_ready;      // the output register (accel_skid) takes a beat: a flip-flop, not m_axis_tready

wire from_a = beat < B0_C;
wire in_valid = from_a ? s0_axis_tvalid : s1_axis_tvalid;
wire take = in_valid && out_ready;
assign s0_axis_tready = take && from_a;
assign s1_axis_tready = take && !from_a;

accel_skid #(.WIDTH(P*OUT_W)) out (
    .clk(clk), .rst(rst),
    .s_axis_tdata(from_a ? a_al : b_al), .s_axis_tvalid(take), .s_axis_tready(out_ready),
    .s_axis_tlast((beat == B_LAST) && (pixel == X_LAST)),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

genvar k;
generate
    for (k = 0; k < P; k = k + 1) begin : lane
        wire [A_W-1:0] a = s0_axis_tdata[k*A_W +: A_W];
        wire [B_W-1:0] b = s1_axis_tdata[k*B_W +: B_W];
        // one extra bit avoids a zero-width replication when OUT_W == A_W; it is dropped below
        wire [OUT_W:0] ax = {{(OUT_W + 1 - A_W){A_SIGNED != 0 && a[A_W-1]}}, a} << A_SHIFT;
        wire [OUT_W:0] bx = {{(OUT_W + 1 - B_W){B_SIGNED != 0 && b[B_W-1]}}, b} << B_SHIFT;
        assign a_al[k*OUT_W +: OUT_W] = ax[OUT_W-1:0];
        assign b_al[k*OUT_W +: OUT_W] = bx[OUT_W-1:0];
        /* verilator lint_off UNUSEDSIGNAL */
        wire unused_top = ax[OUT_W] ^ bx[OUT_W];
        /* verilator lint_on UNUSEDSIGNAL */
    end
endgenerate

always @(posedge clk) begin
    if (take) begin
        if (beat == B_LAST) begin
            beat <= {BW{1'b0}};
            pixel <= (pixel == X_LAST) ? {XW{1'b0}} : pixel + 1'b1;
        end else begin
            beat <= beat + 1'b1;
        end
    end
    if (rst) begin
        beat <= {BW{1'b0}};
        pixel <= {XW{1'b0}};
    end
end

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s0_axis_tlast ^ s1_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
