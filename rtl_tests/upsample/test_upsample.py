"""accel_upsample against kernels.upsample (nearest); stalls; one output beat per cycle."""

from __future__ import annotations

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.upsample import Upsample
from rtl_tests.common import check_cycles, lib_sources, run_stream

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
def test_upsample(h, w, c, lanes, dtype, factor) -> None:
    blk = Upsample(f"upsample_{h}x{w}x{c}_p{lanes}_{factor[0]}{factor[1]}", h, w, c, lanes, dtype.width, factor)
    rng = np.random.default_rng(c * 3 + h)
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, h, w, c))
    y = kernels.upsample(x, factor)
    res = run_stream(blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s_axis": [pack(f, dtype, lanes) for f in x]}, [pack(f, dtype, lanes) for f in y],
                     frames_phase0=3, seed=c)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame())


@pytest.mark.parametrize("kw,match", [({"factor": (0, 2)}, "factor"), ({"lanes": 3}, "lanes"),
                                      ({"factor": 2}, "factor")])
def test_upsample_bad_parameters(kw, match) -> None:
    args = dict(name="up_bad", height=2, width=2, channels=4, lanes=2, data_width=8, factor=(2, 2))
    args.update(kw)
    with pytest.raises(AccelError, match=f"up_bad.*{match}"):
        Upsample(**args).verilog_parameters()
