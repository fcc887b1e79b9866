"""accel_width: the same tensor packed with P_IN lanes in and P_OUT lanes out (accel.deploy.stream.pack)."""

from __future__ import annotations

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
    """Latency of each measured frame, from accel_width.v's element queue (``cnt`` elements held).

    The input is taken while ``cnt <= p_out + max(p_in, p_out)``, an output beat leaves whenever
    ``cnt >= p_out``.  p_in <= p_out: the queue never holds more than p_out + p_in - 1 elements, so the
    input never waits; after a frame's last input beat (edge beats_in - 1 of that frame) the queue holds
    exactly that frame's last p_out elements and they leave the next edge: latency beats_in + 1.
    p_in > p_out: beat 0 is in at edge 0 and from edge 1 an output leaves every cycle (the input stays ahead),
    so frame f ends at edge (f+1)*beats_out: frame 0's latency is beats_out + 1.  Input beat k >= 2 is
    taken at the first edge where the queue has room, ceil((k-1)*p_in/p_out); frame f >= 1 starts with
    k = f*beats_in, at f*beats_out - floor(p_in/p_out), a latency of beats_out + floor(p_in/p_out) + 1.
    """
    beats_in, beats_out = elements // p_in, elements // p_out
    if p_in <= p_out:
        return [beats_in + 1] * MEASURED_FRAMES
    return [beats_out + 1] + [beats_out + p_in // p_out + 1] * (MEASURED_FRAMES - 1)


@pytest.mark.parametrize("kw,match", [({"lanes_out": 4}, "output lanes"), ({"lanes_in": 5}, "lanes"),
                                      ({"data_width": 64}, "width")])
def test_width_bad_parameters(kw, match) -> None:
    args = dict(name="wd_bad", height=2, width=2, channels=6, data_width=8, lanes_in=2, lanes_out=3)
    args.update(kw)
    with pytest.raises(AccelError, match=f"wd_bad.*{match}"):
        WidthConverter(**args).verilog_parameters()
