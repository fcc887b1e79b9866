// accel_avg_div: exact round(sum / N) onto the output grid (optional ReLU, rounding, overflow), pipelined
//
// The constants come from accel.rtl.blocks.average_plan, which proves at generation time that
// floor(u / D') == (u * MUL) >> MUL_SHIFT over the whole dividend range; see that module for the derivation.
// Built like hardware: STAGES = 4 register stages, each advanced by `en` (the caller stalls the whole
// pipeline at once): (1) the dividend t = 2*num + T_OFF, (2) the reciprocal product u * MUL (a DSP48E1 with
// its M or P register where yosys maps the multiplier), (3) the quotient q0, q0 * DIV for the tie check and
// q0 - K, (4) the quotient after the tie correction; the saturation follows stage 4
// combinationally into the caller's register.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_avg_div #(
    parameter SUM_W = 12,      // signed width of the window sum
    parameter RELU = 0,        // 1: negative sums count as zero
    parameter NUM_SHIFT = 0,   // num = sum << NUM_SHIFT (output has more fractional bits than the input)
    parameter T_OFF = 0,       // t = 2*num + T_OFF is never negative (rounding addend + K*DIV)
    parameter T_W = 14,        // unsigned width of t
    parameter Z = 1,           // DIV = D' << Z with D' odd
    parameter MUL = 1,         // reciprocal of D': floor(u / D') = (u * MUL) >> MUL_SHIFT
    parameter MUL_W = 1,       // width of MUL
    parameter MUL_SHIFT = 0,   // see MUL
    parameter DIV = 2,         // the divisor 2*den of t (tie check)
    parameter K = 0,           // quotient offset: q = floor(t / DIV) - K
    parameter Q_W = 10,        // signed width of q
    parameter ROUND_EVEN = 1,  // 1: ties (t divisible by DIV) go to the even quotient
    parameter OUT_W = 8,       // output element width
    parameter OUT_SIGNED = 1,  // 1: output is two's complement
    parameter OVERFLOW = 1     // 0: wrap, 1: saturate, 2: symmetric saturate
) (
    input  wire             clk,
    input  wire             en,     // advance every stage (the sum enters stage 1)
    input  wire [SUM_W-1:0] sum,
    output wire [OUT_W-1:0] avg     // the average of the sum that entered STAGES advances ago
);

localparam U_W = T_W - Z;                 // width of the odd-divisor dividend
localparam P_W = U_W + MUL_W;             // product width
localparam W_A = (T_W > Q_W ? T_W : Q_W);
localparam W_B = (SUM_W > OUT_W ? SUM_W : OUT_W);
localparam W_W = (W_A > W_B ? W_A : W_B) + 2;  // working width: t, q, the sum and the output bounds all fit
// constants sized from 32-bit parameters; their ranges are proven by the Python plan
/* verilator lint_off WIDTH */
localparam signed [W_W-1:0] T_OFF_W = T_OFF;
localparam signed [W_W-1:0] K_W = K;
localparam [T_W-1:0] DIV_T = DIV;
localparam [MUL_W-1:0] MUL_C = MUL;
localparam signed [W_W-1:0] OUT_MAX = OUT_SIGNED ? (2 ** (OUT_W - 1)) - 1 : (2 ** OUT_W) - 1;
localparam signed [W_W-1:0] OUT_MIN = OUT_SIGNED ? (OVERFLOW == 2 ? -OUT_MAX : -(2 ** (OUT_W - 1))) : 0;
/* verilator lint_on WIDTH */

initial begin
    if (T_W <= Z || T_W > 62 || Q_W < 2 || OUT_W < 1 || OUT_W > 30 || OVERFLOW > 2 || MUL < 1) begin
        $error("%m: illegal divider constants (T_W=%0d Z=%0d Q_W=%0d OUT_W=%0d OVERFLOW=%0d)",
               T_W, Z, Q_W, OUT_W, OVERFLOW);
        $finish;
    end
end

wire signed [SUM_W-1:0] s = sum;
wire signed [SUM_W-1:0] s_relu = (RELU != 0 && s[SUM_W-1]) ? {SUM_W{1'b0}} : s;
wire signed [W_W-1:0] s_ext = {{(W_W - SUM_W){s_relu[SUM_W-1]}}, s_relu};
// the high bits of t_full and q0_full are provably zero (range proven in Python); low bits of t only feed the tie
/* verilator lint_off UNUSEDSIGNAL */
wire signed [W_W-1:0] t_full = (s_ext <<< (NUM_SHIFT + 1)) + T_OFF_W;
reg [T_W-1:0] t1;                 // stage 1: the dividend
reg [T_W-1:0] t2;                 // stage 2: the dividend (for the tie check) and the product
reg [P_W-1:0] prod2;
reg [T_W-1:0] t3;                 // stage 3: the dividend, the quotient times DIV, q0 - K
reg [T_W-1:0] back3;
reg signed [W_W-1:0] q13;
reg signed [W_W-1:0] q4;          // stage 4: the quotient, ties to even
wire [P_W-1:0] q0_full = prod2 >> MUL_SHIFT;
/* verilator lint_on UNUSEDSIGNAL */
wire [U_W-1:0] q0 = q0_full[U_W-1:0];
wire tie = (ROUND_EVEN != 0) && (back3 == t3);

always @(posedge clk) begin
    if (en) begin
        t1 <= t_full[T_W-1:0];
        t2 <= t1;
        prod2 <= t1[T_W-1:Z] * MUL_C;
        t3 <= t2;
        back3 <= q0 * DIV_T;
        q13 <= $signed({{(W_W - U_W){1'b0}}, q0}) - K_W;
        q4 <= (tie && q13[0]) ? q13 - 1 : q13;
    end
end

wire signed [W_W-1:0] q = q4;
wire [OUT_W-1:0] sat = (q > OUT_MAX) ? OUT_MAX[OUT_W-1:0] : (q < OUT_MIN) ? OUT_MIN[OUT_W-1:0] : q[OUT_W-1:0];

assign avg = (OVERFLOW == 0) ? q[OUT_W-1:0] : sat;

endmodule

`resetall
