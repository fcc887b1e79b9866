"""Verification of accel's integer reference against QKeras (``accel verify --against qkeras``).

QKeras is the specification: the same raw inputs are fed to ``model.predict`` (as
their exact float view) and to :func:`accel.reference.execute`; Keras' float
outputs are converted back to raw integers exactly (a float off the output grid
is a mismatch) and compared with ``==``.  On a mismatch every layer is compared
in topological order and the first diverging one is named.  A graph whose final
softmax was dropped is compared with QKeras' logits; one whose softmax became an
arg-max head, with the arg-max of QKeras' logits.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from accel import AccelError
from accel.compare import (
    OutputCheck,
    Tally,
    VerifyResult,
    compare_outputs,
    first_diverging_layer,
    float_to_raw,
    random_inputs,
)
from accel.float32 import float32_bounds, rounding_nodes
from accel.ir import Graph
from accel.reference import execute

#: the exact float -> raw conversion, under the name the HLS and RTL verifiers imported before accel.compare
keras_to_raw = float_to_raw
__all__ = ["VerifyResult", "first_divergence", "keras_to_raw", "random_inputs", "verify_against_qkeras"]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _check(node: str, layer: str, keras_out: Any, ref: np.ndarray, spec: Any, bounds: Any = None) -> OutputCheck:
    """QKeras' floats as raw values of the node's type (a float off the grid or range is invalid); ``bounds``:
    what float32 could make of the exact value there (accel.float32), where it may round."""
    n = ref.shape[0]
    k = np.asarray(keras_out).reshape(n, -1)
    k_raw, ok = float_to_raw(k, spec.dtype)
    if bounds is not None:
        bounds = tuple(np.asarray(b).reshape(n, -1) for b in bounds)
    return OutputCheck(node, layer, spec.dtype, spec.shape, ref.reshape(n, -1), k_raw, ok, k, bounds=bounds)


def _keras_view(model: Any, graph: Graph, raw: np.ndarray) -> np.ndarray:
    """The exact float view of raw inputs, shaped as the Keras model's input."""
    spec = graph.tensors[graph.inputs[0]]
    x = spec.dtype.to_float(raw)
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    return x.reshape((raw.shape[0], *shape)).astype(np.float32)


def keras_outputs_model(model: Any, graph: Graph) -> Any:
    """The Keras model whose outputs are the values the graph outputs: ``model`` itself, or, when the graph ends
    before the model does (a final softmax removed with ``softmax='drop'``), one ending at the logits."""
    import tensorflow as tf

    wanted = [_keras_value(model, graph, _logits(graph, t), i) for i, t in enumerate(graph.outputs)]
    if len(wanted) == len(model.outputs) and all(w is m for w, m in zip(wanted, model.outputs, strict=True)):
        return model
    return tf.keras.Model(model.inputs, wanted)


def _logits(graph: Graph, tensor: str) -> str:
    """The tensor whose Keras value QKeras' side of graph output ``tensor`` is computed from: the logits of an
    arg-max head (``softmax='argmax'``: QKeras' softmax is not exact, its order is), else ``tensor`` itself."""
    node = next((n for n in graph.nodes if n.output == tensor), None)
    return node.inputs[0] if node is not None and node.op == "argmax" else tensor


def _argmax_heads(graph: Graph, keras_outs: list[Any]) -> list[Any]:
    """QKeras' outputs with each arg-max head applied to its logits (ties to the lowest index, as accel's)."""
    out = []
    for name, k in zip(graph.outputs, keras_outs, strict=True):
        if _logits(graph, name) != name:
            logits = np.asarray(k).reshape((-1, *graph.tensors[_logits(graph, name)].shape))
            k = np.argmax(logits, axis=-1)[..., None].astype(np.float32)
        out.append(k)
    return out


def _keras_value(model: Any, graph: Graph, tensor: str, index: int) -> Any:
    """The Keras tensor graph output ``tensor`` computes: its layer's output, or, for a node named after its layer
    that does not match the layer's output, the layer's output before its fused activation (the frontend makes
    such a node only when it drops a final softmax fused into the layer: ``own_node_name`` in
    accel.frontend.lowering)."""
    node = next((n for n in graph.nodes if n.output == tensor), None)
    if node is None:  # the graph input is an output: the model's own output is compared, as always
        return model.outputs[index]
    layer = model.get_layer(node.source)
    if node.matches_source:
        return layer.output
    if node.name == layer.name and hasattr(layer, "activation"):
        return _before_activation(layer)
    return model.outputs[index]


def _before_activation(layer: Any) -> Any:
    """``layer``'s output without its fused activation: a copy of the layer with activation 'linear' and the same
    weights, applied to the layer's own input (the model itself is left unchanged)."""
    import warnings

    with warnings.catch_warnings():  # Keras warns that QKeras' quantizers are not constraints while serializing
        warnings.simplefilter("ignore", UserWarning)
        config = layer.get_config() | {"activation": "linear", "name": f"{layer.name}_accel_logits"}
    copy = type(layer).from_config(config)
    y = copy(layer.input)
    copy.set_weights(layer.get_weights())
    return y


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
    checks = [_check(n.name, n.source, by_layer[n.source], trace[n.output], graph.tensors[n.output]) for n in checked]
    return first_diverging_layer(checks, reference_is_expected=False)


def verify_against_qkeras(
    model: Any, graph: Graph, samples: int, seed: int = 0, batch_size: int = 256, max_trace: int = 16
) -> VerifyResult:
    """Run QKeras and the reference on ``samples`` random inputs and compare every output exactly.

    On a mismatch, up to ``max_trace`` mismatching samples are re-run layer by layer
    to name the first diverging layer.  Where QKeras' float32 may round (:mod:`accel.float32`), every layer's
    QKeras value comes from the same run as the outputs, and values within float32's error bound of the exact
    ones are counted in ``float32_rounded`` instead of as mismatches.
    """
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # predict on new shapes retraces; the notice is noise for a verifier
    _allow_grouped_convs(graph)
    t0 = time.perf_counter()
    raw = random_inputs(graph, samples, seed)
    wide = rounding_nodes(graph)
    if wide:
        tally = _compare_float32(model, graph, raw, min(batch_size, FLOAT32_CHUNK))
        return tally.result(graph.name, "qkeras", time.perf_counter() - t0, wide)
    keras_outs = _predict(keras_outputs_model(model, graph), _keras_view(model, graph, raw), batch_size)
    if len(graph.outputs) == 1:
        keras_outs = [keras_outs]
    if len(keras_outs) != len(graph.outputs):
        raise AccelError(f"model has {len(keras_outs)} outputs but graph {graph.name} has {len(graph.outputs)}.")
    keras_outs = _argmax_heads(graph, keras_outs)
    ref = execute(graph, raw).outputs
    checks = []
    for name, k_out in zip(graph.outputs, keras_outs, strict=True):
        node = graph.node(name) if name not in graph.inputs else None
        checks.append(_check(name, node.source if node else name, k_out, ref[name], graph.tensors[name]))
    tally = compare_outputs(checks, samples, reference_is_expected=False)
    bad_samples, first = tally.bad_samples, tally.first
    if bad_samples.any():
        idx = np.flatnonzero(bad_samples)[:max_trace]
        layer_first = first_divergence(model, graph, raw[idx], batch_size)
        if layer_first is not None:
            layer_first["index"][0] = int(idx[layer_first["index"][0]])
            first = layer_first
    tally.first = first
    return tally.result(graph.name, "qkeras", time.perf_counter() - t0, [])


#: samples per QKeras run on a graph where float32 may round: every layer's output and every traced tensor of
#: the reference are held for one run, so the batch is kept small
FLOAT32_CHUNK = 64


def _compare_float32(model: Any, graph: Graph, raw: np.ndarray, chunk: int) -> Tally:
    """Compare outputs within float32 bounds, chunk by chunk; the first diverging layer comes from the same
    QKeras run as the outputs (a re-run may sum in another order and round differently)."""
    import tensorflow as tf

    checked = [n for n in graph.nodes if n.matches_source]
    layers = list(dict.fromkeys(n.source for n in checked))
    outs_model = keras_outputs_model(model, graph)
    probe = tf.keras.Model(model.inputs, [*outs_model.outputs, *(model.get_layer(name).output for name in layers)])
    n_out, samples = len(graph.outputs), raw.shape[0]
    total = Tally(np.zeros(samples, dtype=bool), 0, None, np.zeros(samples, dtype=bool))
    for start in range(0, samples, chunk):
        part = raw[start : start + chunk]
        outs = _predict(probe, _keras_view(model, graph, part), chunk)
        outs = outs if isinstance(outs, list) else [outs]
        trace = execute(graph, part, trace=True).tensors
        bounds = float32_bounds(graph, trace)
        keras_outs = _argmax_heads(graph, list(outs[:n_out]))
        checks = []
        for name, k_out in zip(graph.outputs, keras_outs, strict=True):
            source = graph.node(name).source if name not in graph.inputs else name
            checks.append(_check(name, source, k_out, trace[name], graph.tensors[name], bounds.get(name)))
        tally = compare_outputs(checks, part.shape[0], reference_is_expected=False)
        rows = slice(start, start + part.shape[0])
        total.bad_samples[rows], total.rounded_samples[rows] = tally.bad_samples, tally.rounded_samples
        total.bad_values += tally.bad_values
        total.rounded_values += tally.rounded_values
        total.rounded_max_ratio = max(total.rounded_max_ratio, tally.rounded_max_ratio)
        if total.first is None and tally.first is not None:
            idx = np.flatnonzero(tally.bad_samples)
            by_layer = dict(zip(layers, outs[n_out:], strict=True))
            per_layer = [_check(n.name, n.source, np.asarray(by_layer[n.source])[idx], trace[n.output][idx],
                                graph.tensors[n.output], _rows(bounds.get(n.output), idx))
                         for n in checked]  # fmt: skip
            first = first_diverging_layer(per_layer, reference_is_expected=False)
            if first is not None:
                first["index"][0] = int(idx[first["index"][0]])
            total.first = first or tally.first
            total.first["index"][0] += start
    return total


def _rows(bounds: Any, idx: np.ndarray) -> Any:
    """The bounds of the samples ``idx`` (None stays None)."""
    return None if bounds is None else (bounds[0][idx], bounds[1][idx])
