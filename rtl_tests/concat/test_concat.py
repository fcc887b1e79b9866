"""accel_concat against kernels.concat (operands aligned to the union type); stalls on every port."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.concat import Concat
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6
S, U = True, False

# (h, w, c0, c1, lanes, type a, type b)
CASES = [
    (3, 3, 2, 4, 2, FixedType(S, 8, 3), FixedType(S, 8, 3)),
    (2, 4, 3, 5, 1, FixedType(U, 4, 2), FixedType(S, 6, 1)),  # b finer: a shifted by 3
    (2, 3, 6, 3, 3, FixedType(U, 2, 0), FixedType(U, 7, 7)),  # unsigned both, b shifted by 2
    (3, 2, 4, 8, 4, FixedType(S, 5, 1), FixedType(U, 3, 3)),
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c0,c1,lanes,ta,tb", CASES)
def test_concat(h, w, c0, c1, lanes, ta, tb, tmp_path: Path) -> None:
    blk = Concat(f"concat_{h}x{w}_{c0}_{c1}_p{lanes}_{ta.width}_{tb.width}", h, w, c0, c1, lanes, ta, tb)
    rng = np.random.default_rng(h * 7 + c1)
    a = rng.integers(ta.min_raw, ta.max_raw + 1, size=(FRAMES, h, w, c0))
    b = rng.integers(tb.min_raw, tb.max_raw + 1, size=(FRAMES, h, w, c1))
    y = kernels.concat([a, b], list(blk.shifts))
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s0_axis": [pack(f, ta, lanes) for f in a], "s1_axis": [pack(f, tb, lanes) for f in b]},
                     [pack(f, blk.out_type, lanes) for f in y], frames_phase0=MEASURED_FRAMES, seed=c0)
    # accel_concat.v moves one beat per cycle (c0/P from input 0, then c1/P from input 1, per pixel) into one
    # output register, both inputs offered from the first edge: output beat k leaves at edge k+1 after input
    # 0's first beat, so the latency is the output beat count + 1 with both ends counted
    out_beats = h * w * (c0 + c1) // lanes
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [out_beats + 1] * MEASURED_FRAMES)


@pytest.mark.parametrize("kw,match", [({"lanes": 3}, "lanes"), ({"c1": 0}, "channels"),
                                      ({"b_type": FixedType(False, 33, 2)}, "input 1 type")])
def test_concat_bad_parameters(kw, match) -> None:
    args = dict(name="cat_bad", height=2, width=2, c0=4, c1=2, lanes=2, a_type=FixedType(True, 8, 3),
                b_type=FixedType(True, 8, 3))
    args.update(kw)
    with pytest.raises(AccelError, match=f"cat_bad.*{match}"):
        Concat(**args).verilog_parameters()
