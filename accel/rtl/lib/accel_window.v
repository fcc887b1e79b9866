// accel_window: sliding-window generator (line buffer): pixel stream -> im2col stream of KHxKW windows.
//
// Input: frames of (H, W, C), P channels per beat (accel stream order).
// Output: frames of (HO, WO, KH*KW*C) in the same stream order with the same P lanes: for every output
// pixel (row-major) the window's elements in (ky, kx, c) order, i.e. exactly
// accel.reference.kernels.windows(x).reshape(N, HO, WO, KH*KW*C); zero padding appears as zeros.
// Consumers: accel_mvu with SIMD = P (CIN = KH*KW*C) and accel_dwu with PE = P (taps ky, kx outer,
// channel groups inner).
//
// Line buffer: NR rows (f_rows below, at least KH + SH) of RW = W*C/P beats in one simple dual-port memory
// (one write, one registered read per cycle: BRAM-inferable).  Global input row g (counted over frames)
// lives in ring slot g mod NR, so the writer's address is a plain counter modulo NR*RW.  The writer fills
// rows while the reader emits windows; the reader may start output row oy once the rows it needs are
// complete, and releases the rows below the next output row's base at its last beat.
//
// Timing structure (every register-to-register path is a few LUT levels or one short adder): nothing is
// recomputed from sums in the cycle it is used.
//   * Row bookkeeping: with A = complete rows held beyond the reader's first needed row rd(oy), the registers
//     slack = A - need(oy) and room = NR-1 - A are updated incrementally (+1 per completed input row; the
//     output row's constants delta and adj at its release), so "the output row can issue" is slack's sign
//     bit and s_axis_tready is room's.  delta/adj of the next output row (constant functions of oy) are
//     tabulated at elaboration and loaded into registers when the reader moves to that row.
//   * Read address: registers hold the address of the beat to issue (rd_addr), of its kernel row's and its
//     window's first beat and of the next output row's first beat, each advanced by a constant (the ring's
//     wrap decided on a small slot counter), so the memory's read address is a register.
//   * Loop ends: one registered "last" flag per counter (cg, kx, ky, ox, oy).
// Cycle behaviour: an output row's first beat issues in the cycle after the input row that completes its
// rows is written, then one beat per cycle while m_axis takes them; one output register (s1) drives m_axis.
// rtl_tests.common.window_schedule writes this timing out.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Counters are IW or AW bits wide and compared with / loaded from 32-bit parameter expressions whose values
// fit by construction (IW is sized from the parameters; addresses are computed modulo 2**AW), so Verilator's
// WIDTH lint is off for this module.
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
    parameter DW = 8,   // element width in bits
    parameter PAD_MIN = 0 // 0: padding is zeros; 1: the most negative two's-complement value (a signed max pool's
                          // own padding, which must never win)
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
    localparam RW = W * CG;                           // memory words per row

    initial begin
        if (KH < 1 || KW < 1 || SH < 1 || SW < 1 || H < 1 || W < 1 || P < 1 || DW < 1 || C < 1 ||
            C % P != 0 || PT < 0 || PB < 0 || PL < 0 || PR < 0 || PT >= KH || PB >= KH || PL >= KW ||
            PR >= KW || H + PT + PB < KH || W + PL + PR < KW) begin
            $error("%m: accel_window parameters are illegal (P must divide C, pads < kernel, kernel fits)");
            $finish;
        end
    end

    // ---------------- row schedule: constant functions of the output row ----------------
    // Output row y has its base at input row y*SH-PT; it reads input rows from rd(y) = max(0, base) on and
    // needs them below hi(y) = max(nb(y), min(H, base+KH)) (H for the last row), nb(y) = max(0, base+SH)
    // being the next row's rd.  need(y) = hi(y) - rd(y) rows beyond rd(y); at its last beat it releases
    // delta(y) = nb(y) - rd(y) rows (H - rd(y) for the last row).
    function integer f_rd(input integer y);
        begin
            f_rd = (y * SH - PT > 0) ? y * SH - PT : 0;
        end
    endfunction

    function integer f_nb(input integer y);
        begin
            f_nb = (y == HO - 1) ? H : ((y * SH - PT + SH > 0) ? y * SH - PT + SH : 0);
        end
    endfunction

    function integer f_need(input integer y);
        integer hi;
        begin
            hi = (y * SH - PT + KH < H) ? y * SH - PT + KH : H;
            if (y == HO - 1 || f_nb(y) > hi) hi = f_nb(y);
            f_need = hi - f_rd(y);
        end
    endfunction

    function integer f_delta(input integer y);
        begin
            f_delta = f_nb(y) - f_rd(y);
        end
    endfunction

    function integer f_next(input integer y);  // the output row after y (0 of the next frame after the last)
        begin
            f_next = (y == HO - 1) ? 0 : y + 1;
        end
    endfunction

    // slack changes at row y's release by delta(y) - (need(next) - need(y)): -f_adj(y)
    function integer f_adj(input integer y);
        begin
            f_adj = f_delta(y) + f_need(f_next(y)) - f_need(y);
        end
    endfunction

    // Rows in the line buffer: room for every row the next output row waits for, counted from the first row
    // the current one reads (across the frame boundary for the last row), plus the row being written; at least
    // KH + SH.  With only KH + SH the writer stops while the reader still holds rows the next output row does
    // not need, and the reader then waits for rows the writer could have written; with these the writer can
    // always run one output row ahead.  accel.rtl.blocks.window.line_rows is the same function.
    function integer f_rows(input integer y_from);  // over output rows y_from .. HO-1 (0: all)
        integer y, ahead;
        begin
            f_rows = KH + SH;
            for (y = y_from; y < HO; y = y + 1) begin
                if (y == HO - 1) ahead = H + f_need(0) + f_rd(0) - f_rd(y);
                else ahead = f_need(y + 1) + f_rd(y + 1) - f_rd(y);
                if (ahead + 1 > f_rows) f_rows = ahead + 1;
            end
        end
    endfunction

    localparam NR = f_rows(0);                        // rows in the line buffer

    // ring slots: mod(-PT, NR) of frame 0's first output row base; ring rows from the last output row's base
    // to the next frame's first (mod NR); the slot of the second output row's base
    localparam DEPTH = NR * RW;                       // memory words
    localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;  // memory address bits
    localparam BIG = H + W + PT + PB + PL + PR + KH + KW + SH + SW + NR + CG + 4;
    localparam IW = $clog2(BIG) + 2;                  // signed width of row/column arithmetic
    localparam SLW = $clog2(NR) + 1;                  // ring slot counters (slot + advance < 2*NR)
    localparam S0 = (NR - PT) % NR;
    localparam AF = ((H - (HO - 1) * SH) % NR + NR) % NR;
    localparam S1 = (S0 + ((HO > 1) ? SH : AF)) % NR;

    // sized constants
    localparam signed [IW-1:0] S_H = H;
    localparam signed [IW-1:0] S_W = W;
    localparam signed [IW-1:0] S_SH = SH;
    localparam signed [IW-1:0] S_SW = SW;
    localparam signed [IW-1:0] S_PT = PT;
    localparam signed [IW-1:0] S_PL = PL;
    localparam signed [IW-1:0] S_ZERO = 0;
    localparam signed [IW-1:0] S_ONE = 1;
    localparam signed [IW-1:0] S_NEED0 = f_need(0);
    localparam signed [IW-1:0] S_ADJ0 = f_adj(0);
    localparam signed [IW-1:0] S_DELTA0 = f_delta(0);
    localparam signed [IW-1:0] S_NR1 = NR - 1;
    localparam [AW-1:0] A_RW = RW;                    // one ring row
    localparam [AW-1:0] A_RW_WRAP = RW - DEPTH;       // one ring row, wrapping (modulo 2**AW)
    localparam [AW-1:0] A_SW = SW * CG;               // one window to the right
    localparam [AW-1:0] A_ROW = SH * RW;              // the next output row's base
    localparam [AW-1:0] A_ROW_WRAP = SH * RW - DEPTH;
    localparam [AW-1:0] A_FRM = AF * RW;              // the next frame's first output row's base
    localparam [AW-1:0] A_FRM_WRAP = AF * RW - DEPTH;
    localparam [AW-1:0] A_START0 = S0 * RW - PL * CG; // first window of frame 0 (modulo 2**AW)
    localparam [AW-1:0] A_START1 = S1 * RW - PL * CG; // first window of the second output row

    reg [P*DW-1:0] mem [0:DEPTH-1];

    // ---------------- writer ----------------
    reg [AW-1:0] wr_addr;        // ring address being written: counts modulo DEPTH
    reg [AW-1:0] wr_pos;         // beat within the row
    reg wr_last;                 // wr_pos == RW-1
    reg wr_wrap;                 // wr_addr == DEPTH-1
    reg signed [IW-1:0] room;    // NR-1 minus the complete rows held beyond the reader's first needed row
    assign s_axis_tready = !room[IW-1];
    wire do_write = s_axis_tvalid && !room[IW-1];
    wire row_done = do_write && wr_last;
    wire unused_tlast = s_axis_tlast;

    // ---------------- reader ----------------
    reg [IW-1:0] oy, ox, ky, kx, cg;
    reg l_oy, l_ox, l_ky, l_kx, l_cg;              // each counter at its last value
    reg signed [IW-1:0] row_base, col_base;        // oy*SH - PT, ox*SW - PL
    reg signed [IW-1:0] r, c;                      // row_base + ky, col_base + kx: the beat's input pixel
    reg [AW-1:0] rd_addr;                          // memory address of the beat to issue (modulo 2**AW)
    reg [AW-1:0] krow_addr;                        // ... of its kernel row's first beat
    reg [AW-1:0] win_addr;                         // ... of its window's first beat
    reg [AW-1:0] nrow_addr;                        // ... of the next output row's first beat
    reg [SLW-1:0] krow_slot, win_slot, nrow_slot;  // ring slots of the input rows of those three
    reg nrow_last;                                 // the next output row is the frame's last
    reg signed [IW-1:0] slack;                     // complete rows held beyond rd(oy) minus need(oy)
    reg signed [IW-1:0] nadj, nadj1;               // -adj(oy), 1 - adj(oy)
    reg signed [IW-1:0] dlt, dlt1;                 // delta(oy), delta(oy) - 1

    reg s1_valid, s1_pad, s1_last;
    reg [P*DW-1:0] s1_data;
    wire out_free = !s1_valid || m_axis_tready;
    wire issue = !slack[IW-1] && out_free;
    wire e0 = l_cg;                                // the beat ends a pixel of the window
    wire e1 = e0 && l_kx;                          // ... a kernel row
    wire e2 = e1 && l_ky;                          // ... a window
    wire e3 = e2 && l_ox;                          // ... an output row
    wire e4 = e3 && l_oy;                          // ... a frame
    wire release_rows = issue && e3;
    wire pad = r[IW-1] || (r >= S_H) || c[IW-1] || (c >= S_W);

    // Per output row y, the constants of the row after it (f_next(y)), tabulated at elaboration so that
    // looking them up is a multiplexer of constants on oy (a few LUTs), not arithmetic:
    // {-adj, 1 - adj, delta, delta - 1, whether the row after that one is the last}.  Stored bit-major (bit b
    // of every row's entry in bits [b*HO +: HO]), so that each bit is a one-bit select on oy.
    localparam TW = 4 * IW + 1;
    wire [TW*HO-1:0] next_row_table;
    wire [TW-1:0] next_row;
    genvar gy, gb;
    generate
        for (gy = 0; gy < HO; gy = gy + 1) begin : g_row
            localparam signed [IW-1:0] T_NADJ = -f_adj(f_next(gy));
            localparam signed [IW-1:0] T_NADJ1 = 1 - f_adj(f_next(gy));
            localparam signed [IW-1:0] T_DELTA = f_delta(f_next(gy));
            localparam signed [IW-1:0] T_DELTA1 = f_delta(f_next(gy)) - 1;
            localparam T_LAST = (f_next(f_next(gy)) == HO - 1);
            localparam [TW-1:0] T = {T_NADJ, T_NADJ1, T_DELTA, T_DELTA1, T_LAST[0]};
            for (gb = 0; gb < TW; gb = gb + 1) begin : g_bit
                assign next_row_table[gb*HO + gy] = T[gb];
            end
        end
        for (gb = 0; gb < TW; gb = gb + 1) begin : g_sel
            wire [HO-1:0] column = next_row_table[gb*HO +: HO];
            assign next_row[gb] = column[oy];
        end
    endgenerate

    // ring advances by constants, the wrap decided on the small slot counters: the next output row's base
    // moves on by AF rows when the next row is the frame's last (to the next frame's first), else by SH
    wire nrow_wrap = nrow_last ? (nrow_slot >= NR - AF) : (nrow_slot >= NR - SH);
    wire [SLW-1:0] nrow_slot_step =
        nrow_slot + (nrow_last ? (nrow_wrap ? AF - NR : AF) : (nrow_wrap ? SH - NR : SH));
    wire [AW-1:0] nrow_addr_step =
        nrow_addr + (nrow_last ? (nrow_wrap ? A_FRM_WRAP : A_FRM) : (nrow_wrap ? A_ROW_WRAP : A_ROW));
    wire krow_wrap = (krow_slot == NR - 1);
    wire [AW-1:0] krow_addr_next = krow_addr + (krow_wrap ? A_RW_WRAP : A_RW);
    wire [AW-1:0] win_addr_next = win_addr + A_SW;

    assign m_axis_tvalid = s1_valid;
    localparam [DW-1:0] PAD_WORD = PAD_MIN ? {1'b1, {(DW-1){1'b0}}} : {DW{1'b0}};
assign m_axis_tdata = s1_pad ? {P{PAD_WORD}} : s1_data;
    assign m_axis_tlast = s1_last;

    always @(posedge clk) begin
        if (do_write) mem[wr_addr] <= s_axis_tdata;
        if (issue) begin
            s1_data <= mem[rd_addr];
            s1_pad <= pad;
            s1_last <= e4;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_addr <= 0; wr_pos <= 0; wr_last <= (RW == 1); wr_wrap <= (DEPTH == 1);
            room <= S_NR1;
            oy <= 0; ox <= 0; ky <= 0; kx <= 0; cg <= 0;
            l_oy <= (HO == 1); l_ox <= (WO == 1); l_ky <= (KH == 1); l_kx <= (KW == 1); l_cg <= (CG == 1);
            row_base <= -S_PT; col_base <= -S_PL; r <= -S_PT; c <= -S_PL;
            rd_addr <= A_START0; krow_addr <= A_START0; win_addr <= A_START0; nrow_addr <= A_START1;
            krow_slot <= S0; win_slot <= S0; nrow_slot <= S1; nrow_last <= (f_next(0) == HO - 1);
            slack <= -S_NEED0;
            nadj <= -S_ADJ0; nadj1 <= S_ONE - S_ADJ0;
            dlt <= S_DELTA0; dlt1 <= S_DELTA0 - S_ONE;
            s1_valid <= 1'b0;
        end else begin
            // writer
            if (do_write) begin
                wr_addr <= wr_wrap ? {AW{1'b0}} : wr_addr + 1'b1;
                wr_wrap <= wr_wrap ? (DEPTH == 1) : (wr_addr == DEPTH - 2);
                wr_pos <= wr_last ? {AW{1'b0}} : wr_pos + 1'b1;
                wr_last <= wr_last ? (RW == 1) : (wr_pos == RW - 2);
            end
            // row bookkeeping: +1 row per completed input row, the current output row's constants at its release
            slack <= slack + (release_rows ? (row_done ? nadj1 : nadj) : (row_done ? S_ONE : S_ZERO));
            room <= room + (release_rows ? (row_done ? dlt1 : dlt) : (row_done ? -S_ONE : S_ZERO));
            // output register
            if (out_free) s1_valid <= issue;
            // reader: cg innermost, then kx, ky, ox, oy
            if (issue) begin
                if (!l_cg) begin
                    cg <= cg + 1'b1;
                    l_cg <= (cg == CG - 2);
                end else begin
                    cg <= 0;
                    l_cg <= (CG == 1);
                end
                if (!e1) begin
                    rd_addr <= rd_addr + 1'b1;  // the next beat of the same kernel row
                    if (e0) begin
                        kx <= kx + 1'b1;
                        l_kx <= (kx == KW - 2);
                        c <= c + S_ONE;
                    end
                end else begin
                    kx <= 0;
                    l_kx <= (KW == 1);
                    if (!l_ky) begin  // the window's next kernel row
                        ky <= ky + 1'b1;
                        l_ky <= (ky == KH - 2);
                        r <= r + S_ONE;
                        c <= col_base;
                        rd_addr <= krow_addr_next;
                        krow_addr <= krow_addr_next;
                        krow_slot <= krow_wrap ? 0 : krow_slot + 1'b1;
                    end else begin
                        ky <= 0;
                        l_ky <= (KH == 1);
                        if (!l_ox) begin  // the next window of the output row
                            ox <= ox + 1'b1;
                            l_ox <= (ox == WO - 2);
                            r <= row_base;
                            c <= col_base + S_SW;
                            col_base <= col_base + S_SW;
                            rd_addr <= win_addr_next;
                            krow_addr <= win_addr_next;
                            win_addr <= win_addr_next;
                            krow_slot <= win_slot;
                        end else begin  // the next output row: release rows, load its constants
                            ox <= 0;
                            l_ox <= (WO == 1);
                            c <= -S_PL;
                            col_base <= -S_PL;
                            rd_addr <= nrow_addr;
                            krow_addr <= nrow_addr;
                            win_addr <= nrow_addr;
                            nrow_addr <= nrow_addr_step;
                            krow_slot <= nrow_slot;
                            win_slot <= nrow_slot;
                            nrow_slot <= nrow_slot_step;
                            {nadj, nadj1, dlt, dlt1, nrow_last} <= next_row;
                            if (!l_oy) begin
                                oy <= oy + 1'b1;
                                l_oy <= (oy == HO - 2);
                                r <= row_base + S_SH;
                                row_base <= row_base + S_SH;
                            end else begin
                                oy <= 0;
                                l_oy <= (HO == 1);
                                r <= -S_PT;
                                row_base <= -S_PT;
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
