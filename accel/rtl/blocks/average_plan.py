"""Exact ``round(sum / N)`` in hardware: the constants of ``accel_avg_div`` and their proof.

``accel.kernels.average`` rounds ``sum / N`` (N pixels, not necessarily a
power of two) onto the output grid in one exact step.  The hardware does the same
with one constant multiplication instead of a divider:

* ``num = relu?(sum) << max(shift, 0)`` and ``den = N << max(-shift, 0)`` (``shift = dst.frac - src.frac``);
* ``t = 2*num + (den if rounding else 0)``, ``D = 2*den``: truncation is ``floor(t / D)`` and
  round-half-up is ``floor((2*num + den) / 2*den)``; round-half-even additionally subtracts one
  when the division is exact (a tie) and the quotient is odd;
* ``t' = t + K*D >= 0`` so that only unsigned division is needed (``q = floor(t'/D) - K``);
* ``D = D' * 2**Z`` with ``D'`` odd: ``floor(t'/D) = floor((t' >> Z) / D')``;
* ``floor(u / D') = (u * M) >> S`` with ``M = ceil(2**S / D')`` for every ``0 <= u <= Umax``.
  With ``e = M*D' - 2**S`` (``0 <= e < D'``), ``u*M/2**S = u/D' + u*e/(D'*2**S)``; the error term
  stays below ``1/D'`` (so the floor cannot change) whenever ``e * Umax < 2**S``.  The smallest
  such ``S`` is chosen, the condition is asserted, and when the range is small (``Umax < 2**22``)
  the equality is also checked exhaustively.

The plan is pure integer Python; tests compare the RTL with ``kernels.average`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks.cost import Cost, dsp_per_multiplier, logic, ram

#: Verilog integer parameters are 32-bit signed; every constant handed to the RTL must fit.
_PARAM_MAX = (1 << 31) - 1
#: exhaustive check of the reciprocal when the dividend range is at most this large
_EXHAUSTIVE = 1 << 22


def signed_width(lo: int, hi: int) -> int:
    """Two's complement width holding every integer in ``[lo, hi]``."""
    def bits(v: int) -> int:
        return (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1

    return max(2, bits(lo), bits(hi))


@dataclass(frozen=True)
class AveragePlan:
    """Constants of one exact averaging divider (all Verilog parameters of ``accel_avg_div``)."""

    sum_w: int  # signed width of the window sum
    relu: bool
    num_shift: int  # num = sum << num_shift
    t_off: int  # rounding addend + K*D: t' = 2*num + t_off >= 0
    t_w: int  # unsigned width of t'
    z: int  # D = D' << z
    mul: int  # M
    mul_w: int
    mul_shift: int  # S
    d: int  # D (for the tie check)
    k: int  # q = floor(t'/D) - K
    q_w: int  # signed width of q
    round_even: bool
    out: FixedType
    overflow: Overflow

    def verilog_parameters(self) -> dict[str, int]:
        params = {
            "SUM_W": self.sum_w,
            "RELU": int(self.relu),
            "NUM_SHIFT": self.num_shift,
            "T_OFF": self.t_off,
            "T_W": self.t_w,
            "Z": self.z,
            "MUL": self.mul,
            "MUL_W": self.mul_w,
            "MUL_SHIFT": self.mul_shift,
            "DIV": self.d,
            "K": self.k,
            "Q_W": self.q_w,
            "ROUND_EVEN": int(self.round_even),
            "OUT_W": self.out.width,
            "OUT_SIGNED": int(self.out.signed),
            "OVERFLOW": {Overflow.WRAP: 0, Overflow.SATURATE: 1, Overflow.SATURATE_SYMMETRIC: 2}[self.overflow],
        }
        return params

    def cost(self, lanes: int) -> Cost:
        """``lanes`` dividers (``accel_avg_div``): the reciprocal multiply ``u * MUL`` (a DSP slice when yosys
        maps it, nothing when ``MUL`` is 1: a power-of-two count), the shift/offset adds, the tie check
        and the saturation: about two LUTs per bit of the working width with a reciprocal to multiply by,
        a third of that without (fitted); the pipeline's stage registers yosys keeps as flip-flops (the
        dividend's copies become SRL16E shift registers): about 18 per lane (fitted, 12-22 observed)."""
        u_w = self.t_w - self.z
        dsp = dsp_per_multiplier(u_w + 1, self.mul_w + 1) if self.mul > 1 else 0
        work = max(self.t_w, self.q_w, self.sum_w, self.out.width) + 2
        return Cost(dsp=float(lanes * dsp)) + logic(lut=lanes * work * (2.0 if self.mul > 1 else 0.7), ff=18.0 * lanes)


def average_queue_cost(lanes: int, out_w: int) -> Cost:
    """accel_avgpool's output side: an accel_result_queue of 4 + 2 words of the lanes' averages and TLAST
    (LUT-RAM, registered read), its owed count and room flag."""
    return ram("output queue", 6, lanes * out_w + 1, registered_read=True) + logic(lut=8, ff=5)


def plan_average(
    name: str,
    count: int,
    src: FixedType,
    dst: FixedType,
    rounding: Rounding,
    overflow: Overflow,
    relu: bool,
) -> AveragePlan:
    """Derive and prove the divider constants for averaging ``count`` values of ``src`` into ``dst``."""
    if count < 1:
        raise AccelError(f"block {name}: cannot average over {count} values; the window must hold at least one.")
    lo, hi = count * src.min_raw, count * src.max_raw
    # at least one bit wider than an element: accel_pool_core sign-extends each element into the sum (a window
    # of one signed value, as a 1x1 average pool, would otherwise give a sum exactly as wide)
    sum_w = max(signed_width(lo, hi), src.width + 1)
    if relu:
        lo = max(lo, 0)
        hi = max(hi, 0)
    shift = dst.frac - src.frac
    num_shift = max(shift, 0)
    den = count << max(-shift, 0)
    rnd = 0 if rounding is Rounding.TRUNCATE else den
    d = 2 * den
    t_lo, t_hi = 2 * (lo << num_shift) + rnd, 2 * (hi << num_shift) + rnd
    k = -(t_lo // d) if t_lo < 0 else 0  # smallest K with t_lo + K*D >= 0
    t_off = rnd + k * d
    t_max = t_hi + k * d
    t_w = max(1, t_max.bit_length())
    z = (d & -d).bit_length() - 1
    d_odd = d >> z
    u_max = t_max >> z
    if d_odd == 1:
        mul, mul_shift = 1, 0
    else:
        mul_shift = (d_odd - 1).bit_length()
        while True:
            mul = -(-(1 << mul_shift) // d_odd)
            if (mul * d_odd - (1 << mul_shift)) * u_max < (1 << mul_shift):
                break
            mul_shift += 1
    if u_max < _EXHAUSTIVE:
        u = np.arange(u_max + 1, dtype=np.int64)
        if not np.array_equal((u * mul) >> mul_shift, u // d_odd):
            raise AccelError(f"block {name}: internal error, reciprocal of {d_odd} is not exact.")
    q_lo, q_hi = t_lo // d, t_hi // d
    q_w = signed_width(q_lo - 1, q_hi)
    for what, v in (("offset", t_off), ("reciprocal", mul), ("divisor", d), ("offset", k)):
        if v > _PARAM_MAX:
            raise AccelError(
                f"block {name}: averaging {count} values of {src.hls} into {dst.hls} needs a {what} constant "
                f"of {v.bit_length()} bits; supported are constants below 2**31."
            )
    return AveragePlan(
        sum_w=sum_w,
        relu=relu,
        num_shift=num_shift,
        t_off=t_off,
        t_w=t_w,
        z=z,
        mul=mul,
        mul_w=max(1, mul.bit_length()),
        mul_shift=mul_shift,
        d=d,
        k=k,
        q_w=q_w,
        round_even=rounding is Rounding.ROUND_HALF_EVEN,
        out=dst,
        overflow=overflow,
    )


def simulate_plan(plan: AveragePlan, sums: np.ndarray) -> np.ndarray:
    """The divider's arithmetic on int64 arrays, step by step as ``accel_avg_div`` does it.

    Used by the plan's own test against ``kernels.average`` over every possible sum (the RTL itself is
    compared with ``kernels.average`` in the block testbenches).
    """
    s = np.asarray(sums, dtype=np.int64)
    if plan.relu:
        s = np.maximum(s, 0)
    t = 2 * (s << plan.num_shift) + plan.t_off
    if t.size and (t.min() < 0 or t.max() >= (1 << plan.t_w)):
        raise AssertionError("dividend outside the planned range")
    q0 = ((t >> plan.z) * plan.mul) >> plan.mul_shift
    q = q0 - plan.k
    if plan.round_even:
        q = q - ((t == q0 * plan.d) & ((q & 1) == 1))
    out = plan.out
    if plan.overflow is Overflow.WRAP:
        q = q & ((1 << out.width) - 1)
        if out.signed:
            q = np.where(q > out.max_raw, q - (1 << out.width), q)
        return q
    lo = -out.max_raw if plan.overflow is Overflow.SATURATE_SYMMETRIC and out.signed else out.min_raw
    return np.clip(q, lo, out.max_raw)
