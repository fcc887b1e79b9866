"""accel_gap against kernels.global_avgpool: N = 125 (5x25, the DS-CNN case), a power of two, and others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks.average_plan import plan_average, simulate_plan
from accel.rtl.blocks.gap import GlobalAvgPool
from rtl_tests.common import AVG_DIV_STAGES, MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6
S, U = True, False

# (h, w, c, lanes, in type, out type, rounding, overflow, relu)
CASES = [
    (5, 25, 4, 2, FixedType(S, 8, 3), FixedType(S, 8, 3), Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, False),
    (4, 8, 3, 3, FixedType(U, 5, 1), FixedType(U, 7, 1), Rounding.ROUND_HALF_UP, Overflow.SATURATE, False),
    (5, 25, 5, 1, FixedType(S, 4, 1), FixedType(U, 3, 1), Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, True),
    (3, 5, 6, 2, FixedType(S, 6, 4), FixedType(S, 5, 2), Rounding.TRUNCATE, Overflow.WRAP, False),
]


def _frames(src: FixedType, h: int, w: int, c: int, seed: int) -> np.ndarray:
    """Random frames plus the extremes and exact ties of the average."""
    rng = np.random.default_rng(seed)
    x = rng.integers(src.min_raw, src.max_raw + 1, size=(FRAMES, h, w, c))
    x[0] = src.max_raw
    x[1] = src.min_raw
    x[2, :, :, 0] = 0
    x[2, 0, 0, 0] = 1  # sum 1: the smallest non-zero average
    return x


def gap_latency(h: int, w: int, c: int, lanes: int) -> int:
    """accel_gap = accel_avgpool with one window over the whole frame: the last input beat completes the last
    channel group's sum in accel_pool_core's register, and the output register after the divider hands it
    over after the divider's AVG_DIV_STAGES and the result queue's memory, so the latency is the frame's input
    beats + 3 + AVG_DIV_STAGES (both ends counted)."""
    return h * w * c // lanes + 3 + AVG_DIV_STAGES


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,src,dst,rounding,overflow,relu", CASES)
def test_gap(h, w, c, lanes, src, dst, rounding, overflow, relu, tmp_path: Path) -> None:
    name = f"gap_{h}x{w}x{c}_p{lanes}_{src.width}{'s' if src.signed else 'u'}_{rounding.name}"
    blk = GlobalAvgPool(name, h, w, c, lanes, src, dst, rounding, overflow, relu)
    x = _frames(src, h, w, c, h * w + c)
    y, _ = kernels.global_avgpool(x, src, dst, rounding, overflow, relu)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, src, lanes) for f in x]}, [pack(f, dst, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [gap_latency(h, w, c, lanes)] * MEASURED_FRAMES)


@pytest.mark.parametrize("count", [1, 2, 3, 25, 49, 64, 100, 125, 196])
def test_average_plan_exhaustive(count: int) -> None:
    """The divider arithmetic equals kernels.average for every possible sum, every rounding and overflow mode."""
    for src in (FixedType(S, 8, 3), FixedType(U, 6, 2), FixedType(S, 2, 1)):
        for dst in (FixedType(S, 8, 3), FixedType(U, 4, 4), FixedType(S, 12, 2)):
            sums = np.arange(count * src.min_raw, count * src.max_raw + 1)
            for rounding in Rounding:
                for overflow in Overflow:
                    for relu in (False, True):
                        plan = plan_average("gap", count, src, dst, rounding, overflow, relu)
                        ref, _ = kernels.average(sums, count, src, dst, rounding, overflow, relu)
                        assert np.array_equal(simulate_plan(plan, sums), ref), (src, dst, rounding, overflow, relu)


@pytest.mark.parametrize("kw,match", [
    ({"lanes": 3}, "lanes"),
    ({"height": 0}, "height"),
    ({"out_type": FixedType(True, 31, 10)}, "output type"),
    ({"in_type": FixedType(True, 32, 2), "out_type": FixedType(True, 30, 0), "height": 1000}, "constant"),
])
def test_gap_bad_parameters(kw, match) -> None:
    args = dict(name="gap_bad", height=4, width=5, channels=4, lanes=2, in_type=FixedType(True, 8, 3),
                out_type=FixedType(True, 8, 3))
    args.update(kw)
    with pytest.raises(AccelError, match=f"gap_bad.*{match}"):
        GlobalAvgPool(**args).verilog_parameters()


def _directed_frames(src: FixedType, dst: FixedType, h: int, w: int, c: int, frames: int) -> np.ndarray:
    """Frames whose per-channel sums are the risky ones: both ends of the sum range (where an inexact
    reciprocal would first fail), sums around zero, and every exact tie of the rounding (where half-even
    and half-up differ), topped up with random sums."""
    n = h * w
    lo, hi = n * src.min_raw, n * src.max_raw
    k = 64
    sums = np.arange(lo, hi + 1)
    even, _ = kernels.average(sums, n, src, dst, Rounding.ROUND_HALF_EVEN, Overflow.WRAP)
    up, _ = kernels.average(sums, n, src, dst, Rounding.ROUND_HALF_UP, Overflow.WRAP)
    ties = sums[even != up]
    rng = np.random.default_rng(n + c)
    targets = [*range(lo, lo + k), *range(hi - k + 1, hi + 1), *range(-k // 2, k // 2)]
    targets += list(rng.choice(ties, size=min(len(ties), 2 * k), replace=False)) if len(ties) else []
    targets += list(rng.integers(lo, hi + 1, size=max(0, frames * c - len(targets))))
    targets = np.array(targets[: frames * c]).reshape(frames, c)
    base = targets // n
    rem = targets - base * n
    x = np.empty((frames, h * w, c), dtype=np.int64)
    idx = np.arange(h * w)[None, :, None]
    x[:] = base[:, None, :] + (idx < rem[:, None, :])  # rem pixels get base + 1: the sum is the target
    assert x.min() >= src.min_raw and x.max() <= src.max_raw
    x = x.reshape(frames, h, w, c)
    assert np.array_equal(x.sum(axis=(1, 2)), targets)
    return x


@pytest.mark.rtl
@pytest.mark.parametrize("dst", [FixedType(S, 8, 3), FixedType(S, 6, 2)], ids=["same_grid", "coarser_ties"])
def test_gap_directed_sums(dst: FixedType, tmp_path: Path) -> None:
    """N = 125: the RTL divider on extreme sums and on every kind of tie, compared with kernels.average."""
    src, h, w, c, lanes = FixedType(S, 8, 3), 5, 25, 64, 8
    blk = GlobalAvgPool(f"gap_directed_{dst.width}_{dst.frac}", h, w, c, lanes, src, dst)
    x = _directed_frames(src, dst, h, w, c, FRAMES)
    y, _ = kernels.global_avgpool(x, src, dst, blk.rounding, blk.overflow)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, src, lanes) for f in x]}, [pack(f, dst, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=5)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [gap_latency(h, w, c, lanes)] * MEASURED_FRAMES)
