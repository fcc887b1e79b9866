"""accel_window against accel.kernels.windows: K 1/3/5, stride 1/2/3, same/valid, odd/even C, degenerate shapes;
its cycle model (Window.expected_cycles_per_frame) against the test's schedule over thousands of random shapes and
against co-simulation over random shapes, strides, pads and lanes."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError, kernels
from accel.deploy.stream import pack
from accel.fixed import FixedType
from accel.rtl.blocks.window import Window, line_rows
from rtl_tests.common import (
    MEASURED_FRAMES,
    check_cycles,
    frames_of,
    lib_sources,
    run_stream,
    schedule_latency,
    verilator_lint,
    window_schedule,
)

FRAMES = 6
# name, (h, w, c), kernel, stride, pads, lanes, dtype
CASES = [
    ("k3s1same_c4p2", (5, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), 2, FixedType(True, 4, 2)),
    ("k3s2same_c3p1", (7, 6, 3), (3, 3), (2, 2), (1, 1, 1, 1), 1, FixedType(False, 3, 1)),
    ("k5s1valid_c2p2", (6, 7, 2), (5, 5), (1, 1), (0, 0, 0, 0), 2, FixedType(True, 8, 4)),
    ("k1s2_c6p3", (6, 5, 6), (1, 1), (2, 2), (0, 0, 0, 0), 3, FixedType(True, 2, 1)),
    ("k3x2s2valid_c5p5", (7, 7, 5), (3, 2), (2, 1), (0, 0, 0, 0), 5, FixedType(True, 6, 2)),
    ("k5s2same_c1p1", (6, 6, 1), (5, 5), (2, 2), (1, 2, 1, 2), 1, FixedType(True, 5, 2)),
    # corners of the incremental bookkeeping: output rows of one beat (1x1 kernel, W = 1, one channel group),
    # a single output row per frame (H = 1), and a frame advance of the ring that is negative before
    # reduction modulo KH+SH (H - (HO-1)*SH = -1)
    ("k1s2_w1_c2p2", (8, 1, 2), (1, 1), (2, 3), (0, 0, 0, 0), 2, FixedType(True, 4, 1)),
    ("k3x1s2_h1_c2p1", (1, 8, 2), (3, 1), (2, 3), (2, 0, 0, 0), 1, FixedType(False, 6, 3)),
    ("k5x4s2_pad3_c1p1", (5, 4, 1), (5, 4), (2, 1), (3, 3, 3, 3), 1, FixedType(True, 7, 3)),
    # a strided shape whose rate the old model (line buffer of KH + SH rows) got wrong: 76 cycles modelled, 84 run
    ("k3x5s2_c1p1", (6, 8, 1), (3, 5), (2, 2), (0, 0, 0, 0), 1, FixedType(True, 4, 1)),
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
def test_window(name, shape, kernel, stride, pads, lanes, dtype, tmp_path: Path) -> None:
    blk, x, y = window_case(name, shape, kernel, stride, pads, lanes, dtype)
    ins = frames_of(pack(x, dtype, lanes), FRAMES)
    exp = frames_of(pack(y, dtype, lanes), FRAMES)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(),
                     {"s_axis": ins}, exp, frames_phase0=MEASURED_FRAMES, seed=3)
    # the testbench sink takes each window beat the edge it is offered: the schedule's edges are the output's
    starts, taken = window_schedule(shape, kernel, stride, pads, lanes, MEASURED_FRAMES)
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), schedule_latency(starts, taken, 0))


def random_windows(seed: int, n: int, max_hw: int = 12) -> list[tuple]:
    """``n`` random legal window configurations: kernels 1-5, strides 1-4, any pads below the kernel, 1-2 lanes."""
    rng = np.random.default_rng(seed)
    out: list[tuple] = []
    while len(out) < n:
        kh, kw, sh, sw = (int(v) for v in rng.integers(1, [6, 6, 5, 5]))
        h, w = (int(v) for v in rng.integers(1, max_hw + 1, 2))
        lanes = int(rng.integers(1, 3))
        c = lanes * int(rng.integers(1, 4))
        pads = tuple(int(rng.integers(0, k)) for k in (kh, kh, kw, kw))
        if h + pads[0] + pads[1] >= kh and w + pads[2] + pads[3] >= kw:
            out.append(((h, w, c), (kh, kw), (sh, sw), pads, lanes))
    return out


def test_window_model_matches_schedule() -> None:
    """expected_cycles_per_frame() (row-level, accel/rtl/blocks/window.py) equals the steady-state interval of the
    beat-level window_schedule over 1,500 random shapes, and the schedule is periodic from the third frame on; with
    line_rows the rate is max(input beats, output beats) for all but a handful of them."""
    ideal = 0
    for shape, kernel, stride, pads, lanes in random_windows(11, 1500):
        blk = Window("w", shape, kernel, stride, pads, lanes, 8)
        _, taken = window_schedule(shape, kernel, stride, pads, lanes, 6)
        steps = np.diff(taken).tolist()
        assert steps[1:] == [blk.expected_cycles_per_frame()] * 4, (shape, kernel, stride, pads, lanes, steps)
        ho, wo, cw = blk.out_shape
        ideal += blk.expected_cycles_per_frame() == max(np.prod(shape), ho * wo * cw) // lanes
    assert ideal >= 1490, ideal


def test_window_rows_by_hand() -> None:
    """line_rows by hand: the rows the next output row waits for, counted from the first row the current one
    holds, at most over the frame, plus the row being written.
    * 3x3 stride-1 same on 5 rows: output row 1 reads from row 0, row 2 waits for rows below 4: 4 + 1 = 5, one
      more than KH + SH (see test_window_schedule_by_hand);
    * 2x2 stride-2 valid on 13 rows (QKeras's MNIST example's second conv): the last output row holds rows
      10-12 (12 unused, but a frame's last row releases the whole frame), the next frame's first waits for
      rows 0-1: 3 + 2 + 1 = 6;
    * 3x5 stride-2 valid on 6 rows: the last output row holds rows 2-5, the first waits for rows 0-2:
      4 + 3 + 1 = 8.
    """
    assert line_rows(5, 3, 1, 1, 1) == 5
    assert line_rows(13, 2, 2, 0, 0) == 6
    assert line_rows(6, 3, 2, 0, 0) == 8


@pytest.mark.rtl
@pytest.mark.parametrize("k", range(8))
def test_window_random_cycles(k: int, tmp_path: Path) -> None:
    """Co-simulation of random shapes (seeded): values exact, and the stall-free frames' intervals and latencies
    equal window_schedule's (which the model is checked against above); the steady interval is the model's."""
    shape, kernel, stride, pads, lanes = random_windows(23, 8, max_hw=8)[k]
    dtype = FixedType(True, 4, 1)
    blk, x, y = window_case(f"random{k}", shape, kernel, stride, pads, lanes, dtype)
    ins = frames_of(pack(x, dtype, lanes), FRAMES)
    exp = frames_of(pack(y, dtype, lanes), FRAMES)
    res = run_stream(tmp_path, blk.name, blk.module, lib_sources(*blk.source_modules), blk.verilog_parameters(),
                     {"s_axis": ins}, exp, frames_phase0=4, seed=5)
    starts, taken = window_schedule(shape, kernel, stride, pads, lanes, 4)
    assert res.interval == np.diff(taken).tolist(), (res.interval, taken)
    assert res.latency == schedule_latency(starts, taken, 0)
    assert res.interval[-1] == blk.expected_cycles_per_frame()


def test_window_schedule_by_hand() -> None:
    """The schedule the window latencies are asserted against, worked by hand for k3s1same_c4p2.

    Input (5, 6, 4) with 2 lanes: 12 beats per input row; 3x3 windows, stride 1, pads 1: 5 x 6 outputs of
    9 taps x 2 beats = 108 beats per output row.  Output rows 0-4 read from input rows 0, 0, 1, 2, 3 and wait
    for rows below 2, 3, 4, 5, 5; the line buffer holds NR = 5 rows (line_rows: output row 1 reads from row 0
    and the next one waits for rows below 4, plus the row being written; more than KH + SH = 4).
    Frame 0: output row 0 needs input rows 0-1, complete after edge 23, so it issues from edge 24; no row
    waits after that (each needs one more input row, 12 beats, per 108-beat output row), so frame 0's last
    beat issues at 24 + 5*108 - 1 = 563 and is taken at 564.  The writer fills rows 0-4 (edges 0-59) and
    stops (5 rows held); output rows 0, 1, 2 release 0, 1, 1 rows at their last issue (edges 131, 239, 347),
    so frame 1's row 0 is written from edge 240 and its row 1 from edge 348, complete at 359, long before
    frame 0's reader is done: frame 1's output follows frame 0's without a gap, its last beat taken at
    564 + 540 = 1104.  Latencies 564 - 0 + 1 = 565 and 1104 - 240 + 1 = 865.
    """
    assert Window("w", (5, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), 2, 8).rows == 5
    starts, taken = window_schedule((5, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), 2, 2)
    assert (starts, taken) == ([0, 240], [564, 1104])
    assert schedule_latency(starts, taken, 0) == [565, 865]


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
    verilator_lint(lib_sources(*blk.source_modules), blk.module, blk.verilog_parameters())
