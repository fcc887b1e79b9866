"""Verification of accel's integer reference against QKeras (``accel verify --against qkeras``).

QKeras is the specification: the same raw inputs are fed to ``model.predict`` (as
their exact float view) and to :func:`accel.reference.execute`; Keras' float
outputs are converted back to raw integers exactly (a float off the output grid
is a mismatch) and compared with ``==``.  On a mismatch every layer is compared
in topological order and the first diverging one is named.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.ir import Graph
from accel.reference import execute

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def random_inputs(graph: Graph, n: int, seed: int) -> np.ndarray:
    """``n`` raw input frames drawn uniformly over the input type's full range (shared by every backend)."""
    if len(graph.inputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs; supported: exactly one.")
    spec = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    return rng.integers(spec.dtype.min_raw, spec.dtype.max_raw, size=(n, *spec.shape), endpoint=True, dtype=np.int64)


@dataclass
class VerifyResult:
    """The outcome of one verification run (the CLI prints it and writes ``to_json()``)."""

    model: str
    against: str
    samples: int
    mismatches: int  # samples with any differing output value
    mismatched_values: int
    first_divergence: dict[str, Any] | None
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def keras_to_raw(values: np.ndarray, dtype: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """Keras floats -> (raw ints, exact mask); a value off ``dtype``'s grid or range is not exact."""
    x = np.asarray(values, dtype=np.float64)
    scaled = np.ldexp(x, dtype.frac)
    finite = np.isfinite(scaled)
    safe = np.where(finite, scaled, 0.0)
    raw = np.rint(safe)
    ok = finite & (raw == safe) & (raw >= dtype.min_raw) & (raw <= dtype.max_raw)
    return np.where(ok, raw, 0).astype(np.int64), ok


def _keras_view(model: Any, graph: Graph, raw: np.ndarray) -> np.ndarray:
    """The exact float view of raw inputs, shaped as the Keras model's input."""
    spec = graph.tensors[graph.inputs[0]]
    x = spec.dtype.to_float(raw)
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    return x.reshape((raw.shape[0], *shape)).astype(np.float32)


def _predict(model: Any, x: np.ndarray, batch_size: int) -> Any:
    """``model.predict``, with TensorFlow's own failures turned into one AccelError sentence."""
    import tensorflow as tf

    try:
        return model.predict(x, batch_size=batch_size, verbose=0)
    except (tf.errors.OpError, ValueError) as exc:
        raise AccelError(
            f"model {model.name} cannot be run by TensorFlow here ({_tf_reason(exc)}); verification needs QKeras "
            "to run it."
        ) from exc


def _tf_reason(exc: Exception) -> str:
    """The one informative line of a TensorFlow graph-execution error (the rest is a Python traceback)."""
    lines = [ln.strip() for ln in str(getattr(exc, "message", exc)).splitlines()]
    skip = ("File ", "[[", "Graph execution error", "Detected at node", "Traceback")
    useful = [ln for ln in lines if ln and not ln.startswith(skip)]
    return (useful[-1] if useful else type(exc).__name__).rstrip(".")


def _allow_grouped_convs(graph: Graph) -> None:
    """TensorFlow's CPU remapper fuses Conv2D+BiasAdd(+activation) into a kernel that has no grouped variant
    ("Fused conv implementation does not support grouped convolutions"); turning that graph rewrite off lets
    QKeras run grouped convs, with the same (exact) arithmetic."""
    import tensorflow as tf

    if any(n.op == "conv2d" and n.attrs["groups"] > 1 for n in graph.nodes):
        tf.config.optimizer.set_experimental_options({"remapping": False})


def _compare(keras_out: np.ndarray, ref: np.ndarray, dtype: FixedType) -> np.ndarray:
    """Per-value mismatch mask (N, size) between Keras floats and reference raw ints."""
    n = ref.shape[0]
    k_raw, ok = keras_to_raw(np.asarray(keras_out).reshape(n, -1), dtype)
    return ~ok | (k_raw != ref.reshape(n, -1))


def _divergence(layer: str, node: str, keras_out, ref, dtype: FixedType, bad: np.ndarray, shape) -> dict[str, Any]:
    sample, flat = (int(i) for i in np.argwhere(bad)[0])
    return {
        "layer": layer,
        "node": node,
        "index": [sample, *(int(i) for i in np.unravel_index(flat, shape))],
        "expected": float(np.asarray(keras_out).reshape(ref.shape[0], -1)[sample, flat]),
        "got": float(dtype.to_float(ref.reshape(ref.shape[0], -1)[sample, flat])),
    }


def first_divergence(model: Any, graph: Graph, raw: np.ndarray, batch_size: int = 256) -> dict[str, Any] | None:
    """Compare every node whose output *is* its Keras layer's output, in graph order; the first that differs.

    ``expected`` is QKeras' value, ``got`` the reference's, ``index`` (sample, h, w, c).
    """
    import tensorflow as tf

    checked = [n for n in graph.nodes if n.matches_source]
    layers = list(dict.fromkeys(n.source for n in checked))
    probe = tf.keras.Model(model.inputs, [model.get_layer(name).output for name in layers])
    outs = _predict(probe, _keras_view(model, graph, raw), batch_size)
    if len(layers) == 1:
        outs = [outs]
    by_layer = dict(zip(layers, outs, strict=True))
    trace = execute(graph, raw, trace=True).tensors
    for node in checked:
        spec = graph.tensors[node.output]
        bad = _compare(by_layer[node.source], trace[node.output], spec.dtype)
        if bad.any():
            return _divergence(node.source, node.name, by_layer[node.source], trace[node.output], spec.dtype, bad,
                               spec.shape)  # fmt: skip
    return None


def verify_against_qkeras(
    model: Any, graph: Graph, samples: int, seed: int = 0, batch_size: int = 256, max_trace: int = 16
) -> VerifyResult:
    """Run QKeras and the reference on ``samples`` random inputs and compare every output exactly.

    On a mismatch, up to ``max_trace`` mismatching samples are re-run layer by layer
    to name the first diverging layer.
    """
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # predict on new shapes retraces; the notice is noise for a verifier
    _allow_grouped_convs(graph)
    t0 = time.perf_counter()
    raw = random_inputs(graph, samples, seed)
    keras_outs = _predict(model, _keras_view(model, graph, raw), batch_size)
    if len(graph.outputs) == 1:
        keras_outs = [keras_outs]
    if len(keras_outs) != len(graph.outputs):
        raise AccelError(f"model has {len(keras_outs)} outputs but graph {graph.name} has {len(graph.outputs)}.")
    ref = execute(graph, raw).outputs
    bad_values = 0
    bad_samples = np.zeros(samples, dtype=bool)
    first = None
    for name, k_out in zip(graph.outputs, keras_outs, strict=True):
        spec = graph.tensors[name]
        bad = _compare(k_out, ref[name], spec.dtype)
        bad_values += int(bad.sum())
        bad_samples |= bad.any(axis=1)
        if first is None and bad.any():
            node = graph.node(name) if name not in graph.inputs else None
            first = _divergence(node.source if node else name, name, k_out, ref[name], spec.dtype, bad, spec.shape)
    if bad_samples.any():
        idx = np.flatnonzero(bad_samples)[:max_trace]
        layer_first = first_divergence(model, graph, raw[idx], batch_size)
        if layer_first is not None:
            layer_first["index"][0] = int(idx[layer_first["index"][0]])
            first = layer_first
    return VerifyResult(
        model=graph.name,
        against="qkeras",
        samples=samples,
        mismatches=int(bad_samples.sum()),
        mismatched_values=bad_values,
        first_divergence=first,
        elapsed_s=round(time.perf_counter() - t0, 3),
    )
