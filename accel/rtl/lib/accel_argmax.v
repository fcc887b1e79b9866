// accel_argmax: the index of each pixel's largest channel, (H, W, C) -> (H, W, 1), ties to the lowest index
//
// The arg-max head of a classifier (accel's `--softmax argmax`): softmax keeps the order of the logits, so the
// class it ranks first is their arg-max, computed here exactly on the raw values.  Built like hardware: no
// element is selected by a computed position, only shifted.
//   * an input beat of P elements is loaded into a shift register and scanned one element per cycle (the low
//     lane, then the register shifts down by one element);
//   * each scanned element is compared with the pixel's running maximum; it replaces the maximum only when it
//     is strictly larger (or it is the pixel's first element), so the lowest index of equal maxima wins;
//   * the pixel's last element hands its result to an accel_skid (the output register and a spare).
// s_axis_tready is a register function (the scan is idle or in its last lane, and the skid has room): no
// combinational path from m_axis_tready to s_axis_tready.  Throughput: one element per cycle, so a frame
// takes H*W*C cycles whatever P is (a classifier head has few elements; a frame of many pixels is better
// served by a wider block, not built).  s_axis_tlast is ignored: frames are counted.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_argmax #(
    parameter H = 1,        // height
    parameter W = 1,        // width
    parameter C = 10,       // channels (classes)
    parameter P = 1,        // elements per input beat (divides C)
    parameter DATA_W = 8,   // element width
    parameter SIGNED = 1,   // elements are two's complement
    parameter IDX_W = 4     // index width: max(1, $clog2(C))
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [P*DATA_W-1:0]    s_axis_tdata,
    input  wire                   s_axis_tvalid,
    output wire                   s_axis_tready,
    input  wire                   s_axis_tlast,   // ignored: frames are counted
    output wire [IDX_W-1:0]       m_axis_tdata,
    output wire                   m_axis_tvalid,
    input  wire                   m_axis_tready,
    output wire                   m_axis_tlast
);

localparam LW = $clog2(P + 1);
localparam PIX = H * W;
localparam NW = $clog2(PIX + 1);
/* verilator lint_off WIDTH */
localparam [LW-1:0] L_LAST = P - 1;
localparam [IDX_W-1:0] C_LAST = C - 1;
localparam [NW-1:0] N_LAST = PIX - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C % P != 0 || (1 << IDX_W) < C) begin
        $error("%m: illegal parameters (C=%0d P=%0d IDX_W=%0d)", C, P, IDX_W);
        $finish;
    end
end

reg [P*DATA_W-1:0] hold;   // the beat being scanned, next element in the low lane
reg [LW-1:0] lane;         // its lane being scanned
reg busy;                  // hold has elements left
reg [IDX_W-1:0] idx;       // channel index of the element being scanned
reg signed [DATA_W:0] best;  // the pixel's running maximum (sign-extended or zero-extended)
reg [IDX_W-1:0] best_idx;  // and its index
reg [NW-1:0] pixel;        // pixel of the frame being scanned

wire skid_ready;
wire [DATA_W-1:0] elem = hold[DATA_W-1:0];
wire signed [DATA_W:0] value = (SIGNED != 0) ? {elem[DATA_W-1], elem} : {1'b0, elem};
wire step = busy && skid_ready;                 // scan one element this cycle
wire wins = (idx == {IDX_W{1'b0}}) || (value > best);
wire last_lane = (lane == L_LAST);
wire pixel_done = step && (idx == C_LAST);
wire in_fire = s_axis_tvalid && s_axis_tready;

assign s_axis_tready = (!busy || last_lane) && skid_ready;

always @(posedge clk) begin
    if (in_fire) begin
        hold <= s_axis_tdata;
    end else if (step) begin
        hold <= hold >> DATA_W;
    end
    if (step) begin
        if (wins) begin
            best <= value;
            best_idx <= idx;
        end
        idx <= pixel_done ? {IDX_W{1'b0}} : idx + 1'b1;
        if (pixel_done) begin
            pixel <= (pixel == N_LAST) ? {NW{1'b0}} : pixel + 1'b1;
        end
    end
    if (in_fire) begin
        lane <= {LW{1'b0}};
    end else if (step) begin
        lane <= lane + 1'b1;
    end
    if (rst) begin
        busy <= 1'b0;
        idx <= {IDX_W{1'b0}};
        pixel <= {NW{1'b0}};
    end else if (in_fire) begin
        busy <= 1'b1;
    end else if (step && last_lane) begin
        busy <= 1'b0;
    end
end

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

accel_skid #(.WIDTH(IDX_W)) u_out (
    .clk(clk), .rst(rst),
    .s_axis_tdata(wins ? idx : best_idx), .s_axis_tvalid(pixel_done), .s_axis_tready(skid_ready),
    .s_axis_tlast(pixel == N_LAST),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

endmodule

`resetall
