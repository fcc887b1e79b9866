// accel_upsample: nearest-neighbour upsampling by integer factors FH x FW (Keras UpSampling2D 'nearest'),
// or, with ZERO = 1, zero insertion (the first step of a transposed convolution): FH-1 zero rows between
// input rows and FW-1 zero pixels between input pixels, none after the last, so (H, W, C) becomes
// ((H-1)*FH+1, (W-1)*FW+1, C).  Both modes walk the same replay counters; zero insertion only replaces
// every repeat but the first by zeros and ends a row (frame) at the last pixel's (row's) first repeat.
//
// An input row is written into one bank of a two-row buffer (LUT RAM) while the other bank is read
// out FH times, each pixel FW times.  The output side runs at one beat per cycle; the input side
// needs only 1/(FH*FW) of that, so the output is the bottleneck.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_upsample #(
    parameter H = 2,        // input height
    parameter W = 3,        // input width
    parameter C = 2,        // channels
    parameter P = 1,        // lanes per beat (divides C)
    parameter DATA_W = 8,   // element width (elements are only copied)
    parameter FH = 2,       // vertical factor
    parameter FW = 2,       // horizontal factor
    parameter ZERO = 0      // 0: repeat each pixel (nearest); 1: the pixel, then zeros (zero insertion)
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
localparam RB = W * CB;             // beats per input row = words per bank
localparam AW = $clog2(2 * RB + 1); // buffer address width (> BW, so the beat zero-extends)
localparam BW = $clog2(CB + 1);
localparam XW = $clog2(W + 1);
localparam YW = $clog2(H + 1);
localparam FHW = $clog2(FH + 1);
localparam FWW = $clog2(FW + 1);
/* verilator lint_off WIDTH */
localparam [AW-1:0] RB_C = RB;
localparam [AW-1:0] R_LAST = RB - 1;
localparam [AW-1:0] CB_C = CB;
localparam [BW-1:0] B_LAST = CB - 1;
localparam [XW-1:0] X_LAST = W - 1;
localparam [YW-1:0] Y_LAST = H - 1;
localparam [FHW-1:0] FH_LAST = FH - 1;
localparam [FWW-1:0] FW_LAST = FW - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C % P != 0 || FH < 1 || FW < 1 || H < 1 || W < 1 || (ZERO != 0 && ZERO != 1)) begin
        $error("%m: illegal parameters (C=%0d P=%0d FH=%0d FW=%0d ZERO=%0d)", C, P, FH, FW, ZERO);
        $finish;
    end
end

reg [P*DATA_W-1:0] mem [0:2*RB-1];
reg full0;
reg full1;
reg wr_bank;
reg [AW-1:0] wr_addr;   // within the bank
reg rd_bank;
reg [AW-1:0] rd_base;   // x * CB
reg [BW-1:0] beat;
reg [FWW-1:0] rx;
reg [XW-1:0] x;
reg [FHW-1:0] ry;
reg [YW-1:0] y;

wire in_fire = s_axis_tvalid && s_axis_tready;
wire out_fire = m_axis_tvalid && m_axis_tready;
wire beat_end = (beat == B_LAST);
// zero insertion: the last pixel of a row and the last row of a frame are not followed by zeros
wire last_x = (ZERO != 0) && (x == X_LAST);
wire last_y = (ZERO != 0) && (y == Y_LAST);
wire pix_end = beat_end && ((rx == FW_LAST) || last_x);
wire row_end = pix_end && (x == X_LAST);
wire rep_end = row_end && ((ry == FH_LAST) || last_y);
wire zero_beat = (ZERO != 0) && ((rx != {FWW{1'b0}}) || (ry != {FHW{1'b0}}));
// the top address bit may be unused (AW leaves room so the beat zero-extends)
/* verilator lint_off UNUSEDSIGNAL */
wire [AW-1:0] rd_addr = (rd_bank ? RB_C : {AW{1'b0}}) + rd_base + {{(AW - BW){1'b0}}, beat};
wire [AW-1:0] wr_full_addr = (wr_bank ? RB_C : {AW{1'b0}}) + wr_addr;
/* verilator lint_on UNUSEDSIGNAL */

assign s_axis_tready = wr_bank ? !full1 : !full0;
assign m_axis_tvalid = rd_bank ? full1 : full0;
/* verilator lint_off WIDTH */
assign m_axis_tdata = zero_beat ? {P*DATA_W{1'b0}} : mem[rd_addr];
/* verilator lint_on WIDTH */
assign m_axis_tlast = rep_end && (y == Y_LAST);

always @(posedge clk) begin
    if (in_fire) begin
        /* verilator lint_off WIDTH */
        mem[wr_full_addr] <= s_axis_tdata;
        /* verilator lint_on WIDTH */
    end
end

always @(posedge clk) begin
    if (in_fire) begin
        if (wr_addr == R_LAST) begin
            wr_addr <= {AW{1'b0}};
            wr_bank <= !wr_bank;
            if (wr_bank) begin
                full1 <= 1'b1;
            end else begin
                full0 <= 1'b1;
            end
        end else begin
            wr_addr <= wr_addr + 1'b1;
        end
    end
    if (out_fire) begin
        beat <= beat_end ? {BW{1'b0}} : beat + 1'b1;
        if (beat_end) begin
            rx <= pix_end ? {FWW{1'b0}} : rx + 1'b1;
        end
        if (pix_end) begin
            x <= (x == X_LAST) ? {XW{1'b0}} : x + 1'b1;
            rd_base <= (x == X_LAST) ? {AW{1'b0}} : rd_base + CB_C;
        end
        if (row_end) begin
            ry <= rep_end ? {FHW{1'b0}} : ry + 1'b1;
        end
        if (rep_end) begin
            y <= (y == Y_LAST) ? {YW{1'b0}} : y + 1'b1;
            rd_bank <= !rd_bank;
            if (rd_bank) begin
                full1 <= 1'b0;
            end else begin
                full0 <= 1'b0;
            end
        end
    end
    if (rst) begin
        full0 <= 1'b0;
        full1 <= 1'b0;
        wr_bank <= 1'b0;
        wr_addr <= {AW{1'b0}};
        rd_bank <= 1'b0;
        rd_base <= {AW{1'b0}};
        beat <= {BW{1'b0}};
        rx <= {FWW{1'b0}};
        x <= {XW{1'b0}};
        ry <= {FHW{1'b0}};
        y <= {YW{1'b0}};
    end
end

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
