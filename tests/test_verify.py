"""verify --against qkeras: random inputs, exact float->raw conversion, counting, and per-layer divergence naming."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2D, QDepthwiseConv2D, quantized_bits, quantized_relu  # noqa: E402

from accel import AccelError  # noqa: E402
from accel.fixed import FixedType  # noqa: E402
from accel.frontend import to_graph  # noqa: E402
from accel.ir import Graph, GraphBuilder  # noqa: E402
from accel.verify import VerifyResult, keras_to_raw, random_inputs, verify_against_qkeras  # noqa: E402


def kq() -> quantized_bits:
    return quantized_bits(6, 0, alpha=1)


def three_layer_model(two_outputs: bool = False) -> tf.keras.Model:
    x = tf.keras.Input((6, 6, 3))
    h = QActivation(quantized_bits(8, 2, alpha=1), name="inq")(x)
    a = QConv2D(6, 3, padding="same", kernel_quantizer=kq(), bias_quantizer=kq(), activation=quantized_relu(6, 2),
                name="c1")(h)  # fmt: skip
    b = QDepthwiseConv2D(3, depthwise_quantizer=kq(), bias_quantizer=kq(), activation=quantized_relu(6, 2),
                         name="c2")(a)  # fmt: skip
    c = QConv2D(4, 1, kernel_quantizer=kq(), bias_quantizer=kq(), name="c3")(b)
    m = tf.keras.Model(x, [c, b] if two_outputs else c)
    rng = np.random.default_rng(7)
    for w in m.weights:
        w.assign(rng.normal(0, 0.5, w.shape).astype(np.float32))
    return m


def rebuild(graph: Graph, node_name: str, param: str, change) -> Graph:
    """A copy of ``graph`` with one parameter of one node replaced by ``change(array)``."""
    b = GraphBuilder(graph.name)
    for t in graph.inputs:
        b.input(t, graph.tensors[t].shape, graph.tensors[t].dtype)
    for n in graph.nodes:
        params = {k: (change(np.array(v)) if (n.name, k) == (node_name, param) else v) for k, v in n.params.items()}
        b.add(n.name, n.op, n.inputs, dict(n.attrs), params, dict(n.param_types), n.source, n.matches_source)
    return b.build(graph.outputs)


@pytest.fixture(scope="module")
def model_and_graph():
    m = three_layer_model()
    return m, to_graph(m)


def test_random_inputs_cover_the_full_range_deterministically(model_and_graph) -> None:
    _, g = model_and_graph
    t = g.tensors[g.inputs[0]].dtype
    x = random_inputs(g, 300, seed=5)
    assert x.dtype == np.int64 and x.shape == (300, 6, 6, 3)
    assert x.min() == t.min_raw and x.max() == t.max_raw
    assert len(np.unique(x)) == t.max_raw - t.min_raw + 1
    assert np.array_equal(x, random_inputs(g, 300, seed=5))
    assert not np.array_equal(x, random_inputs(g, 300, seed=6))


def test_keras_to_raw_is_exact() -> None:
    t = FixedType(True, 6, 3)  # grid 1/8, range [-4, 3.875]
    raw, ok = keras_to_raw(np.array([0.125, -4.0, 3.875, 0.0625, 4.0, np.nan, -0.375]), t)
    assert ok.tolist() == [True, True, True, False, False, False, True]
    assert raw[ok].tolist() == [1, -32, 31, -3]


def test_clean_model_verifies_with_zero_mismatches(model_and_graph) -> None:
    m, g = model_and_graph
    r = verify_against_qkeras(m, g, 300, seed=3, batch_size=64)
    assert (r.model, r.against, r.samples, r.mismatches, r.mismatched_values) == (g.name, "qkeras", 300, 0, 0)
    assert r.first_divergence is None and r.ok
    assert json.loads(json.dumps(r.to_json()))["mismatches"] == 0


@pytest.mark.parametrize("layer", ["c1", "c2", "c3"])
def test_corrupted_weight_is_traced_to_its_layer(model_and_graph, layer: str) -> None:
    m, g = model_and_graph
    conv = f"{layer}_conv" if layer != "c3" else layer
    wtype = g.node(conv).param_types["weight"]

    def corrupt(w: np.ndarray) -> np.ndarray:
        w = w.copy()
        w.flat[0] = wtype.max_raw if w.flat[0] < 0 else wtype.min_raw
        return w

    bad = rebuild(g, conv, "weight", corrupt)
    r = verify_against_qkeras(m, bad, 200, seed=1)
    assert isinstance(r, VerifyResult)
    assert r.mismatches > 0 and r.mismatched_values >= r.mismatches
    d = r.first_divergence
    assert d["layer"] == layer
    assert d["node"] in (layer, conv)
    sample, *hwc = d["index"]
    assert 0 <= sample < 200 and len(hwc) == 3
    assert d["expected"] != d["got"]
    # the reported sample really differs at the reported place in the corrupted layer
    x = random_inputs(bad, 200, seed=1)[sample : sample + 1]
    from accel.reference import execute

    got = execute(bad, x, trace=True).tensors[d["node"]][(0, *hwc)]
    assert bad.tensors[d["node"]].dtype.to_float(got) == d["got"]


def test_off_grid_keras_output_is_a_mismatch(model_and_graph) -> None:
    m, g = model_and_graph
    # drop the bias of the last conv in the graph only: Keras keeps adding it, so its outputs differ
    bad = rebuild(g, "c3", "bias", np.zeros_like)
    r = verify_against_qkeras(m, bad, 50, seed=2)
    assert r.mismatches == 50
    assert r.first_divergence["layer"] == "c3"


def test_multiple_outputs_are_refused_by_the_frontend() -> None:
    """The HLS and RTL tops give one output stream, so a model with two outputs is refused before any command could
    show or verify a graph the backends then refuse (tests/test_frontend.py checks every command's sentence)."""
    m = three_layer_model(two_outputs=True)
    with pytest.raises(AccelError, match=r"has 2 outputs \(c3, c2\); supported: a model with exactly one output"):
        to_graph(m)


def test_random_inputs_refuses_multi_input_graphs() -> None:
    b = GraphBuilder("two")
    b.input("a", (1, 1, 2), FixedType(True, 4, 1))
    b.input("b", (1, 1, 2), FixedType(True, 4, 1))
    b.add("s", "add", ["a", "b"])
    with pytest.raises(AccelError, match="graph two has 2 inputs"):
        random_inputs(b.build(["s"]), 3, 0)


def test_tensorflow_failure_reason_is_one_line() -> None:
    from accel.verify import _tf_reason

    msg = (
        "Graph execution error:\n\nDetected at node 'm/c/BiasAdd' defined at (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n\nFused conv implementation does not support grouped convolutions '
        "for now.\n\t [[{{node m/c/BiasAdd}}]] [Op:__inference_predict_function_452]"
    )
    assert _tf_reason(RuntimeError(msg)) == "Fused conv implementation does not support grouped convolutions for now"


def test_wide_accumulators_warn_and_float32_rounding_is_reported() -> None:
    """Contract 1: beyond float32's 24-bit significand QKeras rounds; the frontend warns, verify counts the values
    QKeras rounded within float32's error bound as ``float32_rounded``, not as mismatches (the bound itself is
    checked in tests/test_verify_float32.py)."""
    from accel.frontend import AccelPrecisionWarning
    from accel.reference import execute

    x = tf.keras.Input((6, 6, 32))
    h = QActivation(quantized_bits(16, 4, alpha=1), name="inq")(x)
    y = QConv2D(4, 3, kernel_quantizer=quantized_bits(16, 0, alpha=1), bias_quantizer=kq(), name="wide")(h)
    m = tf.keras.Model(x, y)
    for w in m.weights:
        w.assign(np.random.default_rng(0).normal(0, 0.3, w.shape).astype(np.float32))
    with pytest.warns(AccelPrecisionWarning, match="wide"):
        g = to_graph(m)
    raw = random_inputs(g, 200, seed=0)
    k, ok = keras_to_raw(m.predict(g.tensors["inq"].dtype.to_float(raw).astype(np.float32), verbose=0),
                         g.tensors["wide"].dtype)  # fmt: skip
    assert ok.all() and (k != execute(g, raw).outputs["wide"]).any()  # QKeras really rounds here
    r = verify_against_qkeras(m, g, 200)
    assert r.mismatches == 0 and r.first_divergence is None
    assert r.float32_rounded["values"] > 0 and r.float32_rounded["tensors"] == ["wide"]
