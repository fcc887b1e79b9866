"""accel_pad against kernels.pad (zeros on the border); random stalls and backpressure; one beat per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.pad import Pad
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6

# (h, w, c, lanes, type, pads (top, bottom, left, right))
CASES = [
    (2, 3, 2, 1, FixedType(True, 8, 3), (1, 1, 1, 1)),
    (3, 2, 4, 2, FixedType(False, 4, 2), (0, 2, 3, 0)),
    (1, 1, 3, 3, FixedType(True, 2, 1), (2, 0, 0, 1)),
    (4, 5, 1, 1, FixedType(True, 16, 6), (0, 0, 0, 0)),
    (2, 2, 6, 3, FixedType(False, 6, 0), (3, 3, 2, 2)),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,dtype,pads", CASES)
def test_pad(h, w, c, lanes, dtype, pads, tmp_path: Path) -> None:
    blk = Pad(f"pad_{h}x{w}x{c}_p{lanes}_{''.join(map(str, pads))}", h, w, c, lanes, dtype.width, pads)
    rng = np.random.default_rng(c * 7 + h)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.pad(x, pads)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c + h)  # fmt: skip
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), pad_latency(h, w, c, lanes, pads))


def pad_latency(h: int, w: int, c: int, lanes: int, pads: tuple[int, int, int, int]) -> list[int]:
    """Latency of each measured frame, from accel_pad.v: the output walks the padded frame one beat per
    cycle (``n`` beats), taking the input's beats inside, and every beat leaves through the skid one cycle
    later.  Frame f's beat j is made at edge f*n + j (the walk starts once the frame's first beat is offered,
    at once with an always-valid input; border beats need no input, so the walk never waits
    with an always-valid input and an always-ready output), and its first input beat is beat
    ``(pt*wo + pl)*cb`` of the walk: latency n - (pt*wo + pl)*cb + 1, the same for every frame."""
    pt, pb, pl, pr = pads
    cb = c // lanes
    wo = w + pl + pr
    n = (h + pt + pb) * wo * cb
    return [n - (pt * wo + pl) * cb + 1] * MEASURED_FRAMES


@pytest.mark.parametrize("kw,match", [({"pads": (0, -1, 0, 0)}, "pads"), ({"lanes": 3}, "lanes"),
                                      ({"pads": (1, 1)}, "pads")])  # fmt: skip
def test_pad_bad_parameters(kw, match) -> None:
    args = dict(name="pad_bad", height=2, width=2, channels=4, lanes=2, data_width=8, pads=(1, 1, 1, 1))
    args.update(kw)
    with pytest.raises(AccelError, match=f"pad_bad.*{match}"):
        Pad(**args).validate()
