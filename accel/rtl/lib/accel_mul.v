// accel_mul: one product, or two products of a shared operand, in the multiplier style the block was built with.
//
// Shared by accel_mvu and accel_dwu so that the product code exists once.  x is the shared operand (an
// activation), w the weight field; the output holds N products, product k at p[k*P_WIDTH +: P_WIDTH] (two's
// complement, exact: P_WIDTH = X_WIDTH + W_WIDTH + 2 always holds a product of the extended operands).  The
// inputs are expected to come from registers (the DSP48E1 A/B input registers); the output is the register of
// the last of STAGES register stages, so a product of the inputs at edge e is on p after edge e + STAGES.
// Styles (STYLE):
//   0 "dsp"   one product x*w (N = 1) per multiplier, which yosys' mul2dsp and Vivado put in a DSP48E1; stage 1 is
//             the DSP48E1's M register, a second stage (STAGES = 2) its P register;
//   1 "dsp2"  two products x*w0 and x*w1 (N = 2) of one DSP48E1: A = w1*2^S + w0 (S = SHIFT, A at most 25 bits),
//             B = x.  w holds w0 (W_WIDTH bits) at [W_WIDTH-1:0] and the adjusted high weight w1 - (w0 < 0)
//             (W_WIDTH+1 bits, two's complement) above it, so A is wiring: the adjusted weight above w0
//             sign-extended to S bits has the value w1*2^S + w0.  Stage 1: P = A*x (M register).  Stage 2: the
//             split: x*w0 = P[S-1:0] sign-extended, x*w1 = P[2S-1:S] + P[S-1] (S bits).  Exact because every
//             product the operand types allow fits S signed bits: the low S bits of P are x*w0 mod 2^S, and
//             P >> S (floor) is x*w1 plus floor(x*w0 / 2^S) = -1 exactly when x*w0 < 0, i.e. when P[S-1] is set;
//   2 "lut"   one product (N = 1) as a sum of shifted partial products (one row of x per weight bit, the sign
//             bit's row subtracted), which yosys 0.23 cannot take for a DSP48E1 (it maps no $mul), and marked
//             use_dsp = "no" for Vivado.  Stage 1: the rows added in pairs; stage 2: the pairs' sum (STAGES = 2).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_mul #(
    parameter STYLE = 0,           // 0: DSP48E1, 1: two products packed into one DSP48E1, 2: LUTs
    parameter N = 1,               // products (2 only for STYLE 1)
    parameter STAGES = 1,          // register stages from x, w to p (STYLE 0: 1 or 2; STYLE 1 and 2: 2)
    parameter X_WIDTH = 8,         // shared operand width
    parameter X_SIGNED = 0,        // 1: x two's complement
    parameter W_WIDTH = 8,         // weight width
    parameter W_SIGNED = 1,        // 1: weights two's complement
    parameter SHIFT = 16,          // STYLE 1: offset S of the high product (Mvu.pack_shift)
    parameter WF_WIDTH = (N == 2) ? 2 * W_WIDTH + 1 : W_WIDTH,  // weight field width
    parameter P_WIDTH = X_WIDTH + W_WIDTH + 2                   // width of one product on p (exactly this)
) (
    input  wire                      clk,
    input  wire [X_WIDTH-1:0]        x,
    input  wire [WF_WIDTH-1:0]       w,
    output wire [N*P_WIDTH-1:0]      p
);

    // the signed width every product of the operand types fits (the corners of the operand ranges); only
    // evaluated for STYLE 1, whose widths are small (A at most 25 bits)
    function integer product_width(input integer dummy);
        integer xl, xh, wl, wh, lo, hi, c, k;
        begin
            xl = (X_SIGNED != 0) ? -(1 << (X_WIDTH - 1)) : 0;
            xh = (X_SIGNED != 0) ? (1 << (X_WIDTH - 1)) - 1 : (1 << X_WIDTH) - 1;
            wl = (W_SIGNED != 0) ? -(1 << (W_WIDTH - 1)) : 0;
            wh = (W_SIGNED != 0) ? (1 << (W_WIDTH - 1)) - 1 : (1 << W_WIDTH) - 1;
            lo = 0;
            hi = 0;
            for (k = 0; k < 4; k = k + 1) begin
                c = ((k % 2 == 1) ? xh : xl) * ((k / 2 == 1) ? wh : wl);
                if (c < lo) lo = c;
                if (c > hi) hi = c;
            end
            product_width = 1 + dummy;
            while (lo < -(1 << (product_width - 1)) || hi > (1 << (product_width - 1)) - 1)
                product_width = product_width + 1;
        end
    endfunction

    localparam XE = X_WIDTH + 1;              // x extended by a sign bit
    localparam WE = W_WIDTH + 1;              // a weight extended by a sign bit
    localparam PW = X_WIDTH + W_WIDTH + 2;    // exact width of an extended product
    localparam MINS = (STYLE == 1 && X_WIDTH + W_WIDTH <= 24) ? product_width(0) : 1;

    initial begin
        if (STYLE < 0 || STYLE > 2 || X_WIDTH < 1 || W_WIDTH < 1 || P_WIDTH != PW ||
            N != ((STYLE == 1) ? 2 : 1) || WF_WIDTH != ((N == 2) ? 2 * W_WIDTH + 1 : W_WIDTH) ||
            STAGES < ((STYLE == 0) ? 1 : 2) || STAGES > 2 ||
            (STYLE == 1 && (X_WIDTH + W_WIDTH > 24 || SHIFT < MINS || SHIFT > PW || WE + SHIFT > 25 || XE > 18))) begin
            $error("%m: accel_mul parameters are illegal (STYLE 0..2, N = 2 only packed, SHIFT >= the product width)");
            $finish;
        end
    end

    wire signed [XE-1:0] xe = {X_SIGNED != 0 && x[X_WIDTH-1], x};

    generate
        if (STYLE == 0) begin : dsp
            wire signed [WE-1:0] we = {W_SIGNED != 0 && w[W_WIDTH-1], w[W_WIDTH-1:0]};
            reg signed [PW-1:0] m;         // stage 1 (DSP48E1 M register)
            always @(posedge clk) m <= xe * we;
            if (STAGES == 2) begin : preg
                reg signed [PW-1:0] r;     // stage 2 (DSP48E1 P register)
                always @(posedge clk) r <= m;
                assign p = r;
            end else begin : mout
                assign p = m;
            end
        end else if (STYLE == 1) begin : dsp2
            localparam S = SHIFT;
            localparam AW = WE + S;        // A port: the adjusted high weight above w0 sign-extended to S bits
            wire [W_WIDTH-1:0] w0 = w[W_WIDTH-1:0];
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [W_WIDTH:0] w0x = {W_SIGNED != 0 && w0[W_WIDTH-1], w0};
            /* verilator lint_on UNUSEDSIGNAL */
            /* verilator lint_off WIDTH */
            wire signed [S-1:0] w0s = w0x;  // sign extension (S > W_WIDTH) or the same value (S == W_WIDTH)
            /* verilator lint_on WIDTH */
            wire signed [AW-1:0] a = {w[WF_WIDTH-1:W_WIDTH], w0s};
            /* verilator lint_off UNUSEDSIGNAL */
            reg signed [AW+XE-1:0] m;      // stage 1 (DSP48E1 M register): bits from 2S up are not needed
            /* verilator lint_on UNUSEDSIGNAL */
            reg signed [S-1:0] lo, hi;     // stage 2: the split products
            always @(posedge clk) begin
                m <= a * xe;
                lo <= m[S-1:0];
                hi <= m[2*S-1:S] + {{(S-1){1'b0}}, m[S-1]};  // the correction of the low product's sign
            end
            assign p = {{(PW-S){hi[S-1]}}, hi, {(PW-S){lo[S-1]}}, lo};
        end else begin : lut
            // weight bit i contributes x * 2^i (x * -2^i for the sign bit of a signed weight); bits 2j and 2j+1
            // are added at stage 1 into pp_j (x times a 2-bit digit: PPW bits), which counts 4^j times
            localparam NP = (W_WIDTH + 1) / 2;  // digits
            localparam PPW = XE + 2;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [W_WIDTH:0] wz = {1'b0, w};        // the weight's bits, a zero above (an odd width's last digit)
            /* verilator lint_on UNUSEDSIGNAL */
            wire signed [PPW-1:0] x1 = {{2{xe[XE-1]}}, xe};  // x sign-extended
            wire signed [PPW-1:0] x2 = x1 <<< 1;     // 2x
            wire [NP*PPW-1:0] pp;                              // stage 1: the digits' products
            (* use_dsp = "no" *) reg signed [PW-1:0] sum;      // stage 2: the product
            genvar j;
            for (j = 0; j < NP; j = j + 1) begin : digit
                localparam NEG0 = (W_SIGNED != 0 && 2 * j == W_WIDTH - 1);      // bit 2j is the sign bit
                localparam NEG1 = (W_SIGNED != 0 && 2 * j + 1 == W_WIDTH - 1);  // bit 2j+1 is the sign bit
                localparam HAS1 = (2 * j + 1 < W_WIDTH);
                wire signed [PPW-1:0] r0 = wz[2*j] ? x1 : {PPW{1'b0}};
                wire signed [PPW-1:0] r1 = (HAS1 && wz[2*j+1]) ? x2 : {PPW{1'b0}};
                (* use_dsp = "no" *) reg signed [PPW-1:0] d;
                // the sign bit's row is subtracted in the digit's own adder (no separate negation of x)
                always @(posedge clk) d <= NEG0 ? -r0 : (NEG1 ? r0 - r1 : r0 + r1);
                assign pp[j*PPW +: PPW] = d;
            end
            integer k;
            reg signed [PW-1:0] acc;
            always @(*) begin
                acc = {PW{1'b0}};
                for (k = 0; k < NP; k = k + 1)
                    acc = acc + ($signed({{(PW-PPW){pp[k*PPW+PPW-1]}}, pp[k*PPW +: PPW]}) <<< (2 * k));
            end
            always @(posedge clk) sum <= acc;
            assign p = sum;
        end
    endgenerate

endmodule

`resetall
