// accel_pool_core: non-overlapping window reduction (maximum or sum) of a pixel stream, P lanes per beat
//
// Windows are PH x PW with stride equal to the window (the usual 2x2/2 pooling and global pooling).
// Input row r belongs to window row (r + PT) / PH; padded positions (PT top, PL left, and any beyond
// the last row/column) never contribute, so a border window reduces only the pixels it holds.  Rows or
// columns past the last output window (valid pooling that floors) are consumed and dropped.
// One partial result per (output column, channel) is kept in a row buffer (LUT RAM): throughput is
// one input beat per cycle.  Results are signed ACC_W-bit values, one output beat per window and beat.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_pool_core #(
    parameter H = 4,        // input height
    parameter W = 4,        // input width
    parameter C = 2,        // channels
    parameter P = 1,        // lanes per beat (divides C)
    parameter DATA_W = 8,   // input element width
    parameter SIGNED = 1,   // 1: input elements are two's complement
    parameter PH = 2,       // window height = vertical stride
    parameter PW = 2,       // window width = horizontal stride
    parameter PT = 0,       // padding rows above the image (< PH)
    parameter PL = 0,       // padding columns left of the image (< PW)
    parameter HO = 2,       // output height
    parameter WO = 2,       // output width
    parameter ACC_W = 9,    // signed result width per lane (> DATA_W)
    parameter MODE = 0      // 0: maximum, 1: sum
) (
    input  wire               clk,
    input  wire               rst,
    input  wire [P*DATA_W-1:0] s_axis_tdata,
    input  wire               s_axis_tvalid,
    output wire               s_axis_tready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire               s_axis_tlast,   // ignored: frames are counted
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [P*ACC_W-1:0] m_axis_tdata,
    output wire               m_axis_tvalid,
    input  wire               m_axis_tready,
    output wire               m_axis_tlast
);

localparam CB = C / P;                      // beats per pixel
localparam CW_MAX = (W - 1 + PL) / PW;      // largest window column index reached
localparam RW_MAX = (H - 1 + PT) / PH;      // largest window row index reached
localparam DEPTH = (WO < 1 ? 1 : WO) * CB;  // row buffer words
localparam AW = $clog2(2 * DEPTH + 1);      // row buffer address width (> BW, so the beat zero-extends)
localparam BW = $clog2(CB + 1);
localparam XW = $clog2(W + 1);
localparam YW = $clog2(H + 1);
localparam CPW = $clog2(PW + 1);
localparam RPW = $clog2(PH + 1);
localparam CWW = $clog2(CW_MAX + 2);
localparam RWW = $clog2(RW_MAX + 2);
localparam OUT_BEATS = HO * WO * CB;        // output beats per frame
localparam OW = $clog2(OUT_BEATS + 1);

/* verilator lint_off WIDTH */
localparam [BW-1:0] B_LAST = CB - 1;
localparam [XW-1:0] X_LAST = W - 1;
localparam [YW-1:0] Y_LAST = H - 1;
localparam [CPW-1:0] CP_LAST = PW - 1;
localparam [CPW-1:0] CP_FIRST = PL;
localparam [RPW-1:0] RP_LAST = PH - 1;
localparam [RPW-1:0] RP_FIRST = PT;
localparam [CWW-1:0] WO_C = WO;
localparam [RWW-1:0] HO_C = HO;
localparam [AW-1:0] CB_C = CB;
localparam [OW-1:0] O_LAST = OUT_BEATS - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P < 1 || C % P != 0 || PH < 1 || PW < 1 || PT >= PH || PL >= PW || HO < 1 || WO < 1
        || HO > RW_MAX + 1 || WO > CW_MAX + 1 || ACC_W <= DATA_W || MODE > 1) begin
        $error("%m: illegal parameters (C=%0d P=%0d PH=%0d PW=%0d PT=%0d PL=%0d HO=%0d WO=%0d ACC_W=%0d MODE=%0d)",
               C, P, PH, PW, PT, PL, HO, WO, ACC_W, MODE);
        $finish;
    end
end

reg [BW-1:0] b;
reg [XW-1:0] x;
reg [YW-1:0] y;
reg [CPW-1:0] cp;
reg [RPW-1:0] rp;
reg [CWW-1:0] cw;
reg [RWW-1:0] rw;
reg [AW-1:0] base;
reg [OW-1:0] ocount;
reg out_valid;
reg out_last;
reg [P*ACC_W-1:0] out_data;

reg [P*ACC_W-1:0] rowbuf [0:DEPTH-1];

wire fire = s_axis_tvalid && s_axis_tready;
wire in_win = (cw < WO_C) && (rw < HO_C);
wire win_first = (rp == 0 || y == 0) && (cp == 0 || x == 0);
wire win_last = (rp == RP_LAST || y == Y_LAST) && (cp == CP_LAST || x == X_LAST);
/* verilator lint_off UNUSEDSIGNAL */
wire [AW-1:0] addr = base + {{(AW - BW){1'b0}}, b};  // only read/written while in_win (then < DEPTH)
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_off WIDTH */
wire [P*ACC_W-1:0] old = in_win ? rowbuf[addr] : {P*ACC_W{1'b0}};
/* verilator lint_on WIDTH */
wire [P*ACC_W-1:0] merged;

genvar k;
generate
    for (k = 0; k < P; k = k + 1) begin : lane
        wire [DATA_W-1:0] xin = s_axis_tdata[k*DATA_W +: DATA_W];
        wire signed [ACC_W-1:0] xv = {{(ACC_W - DATA_W){SIGNED != 0 && xin[DATA_W-1]}}, xin};
        wire signed [ACC_W-1:0] ov = old[k*ACC_W +: ACC_W];
        wire signed [ACC_W-1:0] red = (MODE == 0) ? ((xv > ov) ? xv : ov) : (xv + ov);
        assign merged[k*ACC_W +: ACC_W] = win_first ? xv : red;
    end
endgenerate

assign s_axis_tready = !out_valid || m_axis_tready;
assign m_axis_tdata = out_data;
assign m_axis_tvalid = out_valid;
assign m_axis_tlast = out_last;

always @(posedge clk) begin
    if (fire && in_win && !win_last) begin
        /* verilator lint_off WIDTH */
        rowbuf[addr] <= merged;  // addr < DEPTH whenever in_win
        /* verilator lint_on WIDTH */
    end
    if (fire && in_win && win_last) begin
        out_data <= merged;
    end
end

always @(posedge clk) begin
    if (out_valid && m_axis_tready) begin
        out_valid <= 1'b0;
    end
    if (fire && in_win && win_last) begin
        out_valid <= 1'b1;
        out_last <= (ocount == O_LAST);
        ocount <= (ocount == O_LAST) ? {OW{1'b0}} : ocount + 1'b1;
    end
    if (fire) begin
        if (b == B_LAST) begin
            b <= {BW{1'b0}};
            if (x == X_LAST) begin
                x <= {XW{1'b0}};
                cp <= CP_FIRST;
                cw <= {CWW{1'b0}};
                base <= {AW{1'b0}};
                if (y == Y_LAST) begin
                    y <= {YW{1'b0}};
                    rp <= RP_FIRST;
                    rw <= {RWW{1'b0}};
                end else begin
                    y <= y + 1'b1;
                    if (rp == RP_LAST) begin
                        rp <= {RPW{1'b0}};
                        rw <= rw + 1'b1;
                    end else begin
                        rp <= rp + 1'b1;
                    end
                end
            end else begin
                x <= x + 1'b1;
                if (cp == CP_LAST) begin
                    cp <= {CPW{1'b0}};
                    cw <= cw + 1'b1;
                    base <= base + CB_C;
                end else begin
                    cp <= cp + 1'b1;
                end
            end
        end else begin
            b <= b + 1'b1;
        end
    end
    if (rst) begin
        b <= {BW{1'b0}};
        x <= {XW{1'b0}};
        y <= {YW{1'b0}};
        cp <= CP_FIRST;
        rp <= RP_FIRST;
        cw <= {CWW{1'b0}};
        rw <= {RWW{1'b0}};
        base <= {AW{1'b0}};
        ocount <= {OW{1'b0}};
        out_valid <= 1'b0;
        out_last <= 1'b0;
    end
end

endmodule

`resetall
