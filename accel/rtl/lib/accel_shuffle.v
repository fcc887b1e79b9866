// accel_shuffle: channel shuffle (ShuffleNet): output channel i*GROUPS + g = input channel g*(C/GROUPS) + i
//
// A pixel is collected into one of two pixel buffers while the other is read out through the fixed
// permutation (pure wiring), so the block streams one beat per cycle with a latency of one pixel.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_shuffle #(
    parameter H = 2,        // height (for counting frames)
    parameter W = 2,        // width
    parameter C = 6,        // channels
    parameter P = 2,        // lanes per beat (divides C)
    parameter DATA_W = 8,   // element width (any signedness: elements are only moved)
    parameter GROUPS = 2    // shuffle groups (divides C)
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
localparam CG = C / GROUPS;         // channels per group
localparam BEATS = H * W * CB;      // output beats per frame
localparam BW = $clog2(CB + 1);
localparam NW = $clog2(BEATS + 1);
localparam PD = P * DATA_W;
/* verilator lint_off WIDTH */
localparam [BW-1:0] B_LAST = CB - 1;
localparam [NW-1:0] N_LAST = BEATS - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C % P != 0 || GROUPS < 1 || C % GROUPS != 0) begin
        $error("%m: illegal parameters (C=%0d P=%0d GROUPS=%0d)", C, P, GROUPS);
        $finish;
    end
end

reg [C*DATA_W-1:0] pix0;
reg [C*DATA_W-1:0] pix1;
reg full0;
reg full1;
reg wr_sel;
reg rd_sel;
reg [BW-1:0] wr_beat;
reg [BW-1:0] rd_beat;
reg [NW-1:0] count;

wire [C*DATA_W-1:0] cur = rd_sel ? pix1 : pix0;
wire [C*DATA_W-1:0] perm;

genvar j;
generate
    for (j = 0; j < C; j = j + 1) begin : chan
        localparam integer SRC = (j % GROUPS) * CG + j / GROUPS;
        assign perm[j*DATA_W +: DATA_W] = cur[SRC*DATA_W +: DATA_W];
    end
endgenerate

wire in_fire = s_axis_tvalid && s_axis_tready;
wire out_fire = m_axis_tvalid && m_axis_tready;
assign s_axis_tready = wr_sel ? !full1 : !full0;
assign m_axis_tvalid = rd_sel ? full1 : full0;
/* verilator lint_off WIDTH */
assign m_axis_tdata = perm[rd_beat * PD +: PD];
/* verilator lint_on WIDTH */
assign m_axis_tlast = (count == N_LAST);

// pixel buffers: one write enable per beat slot (no variable part-select, which synthesises to shifters)
genvar b;
generate
    for (b = 0; b < CB; b = b + 1) begin : slot
        /* verilator lint_off WIDTH */
        wire hit = in_fire && (wr_beat == b);
        /* verilator lint_on WIDTH */
        always @(posedge clk) begin
            if (hit && !wr_sel) begin
                pix0[b*PD +: PD] <= s_axis_tdata;
            end
            if (hit && wr_sel) begin
                pix1[b*PD +: PD] <= s_axis_tdata;
            end
        end
    end
endgenerate

always @(posedge clk) begin
    if (in_fire) begin
        if (wr_beat == B_LAST) begin
            wr_beat <= {BW{1'b0}};
            wr_sel <= !wr_sel;
            if (wr_sel) begin
                full1 <= 1'b1;
            end else begin
                full0 <= 1'b1;
            end
        end else begin
            wr_beat <= wr_beat + 1'b1;
        end
    end
    if (out_fire) begin
        count <= (count == N_LAST) ? {NW{1'b0}} : count + 1'b1;
        if (rd_beat == B_LAST) begin
            rd_beat <= {BW{1'b0}};
            rd_sel <= !rd_sel;
            if (rd_sel) begin
                full1 <= 1'b0;
            end else begin
                full0 <= 1'b0;
            end
        end else begin
            rd_beat <= rd_beat + 1'b1;
        end
    end
    if (rst) begin
        full0 <= 1'b0;
        full1 <= 1'b0;
        wr_sel <= 1'b0;
        rd_sel <= 1'b0;
        wr_beat <= {BW{1'b0}};
        rd_beat <= {BW{1'b0}};
        count <= {NW{1'b0}};
    end
end

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
