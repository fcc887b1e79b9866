"""accel_add against kernels.add with operands aligned to the finer grid; stalls on both inputs and the output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.add import Add
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream

FRAMES = 6
S, U = True, False

# (h, w, c, lanes, type a, type b): different fractional alignments, signedness and widths
CASES = [
    (3, 4, 4, 2, FixedType(S, 8, 3), FixedType(S, 8, 3)),
    (2, 5, 3, 1, FixedType(U, 4, 2), FixedType(S, 6, 1)),  # b has 3 more fractional bits
    (3, 3, 6, 3, FixedType(S, 2, 2), FixedType(U, 8, 1)),  # a shifted left by 7
    (4, 2, 5, 5, FixedType(S, 5, 5), FixedType(S, 3, -1)),  # integer-only a, coarse b (negative frac)
]


@pytest.mark.rtl
@pytest.mark.parametrize("h,w,c,lanes,ta,tb", CASES)
def test_add(h, w, c, lanes, ta, tb, tmp_path: Path) -> None:
    blk = Add(f"add_{h}x{w}x{c}_p{lanes}_{ta.width}_{ta.frac}_{tb.width}_{tb.frac}", h, w, c, lanes, ta, tb)
    rng = np.random.default_rng(h * 31 + c)
    a = rng.integers(ta.min_raw, ta.max_raw + 1, size=(FRAMES, h, w, c))
    b = rng.integers(tb.min_raw, tb.max_raw + 1, size=(FRAMES, h, w, c))
    a[0], b[0] = ta.max_raw, tb.max_raw  # extremes of the output range
    a[1], b[1] = ta.min_raw, tb.min_raw
    y = kernels.add([a, b], list(blk.shifts))
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.sources), blk.verilog_parameters(),
                     {"s0_axis": [pack(f, ta, lanes) for f in a], "s1_axis": [pack(f, tb, lanes) for f in b]},
                     [pack(f, blk.out_type, lanes) for f in y], frames_phase0=MEASURED_FRAMES, seed=c)
    # accel_add.v takes one beat of both inputs per cycle into one output register: the frame's last beat
    # pair (edge beats-1 after the first) leaves at edge beats, latency beats + 1 with both ends counted
    beats = h * w * c // lanes
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [beats + 1] * MEASURED_FRAMES)


def test_add_type_matches_op() -> None:
    """The block's output type is the add op's inferred type (one rule)."""
    from accel.ir import GraphBuilder  # noqa: F401  (registers ops)
    from accel.ops.add import _infer

    class _T:
        def __init__(self, dtype):
            self.shape, self.dtype = (2, 2, 4), dtype

    class _N:
        name = "n"

    for ta, tb in [(c[4], c[5]) for c in CASES]:
        blk = Add("a", 2, 2, 4, 1, ta, tb)
        assert _infer(_N(), [_T(ta), _T(tb)])[1] == blk.out_type


@pytest.mark.parametrize("kw,match", [({"lanes": 3}, "lanes"), ({"width": 0}, "width"),
                                      ({"a_type": FixedType(True, 40, 2)}, "input 0 type")])
def test_add_bad_parameters(kw, match) -> None:
    args = dict(name="add_bad", height=2, width=2, channels=4, lanes=2, a_type=FixedType(True, 8, 3),
                b_type=FixedType(True, 8, 3))
    args.update(kw)
    with pytest.raises(AccelError, match=f"add_bad.*{match}"):
        Add(**args).verilog_parameters()
