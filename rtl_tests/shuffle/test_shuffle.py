"""accel_shuffle against kernels.channel_shuffle; stalls; one beat per cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.shuffle import ChannelShuffle
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6

# (h, w, c, lanes, type, groups)
CASES = [
    (2, 3, 6, 2, FixedType(True, 8, 3), 2),
    (3, 2, 9, 3, FixedType(False, 3, 1), 3),
    (2, 2, 12, 4, FixedType(True, 5, 2), 4),
    (3, 3, 15, 1, FixedType(False, 2, 2), 5),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,dtype,groups", CASES)
def test_shuffle(h, w, c, lanes, dtype, groups, tmp_path: Path) -> None:
    blk = ChannelShuffle(f"shuffle_{h}x{w}x{c}_p{lanes}_g{groups}", h, w, c, lanes, dtype.width, groups)
    rng = np.random.default_rng(c)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.channel_shuffle(x, groups)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    # accel_shuffle.v reads a pixel only once all its c/P beats are in its buffer (the other buffer fills
    # meanwhile), then one beat per cycle: the last pixel, in at edges beats-c/P .. beats-1, leaves at edges
    # beats .. beats+c/P-1, so the latency is beats + c/P with both ends counted
    beats = h * w * c // lanes
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [beats + c // lanes] * MEASURED_FRAMES)


@pytest.mark.parametrize("kw,match", [({"groups": 4}, "groups"), ({"lanes": 4}, "lanes"),
                                      ({"data_width": 0}, "width")])
def test_shuffle_bad_parameters(kw, match) -> None:
    args = dict(name="sh_bad", height=2, width=2, channels=6, lanes=2, data_width=8, groups=3)
    args.update(kw)
    with pytest.raises(AccelError, match=f"sh_bad.*{match}"):
        ChannelShuffle(**args).verilog_parameters()
