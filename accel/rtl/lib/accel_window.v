// accel_window: sliding-window generator (line buffer): pixel stream -> im2col stream of KHxKW windows.
//
// Input: frames of (H, W, C), P channels per beat (accel stream order).
// Output: frames of (HO, WO, KH*KW*C) in the same stream order with the same P lanes: for every output
// pixel (row-major) the window's elements in (ky, kx, c) order, i.e. exactly
// accel.reference.kernels.windows(x).reshape(N, HO, WO, KH*KW*C); zero padding appears as zeros.
// Consumers: accel_mvu with SIMD = P (CIN = KH*KW*C) and accel_dwu with PE = P (taps ky, kx outer,
// channel groups inner).
//
// Line buffer: NR = KH + SH rows of W*C elements in one simple dual-port memory (one write, one
// registered read per cycle: BRAM-inferable).  The writer fills rows while the reader emits windows;
// rows_avail counts complete rows not yet released by the reader.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Counters are IW bits wide and compared with / loaded from 32-bit parameter expressions whose values fit
// IW by construction (IW is sized from the parameters), so Verilator's WIDTH lint is off for this module.
/* verilator lint_off WIDTH */
module accel_window #(
    parameter KH = 3,   // kernel height (>= 1)
    parameter KW = 3,   // kernel width (>= 1)
    parameter SH = 1,   // vertical stride (>= 1)
    parameter SW = 1,   // horizontal stride (>= 1)
    parameter PT = 1,   // zero rows above (0 .. KH-1)
    parameter PB = 1,   // zero rows below (0 .. KH-1)
    parameter PL = 1,   // zero columns left (0 .. KW-1)
    parameter PR = 1,   // zero columns right (0 .. KW-1)
    parameter H = 8,    // input height (>= 1)
    parameter W = 8,    // input width (>= 1)
    parameter C = 4,    // channels (multiple of P)
    parameter P = 2,    // lanes: channels per beat, input and output
    parameter DW = 8    // element width in bits
) (
    input  wire            clk,
    input  wire            rst,
    input  wire [P*DW-1:0] s_axis_tdata,
    input  wire            s_axis_tvalid,
    output wire            s_axis_tready,
    input  wire            s_axis_tlast,
    output wire [P*DW-1:0] m_axis_tdata,
    output wire            m_axis_tvalid,
    input  wire            m_axis_tready,
    output wire            m_axis_tlast
);

    localparam CG = C / P;                            // beats per pixel
    localparam HO = (H + PT + PB - KH) / SH + 1;      // output height
    localparam WO = (W + PL + PR - KW) / SW + 1;      // output width
    localparam NR = KH + SH;                          // rows in the line buffer
    localparam DEPTH = NR * W * CG;                   // memory words
    localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;  // memory address bits
    localparam BIG = H + W + PT + PB + PL + PR + KH + KW + SH + SW + NR + CG + 4;
    localparam IW = $clog2(BIG) + 2;                  // signed width of row/column arithmetic

    initial begin
        if (KH < 1 || KW < 1 || SH < 1 || SW < 1 || H < 1 || W < 1 || P < 1 || DW < 1 || C < 1 ||
            C % P != 0 || PT < 0 || PB < 0 || PL < 0 || PR < 0 || PT >= KH || PB >= KH || PL >= KW ||
            PR >= KW || H + PT + PB < KH || W + PL + PR < KW) begin
            $error("%m: accel_window parameters are illegal (P must divide C, pads < kernel, kernel fits)");
            $finish;
        end
    end

    // sized constants for the signed row/column arithmetic
    localparam signed [IW-1:0] S_H = H;
    localparam signed [IW-1:0] S_W = W;
    localparam signed [IW-1:0] S_KH = KH;
    localparam signed [IW-1:0] S_SH = SH;
    localparam signed [IW-1:0] S_SW = SW;
    localparam signed [IW-1:0] S_PT = PT;
    localparam signed [IW-1:0] S_PL = PL;
    localparam signed [IW-1:0] S_NR = NR;
    localparam signed [IW-1:0] S_ZERO = 0;

    reg [P*DW-1:0] mem [0:DEPTH-1];

    // ---------------- writer ----------------
    reg [IW-1:0] wc, wcg, ws;        // column, channel group, ring slot being written
    reg signed [IW-1:0] rows_avail;  // complete rows beyond the reader's base row
    assign s_axis_tready = (rows_avail < S_NR);
    wire do_write = s_axis_tvalid && s_axis_tready;
    wire row_done = do_write && (wc == W - 1) && (wcg == CG - 1);
    wire [AW-1:0] waddr = ws * (W * CG) + wc * CG + wcg;  // < DEPTH by construction
    wire unused_tlast = s_axis_tlast;

    // ---------------- reader ----------------
    reg [IW-1:0] oy, ox, ky, kx, cg;
    reg signed [IW-1:0] row_base, col_base;  // oy*SH - PT, ox*SW - PL
    reg signed [IW-1:0] rd_base;             // first input row still needed: max(0, row_base)
    reg signed [IW-1:0] rd_slot;             // ring slot of rd_base
    wire signed [IW-1:0] r = row_base + $signed(ky);
    wire signed [IW-1:0] c = col_base + $signed(kx);
    wire pad = (r < S_ZERO) || (r >= S_H) || (c < S_ZERO) || (c >= S_W);
    wire signed [IW-1:0] slot_raw = rd_slot + (r - rd_base);
    wire signed [IW-1:0] slot = (slot_raw >= S_NR) ? slot_raw - S_NR : slot_raw;
    wire [AW-1:0] raddr = slot * (W * CG) + c * CG + cg;  // only used when !pad: < DEPTH

    wire last_row = (oy == HO - 1);
    wire signed [IW-1:0] win_end = (row_base + S_KH > S_H) ? S_H : row_base + S_KH;
    wire signed [IW-1:0] next_base = (row_base + S_SH > S_ZERO) ? row_base + S_SH : S_ZERO;
    wire signed [IW-1:0] need_hi = last_row ? S_H : ((next_base > win_end) ? next_base : win_end);
    wire can_emit = (rows_avail >= need_hi - rd_base);
    wire signed [IW-1:0] delta = (last_row ? S_H : next_base) - rd_base;  // rows released after this row

    reg s1_valid, s1_pad, s1_last;
    reg [P*DW-1:0] s1_data;
    wire out_free = !s1_valid || m_axis_tready;
    wire issue = can_emit && out_free;

    wire end_pix = (cg == CG - 1) && (kx == KW - 1) && (ky == KH - 1);
    wire end_row = end_pix && (ox == WO - 1);
    wire end_frame = end_row && last_row;

    assign m_axis_tvalid = s1_valid;
    assign m_axis_tdata = s1_pad ? {P*DW{1'b0}} : s1_data;
    assign m_axis_tlast = s1_last;

    always @(posedge clk) begin
        if (do_write) mem[waddr] <= s_axis_tdata;
        if (issue) begin
            s1_data <= mem[raddr];
            s1_pad <= pad;
            s1_last <= end_frame;
        end
    end

    wire signed [IW-1:0] released = (issue && end_row) ? delta : S_ZERO;
    wire signed [IW-1:0] rd_slot_next = rd_slot + delta;

    always @(posedge clk) begin
        if (rst) begin
            wc <= 0; wcg <= 0; ws <= 0;
            rows_avail <= S_ZERO;
            oy <= 0; ox <= 0; ky <= 0; kx <= 0; cg <= 0;
            row_base <= -S_PT; col_base <= -S_PL;
            rd_base <= S_ZERO; rd_slot <= S_ZERO;
            s1_valid <= 1'b0;
        end else begin
            // writer
            if (do_write) begin
                if (wcg == CG - 1) begin
                    wcg <= 0;
                    if (wc == W - 1) begin
                        wc <= 0;
                        ws <= (ws == NR - 1) ? 0 : ws + 1'b1;
                    end else begin
                        wc <= wc + 1'b1;
                    end
                end else begin
                    wcg <= wcg + 1'b1;
                end
            end
            rows_avail <= rows_avail + (row_done ? 1 : 0) - released;
            // output register
            if (out_free) s1_valid <= issue;
            // reader: cg innermost, then kx, ky, ox, oy
            if (issue) begin
                if (cg != CG - 1) begin
                    cg <= cg + 1'b1;
                end else begin
                    cg <= 0;
                    if (kx != KW - 1) begin
                        kx <= kx + 1'b1;
                    end else begin
                        kx <= 0;
                        if (ky != KH - 1) begin
                            ky <= ky + 1'b1;
                        end else begin
                            ky <= 0;
                            if (ox != WO - 1) begin
                                ox <= ox + 1'b1;
                                col_base <= col_base + S_SW;
                            end else begin
                                ox <= 0;
                                col_base <= -S_PL;
                                rd_slot <= (rd_slot_next >= S_NR) ? rd_slot_next - S_NR : rd_slot_next;
                                if (last_row) begin
                                    oy <= 0;
                                    row_base <= -S_PT;
                                    rd_base <= S_ZERO;
                                end else begin
                                    oy <= oy + 1'b1;
                                    row_base <= row_base + S_SH;
                                    rd_base <= next_base;
                                end
                            end
                        end
                    end
                end
            end
        end
    end

endmodule
/* verilator lint_on WIDTH */

`resetall
