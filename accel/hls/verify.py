"""``accel verify MODEL --against hls``: hls4ml's g++ C simulation against the NumPy reference, bit for bit.

The raw inputs of :func:`accel.verify.random_inputs` are fed to the C simulation
as their exact float64 view; its outputs are converted back to raw integers
exactly (a float off the output type's grid or range is a mismatch) and compared
with :func:`accel.reference.execute` by ``==``.  On a mismatch the failing samples
are re-run with hls4ml's trace (every layer has ``Trace: True``) and the first
Graph node whose hls4ml output differs is named with its index and both values.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from accel.compare import OutputCheck, VerifyResult, compare_outputs, first_diverging_layer, float_to_raw, random_inputs
from accel.folders import work_folder
from accel.ir import Graph
from accel.reference import execute


def float_view(graph: Graph, raw: np.ndarray) -> np.ndarray:
    """The exact float64 view of raw input frames, flattened per sample as hls4ml's predict takes them."""
    spec = graph.tensors[graph.inputs[0]]
    return np.ascontiguousarray(spec.dtype.to_float(raw).reshape(raw.shape[0], -1))


def _check(node: str, layer: str, hls_out: Any, ref: np.ndarray, spec: Any) -> OutputCheck:
    """The C simulation's floats as raw values of the node's type (a float off the grid or range is invalid)."""
    n = ref.shape[0]
    h = np.asarray(hls_out, dtype=np.float64).reshape(n, -1)
    h_raw, ok = float_to_raw(h, spec.dtype)
    return OutputCheck(node, layer, spec.dtype, spec.shape, ref.reshape(n, -1), h_raw, ok, h)


def first_divergence(hmodel, graph: Graph, raw: np.ndarray) -> dict[str, Any] | None:
    """Trace every layer of the compiled hls4ml model; the first Graph node (in graph order) that differs.

    ``expected`` is the reference's value, ``got`` hls4ml's, ``index`` (sample, h, w, c).
    """
    lowered = hmodel.accel_lowered
    _, traces = hmodel.trace(float_view(graph, raw))
    ref = execute(graph, raw, trace=True).tensors
    checks = []
    for node in graph.nodes:
        layer = lowered.layer_of_tensor.get(node.name)
        if layer is not None and layer in traces:
            checks.append(_check(node.name, layer, traces[layer], ref[node.name], graph.tensors[node.name]))
    return first_diverging_layer(checks)


#: g++ optimisation for the C simulation.  hls4ml builds with -O3, which takes minutes on large
#: unrolled io_parallel models (ds_cnn_kws: 12 min); the C++ semantics do not depend on the level.
CSIM_OPT = "-O1"


def compile_model(model: Any, graph: Graph, io_type: str = "io_stream", output_dir: str | Path | None = None,
                  opt: str = CSIM_OPT, **convert_kwargs: Any):  # fmt: skip
    """Convert, write and g++-compile (at optimisation ``opt``); returns (hls4ml model, seconds taken)."""
    from .convert import convert

    if output_dir is None:
        output_dir = tempfile.mkdtemp(prefix=f"accel_hls_{graph.name}_")
    t0 = time.perf_counter()
    hmodel = convert(model, graph, io_type=io_type, output_dir=output_dir, **convert_kwargs)
    hmodel.write()
    script = Path(output_dir) / "build_lib.sh"
    text = script.read_text()
    if 'CFLAGS="-O3 -fPIC"' not in text:
        raise RuntimeError(f"hls4ml's {script} changed; cannot set the C simulation's optimisation level")
    script.write_text(text.replace('CFLAGS="-O3 -fPIC"', f'CFLAGS="{opt} -fPIC"'))
    hmodel._compile()  # hls4ml's compile() minus the write() done above
    return hmodel, time.perf_counter() - t0


def compare(hmodel, graph: Graph, samples: int, seed: int = 0, max_trace: int = 16) -> VerifyResult:
    """Run an already compiled hls4ml model and the reference on the same random inputs; exact comparison."""
    t0 = time.perf_counter()
    raw = random_inputs(graph, samples, seed)
    outs = hmodel.predict(float_view(graph, raw))
    if len(graph.outputs) == 1:
        outs = [outs]
    ref = execute(graph, raw).outputs
    lowered = hmodel.accel_lowered
    checks = [_check(name, lowered.layer_of_tensor[name], h_out, ref[name], graph.tensors[name])
              for name, h_out in zip(graph.outputs, outs, strict=True)]  # fmt: skip
    tally = compare_outputs(checks, samples)
    bad_samples, first = tally.bad_samples, tally.first
    if bad_samples.any():
        idx = np.flatnonzero(bad_samples)[:max_trace]
        layer_first = first_divergence(hmodel, graph, raw[idx])
        if layer_first is not None:
            layer_first["index"][0] = int(idx[layer_first["index"][0]])
            first = layer_first
    tally.first = first
    return tally.result(graph.name, "hls", time.perf_counter() - t0)


def verify_against_hls(
    model: Any,
    graph: Graph,
    samples: int,
    io_type: str = "io_stream",
    seed: int = 0,
    output_dir: str | Path | None = None,
    **convert_kwargs: Any,
) -> VerifyResult:
    """Convert ``graph`` with hls4ml, compile the C simulation and compare it with the reference exactly.

    ``convert_kwargs`` (strategy, reuse_factor, layer_reuse, ...) go to :func:`accel.hls.convert`.
    ``elapsed_s`` includes the conversion and the g++ compile.  ``output_dir`` keeps the hls4ml project (locked
    while the run uses it); without it the project goes to a temporary folder that is removed at the end.
    """
    t0 = time.perf_counter()
    with work_folder(output_dir, f"accel_hls_{graph.name}_") as folder:  # a temporary one is removed afterwards
        hmodel, _ = compile_model(model, graph, io_type, folder, **convert_kwargs)
        result = compare(hmodel, graph, samples, seed)
    result.elapsed_s = round(time.perf_counter() - t0, 3)
    return result
