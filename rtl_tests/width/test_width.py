"""accel_width: the same tensor packed with P_IN lanes in and P_OUT lanes out (accel.deploy.stream.pack)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.width import WidthConverter
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6

# (h, w, c, type, lanes in, lanes out)
CASES = [
    (2, 3, 4, FixedType(True, 8, 3), 1, 4),
    (3, 2, 6, FixedType(False, 5, 2), 6, 2),
    (2, 2, 6, FixedType(True, 3, 1), 3, 2),
    (2, 3, 9, FixedType(False, 2, 0), 9, 9),
    (3, 3, 10, FixedType(True, 7, 3), 2, 5),
    (2, 2, 12, FixedType(True, 4, 1), 4, 6),
    (2, 2, 16, FixedType(False, 4, 0), 16, 1),
    (1, 3, 8, FixedType(True, 6, 2), 1, 8),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,dtype,p_in,p_out", CASES)
def test_width(h, w, c, dtype, p_in, p_out, tmp_path: Path) -> None:
    blk = WidthConverter(f"width_{h}x{w}x{c}_{dtype.width}_{p_in}to{p_out}", h, w, c, dtype.width, p_in, p_out)
    rng = np.random.default_rng(c * 11 + p_in)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, p_in) for f in x]}, [pack(f, dtype, p_out) for f in x],
                     frames_phase0=MEASURED_FRAMES, seed=c)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), width_latency(h * w * c, p_in, p_out))


def width_latency(elements: int, p_in: int, p_out: int) -> list[int]:
    """Latency of each measured frame, from accel_width.v's two group registers (L = lcm(p_in, p_out)).

    A group of L elements is ki = L/p_in input beats and ko = L/p_out output beats.  The group's last input
    beat goes straight into the scatter register when that is free at the same edge, else the gather
    register holds it (input not ready) until the scatter register sends its last beat; the scatter
    register sends one beat per cycle from the edge after it is loaded.
    ki >= ko (the input has at least as many beats): the scatter register has sent a group before the next
    one is complete, so the input never waits; a frame's last output beat leaves ko edges after its last
    input beat (edge beats_in - 1 of the frame): latency beats_in + ko (both ends counted).
    ki < ko: group 0 is in at edge ki - 1 and from edge ki an output leaves every cycle, so frame 0 ends at
    edge ki + beats_out - 1: latency ki + beats_out.  Group n >= 1 starts entering one edge after group
    n - 1 moved into the scatter register, at edge ki + (n - 1) * ko (n >= 2; group 1 at edge ki, the same
    formula), and the frame of groups n .. n + G - 1 ends at edge ki + (n + G) * ko - 1: latency
    beats_out + ko for every frame after the first.
    """
    lanes = p_in // math.gcd(p_in, p_out) * p_out
    ki, ko = lanes // p_in, lanes // p_out
    beats_in, beats_out = elements // p_in, elements // p_out
    if ki >= ko:
        return [beats_in + ko] * MEASURED_FRAMES
    return [ki + beats_out] + [beats_out + ko] * (MEASURED_FRAMES - 1)


@pytest.mark.parametrize("kw,match", [({"lanes_out": 4}, "output lanes"), ({"lanes_in": 5}, "lanes"),
                                      ({"data_width": 64}, "width")])
def test_width_bad_parameters(kw, match) -> None:
    args = dict(name="wd_bad", height=2, width=2, channels=6, data_width=8, lanes_in=2, lanes_out=3)
    args.update(kw)
    with pytest.raises(AccelError, match=f"wd_bad.*{match}"):
        WidthConverter(**args).verilog_parameters()
