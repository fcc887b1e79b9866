"""accel_threshold against accel.kernels.threshold: EVERY input value, signed and unsigned inputs, 1, 2 and 4 lanes,
power-of-two and sign tables (thresholds at the type's extremes included); back-to-back frames with stalls; exact
compare and the cycle model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.threshold import Threshold
from rtl_tests.common import MEASURED_FRAMES, check_cycles, frames_of, lib_sources, run_stream, verilator_lint

RELU_PO2_IN = FixedType(True, 8, 3)  # quantized_relu_po2(4, 4) on quantized_bits(8, 2): steps at 2**(k + 1/2)
# (label, src, dst, thresholds, levels, lanes)
CONFIGS = [
    ("relu_po2_s8", RELU_PO2_IN, FixedType(False, 11, 3), [1, 2, 3, 6, 12, 23, 46, 91],
     [1 << k for k in range(9)], 2),  # fmt: skip
    ("sign_u5_edges", FixedType(False, 5, 2), FixedType(True, 2, 2), [0, 7, 31], [0, -1, 1, -2], 1),
    ("ternary_s6_min", FixedType(True, 6, 3), FixedType(True, 3, 1), [-32, -5, 6], [1, -2, 0, 3], 4),
]
FRAMES = 6  # 3 measured without stalls, 3 with random stalls


def _block(label: str, src: FixedType, dst: FixedType, thr, lvl, lanes: int, shape) -> Threshold:
    return Threshold(f"threshold_{label}", src, dst, np.array(thr), np.array(lvl), shape, lanes)


@pytest.mark.rtl
@pytest.mark.parametrize("label,src,dst,thr,lvl,lanes", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_threshold_exhaustive(label, src, dst, thr, lvl, lanes, tmp_path: Path) -> None:
    values = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64)  # every input value
    c = 4
    shape = (1, len(values) // c, c)
    blk = _block(label, src, dst, thr, lvl, lanes, shape)
    rng = np.random.default_rng(len(label))
    x = np.stack([rng.permutation(values).reshape(shape) for _ in range(FRAMES)])
    y = kernels.threshold(x, blk.thresholds, blk.levels)
    assert len(np.unique(y)) == len(lvl) - (thr[0] == src.min_raw)  # every level below a value is reached
    blk.write_files(tmp_path)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(tmp_path),
                     {"s_axis": frames_of(pack(x, src, lanes), FRAMES)}, frames_of(pack(y, dst, lanes), FRAMES),
                     frames_phase0=MEASURED_FRAMES, seed=9)  # fmt: skip
    beats = shape[1] * c // lanes
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [beats + 2] * MEASURED_FRAMES)


def test_threshold_bad_parameters() -> None:
    s8, u4 = FixedType(True, 8, 4), FixedType(False, 4, 4)
    _block("q", s8, u4, [1, 2], [0, 1, 2], 2, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="lanes=3 does not divide channels=4"):
        _block("q", s8, u4, [1, 2], [0, 1, 2], 3, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="strictly increasing thresholds and one level more"):
        _block("q", s8, u4, [2, 1], [0, 1, 2], 1, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="strictly increasing thresholds and one level more"):
        _block("q", s8, u4, [1, 2], [0, 1], 1, (2, 2, 4)).validate()


@pytest.mark.parametrize("label,src,dst,thr,lvl,lanes", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_threshold_lint(label, src, dst, thr, lvl, lanes, tmp_path: Path) -> None:
    blk = _block(label, src, dst, thr, lvl, lanes, (1, 2, 4))
    blk.write_files(tmp_path)
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters(tmp_path))
