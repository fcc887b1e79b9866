"""accel_requant against accel.fixed.quantize: EVERY input value, all 9 rounding x overflow pairs,
signed/unsigned, left and right shifts, ReLU; back-to-back frames with stalls; exact compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks.requant import Requant
from rtl_tests.common import MEASURED_FRAMES, check_cycles, frames_of, lib_sources, run_stream, verilator_lint

# (label, src, dst, relu, lanes)
CONFIGS = [
    ("s6_s4_right2", FixedType(True, 6, 3), FixedType(True, 4, 3), False, 2),  # frac 3 -> 1
    ("u6_s5_left1", FixedType(False, 6, 5), FixedType(True, 5, 3), False, 1),  # frac 1 -> 2
    ("s6_u3_right1_relu", FixedType(True, 6, 6), FixedType(False, 3, 4), True, 4),  # frac 0 -> -1
    ("s7_s2_right4", FixedType(True, 7, 3), FixedType(True, 2, 2), False, 1),  # frac 4 -> 0
    ("s4_s9_widen", FixedType(True, 4, 2), FixedType(True, 9, 5), False, 2),  # output wider than the input
    ("u3_s8_widen_left2", FixedType(False, 3, 1), FixedType(True, 8, 4), True, 1),  # wider, frac 2 -> 4
]
ROUNDINGS = list(Rounding)
OVERFLOWS = list(Overflow)
FRAMES = 6  # 3 measured without stalls, 3 with random stalls


@pytest.mark.rtl
@pytest.mark.parametrize("rounding", ROUNDINGS, ids=lambda r: r.name)
@pytest.mark.parametrize("overflow", OVERFLOWS, ids=lambda o: o.name)
@pytest.mark.parametrize(
    "label,src,dst,relu,lanes",
    # the first configuration runs by default; the others are marked slow (they still run in `make test`)
    [pytest.param(*c, id=c[0], marks=() if i == 0 else pytest.mark.slow) for i, c in enumerate(CONFIGS)],
)
def test_requant_exhaustive(label, src, dst, relu, lanes, rounding, overflow, tmp_path: Path) -> None:
    values = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64)  # every input value
    c = 4
    shape = (1, len(values) // c, c)
    blk = Requant(f"requant_{label}_{rounding.name}_{overflow.name}", src, dst, rounding, overflow, relu, shape, lanes)
    rng = np.random.default_rng(len(label))
    x = np.stack([rng.permutation(values).reshape(shape) for _ in range(FRAMES)])
    y, _ = kernels.requantize(x, src, dst, rounding, overflow, relu)
    ins = frames_of(pack(x, src, lanes), FRAMES)
    exp = frames_of(pack(y, dst, lanes), FRAMES)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(),
                     {"s_axis": ins}, exp, frames_phase0=MEASURED_FRAMES, seed=7)
    # accel_requant.v has two register stages: the last input beat (edge beats-1 after the first) leaves at
    # edge beats+1, so the latency is beats + 2 with both ends counted
    beats = shape[1] * c // lanes
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [beats + 2] * MEASURED_FRAMES)


def test_requant_bad_parameters() -> None:
    s8 = FixedType(True, 8, 4)
    ok = dict(src=s8, dst=s8, rounding=Rounding.TRUNCATE, overflow=Overflow.WRAP, relu=False)
    Requant("q", shape=(2, 2, 4), lanes=2, **ok).validate()
    with pytest.raises(AccelError, match="q: lanes=3 does not divide channels=4"):
        Requant("q", shape=(2, 2, 4), lanes=3, **ok).validate()
    with pytest.raises(AccelError, match="q: height"):
        Requant("q", shape=(0, 2, 4), **ok).validate()
    with pytest.raises(AccelError, match="q: output width is 40 bits; supported signed widths are 2 to 32"):
        Requant("q", shape=(1, 1, 1), **{**ok, "dst": FixedType(True, 40, 4)}).validate()
    Requant("q", shape=(1, 1, 1), **{**ok, "src": FixedType(True, 62, 4)}).validate()  # any accumulator width
    with pytest.raises(AccelError, match="shifts by more than"):
        Requant("q", shape=(1, 1, 1), **{**ok, "dst": FixedType(True, 8, -70)}).validate()


@pytest.mark.parametrize("label,src,dst,relu,lanes", CONFIGS, ids=[c[0] for c in CONFIGS])
@pytest.mark.parametrize("overflow", OVERFLOWS, ids=lambda o: o.name)
def test_requant_lint(label, src, dst, relu, lanes, overflow) -> None:
    blk = Requant("q", src, dst, Rounding.ROUND_HALF_EVEN, overflow, relu, (1, 2, 4), lanes)
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters())


@pytest.mark.rtl
@pytest.mark.parametrize("rounding", ROUNDINGS, ids=lambda r: r.name)
def test_requant_of_a_wide_accumulator(rounding: Rounding, tmp_path: Path) -> None:
    """A 44-bit accumulator (wider than 32 bits) into 8 bits: random values plus both extremes and the values
    around every rounding boundary of the low fractional bits, saturating; exact compare."""
    src, dst = FixedType(True, 44, 20), FixedType(True, 8, 3)  # frac 24 -> 5: a right shift of 19
    rng = np.random.default_rng(44)
    edges = [src.min_raw, src.max_raw, 0, -1, 1, (1 << 18), -(1 << 18), (1 << 18) - 1, 3 << 18, -(3 << 18)]
    values = np.concatenate([np.array(edges, dtype=np.int64),
                             rng.integers(-(1 << 27), 1 << 27, 54, dtype=np.int64),  # around the output range
                             rng.integers(src.min_raw, src.max_raw, 64, dtype=np.int64, endpoint=True)])  # fmt: skip
    shape = (1, len(values) // 4, 4)
    blk = Requant(f"requant_wide_{rounding.name}", src, dst, rounding, Overflow.SATURATE, False, shape, 2)
    x = np.stack([rng.permutation(values).reshape(shape) for _ in range(FRAMES)])
    y, _ = kernels.requantize(x, src, dst, rounding, Overflow.SATURATE, False)
    ins = frames_of(pack(x, src, 2), FRAMES)
    exp = frames_of(pack(y, dst, 2), FRAMES)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(),
                     {"s_axis": ins}, exp, frames_phase0=MEASURED_FRAMES, seed=8)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [shape[1] * 2 + 2] * MEASURED_FRAMES)
