"""``accel verify --against rtl``: an RTL build co-simulated against the NumPy reference, bit for bit.

:func:`verify_build` checks a build directory as it is (``accel verify BUILD_DIR --against rtl``);
:func:`verify_against_rtl` first generates one (``accel verify MODEL --against rtl``).  The simulation is
:mod:`accel.rtl.simulator`, the comparison :mod:`accel.compare` (the loop every verifier shares), the
measurements go to ``measured.json`` through :mod:`accel.deploy.measured`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.compare import (
    OutputCheck,
    VerifyResult,
    compare_outputs,
    first_diverging_layer,
    load_build_for,
    random_inputs,
)
from accel.deploy.manifest import BuildManifest
from accel.deploy.measured import Measured, MeasuredLayer, write_measured
from accel.deploy.stream import pack, unpack
from accel.folders import work_folder
from accel.ir import Graph
from accel.reference import execute
from accel.rtl.folding import DEFAULT_BUDGET
from accel.rtl.network import build_rtl
from accel.rtl.simulator import SimResult, simulate


@dataclass
class RtlVerifyResult(VerifyResult):
    """The outcome of ``accel verify --against rtl``: :class:`accel.verify.VerifyResult` plus cycles.

    ``mismatches`` also counts samples spoilt by a lost or extra beat or a misplaced TLAST.
    """

    latency_cycles: int | None  # frame 0: first input beat to last output beat, inclusive, no stalls
    ii_cycles: int | None  # median cycles between stall-free frames' last output beats (SimResult.ii_cycles)
    expected_ii_cycles: int | None
    simulator: str
    layers: list[dict[str, Any]]  # per layer: node, expected_cycles, measured_cycles
    problems: list[str]  # stream faults (lost/extra beats, TLAST, X, padding bits, timeout, tlast_err), II != predicted
    output_dir: str
    compile_s: float  # the simulator compile (0.0 when the compiled model was cached)
    sim_s: float  # the simulation run: stimulus written, simulator run, logs read (compile excluded)
    sim_cycles: int  # clock cycles simulated after reset
    frames_per_s: float  # verified frames per second of sim_s
    #: accel_top's sticky tlast_err output after the run (None: the build's top has none); set, it is a problem
    tlast_err: bool | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and not self.problems


def measured_of(manifest: BuildManifest, sim: SimResult) -> Measured:
    """What the simulation measured, per layer in build.json order, as ``measured.json`` holds it."""
    measured = sim.layer_cycles()
    inst_cycles = sim.instance_cycles()
    layers = tuple(
        MeasuredLayer(layer.node, layer.expected_cycles, measured.get(layer.node),
                      {i: inst_cycles.get(i) for i in sim.layers.get(layer.node, {}).get("instances", {})})
        for layer in manifest.rtl.layers
    )  # fmt: skip
    return Measured(model=manifest.model, simulator=sim.simulator, frames=sim.frames,
                    latency_cycles=sim.latency_cycles, ii_cycles=sim.ii_cycles,
                    expected_ii_cycles=manifest.rtl.expected_ii_cycles, layers=layers)  # fmt: skip


#: stall-free frames needed before a measured II is held against the build's: then at least one interval is left
#: after the first one, which can still show the pipeline filling (:attr:`SimResult.ii_cycles` leaves it out)
STEADY_FRAMES = 3


def ii_problem(sim: SimResult, manifest: BuildManifest) -> str | None:
    """One sentence when the measured II differs from the one the build predicts (build.json's
    ``expected_ii_cycles``, the largest of the layers' cycle models), naming the predicted bottleneck; None when
    they are equal or too few stall-free frames ran (fewer than :data:`STEADY_FRAMES`) to measure a steady II.

    The generator sizes every line buffer and FIFO so that no layer waits on another beyond its cycle model, so
    any difference is a fault of that sizing or of a cycle model, which co-simulation must not pass silently.
    """
    rtl = manifest.rtl
    if rtl is None or sim.clean_frames < STEADY_FRAMES or sim.ii_cycles is None or not sim.completed:
        return None
    if sim.ii_cycles == rtl.expected_ii_cycles:
        return None
    worst = max(rtl.layers, key=lambda layer: layer.expected_cycles, default=None)
    where = f" (layer {worst.node} is the bottleneck)" if worst is not None else ""
    return f"measured II {sim.ii_cycles:,} cycles, predicted {rtl.expected_ii_cycles:,}{where}"


def check_stream(sim: SimResult, frames: int, out_bits: int) -> tuple[list[str], set[int]]:
    """Stream-level faults (lost/extra beats, TLAST not exactly on frame ends, X bits, nonzero padding,
    timeout) and the frames they spoil."""
    per = sim.beats_per_frame_out
    n_exp = frames * per
    problems: list[str] = []
    bad: set[int] = set()
    n = len(sim.out_beats)
    if not sim.completed:
        problems.append(f"timeout: {n} of {n_exp} output beats arrived")
    if n < n_exp:
        problems.append(f"lost beats: {n} output beats, expected {n_exp}")
        bad |= set(range(n // per, frames))
    elif n > n_exp:
        problems.append(f"extra beats: {n} output beats, expected {n_exp}")
        bad.add(frames - 1)
    exp_last = [1 if (i + 1) % per == 0 else 0 for i in range(min(n, n_exp))]
    wrong = [i for i in range(len(exp_last)) if sim.out_last[i] != exp_last[i]]
    if wrong:
        problems.append(f"TLAST wrong on {len(wrong)} beats, first at output beat {wrong[0]} (frame {wrong[0] // per})")
        bad |= {i // per for i in wrong}
    xs = [i for i, b in enumerate(sim.out_beats[:n_exp]) if b < 0]
    if xs:
        problems.append(f"X/Z bits on {len(xs)} output beats, first at beat {xs[0]}")
        bad |= {i // per for i in xs}
    pad = [i for i, b in enumerate(sim.out_beats[:n_exp]) if b >= 0 and b >> out_bits]
    if pad:
        problems.append(f"nonzero TDATA padding bits on {len(pad)} output beats, first at beat {pad[0]}")
        bad |= {i // per for i in pad}
    return problems, bad


def verify_against_rtl(
    model: Any,
    graph: Graph,
    samples: int,
    seed: int = 0,
    *,
    folding: Any = None,
    budget: float = DEFAULT_BUDGET,
    target_ii: int | None = None,
    output_dir: str | Path | None = None,
    simulator: str | None = None,
    trace_layers: bool = True,
) -> RtlVerifyResult:
    """Build the RTL for ``graph`` (:func:`accel.rtl.network.build_rtl` into ``output_dir``, locked for the run;
    by default a temporary folder removed at the end, reported as ``output_dir=""``) and co-simulate it against
    the reference: see :func:`verify_build`.

    ``model`` is not needed (the graph is the specification); it is accepted for symmetry with the other
    verifiers.  ``folding``, ``budget`` and ``target_ii`` fold the design as for :func:`build_rtl`.  ``elapsed_s``
    includes the RTL generation and the simulator compile.
    """
    del model
    t0 = time.perf_counter()
    _check_graph(graph, samples)
    with work_folder(output_dir, f"accel_rtl_{graph.name}_") as out_dir:  # a temporary one is removed afterwards
        build_rtl(graph, out_dir, folding=folding, budget=budget, target_ii=target_ii)
        result = verify_build(graph, out_dir, samples, seed, simulator=simulator, trace_layers=trace_layers)
    if output_dir is None:
        result.output_dir = ""  # nothing was kept
    result.elapsed_s = round(time.perf_counter() - t0, 3)
    return result


def _check_graph(graph: Graph, samples: int) -> None:
    if samples < 1:
        raise AccelError(f"--samples must be at least 1, got {samples}.")
    if len(graph.outputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.outputs)} outputs; the RTL top supports exactly one.")


def verify_build(
    graph: Graph,
    build_dir: str | Path,
    samples: int,
    seed: int = 0,
    *,
    simulator: str | None = None,
    trace_layers: bool = True,
    bursty: bool = False,
) -> RtlVerifyResult:
    """Co-simulate an existing RTL build of ``graph`` on ``samples`` random frames back to back; compare exactly.

    The build is used as it is: nothing under ``build_dir/rtl`` is written (the simulator's files go to
    ``build_dir/sim``), and the measurements go to ``build_dir/measured.json``.  Inputs are
    :func:`accel.compare.random_inputs` (``seed``), packed with the manifest's input spec.  The first half of
    the frames (at least one) streams at full rate: ``latency_cycles`` is frame 0's first input beat to its
    last output beat (inclusive) and ``ii_cycles`` the median interval between consecutive stall-free
    frames' last output beats (the first interval left out when others remain).  The other frames run with
    random valid gaps and output backpressure.  Every output value is compared with
    :func:`accel.reference.execute` by ``==`` (:func:`accel.compare.compare_outputs`), and the beat count and
    TLAST positions are checked (a fault counts the frames it spoils as mismatches and is described in
    ``problems``).  On a mismatch (with ``trace_layers``) the frames up to the first failing
    one are re-simulated exactly as before (same stalls, same seed) with every instance's output stream
    recorded, and the first layer (in build order) whose stream differs from the reference tensor is named
    in ``first_divergence``.  A measured II that differs from the build's prediction (with at least
    :data:`STEADY_FRAMES` stall-free frames) is one more entry of ``problems`` (:func:`ii_problem`).
    """
    t0 = time.perf_counter()
    _check_graph(graph, samples)
    out_dir = Path(build_dir)
    manifest = load_build_for(graph, out_dir, "rtl", samples)
    in_spec, out_spec = manifest.input, manifest.output
    raw = random_inputs(graph, samples, seed)
    out_name = graph.outputs[0]
    ref = execute(graph, raw).outputs[out_name]
    beats = pack(raw, in_spec.dtype, in_spec.lanes)
    clean = max(1, (samples + 1) // 2)
    sim = simulate(out_dir, beats, samples, simulator=simulator, seed=seed, clean_frames=clean, bursty=bursty)
    problems, bad_frames = check_stream(sim, samples, out_spec.beat_bits)
    framing = sim.tlast_problem(manifest)
    if framing is not None:  # the values may still be right, but a stream inside lost its frame alignment
        problems.append(framing)
    node = graph.node(out_name) if out_name not in graph.inputs else None
    check = _stream_check(out_name, node.source if node else out_name, graph.tensors[out_name], sim.out_beats,
                          samples, out_spec.lanes, ref)  # fmt: skip
    tally = compare_outputs([check], samples)
    for f in bad_frames:
        tally.bad_samples[f] = True
    if problems and not tally.bad_samples.any():
        tally.bad_samples[-1] = True  # a stream fault with all values right (e.g. an extra beat) still fails
    if tally.first is None and problems:
        tally.first = {"layer": None, "node": out_name, "index": None, "expected": None, "got": None,
                       "stream": problems[0]}  # fmt: skip
    if tally.bad_samples.any() and sim.completed and trace_layers:
        f0 = int(np.flatnonzero(tally.bad_samples)[0])
        layer_first = _trace_divergence(out_dir, manifest, graph, raw[: f0 + 1], sim.simulator, seed, clean)
        if layer_first is not None:
            tally.first = layer_first
    ii = ii_problem(sim, manifest)
    if ii is not None:  # the values are right: a timing difference spoils no sample, but the run is not ok
        problems.append(ii)
    measured = measured_of(manifest, sim)
    write_measured(out_dir, measured)
    base = tally.result(graph.name, "rtl", time.perf_counter() - t0)
    return RtlVerifyResult(
        **vars(base),
        latency_cycles=sim.latency_cycles,
        ii_cycles=sim.ii_cycles,
        expected_ii_cycles=manifest.rtl.expected_ii_cycles,
        simulator=sim.simulator,
        layers=[layer.to_json() for layer in measured.layers],
        problems=problems,
        output_dir=str(out_dir),
        compile_s=sim.compile_s,
        sim_s=sim.elapsed_s,
        sim_cycles=sim.cycles,
        frames_per_s=round(samples / sim.elapsed_s, 2) if sim.elapsed_s > 0 else 0.0,
        tlast_err=sim.tlast_err,
    )


def _stream_check(node: str, layer: str, spec: Any, beats: list[int], frames: int, lanes: int,
                  expected: np.ndarray) -> OutputCheck:  # fmt: skip
    """Stream beats of ``frames`` frames as raw values of ``spec`` (missing beats and X bits are invalid)."""
    size = int(np.prod(spec.shape))
    per = size // lanes
    want = frames * per
    have = list(beats[:want])
    valid_beat = np.array([b >= 0 for b in have] + [False] * (want - len(have)), dtype=bool)
    mask = (1 << (lanes * spec.dtype.width)) - 1
    words = [b & mask if b >= 0 else 0 for b in have] + [0] * (want - len(have))
    got = unpack(words, (frames, *spec.shape), spec.dtype, lanes)
    valid = np.repeat(valid_beat, lanes).reshape(frames, *spec.shape)
    return OutputCheck(node, layer, spec.dtype, spec.shape, expected.reshape(frames, -1), got.reshape(frames, -1),
                       valid.reshape(frames, -1))  # fmt: skip


def _trace_divergence(out_dir: Path, manifest: BuildManifest, graph: Graph, raw: np.ndarray, simulator: str,
                      seed: int, clean: int) -> dict[str, Any] | None:  # fmt: skip
    """Re-simulate the frames ``raw`` (a prefix of the run: same seed and stall pattern, so the same
    behaviour) with every instance's output recorded; the first layer whose stream differs.

    A layer's tensor is compared with the output stream of its last instance that carries the layer's
    tensor, as the instance's output record says (shape, type and lanes from build.json).
    """
    frames = raw.shape[0]
    beats = pack(raw, manifest.input.dtype, manifest.input.lanes)
    sim = simulate(out_dir, beats, frames, simulator=simulator, seed=seed, clean_frames=clean, trace=True)
    tensors = execute(graph, raw, trace=True).tensors
    checks = []
    for layer in manifest.rtl.layers:
        node = layer.node
        if node not in graph.tensors or node not in tensors:
            continue
        spec = graph.tensors[node]
        size = int(np.prod(spec.shape))
        for inst in reversed(layer.instances):
            outs = [o for o in inst.outputs if int(np.prod(o.shape)) == size and o.dtype == spec.dtype
                    and spec.shape[2] % o.lanes == 0]  # fmt: skip
            if outs and inst.instance in sim.traces:
                check = _stream_check(node, graph.node(node).source, spec, sim.traces[inst.instance], frames,
                                      outs[0].lanes, tensors[node])  # fmt: skip
                check.instance = inst.instance
                checks.append(check)
                break
    return first_diverging_layer(checks)
