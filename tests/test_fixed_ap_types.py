"""accel.fixed.quantize against the real ap_fixed: the ``ap_types`` headers that hls4ml ships are the authority.

A small C++ program (tests/cpp/ap_fixed_check.cpp) converts EVERY raw value of a
source type into a destination type for each (src, dst, rounding, overflow) case
below and prints the destination bit patterns; the test compares them with
:func:`accel.fixed.quantize` exhaustively.  The binary is compiled once (g++ -O1)
and cached in the temp directory under a hash of its inputs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import tempfile
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from accel.fixed import FixedType, Overflow, Rounding, quantize

CPP = Path(__file__).parent / "cpp" / "ap_fixed_check.cpp"
# located without importing hls4ml (which would import TensorFlow)
AP_TYPES = Path(importlib.util.find_spec("hls4ml").origin).parent / "templates" / "vivado" / "ap_types"

# Small types: signed and unsigned, negative integer bits, integer bits beyond the width, 1-bit unsigned.
SOURCES = [
    FixedType(True, 4, 2), FixedType(True, 6, 3), FixedType(True, 8, 4), FixedType(True, 5, -1),
    FixedType(True, 5, 7), FixedType(True, 3, 3), FixedType(False, 4, 2), FixedType(False, 6, 6),
    FixedType(False, 8, 3), FixedType(False, 5, -1), FixedType(False, 5, 7), FixedType(False, 1, 1),
]  # fmt: skip
# Narrower and wider, fewer and more fractional bits than the sources, both signednesses.
DESTINATIONS = [
    FixedType(True, 3, 1), FixedType(True, 4, 4), FixedType(True, 5, 0), FixedType(True, 6, -1),
    FixedType(True, 10, 5), FixedType(True, 4, 6), FixedType(True, 8, 4), FixedType(False, 3, 1),
    FixedType(False, 4, 4), FixedType(False, 10, 5), FixedType(False, 4, -1), FixedType(False, 2, 3),
    FixedType(False, 1, 0),
]  # fmt: skip


def _supported_by_headers(src: FixedType, dst: FixedType, rounding: Rounding) -> bool:
    """The headers abort (assert "Attempting to read bit beyond MSB") when rounding drops more bits than the
    source has; those conversions are covered against exact fractions in test_fixed.py instead."""
    return rounding is Rounding.TRUNCATE or src.frac - dst.frac <= src.width


CASES = [
    (src, dst, r, o)
    for src, dst, r, o in product(SOURCES, DESTINATIONS, Rounding, Overflow)
    if _supported_by_headers(src, dst, r)
]


def _cases_inc() -> str:
    lines = []
    for i, (src, dst, r, o) in enumerate(CASES):
        s1, s2 = str(src.signed).lower(), str(dst.signed).lower()
        lines.append(
            f"CASE({i}, {src.width}, {src.integer}, {s1}, {dst.width}, {dst.integer}, {s2}, {r.value}, {o.value})"
        )
    return "\n".join(lines) + "\n"


def run_ap_check() -> dict[int, np.ndarray]:
    """Compile (once, cached per input hash) and run the checker; destination bit patterns by case id."""
    inc = _cases_inc()
    key = hashlib.sha256((CPP.read_text() + inc + str(AP_TYPES)).encode()).hexdigest()[:16]
    work = Path(tempfile.gettempdir()) / f"accel-ap-fixed-check-{key}"
    work.mkdir(exist_ok=True)
    exe = work / "ap_fixed_check"
    if not exe.exists():
        cases = f"cases.{os.getpid()}.inc"  # per process: parallel pytest workers never share a half-written file
        (work / cases).write_text(inc)
        tmp_exe = work / f"ap_fixed_check.{os.getpid()}"
        cmd = ["g++", "-O1", "-std=c++14", f"-I{work}", f"-I{AP_TYPES}", f'-DAP_CHECK_CASES="{cases}"']
        subprocess.run([*cmd, str(CPP), "-o", str(tmp_exe)], check=True, capture_output=True, text=True)
        os.replace(tmp_exe, exe)  # atomic: parallel sessions never see a half-written binary
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        fields = [int(v) for v in line.split()]
        table[fields[0]] = np.array(fields[1:], dtype=np.int64)
    assert len(table) == len(CASES)
    return table


@pytest.fixture(scope="session")
def ap_table() -> dict[int, np.ndarray]:
    return run_ap_check()


def _all_raw(t: FixedType) -> np.ndarray:
    """Every raw value of ``t`` in bit-pattern order 0 .. 2**W - 1 (as the C++ program enumerates them)."""
    bits = np.arange(1 << t.width, dtype=np.int64)
    return np.where(t.signed & (bits > t.max_raw), bits - (1 << t.width), bits)


@pytest.mark.slow
@pytest.mark.parametrize("src", SOURCES, ids=str)
def test_quantize_matches_ap_fixed_exhaustively(ap_table, src: FixedType) -> None:
    mismatches = []
    for i, (s, dst, rounding, overflow) in enumerate(CASES):
        if s != src:
            continue
        expected_bits = ap_table[i]
        expected = np.where(dst.signed & (expected_bits > dst.max_raw), expected_bits - (1 << dst.width), expected_bits)
        raw = _all_raw(src)
        got = quantize(raw, src, dst, rounding, overflow)
        if not np.array_equal(got, expected):
            k = int(np.flatnonzero(got != expected)[0])
            mismatches.append(
                f"{src} -> {dst} {rounding.value} {overflow.value}: raw {raw[k]} gives {got[k]}, ap_fixed {expected[k]}"
            )
    assert not mismatches, f"{len(mismatches)} cases differ, e.g.\n" + "\n".join(mismatches[:10])


def test_case_set_is_broad() -> None:
    """The case list really covers what it claims: shifts both ways, narrowing and widening, odd integer bits."""
    shifts = {dst.frac - src.frac for src, dst, _, _ in CASES}
    assert min(shifts) < -4 and max(shifts) > 4 and 0 in shifts
    assert any(s.integer < 0 for s, *_ in CASES) and any(d.integer > d.width for _, d, *_ in CASES)
    assert {(s.signed, d.signed) for s, d, *_ in CASES} == {(True, True), (True, False), (False, True), (False, False)}
    assert len(CASES) > 1000


@pytest.mark.parametrize("t", SOURCES + DESTINATIONS + [FixedType(True, 62, 1), FixedType(False, 62, -3)], ids=str)
def test_hls_parse_round_trip(t: FixedType) -> None:
    assert FixedType.parse(t.hls) == t
    assert FixedType.parse(f" {t.hls.replace(',', ' , ')} ") == t


@pytest.mark.slow
def test_cases_distinguish_every_mode(ap_table) -> None:
    """The headers' own outputs differ between every pair of modes somewhere in the case set, so the exhaustive
    comparison would notice a swapped rounding or overflow rule (ties and the symmetric minimum are exercised)."""
    by_key = {(s, d, r, o): ap_table[i] for i, (s, d, r, o) in enumerate(CASES)}
    for modes, make_key in [
        (list(Rounding), lambda s, d, m: (s, d, m, Overflow.SATURATE)),
        (list(Overflow), lambda s, d, m: (s, d, Rounding.TRUNCATE, m)),
    ]:
        for a, b in product(modes, modes):
            if a is b:
                continue
            assert any(
                not np.array_equal(by_key[make_key(s, d, a)], by_key[make_key(s, d, b)])
                for s, d in product(SOURCES, DESTINATIONS)
                if make_key(s, d, a) in by_key and make_key(s, d, b) in by_key
            ), (a, b)
