"""The one fixed-point type system of accel.

A :class:`FixedType` has the meaning of ``ap_fixed<W,I>`` (signed) or
``ap_ufixed<W,I>`` (unsigned): a value is a *raw* integer of ``width`` bits
times ``2**-frac`` where ``frac = width - integer``.  Every tensor in accel is
held as raw integers (NumPy ``int64``); no float is on the verification path.

:func:`quantize` is the single definition of rounding and overflow.  The NumPy
reference, the hls4ml type strings and the RTL requantiser are all tested
against it, and it is itself tested exhaustively against the ``ap_types``
headers that hls4ml ships (``tests/test_fixed_ap_types.py``).
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

import numpy as np

from accel import AccelError

#: Raw values live in int64; shifting must never leave it.
MAX_WIDTH = 62


class Rounding(enum.Enum):
    """What happens to the bits dropped when the fractional part shrinks."""

    TRUNCATE = "AP_TRN"  # floor (towards minus infinity)
    ROUND_HALF_UP = "AP_RND"  # nearest, ties towards plus infinity
    ROUND_HALF_EVEN = "AP_RND_CONV"  # nearest, ties to even (tf.round, QKeras)


class Overflow(enum.Enum):
    """What happens when a value does not fit the destination's integer part."""

    WRAP = "AP_WRAP"  # keep the low `width` bits (two's complement)
    SATURATE = "AP_SAT"  # clip to [min, max]
    SATURATE_SYMMETRIC = "AP_SAT_SYM"  # clip to [-max, max] (unsigned: [0, max])


@dataclass(frozen=True, order=True)
class FixedType:
    """An exact fixed-point format: ``signed``, total ``width`` bits, ``integer`` bits (sign included)."""

    signed: bool
    width: int
    integer: int

    def __post_init__(self) -> None:
        if not 1 <= self.width <= MAX_WIDTH:
            raise AccelError(
                f"fixed-point type {self.hls} has width {self.width}; supported widths are 1 to {MAX_WIDTH} bits."
            )
        if self.signed and self.width < 2:
            raise AccelError(f"signed fixed-point type {self.hls} needs at least 2 bits.")

    # -- derived facts -------------------------------------------------
    @property
    def frac(self) -> int:
        """Fractional bits: the value of raw integer ``r`` is ``r * 2**-frac``."""
        return self.width - self.integer

    @property
    def min_raw(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def hls(self) -> str:
        """The type as hls4ml / Vitis HLS spells it, e.g. ``ap_fixed<8,3>``."""
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}>"

    def __str__(self) -> str:
        return self.hls

    # -- conversions ---------------------------------------------------
    def to_float(self, raw: np.ndarray | int) -> np.ndarray:
        """Float64 view of raw values (exact while ``width <= 53``); for display and for feeding Keras."""
        return np.asarray(raw, dtype=np.float64) * math.ldexp(1.0, -self.frac)

    def from_float(self, values: np.ndarray, what: str = "value") -> np.ndarray:
        """Raw integers of float values that must lie exactly on this type's grid and range.

        Raises AccelError naming ``what`` when a value is off the grid or out of range:
        accel never rounds a float silently.
        """
        x = np.asarray(values, dtype=np.float64)
        scaled = np.ldexp(x, self.frac)
        raw = np.rint(scaled)
        bad = (raw != scaled) | ~np.isfinite(scaled)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise AccelError(
                f"{what} {x.ravel()[i]!r} is not exactly representable in {self.hls}; "
                "only values on the type's grid are accepted."
            )
        raw = raw.astype(np.int64)
        out = (raw < self.min_raw) | (raw > self.max_raw)
        if out.any():
            i = int(np.flatnonzero(out.ravel())[0])
            raise AccelError(
                f"{what} {x.ravel()[i]!r} is outside the range of {self.hls}; only in-range values are accepted."
            )
        return raw

    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse ``ap_fixed<W,I>`` / ``ap_ufixed<W,I>`` (extra template arguments are rejected)."""
        m = re.fullmatch(r"\s*ap_(u?)fixed<\s*(\d+)\s*,\s*(-?\d+)\s*>\s*", text)
        if not m:
            raise AccelError(f"'{text}' is not a fixed-point type; expected ap_fixed<W,I> or ap_ufixed<W,I>.")
        return cls(signed=m.group(1) == "", width=int(m.group(2)), integer=int(m.group(3)))

    @classmethod
    def covering(cls, lo_raw: int, hi_raw: int, frac: int, signed: bool | None = None) -> FixedType:
        """The narrowest type with ``frac`` fractional bits that holds every raw value in ``[lo_raw, hi_raw]``.

        ``signed`` defaults to ``lo_raw < 0``.  This is how accel sizes accumulators
        from worst-case bounds, so nothing downstream can overflow.
        """
        lo_raw, hi_raw = int(lo_raw), int(hi_raw)
        if signed is None:
            signed = lo_raw < 0
        if not signed and lo_raw < 0:
            raise AccelError(f"an unsigned type cannot hold the negative bound {lo_raw}.")
        if signed:
            width = max(2, _bits_signed(lo_raw), _bits_signed(hi_raw))
        else:
            width = max(1, int(hi_raw).bit_length())
        return cls(signed=signed, width=width, integer=width - frac)

    def with_frac(self, frac: int) -> FixedType:
        """Same range, ``frac`` fractional bits (widening only: used to align operands exactly)."""
        if frac < self.frac:
            raise AccelError(f"cannot align {self.hls} to fewer fractional bits ({frac}) without rounding.")
        return FixedType(self.signed, self.width + frac - self.frac, self.integer)


def _bits_signed(v: int) -> int:
    """Two's complement width needed for integer ``v``."""
    return (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1


def union(*types: FixedType) -> FixedType:
    """The narrowest type that holds every value of every type exactly (for add, concat, alignment)."""
    frac = max(t.frac for t in types)
    lo = min(t.min_raw << (frac - t.frac) for t in types)
    hi = max(t.max_raw << (frac - t.frac) for t in types)
    return FixedType.covering(lo, hi, frac, signed=any(t.signed for t in types))


def align(raw: np.ndarray, src: FixedType, frac: int) -> np.ndarray:
    """Exactly re-express raw values of ``src`` with ``frac >= src.frac`` fractional bits (a left shift)."""
    shift = frac - src.frac
    if shift < 0:
        raise AccelError(f"cannot align {src.hls} to {frac} fractional bits without rounding.")
    return np.asarray(raw, dtype=np.int64) << shift


def _round_shift(raw: np.ndarray, shift: int, rounding: Rounding) -> np.ndarray:
    """Divide by ``2**shift`` (shift > 0) with the given rounding; exact integer arithmetic."""
    if shift > MAX_WIDTH:  # every value is then less than half an LSB of the result... except for floor
        shift_eff = MAX_WIDTH
        raw = np.where(raw < 0, -(1 << (MAX_WIDTH - 1)), np.minimum(raw, 1))  # only sign and zero matter
        return _round_shift(raw, shift_eff, rounding)
    # |raw| < 2**62 (MAX_WIDTH) and half <= 2**61, so the additions below cannot overflow int64
    if rounding is Rounding.TRUNCATE:
        return raw >> shift
    half = 1 << (shift - 1)
    if rounding is Rounding.ROUND_HALF_UP:  # floor((raw + half) / 2**shift): ties go up
        return (raw + half) >> shift
    # ties to even: adding half - 1 rounds ties down, and the floor's parity bit lifts odd floors' ties up
    # (rem > half: carries; rem == half: carries iff the floor is odd; rem < half: never carries)
    return (raw + ((raw >> shift) & 1) + (half - 1)) >> shift


def round_divide(num: np.ndarray, den: int, rounding: Rounding) -> np.ndarray:
    """``num / den`` rounded to an integer with ``rounding`` (den > 0); exact, for averages over N pixels.

    Averaging pools divide by window sizes that need not be powers of two; this
    is the one place that rounds such a quotient.
    """
    if den <= 0:
        raise AccelError(f"division by {den}: divisors must be positive.")
    num = np.asarray(num, dtype=np.int64)
    floor = num // den
    if rounding is Rounding.TRUNCATE:
        return floor
    twice_rem = 2 * (num - floor * den)  # 0 <= twice_rem < 2*den
    if rounding is Rounding.ROUND_HALF_UP:
        return floor + (twice_rem >= den)
    return floor + ((twice_rem > den) | ((twice_rem == den) & ((floor & 1) == 1)))


def quantize(
    raw: np.ndarray,
    src: FixedType,
    dst: FixedType,
    rounding: Rounding = Rounding.TRUNCATE,
    overflow: Overflow = Overflow.WRAP,
) -> np.ndarray:
    """Convert raw values of ``src`` into raw values of ``dst``, exactly as ``ap_fixed`` assignment does.

    The defaults are ``ap_fixed``'s own (AP_TRN, AP_WRAP).  Rounding is applied
    first, then overflow, as in the ``ap_types`` headers.
    """
    return quantize_counting(raw, src, dst, rounding, overflow)[0]


def quantize_counting(
    raw: np.ndarray,
    src: FixedType,
    dst: FixedType,
    rounding: Rounding = Rounding.TRUNCATE,
    overflow: Overflow = Overflow.WRAP,
) -> tuple[np.ndarray, int]:
    """:func:`quantize`, also returning how many elements overflowed (were saturated or wrapped)."""
    v = np.asarray(raw, dtype=np.int64)
    shift = dst.frac - src.frac
    if shift > 0:
        if src.width + shift > MAX_WIDTH + 1:
            raise AccelError(f"converting {src.hls} to {dst.hls} needs more than {MAX_WIDTH + 1} bits.")
        v = v << shift
    elif shift < 0:
        v = _round_shift(v, -shift, rounding)
    return apply_overflow(v, dst, overflow)


def apply_overflow(raw: np.ndarray, dst: FixedType, overflow: Overflow) -> tuple[np.ndarray, int]:
    """Bring raw integers already on ``dst``'s grid into its range; returns them and how many overflowed."""
    v = np.asarray(raw, dtype=np.int64)
    lo, hi = dst.min_raw, dst.max_raw
    if overflow is Overflow.SATURATE_SYMMETRIC and dst.signed:
        lo = -hi
    if v.size == 0 or (lo <= v.min() and v.max() <= hi):  # two cheap reductions; most tensors fit
        return (v.copy() if v is raw else v), 0  # never the caller's own array
    count = int(np.count_nonzero((v < lo) | (v > hi)))
    if overflow is Overflow.WRAP:
        if dst.signed:  # the low `width` bits read as two's complement
            offset = 1 << (dst.width - 1)
            v = ((v + offset) & ((1 << dst.width) - 1)) - offset
        else:
            v = v & ((1 << dst.width) - 1)
    else:
        v = np.maximum(v, lo)  # not np.clip: NumPy 1.26 clips int64 by Python-int bounds several times slower
        np.minimum(v, hi, out=v)
    return v, count
