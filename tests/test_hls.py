"""accel.hls: hls4ml firmware whose types are the Graph's, proven bit-exact by g++ C simulation.

Fast tests check the conversion (types, reuse factors, strategy, refusals) without
compiling.  ``hls`` tests compile each model once per io type and compare >= 200
random frames with the NumPy reference by ``==``.  Each workaround of an hls4ml gap
has a test that switches it off and shows hls4ml alone is wrong or aborts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import Graph, GraphBuilder
from accel.reference import execute
from accel.verify import random_inputs

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
IO_TYPES = ("io_stream", "io_parallel")
SAMPLES = 200

S8 = FixedType(True, 8, 3)
U6 = FixedType(False, 6, 2)
W4 = FixedType(True, 4, 1)
B8 = FixedType(True, 8, 3)


def gaps_graph(seed: int = 0) -> Graph:
    """One small graph that meets every hls4ml gap accel works around.

    Grouped conv, depthwise with depth_multiplier 2, channel shuffle, a three-input
    add and concat, a 3x3 stride-1 padded max pool of signed values, a 2x2 stride-1
    average pool and a global average over 16 pixels rounded half-up... and half-even.
    """
    rng = np.random.default_rng(seed)

    def wb(shape, cout):
        params = {"weight": rng.integers(-8, 8, shape), "bias": rng.integers(-128, 128, (cout,))}
        return params, {"weight": W4, "bias": B8}

    b = GraphBuilder("gaps")
    x = b.input("inp", (5, 5, 4), S8)
    c1 = b.add("grouped", "conv2d", [x], {"kernel": (3, 3), "pads": (1, 1, 1, 1), "groups": 2}, *wb((3, 3, 2, 4), 4))
    q1 = b.add("q1", "quantize", [c1], {"out_type": U6, "relu": True})
    d1 = b.add("dw_mult2", "depthwise_conv2d", [q1], {"kernel": (3, 3), "pads": (1, 1, 1, 1)}, *wb((3, 3, 4, 2), 8))
    q2 = b.add("q2", "quantize", [d1], {"out_type": S8})
    sh = b.add("shuffle", "channel_shuffle", [q2], {"groups": 2})
    pw = b.add("pw", "conv2d", [sh], {"kernel": (1, 1)}, *wb((1, 1, 8, 4), 4))
    q3 = b.add("q3", "quantize", [pw], {"out_type": S8, "rounding": Rounding.ROUND_HALF_UP})
    q4 = b.add("q4", "quantize", [pw], {"out_type": U6, "relu": True, "rounding": Rounding.TRUNCATE})
    a3 = b.add("add3", "add", [q3, x, q4])
    cat = b.add("cat3", "concat", [a3, q1, x])
    mp = b.add("max3", "maxpool", [cat], {"pool": (3, 3), "stride": (1, 1), "pads": (1, 1, 1, 1)})
    ap = b.add("avg2", "avgpool", [mp], {"pool": (2, 2), "stride": (1, 1), "out_type": S8})
    g = b.add("gap", "global_avgpool", [ap], {"out_type": FixedType(True, 8, 2), "overflow": Overflow.WRAP})
    return b.build([g])


def depthwise_graph(mult: int) -> Graph:
    """A single depthwise conv (for the depthwise gaps)."""
    rng = np.random.default_rng(1)
    b = GraphBuilder(f"dw{mult}")
    x = b.input("inp", (4, 4, 2), S8)
    params = {"weight": rng.integers(-8, 8, (3, 3, 2, mult)), "bias": rng.integers(-128, 128, (2 * mult,))}
    d = b.add("dw", "depthwise_conv2d", [x], {"kernel": (3, 3)}, params, {"weight": W4, "bias": B8})
    return b.build([d])


def maxpool_graph() -> Graph:
    """A 3x3 stride-1 max pool (Inception's pool branch), which hls4ml cannot stream."""
    b = GraphBuilder("mp")
    x = b.input("inp", (4, 4, 2), S8)
    m = b.add("mp", "maxpool", [x], {"pool": (3, 3), "stride": (1, 1)})
    return b.build([m])


# --------------------------------------------------------------------------------------------------
# conversion (no compile)
# --------------------------------------------------------------------------------------------------


def _ptype(precision) -> tuple[bool, int, int]:
    return (bool(precision.signed), int(precision.width), int(precision.integer))


def _ftype(t: FixedType) -> tuple[bool, int, int]:
    return (t.signed, t.width, t.integer)


@pytest.mark.parametrize("io_type", IO_TYPES)
def test_every_layer_type_is_the_graphs(io_type, tmp_path):
    """Result, accumulator, weight and bias types of every hls4ml layer equal the Graph's; no default is left."""
    from accel.hls import convert

    graph = gaps_graph()
    hm = convert(None, graph, io_type=io_type, output_dir=tmp_path)
    lowered = hm.accel_lowered
    seen = set()
    for layer in hm.get_layers():
        prec = layer.get_output_variable().type.precision
        assert (prec.width, prec.integer) != (2, 1), f"{layer.name} kept the model-wide default type"
        tensor = lowered.tensor_of_layer.get(layer.name)
        if tensor is None:
            continue
        seen.add(tensor)
        spec = graph.tensors[tensor]
        assert _ptype(prec) == _ftype(spec.dtype), layer.name
        if tensor in graph.inputs:
            continue
        node = graph.node(tensor)
        if node.op in ("quantize", "avgpool", "global_avgpool"):
            assert str(prec.rounding_mode) == node.attrs["rounding"].value.replace("AP_", ""), layer.name
            assert str(prec.saturation_mode) == node.attrs["overflow"].value.replace("AP_", ""), layer.name
        if node.op in ("conv2d", "depthwise_conv2d"):
            assert _ptype(layer.get_attr("accum_t").precision) == _ftype(spec.dtype), layer.name
            assert _ptype(layer.get_weights("weight").type.precision) == _ftype(node.param_types["weight"])
            assert _ptype(layer.get_weights("bias").type.precision) == _ftype(node.param_types["bias"])
    assert seen == set(graph.tensors), "every Graph tensor has an hls4ml layer"


def test_reuse_factor_and_strategy(tmp_path):
    from accel.hls import convert

    hm = convert(None, gaps_graph(), io_type="io_parallel", strategy="Resource", reuse_factor=2,
                 layer_reuse={"pw": 4}, output_dir=tmp_path)  # fmt: skip
    layers = {layer.name: layer for layer in hm.get_layers()}
    assert layers["pw"].get_attr("reuse_factor") == 4
    assert layers["grouped"].get_attr("reuse_factor") == 2
    assert layers["pw"].get_attr("strategy").lower() == "resource"
    hm = convert(None, gaps_graph(), io_type="io_stream", output_dir=tmp_path / "b")
    assert {layer.name: layer for layer in hm.get_layers()}["pw"].get_attr("strategy").lower() == "latency"


def test_rewrites_are_used(tmp_path):
    """The gaps graph lowers to accel's layers where hls4ml has none or is wrong."""
    from accel.hls import convert

    hm = convert(None, gaps_graph(), io_type="io_stream", output_dir=tmp_path)
    kinds = {layer.name: layer.class_name for layer in hm.get_layers()}
    assert kinds["gap"] == "AccelAvgPool" and kinds["avg2"] == "AccelAvgPool"
    assert kinds["max3"] == "AccelMaxPool"
    assert kinds["dw_mult2"] == "Conv2D"  # depth multiplier 2 as a block-diagonal conv
    assert "add3__part1" in kinds and "cat3__part1" in kinds


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"io_type": "io_serial"}, "io type"),
        ({"strategy": "Fast"}, "strategy"),
        ({"reuse_factor": 0}, "reuse factor"),
        ({"layer_reuse": {"nope": 2}}, "not a node"),
    ],
)
def test_bad_settings_are_refused(kwargs, words, tmp_path):
    from accel.hls import convert

    with pytest.raises(AccelError, match=words):
        convert(None, gaps_graph(), output_dir=tmp_path, **kwargs)


def test_wide_weights_are_refused(tmp_path):
    from accel.hls import convert

    b = GraphBuilder("wide")
    x = b.input("inp", (1, 1, 2), S8)
    wide = FixedType(True, 60, 1)
    d = b.add("d", "conv2d", [x], {"kernel": (1, 1)},
              {"weight": np.array([[[[1], [2]]]]), "bias": np.array([0])}, {"weight": wide, "bias": B8})  # fmt: skip
    with pytest.raises(AccelError, match="53 bits"):
        convert(None, b.build([d]), output_dir=tmp_path)


def test_hls4ml_keras_parser_has_no_qdepthwise_batchnorm():
    """Why accel lowers the Graph (batch-norm already folded) instead of the Keras model."""
    import hls4ml

    import models

    model = models.build("mobilenet_v2_block")
    assert any(type(layer).__name__ == "QDepthwiseConv2DBatchnorm" for layer in model.layers)
    with pytest.raises(Exception, match="QDepthwiseConv2DBatchnorm"):
        hls4ml.utils.config_from_keras_model(model, granularity="name")


# --------------------------------------------------------------------------------------------------
# C simulation
# --------------------------------------------------------------------------------------------------


def _small_names() -> list[str]:
    import models

    return models.small_names()


def _mlperf_tiny_names() -> tuple[str, ...]:
    import models

    return models.MLPERF_TINY


def _check_zoo_model(name: str, io_type: str, samples: int, out_dir: Path) -> None:
    """Compile ``name``'s C simulation once and compare ``samples`` random frames with the reference."""
    import models
    from accel.frontend import to_graph
    from accel.hls import verify_against_hls

    model = models.build(name)
    graph = to_graph(model, name)
    result = verify_against_hls(model, graph, samples, io_type=io_type, output_dir=out_dir)
    assert result.against == "hls" and result.samples == samples
    assert result.mismatches == 0, result.first_divergence
    assert result.mismatched_values == 0 and result.first_divergence is None


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("io_type", IO_TYPES)
@pytest.mark.parametrize("name", _small_names())
def test_zoo_model_is_exact(name, io_type, tmp_path):
    _check_zoo_model(name, io_type, SAMPLES, tmp_path)


#: the MLPerf Tiny models (millions of MACs): io_stream only, one C simulation build each, 20 frames (the issue's
#: check).  io_parallel unrolls every layer into one function: hls4ml's firmware for a 96x96 input is far too
#: large for g++ to compile in a test run, and no xc7z020 build of these would use it.
MLPERF_TINY_SAMPLES = 20


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("name", _mlperf_tiny_names())
def test_mlperf_tiny_model_is_exact_in_io_stream(name, tmp_path):
    _check_zoo_model(name, "io_stream", MLPERF_TINY_SAMPLES, tmp_path)


@pytest.mark.hls
@pytest.mark.parametrize("io_type, strategy", [("io_stream", "Latency"), ("io_parallel", "Latency"),
                                               ("io_parallel", "Resource")])  # fmt: skip
def test_gaps_graph_is_exact(io_type, strategy, tmp_path):
    from accel.hls.verify import compare, compile_model

    graph = gaps_graph()
    hm, _ = compile_model(None, graph, io_type, tmp_path, strategy=strategy, reuse_factor=2)
    result = compare(hm, graph, SAMPLES)
    assert result.mismatches == 0, result.first_divergence
    # and the per-layer trace agrees with the reference on every node, not only the output
    from accel.hls.verify import first_divergence

    assert first_divergence(hm, graph, random_inputs(graph, 8, 3)) is None


@pytest.mark.hls
def test_hls4ml_average_pooling_is_wrong_and_the_divergence_is_named(tmp_path):
    """Gap: hls4ml divides the sum with ap_fixed (truncating) and rounds again; accel's kernel rounds once.

    Even with an exact sum accumulator, hls4ml's own pooling differs; the trace names the first
    average pool, its index and both values.
    """
    from accel.hls.verify import compare, compile_model

    graph = gaps_graph()
    hm, _ = compile_model(None, graph, "io_parallel", tmp_path, disable_workarounds=("avgpool",))
    result = compare(hm, graph, SAMPLES)
    assert result.mismatches > 0
    first = result.first_divergence
    assert first["node"] == "avg2" and first["layer"] == "avg2"
    sample, h, w, c = first["index"]
    raw = random_inputs(graph, SAMPLES, 0)[sample : sample + 1]
    expected = execute(graph, raw, trace=True).tensors["avg2"][0, h, w, c]
    assert first["expected"] == float(S8.to_float(expected))
    assert first["got"] != first["expected"]


def _run_native(
    graph_expr: str, io_type: str, strategy: str, disable: str, tmp_path: Path
) -> subprocess.CompletedProcess:
    """Compile and run hls4ml without one workaround in a child process (hls4ml's asserts abort it)."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'tests')!r})
        from test_hls import *
        from accel.hls.verify import compile_model, compare
        graph = {graph_expr}
        hm, _ = compile_model(None, graph, {io_type!r}, {str(tmp_path)!r}, strategy={strategy!r},
                              disable_workarounds=({disable!r},))
        r = compare(hm, graph, 20)
        print("MISMATCHES", r.mismatches)
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.hls
@pytest.mark.parametrize(
    "graph_expr, io_type, strategy, disable, message",
    [
        ("depthwise_graph(2)", "io_parallel", "Latency", "depthwise", "only a depth multiplier of 1"),
        ("depthwise_graph(1)", "io_parallel", "Resource", "depthwise", "Resource strategy for DepthwiseConv2D"),
        ("maxpool_graph()", "io_stream", "Latency", "maxpool", "pool_height == CONFIG_T::stride_height"),
    ],
)
def test_hls4ml_alone_aborts(graph_expr, io_type, strategy, disable, message, tmp_path):
    """Gaps where hls4ml's C simulation aborts; accel's rewrite of the same graph is exact."""
    from accel.hls.verify import compare, compile_model

    native = _run_native(graph_expr, io_type, strategy, disable, tmp_path / "native")
    assert native.returncode != 0 and message in native.stderr, native.stderr[-2000:]
    graph = eval(graph_expr)  # noqa: S307  (one of the three builders above)
    hm, _ = compile_model(None, graph, io_type, tmp_path / "accel", strategy=strategy)
    assert compare(hm, graph, SAMPLES).mismatches == 0


def small_qkeras_model():
    """QActivation input -> QConv2D 3x3 -> ReLU -> QDepthwiseConv2D -> QConv2D 1x1 -> residual add -> GAP."""
    from qkeras import QActivation, QConv2D, QDepthwiseConv2D, quantized_bits, quantized_relu
    from tensorflow import keras

    keras.utils.set_random_seed(3)
    kq, bq = quantized_bits(4, 0, alpha=1), quantized_bits(8, 3, alpha=1)
    inp = keras.Input((6, 6, 3), name="frame")  # hls4ml reserves the zoo's input layer name 'input'
    x = QActivation(quantized_bits(8, 0, alpha=1), name="in_q")(inp)
    x = QConv2D(4, 3, padding="same", kernel_quantizer=kq, bias_quantizer=bq, bias_initializer="he_normal",
                name="c1")(x)  # fmt: skip
    x = skip = QActivation(quantized_relu(6, 2), name="c1_relu")(x)
    x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=kq, bias_quantizer=bq, name="dw")(x)
    x = QActivation(quantized_bits(8, 3, alpha=1), name="dw_q")(x)
    x = QConv2D(4, 1, kernel_quantizer=kq, bias_quantizer=bq, name="pw")(x)
    x = QActivation(quantized_bits(8, 3, alpha=1), name="pw_q")(x)
    x = keras.layers.Add(name="res")([x, skip])
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = QActivation(quantized_bits(8, 3, alpha=1), name="out_q")(x)
    return keras.Model(inp, x)


@pytest.mark.hls
def test_hls4ml_default_keras_conversion_is_not_exact(tmp_path):
    """Gap: hls4ml's default types (fixed<16,6>, wrapping) are not QKeras'; accel's conversion of the same
    model is exact."""
    import hls4ml

    from accel.frontend import to_graph
    from accel.hls import verify_against_hls
    from accel.hls.verify import float_view

    model = small_qkeras_model()
    graph = to_graph(model, "small")
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    hm = hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path),
                                                    io_type="io_parallel")  # fmt: skip
    hm.compile()
    raw = random_inputs(graph, SAMPLES, 0)
    out = np.asarray(hm.predict(float_view(graph, raw))).reshape(SAMPLES, -1)
    ref = execute(graph, raw).outputs[graph.outputs[0]].reshape(SAMPLES, -1)
    exact = out == graph.tensors[graph.outputs[0]].dtype.to_float(ref)
    assert not exact.all()
    result = verify_against_hls(model, graph, SAMPLES, io_type="io_parallel", output_dir=tmp_path / "accel")
    assert result.mismatches == 0, result.first_divergence


@pytest.mark.hls
@pytest.mark.parametrize("kernel,stride,shape", [((1, 2), (2, 2), (5, 4, 3)), ((3, 1), (1, 3), (6, 7, 2)),
                                                 ((2, 1), (3, 2), (7, 5, 2))])  # fmt: skip
def test_streaming_conv_with_a_kernel_smaller_than_its_stride(kernel, stride, shape) -> None:
    """hls4ml's streaming conv left the skipped rows in its stream when a kernel side is below its stride (found by
    the fuzzer, seed 1007921: a 1x2 stride-2 conv); the HLS lowering extends the kernel with zero taps."""
    from accel.hls import verify_against_hls

    rng = np.random.default_rng(7)
    x_type, w_type, b_type = FixedType(True, 6, 2), FixedType(True, 4, 1), FixedType(True, 8, 3)
    b = GraphBuilder(f"conv_k{kernel[0]}{kernel[1]}_s{stride[0]}{stride[1]}")
    x = b.input("x", shape, x_type)
    w = rng.integers(w_type.min_raw, w_type.max_raw + 1, (*kernel, shape[2], 4))
    c = b.add("c", "conv2d", [x], {"kernel": kernel, "stride": stride},
              {"weight": w, "bias": rng.integers(b_type.min_raw, b_type.max_raw + 1, 4)},
              {"weight": w_type, "bias": b_type})  # fmt: skip
    r = verify_against_hls(None, b.build([c]), 8, io_type="io_stream")
    assert r.mismatches == 0, r.to_json()["first_divergence"]
