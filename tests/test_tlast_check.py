"""TLAST checks (accel.rtl.tlast): a framing error anywhere raises accel_top's sticky ``tlast_err``, and the
co-simulation and ``verify`` report it.

* ``accel_tlast_check`` alone (Icarus, a hand-written bench): TLAST missing at a frame end and TLAST on a beat
  inside a frame each set the error, which then stays set through later legal frames until reset.
* a whole build (``early_output``, random stalls): TLAST on an input beat inside frame 1 raises ``tlast_err``
  and names ``accel_frame_last``'s check, while the outputs stay exact (the blocks count beats); input TLAST only
  on the run's last beat (a DMA batch) does not; and a generated top mutated so that one FIFO drops every TLAST
  raises it through the watch on the block behind that FIFO.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.stream import pack, unpack
from accel.ops.examples import random_raw
from accel.reference.executor import execute
from accel.rtl import lib_file
from accel.rtl.network import build_rtl
from accel.rtl.simulator import simulate
from accel.rtl.verify import check_stream, verify_build
from tests.test_rtl_network import needs_iverilog
from tests.test_rtl_tlast import early_output_graph

BENCH = """`timescale 1ns / 1ps
module tb;
  reg clk = 0, rst = 1, valid = 0, ready = 1, last = 0;
  wire err;
  accel_tlast_check #(.BEATS(3)) dut (.clk(clk), .rst(rst), .valid(valid), .ready(ready), .last(last),
                                      .tlast_err(err));
  always #5 clk = !clk;
  integer i;
  // beats: one bit per beat, TLAST of each handshake; 'x' columns are cycles without a handshake
  task beat(input l, input v); begin valid = v; last = l; @(posedge clk); #1; end endtask
  task frames(input [63:0] pattern, input integer n); begin
    for (i = n - 1; i >= 0; i = i - 1) beat(pattern[i], 1'b1);
    valid = 0; last = 0;
  end endtask
  initial begin
    @(posedge clk); #1; rst = 0;
    frames(6'b001001, 6); beat(1'b1, 1'b0); ready = 0; beat(1'b1, 1'b1); ready = 1;  // legal, then no handshakes
    $display("legal %0d", err);
    frames(6'b000001, 6); $display("missing %0d", err);  // frame 0 without TLAST
    frames(6'b001001, 6); $display("after %0d", err);    // legal frames after it: sticky
    rst = 1; @(posedge clk); #1; rst = 0; $display("reset %0d", err);
    frames(6'b011001, 6); $display("extra %0d", err);    // TLAST on beat 1 of frame 0
    $finish;
  end
endmodule
"""


@needs_iverilog
def test_the_check_flags_missing_and_extra_tlast_and_stays_set(tmp_path: Path) -> None:
    (tmp_path / "tb.v").write_text(BENCH)
    subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "tb.vvp"), str(tmp_path / "tb.v"),
                    str(lib_file("accel_tlast_check"))], check=True, capture_output=True)  # fmt: skip
    out = subprocess.run(["vvp", "-n", str(tmp_path / "tb.vvp")], check=True, capture_output=True, text=True).stdout
    seen = dict(re.findall(r"^(\w+) (\d)$", out, re.M))
    assert seen == {"legal": "0", "missing": "1", "after": "1", "reset": "0", "extra": "1"}, out


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int], np.ndarray]:
    """early_output built once: its directory, 4 frames of input beats and the reference output."""
    g = early_output_graph()
    out = tmp_path_factory.mktemp("early")
    m = build_rtl(g, out)
    tin = g.tensors[g.inputs[0]]
    x = random_raw(np.random.default_rng(4), tin.dtype, (4, *tin.shape))
    return out, pack(x, tin.dtype, m["input"]["lanes"]), execute(g, x).outputs[g.outputs[0]]


def _exact(res, build: Path, expected: np.ndarray) -> bool:
    from accel.deploy.manifest import load_build

    m = load_build(build)
    got = unpack(res.out_beats, expected.shape, m.output.dtype, m.output.lanes)
    return bool(np.array_equal(got, expected))


@needs_iverilog
@pytest.mark.slow
def test_a_tlast_inside_an_input_frame_raises_tlast_err(early: tuple[Path, list[int], np.ndarray]) -> None:
    build, beats, expected = early
    per = len(beats) // 4
    res = simulate(build, beats, 4, seed=5, extra_tlast=per + 2)  # beat 2 of frame 1
    assert res.completed and _exact(res, build, expected), "the blocks count beats: the values stay right"
    assert res.tlast_err is True
    (name,) = res.tlast_errors  # only the input's check: inside the network every stream stays aligned
    assert name.endswith("_frame_last")
    # sticky: it rose while frame 1 went in and was still set when the run ended, frames later
    assert res.tlast_errors[name] < res.frame_first_in[2]
    from accel.deploy.manifest import load_build

    problem = res.tlast_problem(load_build(build))
    assert problem.startswith(f"accel_top's tlast_err output is set: the TLAST check {name} fired first, at cycle ")
    assert "TLAST on a beat that is not the last of a frame" in problem
    assert check_stream(res, 4, load_build(build).output.beat_bits)[0] == [], "the output stream itself is fine"


@needs_iverilog
@pytest.mark.slow
def test_tlast_only_at_the_batch_end_is_legal(early: tuple[Path, list[int], np.ndarray]) -> None:
    build, beats, expected = early
    res = simulate(build, beats, 4, seed=6, in_tlast="end")
    assert res.completed and _exact(res, build, expected)
    assert res.tlast_err is False and res.tlast_errors == {}


@needs_iverilog
@pytest.mark.slow
def test_a_fifo_that_drops_tlast_is_caught_behind_it(early: tuple[Path, list[int], np.ndarray],
                                                     tmp_path: Path) -> None:  # fmt: skip
    """A mutant: the generated top ties the TLAST into the pool's input FIFO low, so the FIFO hands on frames
    without TLAST; the watch on the pool's input must fire (the values stay exact: nothing else reads TLAST)."""
    build, beats, expected = early
    shutil.copytree(build, tmp_path / "b", ignore=shutil.ignore_patterns("sim"))
    top = tmp_path / "b" / "rtl" / "accel_top.v"
    text = top.read_text()
    fifo = re.search(r"accel_fifo #\([^;]*?\) (u_pool_in0_fifo) \(.*?\.s_axis_tlast\((\w+)\)", text, re.S)
    assert fifo is not None, "the early_output top has an input FIFO in front of the pool"
    mutant = text.replace(f".s_axis_tlast({fifo.group(2)})", ".s_axis_tlast(1'b0)", 1)
    assert mutant != text
    top.write_text(mutant)
    res = simulate(tmp_path / "b", beats, 4, seed=7)
    assert res.completed and _exact(res, tmp_path / "b", expected)
    assert res.tlast_err is True
    assert list(res.tlast_errors) == ["u_pool_maxpool_tlast0"], res.tlast_errors
    # verify of that build fails on it, with the sentence, though every value is right
    result = verify_build(early_output_graph(), tmp_path / "b", 4, seed=1, trace_layers=False)
    assert not result.ok and result.tlast_err is True and result.mismatched_values == 0
    assert [p for p in result.problems if "tlast_err" in p] == [
        p for p in result.problems if p.startswith("accel_top's tlast_err output is set: the TLAST check "
                                                   "u_pool_maxpool_tlast0 fired first, at cycle ")]
    assert len(result.problems) == 1 and result.to_json()["tlast_err"] is True


def test_an_extra_tlast_outside_the_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AccelError, match=r"^simulate\(extra_tlast=9\): the extra TLAST must be on one of the 1 "):
        simulate(tmp_path, [0], 1, extra_tlast=9)
