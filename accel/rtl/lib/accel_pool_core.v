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
localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;  // row buffer address width
localparam BW = $clog2(CB + 1);
localparam XW = $clog2(W + 1);
localparam YW = $clog2(H + 1);
localparam CPW = $clog2(PW + 1);
localparam RPW = $clog2(PH + 1);
localparam CWW = $clog2(CW_MAX + 2);
localparam RWW = $clog2(RW_MAX + 2);
localparam OUT_BEATS = HO * WO * CB;        // output beats per frame
localparam OW = $clog2(OUT_BEATS + 1);
// whether a row's first column, and a frame's first row, are the last of their window
localparam COL_LAST_0 = (PL == PW - 1) || (W == 1);
localparam ROW_LAST_0 = (PT == PH - 1) || (H == 1);

// Constants are cut to their counters' widths.  The "_PEN" (last but one) values are -1 for a size of
// one, which truncated never matches (the counter stays 0 < all ones); the flags below treat that case
// with a constant term.
/* verilator lint_off WIDTH */
localparam [BW-1:0] B_LAST = CB - 1;
localparam [AW-1:0] A_BACK = CB - 1;  // < DEPTH
localparam [XW-1:0] X_LAST = W - 1;
localparam [XW-1:0] X_PEN = W - 2;
localparam [YW-1:0] Y_LAST = H - 1;
localparam [YW-1:0] Y_PEN = H - 2;
localparam [CPW-1:0] CP_LAST = PW - 1;
localparam [CPW-1:0] CP_PEN = PW - 2;
localparam [CPW-1:0] CP_FIRST = PL;
localparam [RPW-1:0] RP_LAST = PH - 1;
localparam [RPW-1:0] RP_PEN = PH - 2;
localparam [RPW-1:0] RP_FIRST = PT;
localparam [CWW-1:0] WO_C = WO;
localparam [CWW-1:0] WO_LAST = WO - 1;
localparam [RWW-1:0] HO_C = HO;
localparam [RWW-1:0] HO_LAST = HO - 1;
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

// Timing.  Reading the row buffer, merging the input into the word and writing it back take one cycle
// (with CB == 1 the next beat may read the word just written), so that loop is the core's longest path
// and nothing else may sit in it: the buffer address, and the flags that steer the merge and the write,
// are registers, set when the position counters advance and never computed from them in the cycle of use.
//   addr   the word of the current beat, cw * CB + b: +1 per beat; after a pixel's last beat (b = CB-1)
//          +1 as well when the next pixel starts a window column, back by CB-1 to the column's first word
//          when it stays in the window column, 0 at a new row.  AW bits: it wraps in the columns past the
//          last output window, where it is not used; inside an output window its true value is below
//          DEPTH <= 2**AW, so the sums modulo 2**AW are exact there.
// The window flags describe the current pixel.  Each equals the function of the counters its comment
// names; it is loaded at a pixel's last beat from constant compares of the counters' current values
// (no increment ahead of a compare).

// position of the current beat: beat b of pixel (y, x); the pixel is (rp, cp) in window (rw, cw)
reg [BW-1:0] b;
reg [XW-1:0] x;
reg [YW-1:0] y;
reg [CPW-1:0] cp;
reg [RPW-1:0] rp;
reg [CWW-1:0] cw;
reg [RWW-1:0] rw;
// Yosys would merge an address register with no initial value into the read port (a registered read,
// mapped as a dual-port LUT-RAM with a second address register and a bank multiplexer in the loop); an
// initial value keeps the read asynchronous from this register.
reg [AW-1:0] addr = {AW{1'b0}};
// in_win = rw < HO && cw < WO (not a dropped row or column), win_last = (rp == PH-1 || y == H-1) &&
// (cp == PW-1 || x == W-1): the last pixel of its window
reg win_first;  // (rp == 0 || y == 0) && (cp == 0 || x == 0): first pixel of its window present in the
                // input, it replaces the buffered word
reg win_acc;    // in_win && !win_last: the merged word goes back to the row buffer
reg win_out;    // in_win && win_last: the merged word is the window's result

reg [OW-1:0] ocount;
wire out_ready;  // the output register (accel_skid) takes a result: a flip-flop, not m_axis_tready

// The first word a window reads may never have been written: it starts at zero like the LUT-RAM's
// configured contents, so that a four-state simulator sees no X in the maximum's compare (whose result
// does not depend on that word).
reg [P*ACC_W-1:0] rowbuf [0:DEPTH-1];
integer i;
initial begin
    for (i = 0; i < DEPTH; i = i + 1) begin
        rowbuf[i] = {P*ACC_W{1'b0}};
    end
end

wire fire = s_axis_tvalid && s_axis_tready;
// outside an output window addr may lie beyond DEPTH: that word is neither written back nor output
/* verilator lint_off WIDTH */
wire [P*ACC_W-1:0] old = rowbuf[addr];
/* verilator lint_on WIDTH */
wire [P*ACC_W-1:0] merged;

// A window's first pixel replaces the buffered word.  That select is folded into the operands of the
// compare or add, whose input LUTs absorb it, rather than applied after the carry chain, where it would
// add a logic level to the loop.
genvar k;
generate
    for (k = 0; k < P; k = k + 1) begin : lane
        wire [DATA_W-1:0] xin = s_axis_tdata[k*DATA_W +: DATA_W];
        wire signed [ACC_W-1:0] xv = {{(ACC_W - DATA_W){SIGNED != 0 && xin[DATA_W-1]}}, xin};
        wire signed [ACC_W-1:0] ov = old[k*ACC_W +: ACC_W];
        if (MODE == 0) begin : max
            // "xv wins" is win_first || xv > ov: one unsigned compare with win_first as the top bit above
            // the offset-binary operands (sign bit inverted, which keeps the signed order)
            wire [ACC_W:0] xkey = {win_first, ~xv[ACC_W-1], xv[ACC_W-2:0]};
            wire [ACC_W:0] okey = {1'b0, ~ov[ACC_W-1], ov[ACC_W-2:0]};
            assign merged[k*ACC_W +: ACC_W] = (xkey > okey) ? xv : ov;
        end else begin : sum
            wire signed [ACC_W-1:0] og = ov & {ACC_W{!win_first}};
            assign merged[k*ACC_W +: ACC_W] = og + xv;
        end
    end
endgenerate

assign s_axis_tready = out_ready;

accel_skid #(.WIDTH(P*ACC_W)) out (
    .clk(clk), .rst(rst),
    .s_axis_tdata(merged), .s_axis_tvalid(fire && win_out), .s_axis_tready(out_ready),
    .s_axis_tlast(ocount == O_LAST),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);

always @(posedge clk) begin
    if (fire && win_acc) begin
        /* verilator lint_off WIDTH */
        rowbuf[addr] <= merged;  // addr < DEPTH whenever in_win
        /* verilator lint_on WIDTH */
    end
end

// At a pixel's last beat: which counters wrap, and the next pixel's column and row properties.
wire x_end = (x == X_LAST);
wire y_end = (y == Y_LAST);
wire cp_end = (cp == CP_LAST);
wire rp_end = (rp == RP_LAST);
// within a row, the next pixel is x + 1; after a row's last pixel, column 0 (cp = PL, cw = 0)
wire col_first_n = x_end || cp_end;
wire col_last_n = x_end ? COL_LAST_0 : (PW == 1 || cp == CP_PEN || x == X_PEN);
wire col_in_n = x_end || (cw < WO_C && !(cp_end && cw == WO_LAST));  // leaving the last output column?
// the row changes after its last pixel only: to y + 1, or after the frame's last row to row 0 (rp = PT)
wire row_first_n = x_end ? (y_end || rp_end) : (rp == 0 || y == 0);
wire row_last_n = !x_end ? (rp_end || y_end) : y_end ? ROW_LAST_0 : (PH == 1 || rp == RP_PEN || y == Y_PEN);
wire row_in_n = (rw < HO_C && !(x_end && rp_end && rw == HO_LAST)) || (x_end && y_end);

always @(posedge clk) begin
    if (fire && win_out) begin
        ocount <= (ocount == O_LAST) ? {OW{1'b0}} : ocount + 1'b1;
    end
    if (fire) begin
        if (b == B_LAST) begin
            b <= {BW{1'b0}};
            win_first <= row_first_n && col_first_n;
            win_acc <= row_in_n && col_in_n && !(row_last_n && col_last_n);
            win_out <= row_in_n && col_in_n && row_last_n && col_last_n;
            if (x_end) begin
                x <= {XW{1'b0}};
                cp <= CP_FIRST;
                cw <= {CWW{1'b0}};
                addr <= {AW{1'b0}};
                if (y_end) begin
                    y <= {YW{1'b0}};
                    rp <= RP_FIRST;
                    rw <= {RWW{1'b0}};
                end else begin
                    y <= y + 1'b1;
                    if (rp_end) begin
                        rp <= {RPW{1'b0}};
                        rw <= rw + 1'b1;
                    end else begin
                        rp <= rp + 1'b1;
                    end
                end
            end else begin
                x <= x + 1'b1;
                if (cp_end) begin
                    cp <= {CPW{1'b0}};
                    cw <= cw + 1'b1;
                    addr <= addr + 1'b1;
                end else begin
                    cp <= cp + 1'b1;
                    addr <= addr - A_BACK;  // the window column's words again, for this pixel's channels
                end
            end
        end else begin
            b <= b + 1'b1;
            addr <= addr + 1'b1;
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
        addr <= {AW{1'b0}};
        // pixel (0, 0): first of window (0, 0), which it closes when the window is 1 x 1 after padding
        win_first <= 1'b1;
        win_acc <= !(ROW_LAST_0 && COL_LAST_0);
        win_out <= ROW_LAST_0 && COL_LAST_0;
        ocount <= {OW{1'b0}};
    end
end

endmodule

`resetall
