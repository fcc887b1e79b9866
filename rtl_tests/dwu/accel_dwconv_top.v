// accel_dwconv_top: test top for a depthwise conv = accel_window -> accel_dwu (PE = window lanes).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_dwconv_top #(
    parameter KH = 3, parameter KW = 3,   // kernel
    parameter SH = 1, parameter SW = 1,   // stride
    parameter PT = 1, parameter PB = 1, parameter PL = 1, parameter PR = 1,  // zero padding
    parameter H = 8, parameter W = 8, parameter C = 4,  // input shape
    parameter P = 2,                      // window lanes = DWU PE
    parameter M = 1,                      // depth multiplier
    parameter PIXELS = 16,                // output pixels per frame
    parameter IN_WIDTH = 4, parameter IN_SIGNED = 1,
    parameter W_WIDTH = 4, parameter W_SIGNED = 1,
    parameter SUM_WIDTH = 16, parameter OUT_WIDTH = 16, parameter PSHIFT = 0,
    parameter WEIGHT_FILE = "weights.mem", parameter BIAS_FILE = "bias.mem",
    parameter MULT = 0                    // multiplier style
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [P*IN_WIDTH-1:0]    s_axis_tdata,
    input  wire                     s_axis_tvalid,
    output wire                     s_axis_tready,
    input  wire                     s_axis_tlast,
    output wire [P*M*OUT_WIDTH-1:0] m_axis_tdata,
    output wire                     m_axis_tvalid,
    input  wire                     m_axis_tready,
    output wire                     m_axis_tlast
);
    wire [P*IN_WIDTH-1:0] w_tdata;
    wire w_tvalid, w_tready, w_tlast;

    accel_window #(.KH(KH), .KW(KW), .SH(SH), .SW(SW), .PT(PT), .PB(PB), .PL(PL), .PR(PR),
                   .H(H), .W(W), .C(C), .P(P), .DW(IN_WIDTH)) win (
        .clk(clk), .rst(rst),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .s_axis_tlast(s_axis_tlast),
        .m_axis_tdata(w_tdata), .m_axis_tvalid(w_tvalid), .m_axis_tready(w_tready), .m_axis_tlast(w_tlast));

    accel_dwu #(.C(C), .M(M), .KK(KH*KW), .PE(P), .PIXELS(PIXELS), .IN_WIDTH(IN_WIDTH), .IN_SIGNED(IN_SIGNED),
                .W_WIDTH(W_WIDTH), .W_SIGNED(W_SIGNED), .SUM_WIDTH(SUM_WIDTH), .OUT_WIDTH(OUT_WIDTH),
                .PSHIFT(PSHIFT), .WEIGHT_FILE(WEIGHT_FILE), .BIAS_FILE(BIAS_FILE), .MULT(MULT)) dwu (
        .clk(clk), .rst(rst),
        .s_axis_tdata(w_tdata), .s_axis_tvalid(w_tvalid), .s_axis_tready(w_tready), .s_axis_tlast(w_tlast),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast));
endmodule

`resetall
