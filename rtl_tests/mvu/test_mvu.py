"""accel_mvu against accel.kernels.conv2d: pointwise, dense, and window -> mvu KxK conv."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.ops.common import accumulator_type
from accel.rtl.blocks.mvu import Mvu
from accel.rtl.blocks.window import Window
from rtl_tests.common import (
    MEASURED_FRAMES,
    MvuConsumer,
    check_cycles,
    frames_of,
    lib_sources,
    mvu_stages,
    run_stream,
    schedule_latency,
    verilator_lint,
    window_schedule,
)

FRAMES = 6
HERE = Path(__file__).resolve().parent


def draw(rng: np.random.Generator, t: FixedType, size: tuple[int, ...], extremes: bool) -> np.ndarray:
    """Uniform raw values of ``t``; with ``extremes`` about two thirds of them its minimum or maximum (8-bit weights
    -128/127 against x 0/255 or -128/127: every sign combination of a packed pair and of its correction term)."""
    v = rng.integers(t.min_raw, t.max_raw + 1, size=size, dtype=np.int64)
    if extremes:
        ends = rng.choice(np.array([t.min_raw, t.max_raw], dtype=np.int64), size=size)
        v = np.where(rng.random(size) < 0.65, ends, v)
    return v


def make_layer(name, x_shape, kernel, cout, xt, wt, bt, seed, extremes=False):
    """Random input frames, weights, bias; accumulator type and shifts as the Graph defines them."""
    rng = np.random.default_rng(seed)
    kh, kw = kernel
    cin = x_shape[2]
    x = draw(rng, xt, (FRAMES, *x_shape), extremes)
    w = draw(rng, wt, (kh, kw, cin, cout), extremes)
    b = rng.integers(bt.min_raw, bt.max_raw + 1, size=(cout,), dtype=np.int64)
    acc = accumulator_type(w.reshape(kh * kw * cin, cout), wt, xt, b, bt)
    ps, bs = acc.frac - xt.frac - wt.frac, acc.frac - bt.frac
    return x, w, b, acc, ps, bs


U8, S8, W8 = FixedType(False, 8, 8), FixedType(True, 8, 4), FixedType(True, 8, 7)

# name, x shape, cout, simd, pe, x type, w type, bias type, multiplier style, extreme values
PW_CASES = [
    ("pw_c6_s3_p2", (4, 5, 6), 4, 3, 2, FixedType(True, 4, 2), FixedType(True, 3, 1), FixedType(True, 6, 3),
     "dsp", False),
    ("dense_c10_s5_p7", (1, 1, 10), 7, 5, 7, FixedType(False, 8, 4), FixedType(True, 8, 2), FixedType(True, 8, 8),
     "dsp", False),
    ("pw_c5_s1_p1", (3, 3, 5), 3, 1, 1, FixedType(True, 2, 1), FixedType(True, 2, 1), FixedType(True, 8, 2),
     "dsp", False),
    ("pw_c4_s4_p3_pshift", (2, 3, 4), 6, 4, 3, FixedType(False, 3, 2), FixedType(True, 5, 4), FixedType(True, 9, 1),
     "dsp", False),
    # SF = NF = 1: every step completes an output (the output queue at full rate), a 3-level adder tree
    ("pw_c6_s6_p4_full", (3, 4, 6), 4, 6, 4, FixedType(True, 6, 3), FixedType(True, 7, 3), FixedType(True, 10, 6),
     "dsp", False),
    # two products per DSP48E1: 8-bit signed weights at their extremes against unsigned and signed 8-bit x at
    # theirs (every sign combination of a pair and its correction), PE odd (the last channel unpacked), narrow
    # and unsigned weights
    ("dsp2_c8_s4_p4_u8", (3, 3, 8), 8, 4, 4, U8, W8, FixedType(True, 8, 4), "dsp2", True),
    ("dsp2_c6_s2_p3_s8", (2, 3, 6), 6, 2, 3, S8, W8, FixedType(True, 8, 4), "dsp2", True),
    ("dsp2_c10_s5_p5_4x3", (1, 2, 10), 5, 5, 5, FixedType(True, 4, 2), FixedType(True, 3, 1), FixedType(True, 6, 3),
     "dsp2", False),
    ("dsp2_c4_s1_p2_6sx4u", (3, 2, 4), 6, 1, 2, FixedType(True, 6, 3), FixedType(False, 4, 4), FixedType(True, 8, 4),
     "dsp2", True),
    # LUT multipliers: the same extremes, an odd and an unsigned weight width
    ("lut_c6_s3_p2_u8", (3, 2, 6), 4, 3, 2, U8, W8, FixedType(True, 8, 4), "lut", True),
    ("lut_c4_s2_p3_s8", (2, 2, 4), 6, 2, 3, S8, W8, FixedType(True, 8, 4), "lut", True),
    ("lut_c6_s1_p2_4sx5u", (2, 3, 6), 4, 1, 2, FixedType(True, 4, 2), FixedType(False, 5, 2), FixedType(True, 7, 3),
     "lut", True),
]  # fmt: skip


@pytest.mark.rtl
@pytest.mark.parametrize("name,shape,cout,simd,pe,xt,wt,bt,style,ext", PW_CASES, ids=[c[0] for c in PW_CASES])
def test_mvu_pointwise(name, shape, cout, simd, pe, xt, wt, bt, style, ext, tmp_path: Path) -> None:
    x, w, b, acc, ps, bs = make_layer(name, shape, (1, 1), cout, xt, wt, bt, zlib.crc32(name.encode()), ext)
    y = kernels.conv2d(x, w, b, product_shift=ps, bias_shift=bs)
    blk = Mvu(f"mvu_{name}", w.reshape(shape[2], cout), b, xt, wt, acc, ps, bs, shape[0] * shape[1], simd, pe,
              mult_style=style)
    blk.write_files(tmp_path)
    ins = frames_of(pack(x, xt, simd), FRAMES)
    exp = frames_of(pack(y, acc, pe), FRAMES)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(tmp_path),
                     {"s_axis": ins}, exp, frames_phase0=MEASURED_FRAMES, seed=5)
    # accel_mvu.v steps every cycle without a bubble (the first output fold takes the SF input beats, the
    # other NF-1 folds reuse them while s_axis_tready is low), so a frame's last step comes steps-1 edges after
    # its first beat and its result is taken mvu_stages(SIMD, style) edges later (4 register stages, the
    # products' one or two, the adder tree's clog2(SIMD)): latency steps + mvu_stages(SIMD, style)
    steps = shape[0] * shape[1] * (shape[2] // simd) * (cout // pe)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(),
                 [steps + mvu_stages(simd, style)] * MEASURED_FRAMES)


# name, x shape, kernel, stride, pads, cout, lanes(simd), pe, types, multiplier style
CONV_CASES = [
    ("k3s2same_c3_p1", (7, 6, 3), (3, 3), (2, 2), (1, 1, 1, 1), 4, 1, 2,
     FixedType(True, 4, 2), FixedType(True, 4, 1), FixedType(True, 6, 3), "dsp"),
    ("k3s1valid_c4_p2", (5, 5, 4), (3, 3), (1, 1), (0, 0, 0, 0), 3, 2, 3,
     FixedType(False, 3, 1), FixedType(True, 3, 1), FixedType(True, 8, 4), "dsp"),
    ("k3s1valid_c2_p3_dsp2", (4, 5, 2), (3, 3), (1, 1), (0, 0, 0, 0), 3, 2, 3, U8, W8, FixedType(True, 8, 4), "dsp2"),
    ("k3s2same_c3_p2_lut", (5, 6, 3), (3, 3), (2, 2), (1, 1, 1, 1), 4, 1, 2, S8, W8, FixedType(True, 8, 4), "lut"),
]  # fmt: skip


@pytest.mark.rtl
@pytest.mark.parametrize("name,shape,kernel,stride,pads,cout,lanes,pe,xt,wt,bt,style", CONV_CASES,
                         ids=[c[0] for c in CONV_CASES])
def test_window_mvu_conv(name, shape, kernel, stride, pads, cout, lanes, pe, xt, wt, bt, style,
                         tmp_path: Path) -> None:  # fmt: skip
    x, w, b, acc, ps, bs = make_layer(name, shape, kernel, cout, xt, wt, bt, zlib.crc32(name.encode()))
    y = kernels.conv2d(x, w, b, stride=stride, pads=pads, product_shift=ps, bias_shift=bs)
    win = Window(f"conv_{name}_win", shape, kernel, stride, pads, lanes, xt.width)
    ho, wo, ckk = win.out_shape
    mvu = Mvu(f"conv_{name}", w.reshape(ckk, cout), b, xt, wt, acc, ps, bs, ho * wo, lanes, pe, mult_style=style)
    mvu.write_files(tmp_path)
    wp = win.verilog_parameters()
    mp = mvu.verilog_parameters(tmp_path)
    params = {**{k: wp[k] for k in ("KH", "KW", "SH", "SW", "PT", "PB", "PL", "PR", "H", "W", "C", "P")},
              **{k: mp[k] for k in ("COUT", "PE", "PIXELS", "IN_WIDTH", "IN_SIGNED", "W_WIDTH", "W_SIGNED",
                                    "SUM_WIDTH", "OUT_WIDTH", "PSHIFT", "WEIGHT_FILE", "BIAS_FILE", "MULT",
                                    "PACK_SHIFT")}}
    ins = frames_of(pack(x, xt, lanes), FRAMES)
    exp = frames_of(pack(y, acc, pe), FRAMES)
    sources = [*lib_sources("accel_window", *mvu.source_modules), HERE / "accel_conv_top.v"]
    res = run_stream(tmp_path, mvu.name, "accel_conv_top", sources, params, {"s_axis": ins}, exp,
                     frames_phase0=MEASURED_FRAMES, seed=9)
    # the chain runs at the slower block's pace; the MVU holds the window back while its NF-1 reuse folds run,
    # and after taking a frame's last window beat it runs those folds ((NF-1)*SF edges), whose last step's result
    # is taken mvu_stages(SIMD, style) edges later (its register stages)
    sf, nf = kernel[0] * kernel[1] * shape[2] // lanes, cout // pe
    starts, taken = window_schedule(shape, kernel, stride, pads, lanes, MEASURED_FRAMES, MvuConsumer(sf, nf))
    check_cycles(mvu.name, res, max(win.expected_cycles_per_frame(), mvu.expected_cycles_per_frame()),
                 schedule_latency(starts, taken, (nf - 1) * sf + mvu_stages(lanes, style)))


def test_mvu_bad_parameters() -> None:
    t = FixedType(True, 4, 2)
    w = np.zeros((6, 4), dtype=np.int64)
    b = np.zeros(4, dtype=np.int64)
    Mvu("m", w, b, t, t, FixedType(True, 12, 6), 0, 0, 1, 3, 2).validate()
    with pytest.raises(AccelError, match="m: SIMD=4 does not divide input channels=6"):
        Mvu("m", w, b, t, t, FixedType(True, 12, 6), 0, 0, 1, 4, 2).validate()
    with pytest.raises(AccelError, match="m: PE=3 does not divide output channels=4"):
        Mvu("m", w, b, t, t, FixedType(True, 12, 6), 0, 0, 1, 3, 3).validate()
    with pytest.raises(AccelError, match="pixels per frame"):
        Mvu("m", w, b, t, t, FixedType(True, 12, 6), 0, 0, 0).validate()
    with pytest.raises(AccelError, match="weights do not fit"):
        Mvu("m", w + 100, b, t, t, FixedType(True, 12, 6), 0, 0, 1).validate()
    with pytest.raises(AccelError, match="bias shape|are not"):
        Mvu("m", w, b[:3], t, t, FixedType(True, 12, 6), 0, 0, 1).validate()


@pytest.mark.parametrize("name,shape,cout,simd,pe,xt,wt,bt,style,ext", PW_CASES, ids=[c[0] for c in PW_CASES])
def test_mvu_lint(name, shape, cout, simd, pe, xt, wt, bt, style, ext, tmp_path: Path) -> None:
    x, w, b, acc, ps, bs = make_layer(name, shape, (1, 1), cout, xt, wt, bt, 0, ext)
    blk = Mvu(f"lint_{name}", w.reshape(shape[2], cout), b, xt, wt, acc, ps, bs, shape[0] * shape[1], simd, pe,
              mult_style=style)
    blk.write_files(tmp_path)
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters(tmp_path))
