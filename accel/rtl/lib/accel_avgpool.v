// accel_avgpool: average pooling with window = stride (PH x PW), round(sum / (PH*PW)) exactly into the output type
//
// The divider constants (SUM_W ... OVERFLOW) come from accel.rtl.blocks.average_plan, which proves the
// reciprocal multiplication exact over the whole range of window sums at generation time.  The divider is
// pipelined (accel_avg_div, 4 stages) into a result queue, so an average leaves 6 cycles after its window's
// last beat.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_avgpool #(
    parameter H = 4,          // input height
    parameter W = 4,          // input width
    parameter C = 2,          // channels
    parameter P = 1,          // lanes per beat (divides C)
    parameter DATA_W = 8,     // input element width
    parameter SIGNED = 1,     // 1: input elements are two's complement
    parameter PH = 2,         // pool height = vertical stride
    parameter PW = 2,         // pool width = horizontal stride
    parameter HO = 2,         // output height (H / PH, floored)
    parameter WO = 2,         // output width (W / PW, floored)
    parameter SUM_W = 10,     // signed width of a window sum
    parameter RELU = 0,       // divider: 1 = negative sums count as zero
    parameter NUM_SHIFT = 0,  // divider: sum << NUM_SHIFT
    parameter T_OFF = 1028,   // divider: rounding addend + K*DIV
    parameter T_W = 11,       // divider: width of the non-negative dividend
    parameter Z = 3,          // divider: power of two in DIV
    parameter MUL = 1,        // divider: reciprocal of the odd part of DIV
    parameter MUL_W = 1,      // divider: width of MUL
    parameter MUL_SHIFT = 0,  // divider: shift after the multiplication
    parameter DIV = 8,        // divider: 2 * PH * PW (times the output grid shift)
    parameter K = 128,        // divider: quotient offset
    parameter Q_W = 9,        // divider: signed width of the quotient
    parameter ROUND_EVEN = 1, // divider: 1 = ties to even (else ties up, or truncation via T_OFF)
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

wire [P*SUM_W-1:0] sums;
wire sums_valid;
wire sums_ready;
wire sums_last;
wire [P*OUT_W-1:0] avgs;

accel_pool_core #(
    .H(H), .W(W), .C(C), .P(P), .DATA_W(DATA_W), .SIGNED(SIGNED), .PH(PH), .PW(PW), .PT(0), .PL(0),
    .HO(HO), .WO(WO), .ACC_W(SUM_W), .MODE(1)
) core (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(sums), .m_axis_tvalid(sums_valid), .m_axis_tready(sums_ready), .m_axis_tlast(sums_last)
);

// the dividers: DIV_STAGES register stages that advance every cycle; a window's sum enters them only while
// the result queue (accel_result_queue: a queue and the output register, DIV_STAGES + 2 words) has room for
// it, a register, so no combinational path runs from m_axis_tready back to s_axis_tready
localparam DIV_STAGES = 4;  // accel_avg_div's STAGES
wire room;
wire issue = sums_valid && room;

genvar k;
generate
    for (k = 0; k < P; k = k + 1) begin : lane
        accel_avg_div #(
            .SUM_W(SUM_W), .RELU(RELU), .NUM_SHIFT(NUM_SHIFT), .T_OFF(T_OFF), .T_W(T_W), .Z(Z), .MUL(MUL),
            .MUL_W(MUL_W), .MUL_SHIFT(MUL_SHIFT), .DIV(DIV), .K(K), .Q_W(Q_W), .ROUND_EVEN(ROUND_EVEN),
            .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OVERFLOW(OVERFLOW)
        ) div (
            .clk(clk), .en(1'b1),
            .sum(sums[k*SUM_W +: SUM_W]),
            .avg(avgs[k*OUT_W +: OUT_W])
        );
    end
endgenerate

// valid and TLAST of the sums in the divider stages
reg [DIV_STAGES-1:0] stage_valid;
reg [DIV_STAGES-1:0] stage_last;
assign sums_ready = room;

always @(posedge clk) begin
    stage_valid <= {stage_valid[DIV_STAGES-2:0], issue};
    stage_last <= {stage_last[DIV_STAGES-2:0], sums_last};
    if (rst) begin
        stage_valid <= {DIV_STAGES{1'b0}};
    end
end

accel_result_queue #(.WIDTH(P*OUT_W), .DEPTH(DIV_STAGES + 2)) outq (
    .clk(clk), .rst(rst), .issue(issue), .room(room),
    .in_valid(stage_valid[DIV_STAGES-1]), .in_data(avgs), .in_last(stage_last[DIV_STAGES-1]),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

endmodule

`resetall
