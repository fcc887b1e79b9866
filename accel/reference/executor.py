"""Run an :class:`accel.ir.Graph` on raw integers: golden outputs, per-node trace, overflow counters.

Each op's reference implementation is registered with the op (``OpDef.reference`` in
:mod:`accel.ops`); the executor looks it up and keeps no op table of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

import accel.ops  # noqa: F401  (registers the ops)
from accel import AccelError
from accel.ir import OPS, Graph, Node, TensorSpec
from accel.reference.memory import keep_freed_memory


@dataclass
class ExecutionResult:
    """Outputs by tensor name; every tensor when traced; per-node overflow (saturation/wrap) counts."""

    outputs: dict[str, np.ndarray]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    overflows: dict[str, int] = field(default_factory=dict)


def run_node(graph: Graph, node: Node, inputs: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Run one node on raw inputs ``(N, H, W, C)``; returns its output (int64) and overflow count."""
    y, count = _run_node(graph, node, inputs)
    return _as_int64(y), count


def _as_int64(x: np.ndarray) -> np.ndarray:
    """Raw integers as int64: exact for a float tensor, whose values are integers it holds exactly."""
    return x.astype(np.int64, copy=False)


def _run_node(graph: Graph, node: Node, inputs: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """:func:`run_node`, its output left in the type the op computed it in: int64, or a float type that holds it
    exactly (the convolutions' ``narrow`` accumulators and what follows them), half the memory traffic of int64."""
    impl = OPS[node.op].reference if node.op in OPS else None
    if impl is None:
        raise AccelError(f"node {node.name}: op '{node.op}' has no reference implementation.")
    out_spec = graph.tensors[node.output]
    y, count = impl(node, graph.input_specs(node), out_spec, inputs)
    if y.shape[1:] != out_spec.shape:
        raise AssertionError(f"reference for {node.name} produced {y.shape[1:]}, graph says {out_spec.shape}")
    return y, count


def _check_input(spec: TensorSpec, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.shape[1:] != spec.shape:
        raise AccelError(f"input {spec.name} must have shape (N, {', '.join(map(str, spec.shape))}), got {x.shape}.")
    if x.dtype.kind not in "iu":
        raise AccelError(f"input {spec.name} must be raw integers of {spec.dtype.hls}, got {x.dtype}.")
    if x.size and (x.min() < spec.dtype.min_raw or x.max() > spec.dtype.max_raw):
        raise AccelError(f"input {spec.name} has raw values outside {spec.dtype.hls}.")
    return x.astype(np.int64, copy=False)  # the kernels never write into their inputs


#: the most bytes (int64) one tensor of the graph may take per slice of the batch; the kernels bound their own
#: scratch the same way (:data:`accel.kernels.SCRATCH_BYTES`), so memory stays bounded whatever the batch
SLICE_BYTES = 8 << 20


def frames_per_slice(graph: Graph) -> int:
    """How many frames run through the graph at once: the largest tensor of a slice stays within SLICE_BYTES
    (small slices keep the working set in cache; large ones keep the threads' Python overhead and their
    contention for the GIL small against NumPy's work)."""
    largest = max(int(np.prod(spec.shape)) for spec in graph.tensors.values())
    return max(1, SLICE_BYTES // (8 * max(1, largest)))


def reference_threads() -> int:
    """Threads that run slices at once: one per core this process may use (``ACCEL_REFERENCE_THREADS`` sets
    another number).  NumPy releases the GIL inside its loops, so slices on two cores take about half the time."""
    env = os.environ.get("ACCEL_REFERENCE_THREADS", "").strip()
    if env:
        if not (env.isdigit() and int(env) > 0):
            raise AccelError(f"ACCEL_REFERENCE_THREADS is {env!r}; it must be a whole number of threads, 1 or more.")
        return int(env)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def execute(graph: Graph, inputs: np.ndarray | Mapping[str, np.ndarray], trace: bool = False) -> ExecutionResult:
    """Run the graph on a batch of raw integer inputs, a slice of frames at a time (:func:`frames_per_slice`),
    slices in parallel on :func:`reference_threads` threads.

    ``inputs`` is one array for a single-input graph, or a mapping by input name.  The frames are independent,
    so slicing the batch changes no value; overflow counts add up over the slices.  BLAS runs single-threaded
    meanwhile: the slices already fill the cores, and OpenBLAS's own threads would spin against them.
    """
    if not isinstance(inputs, Mapping):
        if len(graph.inputs) != 1:
            raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs; pass them by name.")
        inputs = {graph.inputs[0]: inputs}
    values = {name: _check_input(graph.tensors[name], inputs[name]) for name in graph.inputs}
    n = next(iter(values.values())).shape[0]
    if any(v.shape[0] != n for v in values.values()):
        raise AccelError(f"graph {graph.name}: every input needs the same number of frames, got "
                         f"{', '.join(f'{k}: {v.shape[0]}' for k, v in values.items())}.")  # fmt: skip
    keep_freed_memory()
    threads = reference_threads()  # read (and a bad value refused) whatever the batch
    step = frames_per_slice(graph)
    if n <= step:
        return _execute_slice(graph, values, trace)
    slices = [{k: v[s : s + step] for k, v in values.items()} for s in range(0, n, step)]
    threads = min(threads, len(slices))
    if threads == 1:
        parts = [_execute_slice(graph, part, trace) for part in slices]
    else:
        with threadpool_limits(1), ThreadPoolExecutor(threads) as pool:
            # on Ctrl-C or an error, Executor.map cancels the slices not yet started
            parts = list(pool.map(lambda part: _execute_slice(graph, part, trace), slices))
    return ExecutionResult(
        outputs={t: np.concatenate([p.outputs[t] for p in parts]) for t in parts[0].outputs},
        tensors={t: np.concatenate([p.tensors[t] for p in parts]) for t in parts[0].tensors},
        overflows={k: sum(p.overflows[k] for p in parts) for k in parts[0].overflows},
    )


def _execute_slice(graph: Graph, values: dict[str, np.ndarray], trace: bool) -> ExecutionResult:
    """:func:`execute` on one slice of the batch (``values``: the checked int64 inputs by name)."""
    overflows: dict[str, int] = {}
    last_use = {t: i for i, n in enumerate(graph.nodes) for t in n.inputs}
    keep = set(graph.outputs)
    for i, node in enumerate(graph.nodes):
        y, count = _run_node(graph, node, [values[t] for t in node.inputs])
        values[node.output] = y
        overflows[node.name] = count
        if not trace:  # free tensors nobody reads any more
            for t in set(node.inputs):  # a node may read one tensor twice (add(x, x))
                if last_use.get(t) == i and t not in keep:
                    del values[t]
    return ExecutionResult(
        outputs={t: _as_int64(values[t]) for t in graph.outputs},
        tensors={t: _as_int64(v) for t, v in values.items()} if trace else {},
        overflows=overflows,
    )
