"""accel_upsample against kernels.upsample (nearest); stalls; one output beat per cycle."""

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

# (h, w, c, lanes, type, factor)
CASES = [
    (2, 3, 2, 1, FixedType(True, 8, 3), (2, 2)),
    (3, 2, 3, 3, FixedType(False, 4, 2), (1, 3)),
    (2, 2, 4, 2, FixedType(True, 2, 1), (3, 1)),
    (1, 1, 5, 5, FixedType(False, 6, 0), (2, 3)),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,dtype,factor", CASES)
def test_upsample(h, w, c, lanes, dtype, factor, tmp_path: Path) -> None:
    blk = Upsample(f"upsample_{h}x{w}x{c}_p{lanes}_{factor[0]}{factor[1]}", h, w, c, lanes, dtype.width, factor)
    rng = np.random.default_rng(c * 3 + h)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.upsample(x, factor)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), upsample_latency(h, w, c, lanes, factor))


def upsample_latency(h: int, w: int, c: int, lanes: int, factor: tuple[int, int]) -> list[int]:
    """Latency of each measured frame, from accel_upsample.v's two row banks.

    An input row is ``rb = w*c/P`` beats; its replay is ``rep = fh*fw*rb`` output beats, one per cycle
    straight from the bank (no output register).  Frame 0: row 0 is written at edges 0..rb-1 and replayed
    from edge rb; every later row is written while the row before it replays, so the output never pauses
    and ends at edge rb + h*rep - 1: latency rb + h*rep.  Input row g >= 2 reuses the bank of row g-2 and
    starts the edge that row's replay ends, rb + (g-1)*rep: frame f >= 1 starts at rb + (f*h-1)*rep and
    ends at rb + (f+1)*h*rep - 1, a latency of h*rep + rep.
    """
    rb = w * c // lanes
    rep = factor[0] * factor[1] * rb
    return [rb + h * rep] + [h * rep + rep] * (MEASURED_FRAMES - 1)


@pytest.mark.parametrize("kw,match", [({"factor": (0, 2)}, "factor"), ({"lanes": 3}, "lanes"),
                                      ({"factor": 2}, "factor")])
def test_upsample_bad_parameters(kw, match) -> None:
    args = dict(name="up_bad", height=2, width=2, channels=4, lanes=2, data_width=8, factor=(2, 2))
    args.update(kw)
    with pytest.raises(AccelError, match=f"up_bad.*{match}"):
        Upsample(**args).verilog_parameters()
