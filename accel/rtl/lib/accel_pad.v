// accel_pad: zero padding of a frame (Keras ZeroPadding2D) as a block of its own: (H, W, C) becomes
// (PT + H + PB, PL + W + PR, C), the border beats zeros, the inner beats the input's, in row-major order.
//
// A pad is usually folded into the window of the one layer that reads it (accel_window pads as it reads);
// this block is for the pads that cannot be: several readers, a reader without a window, padding as wide
// as the reader's kernel, or a signed max pool that also pads itself.  The output walks the padded frame
// one beat per cycle; inside the input's rectangle a beat is taken from the input, on the border a zero
// beat is made, from the cycle the frame's first input beat is offered.  The output register is an accel_skid, so s_axis_tready is the skid's ready (a flip-flop)
// AND the registered "inside" flags: no combinational path from m_axis_tready.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_pad #(
    parameter H = 2,        // input height
    parameter W = 3,        // input width
    parameter C = 2,        // channels
    parameter P = 1,        // lanes per beat (divides C)
    parameter DATA_W = 8,   // element width (elements are only copied)
    parameter PT = 1,       // zero rows above
    parameter PB = 0,       // zero rows below
    parameter PL = 1,       // zero columns left
    parameter PR = 0        // zero columns right
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

localparam CB = C / P;              // beats per pixel
localparam HO = PT + H + PB;
localparam WO = PL + W + PR;
localparam BW = $clog2(CB + 1);
localparam XW = $clog2(WO + 1);
localparam YW = $clog2(HO + 1);
/* verilator lint_off WIDTH */
localparam [BW-1:0] B_LAST = CB - 1;
localparam [XW-1:0] X_LAST = WO - 1;
localparam [YW-1:0] Y_LAST = HO - 1;
localparam [XW-1:0] X_IN = PL;          // first column inside
localparam [XW-1:0] X_OUT = PL + W;     // first column after
localparam [YW-1:0] Y_IN = PT;
localparam [YW-1:0] Y_OUT = PT + H;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C % P != 0 || H < 1 || W < 1 || PT < 0 || PB < 0 || PL < 0 || PR < 0) begin
        $error("%m: illegal parameters (H=%0d W=%0d C=%0d P=%0d pads %0d %0d %0d %0d)", H, W, C, P, PT, PB, PL, PR);
        $finish;
    end
end

reg [BW-1:0] beat;
reg [XW-1:0] x;
reg [YW-1:0] y;
reg row_in;   // Y_IN <= y < Y_OUT
reg col_in;   // X_IN <= x < X_OUT
reg started;  // the walk of the current frame has begun

wire skid_ready;
wire in_frame = row_in && col_in;
// a frame's walk begins only once its first input beat is offered (not taken): border beats never run ahead
// into a frame that has not arrived, so no beat is made after the last input frame
wire core_valid = (in_frame || !started) ? s_axis_tvalid : 1'b1;
wire core_fire = core_valid && skid_ready;
wire beat_end = (beat == B_LAST);
wire row_end = beat_end && (x == X_LAST);
wire [XW-1:0] x_next = (x == X_LAST) ? {XW{1'b0}} : x + 1'b1;
wire [YW-1:0] y_next = (y == Y_LAST) ? {YW{1'b0}} : y + 1'b1;

assign s_axis_tready = in_frame && skid_ready;

// PL = 0 or PT = 0 make a ">= 0" comparison below, constant by design
/* verilator lint_off UNSIGNED */
always @(posedge clk) begin
    if (core_fire) begin
        started <= !(row_end && (y == Y_LAST));
        beat <= beat_end ? {BW{1'b0}} : beat + 1'b1;
        if (beat_end) begin
            x <= x_next;
            col_in <= (x_next >= X_IN) && (x_next < X_OUT);
        end
        if (row_end) begin
            y <= y_next;
            row_in <= (y_next >= Y_IN) && (y_next < Y_OUT);
        end
    end
    if (rst) begin
        beat <= {BW{1'b0}};
        x <= {XW{1'b0}};
        y <= {YW{1'b0}};
        row_in <= (PT == 0);
        col_in <= (PL == 0);
        started <= 1'b0;
    end
end
/* verilator lint_on UNSIGNED */

accel_skid #(.WIDTH(P * DATA_W)) u_out (
    .clk(clk), .rst(rst),
    .s_axis_tdata(in_frame ? s_axis_tdata : {P*DATA_W{1'b0}}), .s_axis_tvalid(core_valid),
    .s_axis_tready(skid_ready), .s_axis_tlast(row_end && (y == Y_LAST)),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
