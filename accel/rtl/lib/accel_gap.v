// accel_gap: global average pooling, (H, W, C) -> (1, 1, C), round(sum / (H*W)) exactly into the output type
//
// An accel_avgpool whose window is the whole image: one partial sum per channel, so the buffer holds
// C/P words.  The divider constants come from accel.rtl.blocks.average_plan (proven exact in Python).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_gap #(
    parameter H = 5,          // input height
    parameter W = 5,          // input width
    parameter C = 2,          // channels
    parameter P = 1,          // lanes per beat (divides C)
    parameter DATA_W = 8,     // input element width
    parameter SIGNED = 1,     // 1: input elements are two's complement
    parameter SUM_W = 13,     // signed width of the sum over H*W pixels
    parameter RELU = 0,       // divider: 1 = negative sums count as zero
    parameter NUM_SHIFT = 0,  // divider: sum << NUM_SHIFT
    parameter T_OFF = 6425,   // divider: rounding addend + K*DIV
    parameter T_W = 14,       // divider: width of the non-negative dividend
    parameter Z = 1,          // divider: power of two in DIV
    parameter MUL = 5243,     // divider: reciprocal of the odd part of DIV
    parameter MUL_W = 13,     // divider: width of MUL
    parameter MUL_SHIFT = 17, // divider: shift after the multiplication
    parameter DIV = 50,       // divider: 2 * H * W (times the output grid shift)
    parameter K = 128,        // divider: quotient offset
    parameter Q_W = 9,        // divider: signed width of the quotient
    parameter ROUND_EVEN = 1, // divider: 1 = ties to even
    parameter OUT_W = 8,      // output element width
    parameter OUT_SIGNED = 1, // 1: output elements are two's complement
    parameter OVERFLOW = 1    // 0: wrap, 1: saturate, 2: symmetric saturate
) (
    input  wire               clk,
    input  wire               rst,
    input  wire [P*DATA_W-1:0] s_axis_tdata,
    input  wire               s_axis_tvalid,
    output wire               s_axis_tready,
    input  wire               s_axis_tlast,   // ignored: frames are counted
    output wire [P*OUT_W-1:0] m_axis_tdata,
    output wire               m_axis_tvalid,
    input  wire               m_axis_tready,
    output wire               m_axis_tlast
);

accel_avgpool #(
    .H(H), .W(W), .C(C), .P(P), .DATA_W(DATA_W), .SIGNED(SIGNED), .PH(H), .PW(W), .HO(1), .WO(1),
    .SUM_W(SUM_W), .RELU(RELU), .NUM_SHIFT(NUM_SHIFT), .T_OFF(T_OFF), .T_W(T_W), .Z(Z), .MUL(MUL),
    .MUL_W(MUL_W), .MUL_SHIFT(MUL_SHIFT), .DIV(DIV), .K(K), .Q_W(Q_W), .ROUND_EVEN(ROUND_EVEN),
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OVERFLOW(OVERFLOW)
) pool (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

endmodule

`resetall
