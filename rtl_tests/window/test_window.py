"""accel_window against accel.kernels.windows: K 1/3/5, stride 1/2, same/valid, odd/even C."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.window import Window
from rtl_tests.common import check_cycles, frames_of, lib_sources, run_stream, verilator_lint

FRAMES = 6
# name, (h, w, c), kernel, stride, pads, lanes, dtype
CASES = [
    ("k3s1same_c4p2", (5, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), 2, FixedType(True, 4, 2)),
    ("k3s2same_c3p1", (7, 6, 3), (3, 3), (2, 2), (1, 1, 1, 1), 1, FixedType(False, 3, 1)),
    ("k5s1valid_c2p2", (6, 7, 2), (5, 5), (1, 1), (0, 0, 0, 0), 2, FixedType(True, 8, 4)),
    ("k1s2_c6p3", (6, 5, 6), (1, 1), (2, 2), (0, 0, 0, 0), 3, FixedType(True, 2, 1)),
    ("k3x2s2valid_c5p5", (7, 7, 5), (3, 2), (2, 1), (0, 0, 0, 0), 5, FixedType(True, 6, 2)),
    ("k5s2same_c1p1", (6, 6, 1), (5, 5), (2, 2), (1, 2, 1, 2), 1, FixedType(True, 5, 2)),
]


def window_case(name, shape, kernel, stride, pads, lanes, dtype):
    blk = Window(f"window_{name}", shape, kernel, stride, pads, lanes, dtype.width)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.integers(dtype.min_raw, dtype.max_raw + 1, size=(FRAMES, *shape), dtype=np.int64)
    win = kernels.windows(x, kernel, stride, pads)
    y = win.reshape(FRAMES, *blk.out_shape)
    return blk, x, y


@pytest.mark.rtl
@pytest.mark.parametrize("name,shape,kernel,stride,pads,lanes,dtype", CASES, ids=[c[0] for c in CASES])
def test_window(name, shape, kernel, stride, pads, lanes, dtype) -> None:
    blk, x, y = window_case(name, shape, kernel, stride, pads, lanes, dtype)
    ins = frames_of(pack(x, dtype, lanes), FRAMES)
    exp = frames_of(pack(y, dtype, lanes), FRAMES)
    res = run_stream(blk.name, blk.module, lib_sources(blk.module), blk.verilog_parameters(),
                     {"s_axis": ins}, exp, frames_phase0=3, seed=3)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame())


def test_window_bad_parameters() -> None:
    ok = dict(shape=(4, 4, 4), kernel=(3, 3), stride=(1, 1), pads=(1, 1, 1, 1), lanes=2, width=8)
    Window("w", **ok).validate()
    with pytest.raises(AccelError, match="w: lanes=3 does not divide channels=4"):
        Window("w", **{**ok, "lanes": 3}).validate()
    with pytest.raises(AccelError, match="pads"):
        Window("w", **{**ok, "pads": (3, 0, 0, 0)}).validate()
    with pytest.raises(AccelError, match="larger than the padded input"):
        Window("w", **{**ok, "shape": (2, 2, 4), "pads": (0, 0, 0, 0)}).validate()
    with pytest.raises(AccelError, match="vertical stride"):
        Window("w", **{**ok, "stride": (0, 1)}).validate()
    with pytest.raises(AccelError, match="element width"):
        Window("w", **{**ok, "width": 33}).validate()


@pytest.mark.parametrize("name,shape,kernel,stride,pads,lanes,dtype", CASES, ids=[c[0] for c in CASES])
def test_window_lint(name, shape, kernel, stride, pads, lanes, dtype) -> None:
    blk = Window("w", shape, kernel, stride, pads, lanes, dtype.width)
    verilator_lint(lib_sources(blk.module), blk.module, blk.verilog_parameters())
