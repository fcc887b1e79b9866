"""accel_fifo: random beats through FIFOs of several depths/widths, with stalls; exact compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.rtl.blocks.fifo import Fifo
from rtl_tests.common import MEASURED_FRAMES, check_cycles, lib_sources, run_stream, verilator_lint

CASES = [(2, 3, 5), (5, 8, 7), (16, 13, 20), (64, 70, 33)]  # depth, width, beats per frame


@pytest.mark.rtl
@pytest.mark.parametrize("depth,width,per", CASES)
def test_fifo(depth: int, width: int, per: int, tmp_path: Path) -> None:
    blk = Fifo(f"fifo_d{depth}_w{width}", depth, width, per)
    rng = np.random.default_rng(depth * 1000 + width)
    frames = [[int(x) for x in rng.integers(0, 1 << min(width, 62), per)] for _ in range(6)]
    if width > 62:
        frames = [[b | (1 << (width - 1)) for b in fr] for fr in frames]
    res = run_stream(tmp_path, blk.name, "accel_fifo", lib_sources("accel_fifo"), blk.verilog_parameters(),
                     {"s_axis": frames}, frames, frames_phase0=MEASURED_FRAMES, seed=depth)
    # accel_fifo.v: a beat is written into the memory at edge t (count becomes 1), read into the output
    # register at t+1 and handed over at t+2, so the last of ``per`` back-to-back beats (edge per-1 after
    # the first) leaves at edge per+1: latency per + 2, both ends counted
    check_cycles(blk.name, res, blk.expected_cycles_per_frame(), [per + 2] * MEASURED_FRAMES)


@pytest.mark.parametrize("depth,width", [(1, 8), (0, 8), (4, 0), (4, -1)])
def test_fifo_bad_parameters(depth: int, width: int) -> None:
    with pytest.raises(AccelError, match="fifo"):
        Fifo("fifo", depth, width).validate()


@pytest.mark.parametrize("depth,width", [(2, 3), (5, 8), (16, 70)])
def test_fifo_lint(depth: int, width: int) -> None:
    verilator_lint(lib_sources("accel_fifo"), "accel_fifo", Fifo("f", depth, width).verilog_parameters())
