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
    _stream_and_check(tmp_path, blk, x, y, seed=9)


def test_threshold_bad_parameters() -> None:
    s8, u4 = FixedType(True, 8, 4), FixedType(False, 4, 4)
    _block("q", s8, u4, [1, 2], [0, 1, 2], 2, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="lanes=3 does not divide channels=4"):
        _block("q", s8, u4, [1, 2], [0, 1, 2], 3, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="non-decreasing thresholds and one level more"):
        _block("q", s8, u4, [2, 1], [0, 1, 2], 1, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="non-decreasing thresholds and one level more"):
        _block("q", s8, u4, [1, 2], [0, 1], 1, (2, 2, 4)).validate()


@pytest.mark.parametrize("label,src,dst,thr,lvl,lanes", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_threshold_lint(label, src, dst, thr, lvl, lanes, tmp_path: Path) -> None:
    blk = _block(label, src, dst, thr, lvl, lanes, (1, 2, 4))
    blk.write_files(tmp_path)
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters(tmp_path))


# per-channel tables (a batch normalization folded into the step): (label, src, dst, thresholds (C, T), levels
# (C, T + 1), lanes); rising and falling rows, a repeated threshold (its level unreachable), a constant row
PER_CHANNEL = [
    ("bn_sign_s7_c4_l2", FixedType(True, 7, 2), FixedType(True, 2, 2),
     [[-3, -3], [0, 5], [-64, 10], [63, 63]], [[-1, 0, 1], [1, 0, -1], [-2, 0, 1], [0, -2, 0]], 2),
    ("bn_relu_u6_c6_l3", FixedType(False, 6, 3), FixedType(False, 3, 1),
     [[4, 9, 20], [1, 2, 3], [60, 61, 63], [10, 10, 10], [0, 30, 40], [5, 6, 7]],
     [[0, 1, 2, 7], [7, 5, 3, 0], [0, 1, 2, 3], [1, 0, 0, 6], [4, 3, 2, 1], [0, 2, 4, 6]], 3),
    ("bn_ternary_s8_c3_l1", FixedType(True, 8, 0), FixedType(True, 2, 2),
     [[-128, 7], [-50, 50], [100, 127]], [[0, -1, 1], [1, 0, -1], [-1, 0, 1]], 1),
]


@pytest.mark.rtl
@pytest.mark.parametrize("label,src,dst,thr,lvl,lanes", PER_CHANNEL, ids=[c[0] for c in PER_CHANNEL])
def test_threshold_per_channel_exhaustive(label, src, dst, thr, lvl, lanes, tmp_path: Path) -> None:
    """Every input value in every channel (each channel's column a permutation of the type's values), back-to-back
    frames with stalls; the expected values from each row scanned by hand, not from accel.kernels."""
    values = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64)
    c = len(thr)
    shape = (1, len(values), c)
    blk = _block(label, src, dst, thr, lvl, lanes, shape)
    rng = np.random.default_rng(len(label))
    x = np.stack([np.stack([rng.permutation(values) for _ in range(c)], axis=-1).reshape(shape)
                  for _ in range(FRAMES)])  # fmt: skip

    def level(ch: int, v: int) -> int:
        return lvl[ch][sum(1 for t in thr[ch] if t <= v)]

    y = np.vectorize(level)(np.broadcast_to(np.arange(c), x.shape), x)
    assert np.array_equal(y, kernels.threshold(x, np.array(thr), np.array(lvl)))
    _stream_and_check(tmp_path, blk, x, y, seed=11)


def test_threshold_per_channel_bad_parameters() -> None:
    s8, u4 = FixedType(True, 8, 4), FixedType(False, 4, 4)
    _block("q", s8, u4, [[1, 1], [0, 2]], [[0, 1, 2], [2, 1, 0]], 1, (2, 2, 2)).validate()
    with pytest.raises(AccelError, match="one row per channel"):
        _block("q", s8, u4, [[1, 2], [0, 2]], [[0, 1, 2], [2, 1, 0]], 1, (2, 2, 4)).validate()
    with pytest.raises(AccelError, match="non-decreasing thresholds"):
        _block("q", s8, u4, [[1, 2], [2, 0]], [[0, 1, 2], [2, 1, 0]], 1, (2, 2, 2)).validate()


@pytest.mark.parametrize("label,src,dst,thr,lvl,lanes", PER_CHANNEL, ids=[c[0] for c in PER_CHANNEL])
def test_threshold_per_channel_lint(label, src, dst, thr, lvl, lanes, tmp_path: Path) -> None:
    blk = _block(label, src, dst, thr, lvl, lanes, (1, 2, len(thr)))
    blk.write_files(tmp_path)
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters(tmp_path))


def _stream_and_check(tmp_path, blk, x: np.ndarray, y: np.ndarray, seed: int) -> None:
    """Stream ``x`` through the block (random stalls by ``seed``): the output must be ``y`` and each measured frame
    take one beat per cycle plus the two pipeline stages."""
    src, dst, lanes, c = blk.src, blk.dst, blk.lanes, blk.shape[2]
    blk.write_files(tmp_path)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(tmp_path),
                     {"s_axis": frames_of(pack(x, src, lanes), FRAMES)}, frames_of(pack(y, dst, lanes), FRAMES),
                     frames_phase0=MEASURED_FRAMES, seed=seed)  # fmt: skip
    beats = blk.shape[1] * c // lanes
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [beats + 2] * MEASURED_FRAMES)
