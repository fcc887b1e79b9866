"""Unit tests of accel.fixed against an independent oracle written with exact fractions.

The ap_types comparison (test_fixed_ap_types.py) is the authority for ap_fixed
semantics; these tests also cover what the headers cannot run (rounding away
more bits than the source has, shifts beyond int64) and the type arithmetic.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from accel import AccelError
from accel.fixed import (
    MAX_WIDTH,
    FixedType,
    Overflow,
    Rounding,
    align,
    quantize,
    quantize_counting,
    round_divide,
    union,
)


def _round(x: Fraction, rounding: Rounding) -> int:
    """Independent rounding oracle on exact fractions."""
    if rounding is Rounding.TRUNCATE:
        return math.floor(x)
    if rounding is Rounding.ROUND_HALF_UP:
        return math.floor(x + Fraction(1, 2))
    return round(x)  # Python rounds a Fraction half to even


def _overflow(q: int, t: FixedType, overflow: Overflow) -> int:
    lo, hi = t.min_raw, t.max_raw
    if overflow is Overflow.WRAP:
        return (q - lo) % (1 << t.width) + lo
    if overflow is Overflow.SATURATE_SYMMETRIC and t.signed:
        lo = -hi
    return min(max(q, lo), hi)


def _all_raw(t: FixedType) -> list[int]:
    return list(range(t.min_raw, t.max_raw + 1))


# -- ranges and construction -------------------------------------------------
@pytest.mark.parametrize(
    ("t", "lo", "hi"),
    [
        (FixedType(True, 8, 3), Fraction(-4), Fraction(4) - Fraction(1, 32)),
        (FixedType(False, 8, 3), Fraction(0), Fraction(8) - Fraction(1, 32)),
        (FixedType(True, 4, 6), Fraction(-32), Fraction(28)),
        (FixedType(False, 4, -2), Fraction(0), Fraction(15, 64)),
        (FixedType(True, 2, 1), Fraction(-1), Fraction(1, 2)),
        (FixedType(False, 1, 0), Fraction(0), Fraction(1, 2)),
    ],
    ids=str,
)
def test_range_matches_ap_fixed_definition(t: FixedType, lo: Fraction, hi: Fraction) -> None:
    assert Fraction(t.min_raw, 1) / (Fraction(2) ** t.frac) == lo
    assert Fraction(t.max_raw, 1) / (Fraction(2) ** t.frac) == hi
    assert t.to_float(t.min_raw) == float(lo) and t.to_float(t.max_raw) == float(hi)


@pytest.mark.parametrize(("signed", "width"), [(True, 1), (True, 0), (False, 0), (True, MAX_WIDTH + 1), (False, 100)])
def test_bad_widths_refused(signed: bool, width: int) -> None:
    with pytest.raises(AccelError, match="fixed-point type"):
        FixedType(signed, width, 0)


@pytest.mark.parametrize(
    "text", ["ap_fixed<8>", "ap_fixed<8,3,AP_RND>", "fixed<8,3>", "ap_int<8>", "", "ap_ufixed<1,x>"]
)
def test_parse_refuses_other_spellings(text: str) -> None:
    with pytest.raises(AccelError, match="not a fixed-point type"):
        FixedType.parse(text)


# -- covering and union --------------------------------------------------------
def test_covering_is_the_narrowest_holding_type() -> None:
    for lo, hi, frac in product(range(-20, 21), range(-20, 21), (-2, 0, 3)):
        if lo > hi:
            continue
        t = FixedType.covering(lo, hi, frac)
        assert t.frac == frac and t.signed == (lo < 0)
        assert t.min_raw <= lo and hi <= t.max_raw
        if t.width > (2 if t.signed else 1):
            narrower = FixedType(t.signed, t.width - 1, t.integer - 1)
            assert lo < narrower.min_raw or hi > narrower.max_raw


def test_covering_refuses_negative_bound_for_unsigned() -> None:
    with pytest.raises(AccelError, match="unsigned"):
        FixedType.covering(-1, 3, 0, signed=False)


TYPES = [FixedType(s, w, i) for s, w, i in product((True, False), (2, 3, 5), (-1, 0, 2, 6))]


def test_union_holds_every_value_of_every_operand_exactly() -> None:
    for a, b in product(TYPES, TYPES):
        u = union(a, b)
        for t in (a, b):
            shifted = align(np.array(_all_raw(t)), t, u.frac)
            assert shifted.min() >= u.min_raw and shifted.max() <= u.max_raw, (a, b, u)
            # exactness: the value is unchanged
            values = [Fraction(v) / Fraction(2) ** t.frac for v in _all_raw(t)]
            assert [Fraction(int(r)) / Fraction(2) ** u.frac for r in shifted] == values
        assert u.width <= max(a.width, b.width) + abs(a.frac - b.frac) + 1  # never needlessly wide


def test_align_and_with_frac_refuse_rounding() -> None:
    t = FixedType(True, 6, 2)
    with pytest.raises(AccelError, match="without rounding"):
        align(np.array([1]), t, t.frac - 1)
    with pytest.raises(AccelError, match="without rounding"):
        t.with_frac(t.frac - 1)
    assert t.with_frac(t.frac + 3) == FixedType(True, 9, 2)


# -- from_float ------------------------------------------------------------------
def test_from_float_exact_values() -> None:
    t = FixedType(True, 8, 3)
    values = np.array([-4.0, -0.03125, 0.0, 1.5, 3.96875])
    assert np.array_equal(t.from_float(values), [-128, -1, 0, 48, 127])
    every = np.array(_all_raw(t))
    assert np.array_equal(t.from_float(t.to_float(every)), every)


@pytest.mark.parametrize(
    ("value", "message"),
    [(0.01, "not exactly representable"), (4.0, "outside the range"), (-4.03125, "outside the range"),
     (float("nan"), "not exactly representable"), (float("inf"), "not exactly representable")],
)  # fmt: skip
def test_from_float_refuses(value: float, message: str) -> None:
    with pytest.raises(AccelError, match=message) as err:
        FixedType(True, 8, 3).from_float(np.array([0.5, value]), what="weight of layer conv1")
    assert "weight of layer conv1" in str(err.value)


# -- round_divide ---------------------------------------------------------------
@pytest.mark.parametrize("rounding", list(Rounding))
def test_round_divide_matches_fractions(rounding: Rounding) -> None:
    num = np.arange(-300, 301, dtype=np.int64)
    for den in range(1, 26):
        got = round_divide(num, den, rounding)
        expected = [_round(Fraction(int(n), den), rounding) for n in num]
        assert np.array_equal(got, expected), (den, rounding)


def test_round_divide_refuses_non_positive_divisor() -> None:
    with pytest.raises(AccelError, match="divisors must be positive"):
        round_divide(np.array([3]), 0, Rounding.TRUNCATE)


# -- quantize against the fraction oracle -----------------------------------------------
QUANT_TYPES = [FixedType(True, 4, 2), FixedType(False, 3, 1), FixedType(True, 5, -2), FixedType(False, 4, 6),
               FixedType(True, 3, 5), FixedType(True, 6, 0)]  # fmt: skip


@pytest.mark.parametrize(("rounding", "overflow"), list(product(Rounding, Overflow)), ids=str)
def test_quantize_matches_fraction_oracle(rounding: Rounding, overflow: Overflow) -> None:
    for src, dst in product(QUANT_TYPES, QUANT_TYPES):
        raw = _all_raw(src)
        got, count = quantize_counting(np.array(raw), src, dst, rounding, overflow)
        expected, expected_count = [], 0
        for r in raw:
            q = _round(Fraction(r, 1) * Fraction(2) ** (dst.frac - src.frac), rounding)
            expected_count += not (dst.min_raw <= q <= dst.max_raw) or (
                overflow is Overflow.SATURATE_SYMMETRIC and dst.signed and q < -dst.max_raw
            )
            expected.append(_overflow(q, dst, overflow))
        assert np.array_equal(got, expected), (src, dst)
        assert count == expected_count, (src, dst)


@pytest.mark.parametrize("rounding", list(Rounding))
def test_quantize_huge_right_shift(rounding: Rounding) -> None:
    """Dropping more bits than int64 holds (shift > MAX_WIDTH) still rounds exactly."""
    src = FixedType(True, 8, -60)  # frac 68
    dst = FixedType(True, 4, 4)  # frac 0
    raw = np.array(_all_raw(src))
    got = quantize(raw, src, dst, rounding, Overflow.SATURATE)
    expected = [_overflow(_round(Fraction(int(r), 2**68), rounding), dst, Overflow.SATURATE) for r in raw]
    assert np.array_equal(got, expected)


def test_quantize_refuses_too_wide_left_shift() -> None:
    with pytest.raises(AccelError, match="needs more than"):
        quantize(np.array([1]), FixedType(True, 40, 40), FixedType(True, 40, -20))


def test_quantize_defaults_are_ap_fixed_defaults() -> None:
    src, dst = FixedType(True, 8, 4), FixedType(True, 4, 2)
    raw = np.array(_all_raw(src))
    assert np.array_equal(quantize(raw, src, dst), quantize(raw, src, dst, Rounding.TRUNCATE, Overflow.WRAP))
