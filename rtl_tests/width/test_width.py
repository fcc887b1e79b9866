"""accel_width: the same tensor packed with P_IN lanes in and P_OUT lanes out (accel.deploy.stream.pack)."""

from __future__ import annotations

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.width import WidthConverter
from rtl_tests.common import check_cycles, lib_sources, run_stream

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
def test_width(h, w, c, dtype, p_in, p_out) -> None:
    blk = WidthConverter(f"width_{h}x{w}x{c}_{dtype.width}_{p_in}to{p_out}", h, w, c, dtype.width, p_in, p_out)
    rng = np.random.default_rng(c * 11 + p_in)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    res = run_stream(blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, p_in) for f in x]}, [pack(f, dtype, p_out) for f in x],
                     frames_phase0=3, seed=c)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame())


@pytest.mark.parametrize("kw,match", [({"lanes_out": 4}, "output lanes"), ({"lanes_in": 5}, "lanes"),
                                      ({"data_width": 64}, "width")])
def test_width_bad_parameters(kw, match) -> None:
    args = dict(name="wd_bad", height=2, width=2, channels=6, data_width=8, lanes_in=2, lanes_out=3)
    args.update(kw)
    with pytest.raises(AccelError, match=f"wd_bad.*{match}"):
        WidthConverter(**args).verilog_parameters()
