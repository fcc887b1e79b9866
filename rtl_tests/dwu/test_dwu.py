"""accel_window -> accel_dwu against accel.kernels.depthwise_conv2d."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.ops.common import accumulator_type
from accel.rtl.blocks.dwu import Dwu
from accel.rtl.blocks.window import Window
from rtl_tests.common import (
    MEASURED_FRAMES,
    check_cycles,
    dwu_stages,
    frames_of,
    lib_sources,
    run_stream,
    schedule_latency,
    verilator_lint,
    window_schedule,
)

FRAMES = 6
HERE = Path(__file__).resolve().parent

U8, S8, W8 = FixedType(False, 8, 8), FixedType(True, 8, 4), FixedType(True, 8, 7)

# name, x shape, kernel, stride, pads, depth multiplier, pe, x type, w type, bias type, multiplier style, extremes
CASES = [
    ("k3s1same_c4_p2_m1", (5, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), 1, 2,
     FixedType(True, 4, 2), FixedType(True, 4, 1), FixedType(True, 6, 3), "dsp", False),
    ("k3s2same_c3_p1_m2", (7, 6, 3), (3, 3), (2, 2), (1, 1, 1, 1), 2, 1,
     FixedType(False, 8, 4), FixedType(True, 3, 1), FixedType(True, 8, 8), "dsp", False),
    ("k5s1valid_c5_p5_m1", (6, 6, 5), (5, 5), (1, 1), (0, 0, 0, 0), 1, 5,
     FixedType(True, 2, 1), FixedType(True, 2, 1), FixedType(True, 9, 1), "dsp", False),
    ("k1s1_c6_p3_m3", (3, 4, 6), (1, 1), (1, 1), (0, 0, 0, 0), 3, 3,
     FixedType(False, 3, 1), FixedType(True, 5, 2), FixedType(True, 6, 3), "dsp", False),
    # CG = 1: the accumulator memory's one entry is read, updated and written every cycle
    ("k3s1same_c2_p2_m1", (4, 5, 2), (3, 3), (1, 1), (1, 1, 1, 1), 1, 2,
     FixedType(True, 5, 2), FixedType(True, 4, 2), FixedType(True, 7, 3), "dsp", False),
    # LUT multipliers: 8-bit weights at their extremes against unsigned and signed 8-bit x at theirs, and an odd
    # unsigned weight width with a depth multiplier
    ("lut_k3s1same_c4_p2_u8", (4, 5, 4), (3, 3), (1, 1), (1, 1, 1, 1), 1, 2, U8, W8, FixedType(True, 8, 4),
     "lut", True),
    ("lut_k3s2same_c3_p3_s8", (5, 5, 3), (3, 3), (2, 2), (1, 1, 1, 1), 1, 3, S8, W8, FixedType(True, 8, 4),
     "lut", True),
    ("lut_k1s1_c4_p2_m2_5u", (3, 3, 4), (1, 1), (1, 1), (0, 0, 0, 0), 2, 2, FixedType(True, 6, 2),
     FixedType(False, 5, 2), FixedType(True, 8, 4), "lut", True),
]  # fmt: skip


def draw(rng: np.random.Generator, t: FixedType, size: tuple[int, ...], extremes: bool) -> np.ndarray:
    """Uniform raw values of ``t``; with ``extremes`` about two thirds of them its minimum or maximum."""
    v = rng.integers(t.min_raw, t.max_raw + 1, size=size, dtype=np.int64)
    if extremes:
        ends = rng.choice(np.array([t.min_raw, t.max_raw], dtype=np.int64), size=size)
        v = np.where(rng.random(size) < 0.65, ends, v)
    return v


@pytest.mark.rtl
@pytest.mark.parametrize("name,shape,kernel,stride,pads,mult,pe,xt,wt,bt,style,ext", CASES, ids=[c[0] for c in CASES])
def test_window_dwu(name, shape, kernel, stride, pads, mult, pe, xt, wt, bt, style, ext, tmp_path: Path) -> None:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    kh, kw = kernel
    c = shape[2]
    x = draw(rng, xt, (FRAMES, *shape), ext)
    w = draw(rng, wt, (kh, kw, c, mult), ext)
    b = rng.integers(bt.min_raw, bt.max_raw + 1, size=(c * mult,), dtype=np.int64)
    acc = accumulator_type(w.reshape(kh * kw, c * mult), wt, xt, b, bt)
    ps, bs = acc.frac - xt.frac - wt.frac, acc.frac - bt.frac
    y = kernels.depthwise_conv2d(x, w, b, stride=stride, pads=pads, product_shift=ps, bias_shift=bs)

    win = Window(f"dw_{name}_win", shape, kernel, stride, pads, pe, xt.width)
    ho, wo, _ = win.out_shape
    dwu = Dwu(f"dw_{name}", w, b, xt, wt, acc, ps, bs, ho * wo, pe, mult_style=style)
    dwu.write_files(tmp_path)
    wp = win.verilog_parameters()
    dp = dwu.verilog_parameters(tmp_path)
    params = {**{k: wp[k] for k in ("KH", "KW", "SH", "SW", "PT", "PB", "PL", "PR", "H", "W", "C", "P")},
              **{k: dp[k] for k in ("M", "PIXELS", "IN_WIDTH", "IN_SIGNED", "W_WIDTH", "W_SIGNED", "SUM_WIDTH",
                                    "OUT_WIDTH", "PSHIFT", "WEIGHT_FILE", "BIAS_FILE", "MULT")}}
    ins = frames_of(pack(x, xt, pe), FRAMES)
    exp = frames_of(pack(y, acc, pe * mult), FRAMES)
    sources = [*lib_sources("accel_window", *dwu.source_modules), HERE / "accel_dwconv_top.v"]
    res = run_stream(tmp_path, dwu.name, "accel_dwconv_top", sources, params, {"s_axis": ins}, exp,
                     frames_phase0=MEASURED_FRAMES, seed=11)
    # accel_dwu.v takes a window beat every cycle (it never holds the window back); the result of a pixel's
    # last tap passes dwu_stages(style) register stages: its last output is taken that many edges after the
    # window's last beat
    starts, taken = window_schedule(shape, kernel, stride, pads, pe, MEASURED_FRAMES)
    check_cycles(dwu.name, res, max(win.expected_cycles_per_frame(), dwu.expected_cycles_per_frame()),
                 schedule_latency(starts, taken, dwu_stages(style)))


def test_dwu_bad_parameters() -> None:
    t = FixedType(True, 4, 2)
    acc = FixedType(True, 12, 6)
    w = np.zeros((3, 3, 4, 1), dtype=np.int64)
    b = np.zeros(4, dtype=np.int64)
    Dwu("d", w, b, t, t, acc, 0, 0, 4, 2).validate()
    with pytest.raises(AccelError, match="d: PE=3 does not divide channels=4"):
        Dwu("d", w, b, t, t, acc, 0, 0, 4, 3).validate()
    with pytest.raises(AccelError, match="are not"):
        Dwu("d", w, b[:2], t, t, acc, 0, 0, 4, 2).validate()
    with pytest.raises(AccelError, match="pixels per frame"):
        Dwu("d", w, b, t, t, acc, 0, 0, 0, 2).validate()
    with pytest.raises(AccelError, match="shifted bias"):
        Dwu("d", w, b + 1, t, t, acc, 0, 20, 4, 2).validate()


@pytest.mark.parametrize("name,shape,kernel,stride,pads,mult,pe,xt,wt,bt,style,ext", CASES, ids=[c[0] for c in CASES])
def test_dwu_lint(name, shape, kernel, stride, pads, mult, pe, xt, wt, bt, style, ext, tmp_path: Path) -> None:
    kh, kw = kernel
    c = shape[2]
    w = np.full((kh, kw, c, mult), wt.max_raw, dtype=np.int64)
    b = np.zeros(c * mult, dtype=np.int64)
    acc = accumulator_type(w.reshape(kh * kw, c * mult), wt, xt, b, bt)
    blk = Dwu(f"lint_dw_{name}", w, b, xt, wt, acc, acc.frac - xt.frac - wt.frac, acc.frac - bt.frac, 4, pe,
              mult_style=style)
    blk.write_files(tmp_path)
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters(tmp_path))
