"""accel_upsample against kernels.upsample (nearest) and kernels.zero_insert (ZERO = 1); stalls; one output
beat per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.upsample import Upsample
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6

# (h, w, c, lanes, type, factor, zero insertion)
CASES = [
    (2, 3, 2, 1, FixedType(True, 8, 3), (2, 2), False),
    (3, 2, 3, 3, FixedType(False, 4, 2), (1, 3), False),
    (2, 2, 4, 2, FixedType(True, 2, 1), (3, 1), False),
    (1, 1, 5, 5, FixedType(False, 6, 0), (2, 3), False),
    (2, 3, 2, 1, FixedType(True, 8, 3), (2, 2), True),
    (3, 2, 4, 2, FixedType(False, 4, 2), (1, 3), True),
    (3, 3, 1, 1, FixedType(True, 5, 1), (3, 2), True),
    (1, 4, 3, 3, FixedType(False, 6, 0), (2, 1), True),
    (2, 1, 2, 2, FixedType(True, 3, 3), (2, 3), True),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,dtype,factor,zero", CASES)
def test_upsample(h, w, c, lanes, dtype, factor, zero, tmp_path: Path) -> None:
    mode = "zi" if zero else "up"
    blk = Upsample(f"{mode}_{h}x{w}x{c}_p{lanes}_{factor[0]}{factor[1]}", h, w, c, lanes, dtype.width, factor, zero)
    rng = np.random.default_rng(c * 3 + h)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.zero_insert(x, factor) if zero else kernels.upsample(x, factor)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), upsample_latency(h, w, c, lanes, factor, zero))


def upsample_latency(h: int, w: int, c: int, lanes: int, factor: tuple[int, int], zero: bool) -> list[int]:
    """Latency of each measured frame, from accel_upsample.v's two row banks.

    An input row is ``rb = w*c/P`` beats; its replay is one output beat per cycle straight from the bank (no
    output register): ``fh*fw*rb`` beats when upsampling; with zero insertion ``((w-1)*fw+1)*c/P`` per output
    row, ``fh`` output rows for every input row but a frame's last, which has one.  Row 0 is written at
    edges 0..rb-1; input row g >= 2 reuses the bank of row g-2 and is written from the edge after that row's
    last output beat (and after row g-1's writes); row g's replay starts at the edge after both its own last
    write and row g-1's last output beat.  A frame's latency runs from its first write to the edge after its
    last output beat.
    """
    fh, fw = factor
    rb = w * c // lanes
    if zero:
        reps = [((w - 1) * fw + 1) * (c // lanes) * (fh if r < h - 1 else 1) for r in range(h)]
    else:
        reps = [fh * fw * rb] * h
    write_start: list[int] = []
    last_beat: list[int] = []
    for g in range(MEASURED_FRAMES * h):
        write_start.append(g * rb if g < 2 else max(last_beat[g - 2] + 1, write_start[g - 1] + rb))
        start = max(write_start[g] + rb, last_beat[g - 1] + 1 if g else 0)
        last_beat.append(start + reps[g % h] - 1)
    return [last_beat[(f + 1) * h - 1] + 1 - write_start[f * h] for f in range(MEASURED_FRAMES)]


@pytest.mark.parametrize("kw,match", [({"factor": (0, 2)}, "factor"), ({"lanes": 3}, "lanes"),
                                      ({"factor": 2}, "factor")])
def test_upsample_bad_parameters(kw, match) -> None:
    args = dict(name="up_bad", height=2, width=2, channels=4, lanes=2, data_width=8, factor=(2, 2))
    args.update(kw)
    with pytest.raises(AccelError, match=f"up_bad.*{match}"):
        Upsample(**args).verilog_parameters()
