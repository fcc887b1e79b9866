"""accel_avgpool against kernels.avgpool (exact round(sum/N) into the output type), with stalls; cycles/frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks.avgpool import AvgPool
from rtl_tests.common import (
    AVG_DIV_STAGES,
    MEASURED_FRAMES,
    check_cycles,
    lib_sources,
    pool_last_beat,
    run_stream,
    schedule_latency,
    window_schedule,
)

FRAMES = 6  # 3 measured back to back without stalls, 3 with random valid gaps and backpressure
S, U = True, False

# (h, w, c, lanes, in type, out type, pool, rounding, overflow, relu)
CASES = [
    (4, 6, 3, 1, FixedType(S, 8, 3), FixedType(S, 8, 3), (2, 2), Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, False),
    (6, 7, 4, 2, FixedType(U, 4, 2), FixedType(U, 6, 2), (3, 3), Rounding.ROUND_HALF_UP, Overflow.SATURATE, False),
    (5, 10, 6, 3, FixedType(S, 6, 2), FixedType(S, 4, 3), (5, 5), Rounding.ROUND_HALF_EVEN, Overflow.WRAP, True),
    (4, 9, 2, 2, FixedType(S, 2, 1), FixedType(S, 3, 0), (2, 3), Rounding.TRUNCATE,
     Overflow.SATURATE_SYMMETRIC, False),
    (5, 3, 2, 2, FixedType(S, 5, 1), FixedType(S, 6, 2), (2, 1), Rounding.ROUND_HALF_UP, Overflow.SATURATE,
     False),  # one-column windows, one beat per pixel, drops a row
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,src,dst,pool,rounding,overflow,relu", CASES)
def test_avgpool(h, w, c, lanes, src, dst, pool, rounding, overflow, relu, tmp_path: Path) -> None:
    name = f"avgpool_{h}x{w}x{c}_p{lanes}_{src.width}{'s' if src.signed else 'u'}_{pool[0]}{pool[1]}"
    blk = AvgPool(name, h, w, c, lanes, src, dst, pool, pool, rounding, overflow, relu)
    rng = np.random.default_rng(h * 100 + c)
    x = rng.integers(src.min_raw, src.max_raw + 1, size=(FRAMES, h, w, c))
    x[0] = src.max_raw  # extremes of the sum range in the first frame
    x[1, : h // 2] = src.min_raw
    y, _ = kernels.avgpool(x, pool, pool, src, dst, rounding, overflow, relu)
    assert y.shape[1:] == blk.out_shape
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, src, lanes) for f in x]}, [pack(f, dst, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    # accel_avgpool = accel_pool_core (one register) -> divider (AVG_DIV_STAGES) -> result queue (its memory and
    # output register): the last output leaves 3 + AVG_DIV_STAGES edges after the input beat that completes the
    # last window (no padding)
    last = pool_last_beat(h, w, c, lanes, pool, (0, 0), y.shape[1:3])
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [last + 3 + AVG_DIV_STAGES] * MEASURED_FRAMES)


@pytest.mark.parametrize("kw,match", [
    ({"stride": (1, 1)}, "stride equal"),
    ({"pool": (5, 2), "stride": (5, 2)}, "larger"),
    ({"lanes": 3}, "lanes"),
    ({"out_type": FixedType(True, 40, 10)}, "output type"),
])
def test_avgpool_bad_parameters(kw, match) -> None:
    args = dict(name="ap_bad", height=4, width=4, channels=4, lanes=2, in_type=FixedType(True, 8, 3),
                out_type=FixedType(True, 8, 3), pool=(2, 2), stride=(2, 2))
    args.update(kw)
    with pytest.raises(AccelError, match=f"ap_bad.*{match}"):
        AvgPool(**args).verilog_parameters()


# overlapping windows: accel_window in front of the averager; (h, w, c, lanes, in, out, pool, stride)
WIN_CASES = [
    (7, 7, 4, 2, FixedType(S, 8, 3), FixedType(S, 8, 3), (3, 3), (2, 2)),
    (6, 9, 3, 1, FixedType(U, 5, 2), FixedType(U, 6, 1), (2, 3), (1, 2)),
    (8, 5, 6, 3, FixedType(S, 3, 1), FixedType(S, 4, 2), (5, 5), (3, 1)),  # N = 25
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,src,dst,pool,stride", WIN_CASES)
def test_avgpool_windowed(h, w, c, lanes, src, dst, pool, stride, tmp_path: Path) -> None:
    from accel.rtl.blocks.avgpool_win import AvgPoolWindowed

    name = f"avgpool_win_{h}x{w}x{c}_p{lanes}_{pool[0]}{pool[1]}_s{stride[0]}{stride[1]}"
    blk = AvgPoolWindowed(name, h, w, c, lanes, src, dst, pool, stride)
    rng = np.random.default_rng(h * 10 + w)
    x = rng.integers(src.min_raw, src.max_raw + 1, size=(FRAMES, h, w, c))
    x[0] = src.max_raw
    x[1] = src.min_raw
    y, _ = kernels.avgpool(x, pool, stride, src, dst, blk.rounding, blk.overflow)
    assert y.shape[1:] == blk.out_shape
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, src, lanes) for f in x]}, [pack(f, dst, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    # accel_avgpool_win = accel_window -> a register stage -> accel_avgpool (three register stages and the
    # divider's)
    starts, taken = window_schedule((h, w, c), pool, stride, (0, 0, 0, 0), lanes, MEASURED_FRAMES)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), schedule_latency(starts, taken, 4 + AVG_DIV_STAGES))
