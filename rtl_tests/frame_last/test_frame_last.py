"""accel_frame_last: random TLAST patterns and handshakes through the block with a stand-in network; exact compare.

Expected values come from the case alone: the stand-in network's output beats pass unchanged and in order, input
beats reach the network unchanged with TLAST on each frame's last beat, and output TLAST is high exactly on the
last beat of output frame k when input frame k's last beat carried TLAST (TLAST elsewhere in the input ignored).
Coverage is asserted too: the cases meant to fill the flag queue fill it (and the input's last beat waits), the
cases whose network finishes a frame early make its last output beat wait for the input's last beat.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks.frame_last import FrameLast
from rtl_tests.common import ROOT, lib_sources, sim_name, verilator_lint

#: (name, in_beats, depth, out_beats, early, input TLAST probability, valid, network ready, network valid, ready)
CASES = [
    ("queue_full", 5, 2, 3, 5, 0.5, 0.9, 0.95, 0.9, 0.15),
    ("early_output", 6, 4, 2, 2, 0.5, 0.5, 0.7, 0.9, 0.8),
    ("early_and_full", 4, 1, 5, 1, 0.3, 0.9, 0.9, 0.9, 0.3),
    ("one_beat_frames", 1, 3, 1, 1, 0.5, 0.7, 0.6, 0.8, 0.6),
    ("every_frame_marked", 7, 8, 4, 7, 1.0, 0.7, 0.6, 0.7, 0.6),
    ("batch_marked_once", 3, 8, 6, 3, 0.0, 0.7, 0.6, 0.7, 0.6),
]
FRAMES = 24


def block(in_beats: int, out_beats: int, depth: int, in_bits: int, out_bits: int) -> FrameLast:
    """An accel_frame_last between one-lane streams of ``in_bits`` and ``out_bits`` bit elements."""
    return FrameLast("u_frame_last", (1, 1, in_beats), FixedType(False, in_bits, 0), 1, in_bits, (1, 1, out_beats),
                     FixedType(False, out_bits, 0), 1, out_bits, depth)  # fmt: skip


def make_case(name: str, in_beats: int, out_beats: int, early: int, p_last: float, valid_p: float,
              net_ready_p: float, net_valid_p: float, ready_p: float, seed: int) -> dict:  # fmt: skip
    """Random input beats with random TLAST on every beat (only each frame's last one counts), random network
    output; ``batch_marked_once`` puts TLAST on the run's last beat only."""
    rng = np.random.default_rng(seed)
    n_in = FRAMES * in_beats
    last = [int(v) for v in rng.random(n_in) < p_last]
    if name == "batch_marked_once":
        last = [0] * (n_in - 1) + [1]
    return {"in_beats": in_beats, "out_beats": out_beats, "early": early, "seed": seed,
            "in_data": [int(v) for v in rng.integers(0, 1 << 12, n_in)], "in_last": last,
            "net_data": [int(v) for v in rng.integers(0, 1 << 20, FRAMES * out_beats)],
            "valid_p": valid_p, "net_ready_p": net_ready_p, "net_valid_p": net_valid_p, "ready_p": ready_p,
            "max_cycles": 200 * FRAMES * max(in_beats, out_beats)}  # fmt: skip


def run_case(tmp_path: Path, case: dict, depth: int) -> dict:
    """Build accel_frame_last with the case's parameters and run the cocotb testbench; what it saw."""
    from cocotb_tools.runner import get_runner

    (tmp_path / "case.json").write_text(json.dumps(case))
    params = block(case["in_beats"], case["out_beats"], depth, 12, 20).verilog_parameters()
    runner = get_runner(sim_name())
    runner.build(sources=[str(s) for s in lib_sources("accel_frame_last")], hdl_toplevel="accel_frame_last",
                 parameters=params, build_dir=tmp_path / "sim_build", timescale=("1ns", "1ps"),
                 build_args=["-Wno-fatal"] if sim_name() == "verilator" else [], always=True)  # fmt: skip
    runner.test(test_module="rtl_tests.frame_last.frame_last_tb", hdl_toplevel="accel_frame_last", parameters=params,
                build_dir=tmp_path / "sim_build", test_dir=tmp_path, timescale=("1ns", "1ps"),
                extra_env={"ACCEL_TB_CASE": str(tmp_path / "case.json"),
                           "ACCEL_TB_RESULTS": str(tmp_path / "results.json"),
                           "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])})  # fmt: skip
    res = tmp_path / "results.json"
    assert res.is_file(), "the testbench wrote no results (an assertion in it failed, or it crashed)"
    return json.loads(res.read_text())


@pytest.mark.rtl
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_frame_last(case: tuple, tmp_path: Path) -> None:
    name, in_beats, depth, out_beats, early, *_ = case
    spec = make_case(name, in_beats, out_beats, early, *case[5:], seed=in_beats * 100 + depth)
    got = run_case(tmp_path, spec, depth)
    # the network saw the input unchanged, TLAST on each frame's last beat
    assert got["net_got"] == [[d, int(i % in_beats == in_beats - 1)] for i, d in enumerate(spec["in_data"])]
    # the output: the network's beats unchanged; TLAST where input frame k's last beat had it
    frame_flag = [spec["in_last"][(k + 1) * in_beats - 1] for k in range(FRAMES)]
    expected = [[d, int(j % out_beats == out_beats - 1 and frame_flag[j // out_beats])]
                for j, d in enumerate(spec["net_data"])]  # fmt: skip
    assert len(got["out"]) == len(expected), f"{len(got['out'])} output beats, expected {len(expected)}"
    assert got["out"] == expected
    if name == "batch_marked_once":
        assert [j for j, (_, last) in enumerate(got["out"]) if last] == [FRAMES * out_beats - 1]
    # no more flags queued than the queue holds; the cases meant to fill it did, and the input's last beat waited
    assert got["queued_max"] <= depth
    if name in ("queue_full", "early_and_full"):
        assert got["queued_max"] == depth and got["in_hold"] > 0, got
    if name == "early_output":  # the network finished frames before their input's last beat: that beat waited
        assert got["out_hold"] > 0, got


@pytest.mark.parametrize("field,value", [("in_lanes", 0), ("in_bits", -1), ("out_bits", 0), ("depth", 0)])
def test_frame_last_bad_parameters(field: str, value: int) -> None:
    with pytest.raises(AccelError, match=r"^u_frame_last: .* it must be a positive integer\.$"):
        replace(block(4, 2, 8, 8, 8), **{field: value}).verilog_parameters()


@pytest.mark.parametrize("in_beats,depth", [(1, 1), (4, 8), (49, 3), (64, 32)])
def test_frame_last_lint(in_beats: int, depth: int) -> None:
    verilator_lint(lib_sources("accel_frame_last"), "accel_frame_last",
                   block(in_beats, 3, depth, 16, 40).verilog_parameters())  # fmt: skip
