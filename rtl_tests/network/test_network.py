"""Whole-network co-simulation (:mod:`accel.rtl.verify`): harness self-test on a hand-written top, fault
detection (a flipped output bit, a flipped input bit inside the network, a missing TLAST), and -- with the
network generator (:mod:`accel.rtl.network`) -- every zoo model bit-exact against the reference.

Expected values always come from :func:`accel.reference.execute` and :func:`accel.deploy.stream.pack`,
never from the code under test.  The zoo models run in Verilator (Icarus is too slow for them), digits
in Icarus too.

Cycle counts are compared exactly.  The co-simulation is deterministic (seeded gaps and backpressure,
identical in both simulators), so a measured II or per-layer figure that differs from the build's
expectation by even one cycle is either a performance regression of the RTL or a wrong performance
model in the generator; a relative margin once hid a 5,000-cycle regression on ds_cnn_kws.  Every build
lives under pytest's ``tmp_path`` (module-scoped builds under ``tmp_path_factory``), never in the repo.
Timings are printed (``-s``), never asserted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from accel import AccelError
from accel.deploy.stream import pack
from accel.reference import execute
from accel.rtl.simulator import simulate
from accel.rtl.verify import verify_build
from accel.verify import random_inputs
from rtl_tests.network.hand_top import IN_TYPE, LANES, OUT_TYPE, hand_graph, write_hand_build

FRAMES = 6
#: the hand top's frame: 4x6 pixels of 6 channels, 3 lanes per beat -> 48 input beats, one per cycle
HAND_BEATS = 4 * 6 * 6 // 3
#: frame 0 (no gaps, no backpressure): the last input beat enters at cycle 47 after the first; the
#: requantiser's two register stages and the pool core's one output register add a cycle each, and
#: latency counts both ends (accel.rtl.simulator): 48 + 2 + 1
HAND_LATENCY = HAND_BEATS + 3


@pytest.mark.rtl
@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_harness_hand_top(simulator: str, tmp_path: Path) -> None:
    """Beats out equal the packed reference; TLAST on every frame end; cycles as the blocks promise."""
    graph = hand_graph()
    d = tmp_path
    write_hand_build(d)
    raw = random_inputs(graph, FRAMES, 3)
    expected = pack(execute(graph, raw).outputs["p"], OUT_TYPE, LANES)
    t0 = time.perf_counter()
    res = simulate(d, pack(raw, IN_TYPE, LANES), FRAMES, simulator=simulator, seed=3, clean_frames=3)
    print(f"[time] hand top {simulator}: {time.perf_counter() - t0:.1f} s (compile {res.compile_s} s)")
    assert res.completed
    assert res.out_beats == expected
    per = len(expected) // FRAMES
    assert res.tlast_positions == [(f + 1) * per - 1 for f in range(FRAMES)]
    assert len(res.frame_first_in) == FRAMES and len(res.frame_last_out) == FRAMES
    # 48 input beats per frame, both blocks take one beat per cycle: II 48 (HAND_LATENCY says why 50)
    assert res.ii_cycles == HAND_BEATS, res.frame_last_out
    assert res.latency_cycles == HAND_LATENCY, res.latencies
    assert res.layer_cycles() == {"q": HAND_BEATS, "p": HAND_BEATS}
    # later frames ran with gaps and backpressure: they take longer but are still exact (checked above)
    assert res.frame_last_out[-1] - res.frame_last_out[-2] > HAND_BEATS
    # the cached compile is reused
    again = simulate(d, pack(raw[:1], IN_TYPE, LANES), 1, simulator=simulator, in_gaps=False, out_backpressure=False)
    assert again.compile_s == 0.0 and again.out_beats == expected[:per]


@pytest.mark.rtl
def test_parallel_simulations_of_one_build(tmp_path: Path) -> None:
    """Two simulate() calls at once on one build (as parallel driver tests do) both see their own frames."""
    from concurrent.futures import ThreadPoolExecutor

    graph = hand_graph()
    d = tmp_path
    write_hand_build(d)
    raws = [random_inputs(graph, 2, s) for s in (10, 11)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda r: simulate(d, pack(r, IN_TYPE, LANES), 2), raws))
    for raw, res in zip(raws, results, strict=True):
        assert res.out_beats == pack(execute(graph, raw).outputs["p"], OUT_TYPE, LANES)


@pytest.mark.rtl
def test_simulate_refuses_partial_frames(tmp_path: Path) -> None:
    d = tmp_path
    write_hand_build(d)
    with pytest.raises(AccelError, match="not 2 frames of 48 beats"):
        simulate(d, [0] * 50, 2)
    with pytest.raises(AccelError, match="does not fit the 32-bit"):
        simulate(d, [1 << 32] * 48, 1)
    with pytest.raises(AccelError, match="simulator 'modelsim' is not supported"):
        simulate(d, [0] * 48, 1, simulator="modelsim")


@pytest.mark.rtl
def test_verify_build_hand_top_exact(tmp_path: Path) -> None:
    graph = hand_graph()
    d = tmp_path
    write_hand_build(d)
    r = verify_build(graph, d, 8, seed=1)
    j = r.to_json()
    assert j["against"] == "rtl" and j["mismatches"] == 0 and j["mismatched_values"] == 0, j
    assert j["first_divergence"] is None and j["problems"] == []
    assert j["ii_cycles"] == HAND_BEATS and j["expected_ii_cycles"] == HAND_BEATS
    assert j["model"] == "hand_requant_pool" and j["samples"] == 8 and j["simulator"] == "icarus"
    assert j["latency_cycles"] == HAND_LATENCY
    assert [(row["node"], row["expected_cycles"], row["measured_cycles"]) for row in j["layers"]] == [
        ("q", 48, 48), ("p", 48, 48)]  # fmt: skip
    measured = json.loads((d / "measured.json").read_text())
    assert measured["ii_cycles"] == 48 and [row["measured_cycles"] for row in measured["layers"]] == [48, 48]


@pytest.mark.rtl
def test_ii_differing_from_prediction_is_a_problem(tmp_path: Path) -> None:
    """A build whose predicted II (build.json's expected_ii_cycles) is not what the hardware runs at: with enough
    stall-free frames for a steady II (8 samples: 4) verify_build names the difference and the predicted
    bottleneck in one line of ``problems`` (the values stay exact, so no sample mismatches); with too few (4
    samples: 2 stall-free frames, one interval) it says nothing."""
    graph = hand_graph()
    d = tmp_path
    write_hand_build(d)
    manifest = json.loads((d / "build.json").read_text())
    manifest["expected_ii_cycles"] = HAND_BEATS - 8
    (d / "build.json").write_text(json.dumps(manifest))
    r = verify_build(graph, d, 8, seed=1)
    assert r.problems == [f"measured II {HAND_BEATS} cycles, predicted {HAND_BEATS - 8} (layer q is the bottleneck)"]
    assert r.mismatches == 0 and r.first_divergence is None and not r.ok
    assert r.ii_cycles == HAND_BEATS and r.expected_ii_cycles == HAND_BEATS - 8
    short = verify_build(graph, d, 4, seed=1)
    assert short.problems == [] and short.ok


@pytest.mark.rtl
def test_flipped_output_bit_is_a_mismatch(tmp_path: Path) -> None:
    """One flipped LSB on output beat 13 (frame 1, pixel (0, 0), channel 3) must be reported, with its position."""
    graph = hand_graph()
    d = tmp_path
    write_hand_build(d, flip_beat=13)
    r = verify_build(graph, d, 4, seed=2)
    assert r.mismatches == 1 and r.mismatched_values == 1, r.to_json()
    fd = r.first_divergence
    assert fd["node"] == "p" and fd["index"] == [1, 0, 0, 3], fd
    assert abs(fd["expected"] - fd["got"]) == 2.0**-OUT_TYPE.frac
    raw = random_inputs(graph, 4, 2)
    assert fd["expected"] == OUT_TYPE.to_float(execute(graph, raw).outputs["p"][1, 0, 0, 3])


@pytest.mark.rtl
def test_fault_inside_network_names_first_layer(tmp_path: Path) -> None:
    """A corrupted input frame 2 makes the first layer diverge; the per-layer trace must name q, not p."""
    graph = hand_graph()
    d = tmp_path
    write_hand_build(d, flip_input_frame=2)
    r = verify_build(graph, d, 4, seed=4)
    assert r.mismatches == 1, r.to_json()
    fd = r.first_divergence
    assert fd["node"] == "q" and fd["instance"] == "u_q_requant" and fd["index"][0] == 2, fd
    assert fd["expected"] != fd["got"]


@pytest.mark.rtl
def test_missing_tlast_is_reported(tmp_path: Path) -> None:
    graph = hand_graph()
    d = tmp_path
    write_hand_build(d, drop_tlast=True)
    r = verify_build(graph, d, 3, seed=0)
    assert r.mismatches == 3 and r.mismatched_values == 0
    assert any("TLAST" in p for p in r.problems), r.problems
    assert not r.ok


@pytest.mark.rtl
def test_hang_times_out_and_loses_beats(tmp_path: Path) -> None:
    """A top that stops after 20 output beats: simulate returns (no hang) and the beats are reported lost."""
    from accel.rtl.verify import check_stream

    graph = hand_graph()
    d = tmp_path
    write_hand_build(d, stop_after=20)
    raw = random_inputs(graph, 3, 0)
    res = simulate(d, pack(raw, IN_TYPE, LANES), 3, timeout_cycles=3000)
    assert not res.completed and len(res.out_beats) == 20
    assert res.run_dir and (Path(res.run_dir) / "events.txt").is_file()  # kept for inspection
    problems, bad = check_stream(res, 3, LANES * OUT_TYPE.width)
    assert any("timeout" in p for p in problems) and any("lost beats" in p for p in problems)
    assert bad == {1, 2}


# ---- measured II = predicted II ----------------------------------------------------------------------------


def mixed_stride_chain():
    """QKeras's MNIST example's convolutions: 28x28x1 (8-bit unsigned) -> 3x3 stride-2 conv (8) -> quantised
    activation -> 2x2 stride-2 conv (16) -> quantised activation, random weights and activation types (seeded).
    The second window's last output row holds rows 10-12 of its 13 (row 12 unused), which with a line buffer of
    KH + SH rows made it wait for the next frame's rows at every frame boundary: 18,602 cycles per frame measured,
    18,432 predicted."""
    import numpy as np

    from accel.fixed import FixedType
    from accel.ir import GraphBuilder
    from accel.ops.examples import conv_node, quantize_node

    rng = np.random.default_rng(2024)
    b = GraphBuilder("mixed_stride_chain")
    x = b.input("x", (28, 28, 1), FixedType(False, 8, 0))
    a1 = quantize_node(b, "act1", conv_node(b, "conv1", x, rng, 8, (3, 3), (2, 2)), rng)
    return b.build([quantize_node(b, "act2", conv_node(b, "conv2", a1, rng, 16, (2, 2), (2, 2)), rng)])


#: (graph, folding, II derived from the graph): the slowest layer's MVU steps, pixels x (taps*cin/SIMD) x (cout/PE):
#: unfolded (PE = SIMD = 1): conv2, 6*6 pixels x 2*2*8 x 16 = 18,432; the default folding (the fastest design that
#: fits): conv1's window, 13*13 windows of 3*3 taps at one lane (one input channel) = 1,521; conv1 at PE 4
#: (SIMD 1: one input channel) is the slowest, 13*13 x 3*3*1 x 8/4 = 3,042, conv2 at PE 4 SIMD 2 close behind
#: (6*6 x 32/2 x 16/4 = 2,304); digits at a parallel folding: conv1 at PE 8, 8*8 pixels x 9 taps x 8/8 = 576,
#: equal to the stride-2 dw1's DWU (4*4 pixels x 9 taps x 8 channels / PE 2) and dw2's (4*4 x 9 x 16/4): three
#: layers at one rate
II_CASES = [
    ("mixed_stride_chain", {"conv1": {"pe": 1}, "conv2": {"pe": 1, "simd": 1}}, 18432),
    ("mixed_stride_chain", None, 1521),
    ("mixed_stride_chain", {"conv1": {"pe": 4}, "conv2": {"pe": 4, "simd": 2}}, 3042),
    ("digits", {"conv1": {"pe": 8}, "dw1": {"pe": 2}, "pw1": {"pe": 2, "simd": 2}, "dw2": {"pe": 4},
                "pw2": {"pe": 4, "simd": 2}, "fc": {"pe": 5}}, 576),
]


@pytest.mark.rtl
@pytest.mark.parametrize("name,folding,ii", II_CASES,
                         ids=["chain-unfolded", "chain-default", "chain-parallel", "digits-parallel"])
def test_measured_ii_equals_predicted(name: str, folding: dict | None, ii: int, tmp_path: Path) -> None:
    """Exact outputs, and the measured II equal to build.json's prediction and to the figure derived above (no
    layer waits on another beyond its cycle model), with no II entry in ``problems`` (6 samples: 3 stall-free)."""
    from accel.rtl.verify import verify_against_rtl

    if name == "mixed_stride_chain":
        graph = mixed_stride_chain()
    else:
        import models
        from accel.frontend import load_graph

        graph = load_graph(models.build(name))[1]
    r = verify_against_rtl(None, graph, 6, seed=1, folding=folding, output_dir=tmp_path)
    assert r.mismatches == 0 and r.problems == [], (r.problems, r.first_divergence)
    assert (r.ii_cycles, r.expected_ii_cycles) == (ii, ii)


# ---- whole zoo through the generator ------------------------------------------------------------------


def _zoo_names() -> list[str]:
    import models

    return models.names()


#: zoo models co-simulated with Verilator: at tens of thousands of cycles per frame Icarus runs ~3k cycles/s
#: (pointwise_head, 20 frames: 217 s in Icarus, 11 s in Verilator after a ~20-60 s compile)
SIMULATOR = "verilator"
SAMPLES = 20


def _check_zoo(name: str, out_dir: Path, samples: int = SAMPLES, simulator: str = SIMULATOR) -> dict:
    """verify_against_rtl on one zoo model into ``out_dir``: exact outputs, no stream fault, and the measured
    II and every layer's measured cycles per frame equal to the build's expectation, to the cycle."""
    import models
    from accel.frontend import load_graph
    from accel.rtl.verify import verify_against_rtl

    t0 = time.perf_counter()
    model, graph = load_graph(models.build(name))
    r = verify_against_rtl(model, graph, samples, seed=0, output_dir=out_dir, simulator=simulator)
    j = r.to_json()
    print(f"[zoo] {name}: {samples} samples, {j['simulator']}, mismatches {j['mismatches']}, latency "
          f"{j['latency_cycles']}, II {j['ii_cycles']} (expected {j['expected_ii_cycles']}), "
          f"compile {j['compile_s']} s, sim {j['sim_s']} s, total {time.perf_counter() - t0:.1f} s")  # fmt: skip
    for row in j["layers"]:
        flag = "" if row["measured_cycles"] == row["expected_cycles"] else "  <- differs"
        print(f"    {row['node']:>24}: expected {row['expected_cycles']:>7} measured {row['measured_cycles']}{flag}")
    assert j["mismatches"] == 0 and j["mismatched_values"] == 0 and not j["problems"], j["first_divergence"]
    assert j["first_divergence"] is None
    assert j["samples"] == samples and j["against"] == "rtl" and j["simulator"] == simulator
    # the build.json written by this very build states the expectation; the measurement must equal it
    manifest = json.loads((out_dir / "build.json").read_text())
    assert j["expected_ii_cycles"] == manifest["expected_ii_cycles"]
    expected = {row["node"]: row["expected_cycles"] for row in manifest["layers"]}
    measured = {row["node"]: row["measured_cycles"] for row in j["layers"]}
    # every layer's own (busy) cycles per frame as the generator expects: see accel.rtl.harness's docstring
    differ = {n: f"expected {e}, measured {measured.get(n)}" for n, e in expected.items() if measured.get(n) != e}
    assert not differ and set(measured) == set(expected), f"{name}: cycles per frame differ from build.json: {differ}"
    assert j["ii_cycles"] == manifest["expected_ii_cycles"], (j["ii_cycles"], manifest["expected_ii_cycles"])
    assert json.loads((out_dir / "measured.json").read_text())["ii_cycles"] == j["ii_cycles"]
    return j


ZOO = ["pointwise_head", "mobilenet_v1_tiny", "mobilenet_v2_block", "squeezenet_fire", "inception_module",
       "shufflenet_unit", "digits"]  # fmt: skip
#: models.MLPERF_TINY, spelled out so that collecting these tests does not import TensorFlow
MLPERF_TINY = ["vww_mobilenet_v1", "ic_resnet8", "ad_autoencoder"]


def test_zoo_list_is_complete() -> None:
    """Every zoo model is co-simulated here (ds_cnn_kws and the MLPerf Tiny models have their own tests below)."""
    import models

    assert sorted([*ZOO, "ds_cnn_kws", *MLPERF_TINY]) == sorted(_zoo_names())
    assert list(models.MLPERF_TINY) == MLPERF_TINY


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_exact(name: str, tmp_path: Path) -> None:
    _check_zoo(name, tmp_path)


@pytest.mark.rtl
@pytest.mark.slow
def test_zoo_digits_icarus(tmp_path: Path) -> None:
    """Icarus (the default where Verilator cannot run, and the suite's) on a generated network (20 digits frames in
    ~20 s of simulation)."""
    _check_zoo("digits", tmp_path, simulator="icarus")


@pytest.mark.rtl
@pytest.mark.slow
def test_ds_cnn_kws_exact_and_ii(tmp_path: Path) -> None:
    """ds_cnn_kws: 20 samples exact, then the issue's check: 5 samples with ii_cycles <= 50,000."""
    _check_zoo("ds_cnn_kws", tmp_path)
    j = _check_zoo("ds_cnn_kws", tmp_path, samples=5)
    assert j["compile_s"] == 0.0  # the same build: the simulator compile is reused
    assert j["ii_cycles"] <= 50_000, j["ii_cycles"]  # the budget; equal to build.json's (checked above)


#: the MLPerf Tiny models (millions of MACs, up to 37k cycles per frame): 3 frames each in Verilator, one build
MLPERF_TINY_SAMPLES = 3


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("name", MLPERF_TINY)
def test_mlperf_tiny_exact(name: str, tmp_path: Path) -> None:
    """The default build (the fastest within 85% of the xc7z020) is exact and its II is the build's, to the cycle."""
    _check_zoo(name, tmp_path, samples=MLPERF_TINY_SAMPLES)
    assert json.loads((tmp_path / "build.json").read_text())["fit"]["fits"] is True


@pytest.mark.rtl
@pytest.mark.slow
def test_cli_verify_against_rtl_json(tmp_path: Path) -> None:
    """`accel verify digits --against rtl --sim verilator --json`: the lead's wiring of verify_against_rtl."""
    import subprocess
    import sys

    out_dir = tmp_path / "cli_digits"
    cmd = [sys.executable, "-m", "accel.cli", "verify", "digits", "--against", "rtl", "--samples", "3", "--sim",
           "verilator", "--output-dir", str(out_dir), "--json"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    j = json.loads(proc.stdout)
    assert j["against"] == "rtl" and j["samples"] == 3 and j["mismatches"] == 0, j
    manifest = json.loads((out_dir / "build.json").read_text())
    assert j["simulator"] == "verilator" and j["ii_cycles"] == manifest["expected_ii_cycles"]
    assert [(r["node"], r["measured_cycles"]) for r in j["layers"]] == [
        (r["node"], r["expected_cycles"]) for r in manifest["layers"]]  # fmt: skip
    measured = json.loads((out_dir / "measured.json").read_text())
    assert measured["ii_cycles"] == j["ii_cycles"] and measured["latency_cycles"] == j["latency_cycles"]
    # the speed, run and compile apart; a second run with another sample count reuses the compiled model
    assert j["compile_s"] > 0 and j["sim_cycles"] >= 3 * j["ii_cycles"]
    assert j["frames_per_s"] == round(3 / j["sim_s"], 2)
    proc = subprocess.run([*cmd[:8], "5", *cmd[9:]], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).parents[2])  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = json.loads(proc.stdout)
    assert again["samples"] == 5 and again["mismatches"] == 0 and again["compile_s"] == 0.0, again
    assert again["sim_cycles"] > j["sim_cycles"]
