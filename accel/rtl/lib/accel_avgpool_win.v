// accel_avgpool_win: average pooling with overlapping windows (stride < pool): accel_window -> window average
//
// accel_window turns the (H, W, C) stream into (HO, WO, KH*KW*C) windows in (ky, kx, c) order; an
// accel_avgpool then treats every window as one "row" of KH*KW pixels and averages it (PH = 1,
// PW = KH*KW), so each output pixel is round(window sum / (KH*KW)) exactly, as kernels.avgpool.
// No padding (accel's avgpool has none).  The divider constants come from accel.rtl.blocks.average_plan.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_avgpool_win #(
    parameter H = 5,          // input height
    parameter W = 5,          // input width
    parameter C = 2,          // channels
    parameter P = 1,          // lanes per beat (divides C)
    parameter DATA_W = 8,     // input element width
    parameter SIGNED = 1,     // 1: input elements are two's complement
    parameter KH = 3,         // pool height
    parameter KW = 3,         // pool width
    parameter SH = 2,         // vertical stride
    parameter SW = 2,         // horizontal stride
    parameter SUM_W = 12,     // signed width of a window sum
    parameter RELU = 0,       // divider: 1 = negative sums count as zero
    parameter NUM_SHIFT = 0,  // divider: sum << NUM_SHIFT
    parameter T_OFF = 2313,   // divider: rounding addend + K*DIV
    parameter T_W = 13,       // divider: width of the non-negative dividend
    parameter Z = 1,          // divider: power of two in DIV
    parameter MUL = 1821,     // divider: reciprocal of the odd part of DIV
    parameter MUL_W = 11,     // divider: width of MUL
    parameter MUL_SHIFT = 14, // divider: shift after the multiplication
    parameter DIV = 18,       // divider: 2 * KH * KW (times the output grid shift)
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

localparam HO = (H - KH) / SH + 1;  // output height
localparam WO = (W - KW) / SW + 1;  // output width

wire [P*DATA_W-1:0] win_data;
wire win_valid;
wire win_ready;
wire win_last;

accel_window #(
    .KH(KH), .KW(KW), .SH(SH), .SW(SW), .PT(0), .PB(0), .PL(0), .PR(0), .H(H), .W(W), .C(C), .P(P), .DW(DATA_W)
) window (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(win_data), .m_axis_tvalid(win_valid), .m_axis_tready(win_ready), .m_axis_tlast(win_last)
);

// one register stage between the window's line-buffer read (block RAM's clock-to-out) and the pool's
// compare / add and row-buffer write, with a spare so that the window's ready stays a flip-flop
wire [P*DATA_W-1:0] reg_data;
wire reg_valid;
wire reg_ready;
wire reg_last;

accel_skid #(.WIDTH(P*DATA_W)) stage (
    .clk(clk), .rst(rst),
    .s_axis_tdata(win_data), .s_axis_tvalid(win_valid), .s_axis_tready(win_ready), .s_axis_tlast(win_last),
    .m_axis_tdata(reg_data), .m_axis_tvalid(reg_valid), .m_axis_tready(reg_ready), .m_axis_tlast(reg_last)
);

accel_avgpool #(
    .H(HO * WO), .W(KH * KW), .C(C), .P(P), .DATA_W(DATA_W), .SIGNED(SIGNED), .PH(1), .PW(KH * KW),
    .HO(HO * WO), .WO(1),
    .SUM_W(SUM_W), .RELU(RELU), .NUM_SHIFT(NUM_SHIFT), .T_OFF(T_OFF), .T_W(T_W), .Z(Z), .MUL(MUL),
    .MUL_W(MUL_W), .MUL_SHIFT(MUL_SHIFT), .DIV(DIV), .K(K), .Q_W(Q_W), .ROUND_EVEN(ROUND_EVEN),
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OVERFLOW(OVERFLOW)
) pool (
    .clk(clk), .rst(rst),
    .s_axis_tdata(reg_data), .s_axis_tvalid(reg_valid), .s_axis_tready(reg_ready), .s_axis_tlast(reg_last),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

endmodule

`resetall
