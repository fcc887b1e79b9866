// accel_maxpool_win: max pooling with overlapping windows (stride < pool): accel_window -> window maximum
//
// accel_window turns the (H, W, C) stream into (HO, WO, KH*KW*C) windows in (ky, kx, c) order; an
// accel_maxpool then treats every window as one "row" of KH*KW pixels and takes its maximum.
// The pool's own ('same') padding must never win, as in TensorFlow: accel_window pads unsigned elements
// with zeros (every value is >= 0) and signed ones with the most negative value (PAD_MIN), which no
// window of real values loses to.  With ZERO_PADS the padding is a folded ZeroPadding2D's real zeros,
// which may win, in either type.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_maxpool_win #(
    parameter H = 8,        // input height
    parameter W = 8,        // input width
    parameter C = 2,        // channels
    parameter P = 1,        // lanes per beat (divides C)
    parameter DATA_W = 8,   // element width (input = output type)
    parameter SIGNED = 0,   // 1: elements are two's complement (own padding: the most negative value)
    parameter KH = 3,       // pool height
    parameter KW = 3,       // pool width
    parameter SH = 2,       // vertical stride
    parameter SW = 2,       // horizontal stride
    parameter PT = 0,       // zero rows above (unsigned only, < KH)
    parameter PB = 1,       // zero rows below
    parameter PL = 0,       // zero columns left
    parameter PR = 1,       // zero columns right
    parameter ZERO_PADS = 0 // 1: the padding is real zeros that may win (a folded ZeroPadding2D), so signed is fine
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [P*DATA_W-1:0] s_axis_tdata,
    input  wire                s_axis_tvalid,
    output wire                s_axis_tready,
    input  wire                s_axis_tlast,   // ignored: frames are counted
    output wire [P*DATA_W-1:0] m_axis_tdata,
    output wire                m_axis_tvalid,
    input  wire                m_axis_tready,
    output wire                m_axis_tlast
);

localparam HO = (H + PT + PB - KH) / SH + 1;  // output height
localparam WO = (W + PL + PR - KW) / SW + 1;  // output width

wire [P*DATA_W-1:0] win_data;
wire win_valid;
wire win_ready;
wire win_last;

accel_window #(
    .KH(KH), .KW(KW), .SH(SH), .SW(SW), .PT(PT), .PB(PB), .PL(PL), .PR(PR), .H(H), .W(W), .C(C), .P(P),
    .DW(DATA_W), .PAD_MIN((SIGNED != 0 && ZERO_PADS == 0) ? 1 : 0)
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

accel_maxpool #(
    .H(HO * WO), .W(KH * KW), .C(C), .P(P), .DATA_W(DATA_W), .SIGNED(SIGNED), .PH(1), .PW(KH * KW),
    .PT(0), .PL(0), .HO(HO * WO), .WO(1)
) pool (
    .clk(clk), .rst(rst),
    .s_axis_tdata(reg_data), .s_axis_tvalid(reg_valid), .s_axis_tready(reg_ready), .s_axis_tlast(reg_last),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

endmodule

`resetall
