"""accel_maxpool against kernels.maxpool: random frames with stalls, exact compare, cycles/frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.maxpool import MaxPool
from rtl_tests.common import (
    MEASURED_FRAMES,
    check_cycles,
    lib_sources,
    pool_last_beat,
    run_stream,
    schedule_latency,
    window_schedule,
)

FRAMES = 6  # 3 measured back to back without stalls, 3 with random valid gaps and backpressure

# (h, w, c, lanes, type, pool, pads)
CASES = [
    (4, 6, 3, 1, FixedType(True, 8, 3), (2, 2), (0, 0, 0, 0)),
    (5, 5, 4, 2, FixedType(False, 5, 5), (2, 2), (0, 1, 0, 1)),  # TF 'same': bottom/right padding
    (7, 8, 6, 3, FixedType(True, 3, 1), (3, 3), (1, 1, 0, 1)),  # top padding, odd sizes
    (5, 7, 2, 2, FixedType(False, 2, 0), (2, 3), (0, 0, 0, 0)),  # valid pooling floors (drops a row)
    (4, 5, 2, 1, FixedType(True, 6, 2), (2, 2), (1, 0, 1, 0)),  # window (0, 0) is pixel (0, 0) alone; drops a row
    (3, 4, 3, 3, FixedType(False, 4, 0), (1, 2), (0, 0, 1, 0)),  # one-row windows, one beat per pixel, drops a column
    (5, 1, 2, 1, FixedType(True, 5, 1), (2, 1), (0, 0, 0, 0)),  # one-column image and windows
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,dtype,pool,pads", CASES)
def test_maxpool(h, w, c, lanes, dtype, pool, pads, tmp_path: Path) -> None:
    blk = MaxPool(f"maxpool_{h}x{w}x{c}_p{lanes}_{dtype.width}{'s' if dtype.signed else 'u'}_{pool[0]}{pool[1]}",
                  h, w, c, lanes, dtype, pool, pool, pads)
    rng = np.random.default_rng(h * 100 + c)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.maxpool(x, pool, pool, pads)
    assert y.shape[1:] == blk.out_shape
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    # accel_maxpool = accel_pool_core, one register stage: the last output leaves the edge after the input
    # beat that completes the last window (pads are top, bottom, left, right; only top and left shift windows)
    last = pool_last_beat(h, w, c, lanes, pool, (pads[0], pads[2]), y.shape[1:3])
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [last + 1] * MEASURED_FRAMES)


@pytest.mark.parametrize("kw,match", [
    ({"stride": (1, 1)}, "stride equal"),
    ({"pads": (2, 0, 0, 0)}, "padding"),
    ({"lanes": 3}, "lanes"),
    ({"channels": 0}, "channels"),
])
def test_maxpool_bad_parameters(kw, match) -> None:
    args = dict(name="mp_bad", height=4, width=4, channels=4, lanes=2, dtype=FixedType(True, 8, 3),
                pool=(2, 2), stride=(2, 2))
    args.update(kw)
    with pytest.raises(AccelError, match=f"mp_bad.*{match}|{match}.*mp_bad|mp_bad"):
        MaxPool(**args).verilog_parameters()


# overlapping windows: accel_window in front of the maximum; (h, w, c, lanes, type, pool, stride, pads)
WIN_CASES = [
    (7, 7, 4, 2, FixedType(False, 8, 3), (3, 3), (2, 2), (1, 1, 1, 1)),  # ResNet-style 3x3/2 'same', unsigned
    (6, 5, 3, 3, FixedType(True, 4, 2), (2, 2), (1, 1), (0, 0, 0, 0)),  # signed, no padding
    (5, 8, 2, 1, FixedType(False, 3, 3), (3, 2), (2, 1), (0, 1, 1, 0)),
    # signed with its own padding (MaxPooling2D(3, 1, 'same')): padded with the most negative value, never wins
    (5, 6, 3, 1, FixedType(True, 5, 2), (3, 3), (1, 1), (1, 1, 1, 1)),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,dtype,pool,stride,pads", WIN_CASES)
def test_maxpool_windowed(h, w, c, lanes, dtype, pool, stride, pads, tmp_path: Path) -> None:
    from accel.rtl.blocks.maxpool_win import MaxPoolWindowed

    blk = MaxPoolWindowed(f"maxpool_win_{h}x{w}x{c}_p{lanes}_{pool[0]}{pool[1]}_s{stride[0]}{stride[1]}",
                          h, w, c, lanes, dtype, pool, stride, pads)
    rng = np.random.default_rng(h * 10 + c)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.maxpool(x, pool, stride, pads)
    assert y.shape[1:] == blk.out_shape
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    # accel_maxpool_win = accel_window -> a register stage -> accel_maxpool (pool_core: one register stage)
    starts, taken = window_schedule((h, w, c), pool, stride, pads, lanes, MEASURED_FRAMES)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), schedule_latency(starts, taken, 2))


def test_signed_own_padding_is_the_most_negative_value() -> None:
    """Every window of the signed 'same' case above holds real values below zero in some frames, so a pad
    value of zero would win there; the co-simulation's equality with kernels.maxpool then proves the pad
    never wins (checked here: the case's data make zero-padding differ from the reference)."""
    (h, w, c, lanes, dtype, pool, stride, pads) = WIN_CASES[-1]
    rng = np.random.default_rng(h * 10 + c)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    zero_padded = kernels.maxpool(kernels.pad(x, pads), pool, stride, (0, 0, 0, 0))
    assert (zero_padded != kernels.maxpool(x, pool, stride, pads)).any()
