// accel_maxpool: max pooling with window = stride (PH x PW), optional top/left padding that never wins
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_maxpool #(
    parameter H = 4,        // input height
    parameter W = 4,        // input width
    parameter C = 2,        // channels
    parameter P = 1,        // lanes per beat (divides C)
    parameter DATA_W = 8,   // element width (input = output type)
    parameter SIGNED = 1,   // 1: elements are two's complement
    parameter PH = 2,       // pool height = vertical stride
    parameter PW = 2,       // pool width = horizontal stride
    parameter PT = 0,       // padding rows above the image (< PH); padding never wins
    parameter PL = 0,       // padding columns left of the image (< PW)
    parameter HO = 2,       // output height (bottom/right padding or flooring follow from it)
    parameter WO = 2        // output width
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

localparam ACC_W = DATA_W + 1;  // signed view of either signedness

wire [P*ACC_W-1:0] red;

accel_pool_core #(
    .H(H), .W(W), .C(C), .P(P), .DATA_W(DATA_W), .SIGNED(SIGNED), .PH(PH), .PW(PW), .PT(PT), .PL(PL),
    .HO(HO), .WO(WO), .ACC_W(ACC_W), .MODE(0)
) core (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(red), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready), .m_axis_tlast(m_axis_tlast)
);

// the maximum is one of the inputs: drop the extension bit
genvar k;
generate
    for (k = 0; k < P; k = k + 1) begin : lane
        assign m_axis_tdata[k*DATA_W +: DATA_W] = red[k*ACC_W +: DATA_W];
        /* verilator lint_off UNUSEDSIGNAL */
        wire unused_ext = red[k*ACC_W + DATA_W];
        /* verilator lint_on UNUSEDSIGNAL */
    end
endgenerate

endmodule

`resetall
