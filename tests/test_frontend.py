"""QKeras frontend: every supported layer kind converts and matches QKeras exactly; quantizers match QKeras on
dense float grids; every unsupported input is refused with a sentence naming the layer or file."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QAveragePooling2D,
    QBatchNormalization,
    QConv2D,
    QConv2DBatchnorm,
    QDense,
    QDepthwiseConv2D,
    QDepthwiseConv2DBatchnorm,
    QGlobalAveragePooling2D,
    QSeparableConv2D,
    quantized_bits,
    quantized_relu,
)

from accel import AccelError  # noqa: E402
from accel.fixed import FixedType, quantize  # noqa: E402
from accel.frontend import AccelPrecisionWarning, load_graph, load_keras, to_graph  # noqa: E402
from accel.frontend.quantizers import activation_requant  # noqa: E402
from accel.reference import execute  # noqa: E402
from accel.verify import keras_to_raw, random_inputs, verify_against_qkeras  # noqa: E402

L = tf.keras.layers
SAMPLES = 200


def kq(bits: int = 6, integer: int = 0, alpha="1") -> quantized_bits:
    return quantized_bits(bits, integer, alpha=1 if alpha == "1" else alpha)


def bq(bits: int = 8, integer: int = 2) -> quantized_bits:
    return quantized_bits(bits, integer, alpha=1)


def randomize(model: tf.keras.Model, seed: int) -> None:
    """Non-trivial weights, biases and batch-norm statistics."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if not w.dtype.is_floating:
            continue
        name = w.name
        if "moving_variance" in name:
            v = rng.uniform(0.3, 3.0, w.shape)
        elif "gamma" in name:
            v = rng.uniform(0.5, 1.5, w.shape)
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            v = rng.normal(0, 0.5, w.shape)
        else:
            v = rng.normal(0, 0.4, w.shape)
        w.assign(v.astype(np.float32))


def model_of(shape, body, seed: int = 0, in_q=None) -> tf.keras.Model:
    x = tf.keras.Input(shape)
    h = QActivation(in_q or quantized_bits(8, 2, alpha=1), name="inq")(x)
    m = tf.keras.Model(x, body(h))
    randomize(m, seed)
    return m


def assert_exact(model: tf.keras.Model, samples: int = SAMPLES):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccelPrecisionWarning)
        graph = to_graph(model)
    result = verify_against_qkeras(model, graph, samples, seed=1)
    assert result.samples == samples
    assert result.mismatches == 0, result.first_divergence
    out = execute(graph, random_inputs(graph, 64, 2)).outputs[graph.outputs[0]]
    assert len(np.unique(out)) > 2, "degenerate test model: outputs are (almost) constant"
    return graph


# -- every supported layer kind matches QKeras ----------------------------------------


def conv_variants(h):
    """Strides, 'same'/'valid', non-square kernels, 1x1, with and without fused activations."""
    h = QConv2D(8, 3, strides=2, padding="same", kernel_quantizer=kq(), bias_quantizer=bq(),
                activation=quantized_relu(6, 2), name="c_same_s2")(h)  # fmt: skip
    h = QConv2D(8, (5, 3), padding="valid", kernel_quantizer=kq(4), bias_quantizer=bq(), name="c_valid")(h)
    h = QActivation(quantized_bits(8, 3, alpha=1), name="qb")(h)
    h = QConv2D(8, 1, kernel_quantizer=kq(), use_bias=False, activation="quantized_relu(4,0)", name="pw")(h)
    h = QConv2D(8, 3, strides=(2, 1), padding="same", kernel_quantizer=kq(), bias_quantizer=bq(), name="c_s21")(h)
    return QActivation("quantized_relu(8,2)", name="qr")(h)


def grouped_conv(h):
    h = QConv2D(8, 3, groups=4, kernel_quantizer=kq(), bias_quantizer=bq(), activation=quantized_relu(6, 2))(h)
    h = QConv2D(6, 1, groups=2, kernel_quantizer=kq(), use_bias=False)(h)
    return QActivation("quantized_bits(8,3,alpha=1)")(h)


def depthwise_mult2_auto_po2(h):
    dq = quantized_bits(4, 0, alpha="auto_po2")
    return QDepthwiseConv2D(3, padding="same", depth_multiplier=2, depthwise_quantizer=dq, bias_quantizer=bq(),
                            activation=quantized_relu(6, 2))(h)  # fmt: skip


def separable(h):
    act = quantized_relu(6, 2)
    return QSeparableConv2D(6, 3, strides=2, padding="same", depth_multiplier=2, depthwise_quantizer=kq(5),
                            pointwise_quantizer=kq(5), bias_quantizer=bq(), activation=act)(h)  # fmt: skip


def dense_flatten(h):
    h = QDense(12, kernel_quantizer=kq(), bias_quantizer=bq())(L.Flatten()(h))
    h = QActivation(quantized_relu(6, 1))(h)
    return QDense(7, kernel_quantizer=kq(), bias_quantizer=bq())(h)


def dense_last_axis_dropout(h):
    return QDense(5, kernel_quantizer=kq(), bias_quantizer=bq(), activation="relu")(L.Dropout(0.5)(h))


def conv_bn(h):
    return QConv2DBatchnorm(6, 3, padding="same", kernel_quantizer=kq(6, 1), bias_quantizer=bq(10, 3),
                            activation=quantized_relu(6, 2))(h)  # fmt: skip


def conv_bn_nobias_s2(h):
    kernel_q = quantized_bits(6, 1, alpha="auto_po2")
    return QConv2DBatchnorm(4, 3, strides=2, use_bias=False, kernel_quantizer=kernel_q, bias_quantizer=bq(10, 3))(h)


def depthwise_bn(h):
    return QDepthwiseConv2DBatchnorm(3, padding="same", depth_multiplier=2, depthwise_quantizer=kq(6, 1),
                                     bias_quantizer=bq(10, 3), activation=quantized_bits(8, 3, alpha=1))(h)  # fmt: skip


def maxpool_same(h):
    return L.Concatenate()([L.MaxPooling2D(3, strides=2, padding="same")(h), L.MaxPooling2D(2, padding="same")(h)])


def gap_5x3_fused_relu(h):
    h = QActivation(quantized_relu(6, 1))(L.GlobalAveragePooling2D()(h))
    return QDense(4, kernel_quantizer=kq(), bias_quantizer=bq())(h)


def global_max_dense(h):
    h = QConv2D(4, 3, kernel_quantizer=kq(), bias_quantizer=bq(), activation=quantized_bits(6, 2, alpha=1))(h)
    return QDense(3, kernel_quantizer=kq(), bias_quantizer=bq())(L.GlobalMaxPooling2D()(h))


def add_pad_upsample(h):
    up = L.UpSampling2D(2)(L.MaxPooling2D(2)(h))
    conv = QConv2D(4, 3, kernel_quantizer=kq(), bias_quantizer=bq(), activation=quantized_relu(5, 1))
    return L.Add()([up, conv(L.ZeroPadding2D(((1, 1), (2, 0)))(h))])


def reshape(h):
    return QDense(3, kernel_quantizer=kq(), bias_quantizer=bq())(L.Reshape((8, 6))(h))


def channel_shuffle(h):
    return L.Reshape((4, 4, 8))(L.Permute((1, 2, 4, 3))(L.Reshape((4, 4, 2, 4))(h)))


def activations(h):
    h = L.Activation("relu")(QConv2D(4, 1, kernel_quantizer=kq(), bias_quantizer=bq())(h))
    return L.Activation("linear")(L.ReLU()(QActivation("relu")(h)))


CASES = {
    "conv": ((12, 10, 3), conv_variants),
    "grouped_conv": ((6, 6, 8), grouped_conv),
    "depthwise_mult2_auto_po2": ((8, 8, 4), depthwise_mult2_auto_po2),
    "separable": ((8, 8, 4), separable),
    "dense_flatten": ((4, 4, 2), dense_flatten),
    "dense_last_axis_dropout": ((5, 4, 6), dense_last_axis_dropout),
    "conv_bn": ((8, 8, 3), conv_bn),
    "conv_bn_nobias_s2": ((9, 9, 3), conv_bn_nobias_s2),
    "depthwise_bn": ((8, 8, 4), depthwise_bn),
    "maxpool_same": ((7, 9, 3), maxpool_same),
    "maxpool_valid": ((8, 8, 3), lambda h: L.MaxPooling2D((2, 3), strides=(2, 1))(h)),
    "avgpool_po2": ((8, 8, 3), lambda h: L.AveragePooling2D(2)(h)),
    "avgpool_3x3_fused": ((9, 9, 3), lambda h: QActivation(quantized_bits(6, 2, alpha=1))(L.AveragePooling2D(3)(h))),
    "gap_po2_keepdims": ((4, 4, 5), lambda h: L.GlobalAveragePooling2D(keepdims=True)(h)),
    "gap_5x3_fused_relu": ((5, 3, 6), gap_5x3_fused_relu),
    "global_max_signed_dense": ((7, 5, 3), global_max_dense),
    "global_max_keepdims": ((4, 6, 5), lambda h: L.GlobalMaxPooling2D(keepdims=True)(h)),
    "add_pad_upsample": ((6, 6, 4), add_pad_upsample),
    "reshape": ((4, 6, 2), reshape),
    "channel_shuffle": ((4, 4, 8), channel_shuffle),
    "activations": ((6, 6, 4), activations),
    "qavgpool_3x3_own_activation": ((6, 6, 3), lambda h: QAveragePooling2D(3, activation=quantized_relu(6, 1))(h)),
    "qavgpool_2x2_quantizer": ((6, 6, 3), lambda h: QAveragePooling2D(
        2, average_quantizer=quantized_bits(8, 0, alpha=1), activation=quantized_bits(6, 1, alpha=1))(h)),
    "qgap_3x2": ((3, 2, 5), lambda h: QGlobalAveragePooling2D(activation=quantized_bits(8, 2, alpha=1))(h)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_kind_matches_qkeras(case: str) -> None:
    shape, body = CASES[case]
    assert_exact(model_of(shape, body, seed=len(case)))


@pytest.mark.parametrize(
    "in_q",
    [quantized_bits(6, 2, symmetric=1, alpha=1), quantized_relu(7, 2), quantized_bits(5, 1, keep_negative=0)],
    ids=["symmetric", "relu", "unsigned"],
)
def test_input_quantizer_kinds(in_q) -> None:
    m = model_of((5, 5, 3), lambda h: QConv2D(4, 3, kernel_quantizer=kq(), bias_quantizer=bq())(h), in_q=in_q)
    graph = assert_exact(m)
    assert graph.tensors[graph.inputs[0]].dtype.signed == bool(getattr(in_q, "keep_negative", 0))


def test_sequential_model_and_vector_input() -> None:
    m = tf.keras.Sequential([
        tf.keras.Input((10,)), QActivation(quantized_bits(8, 1, alpha=1), name="inq"),
        QDense(6, kernel_quantizer=kq(), bias_quantizer=bq(), activation=quantized_relu(6, 2)),
        QDense(3, kernel_quantizer=kq(), bias_quantizer=bq()),
    ])  # fmt: skip
    randomize(m, 3)
    graph = assert_exact(m)
    assert graph.tensors[graph.inputs[0]].shape == (1, 1, 10)


def test_node_names_sources_and_input_named_after_qactivation() -> None:
    m = model_of((6, 6, 3), lambda h: QSeparableConv2D(4, 3, depthwise_quantizer=kq(), pointwise_quantizer=kq(),
                                                       bias_quantizer=bq(), activation="quantized_relu(4,1)",
                                                       name="sep")(h))  # fmt: skip
    g = to_graph(m, name="n")
    assert g.name == "n" and g.inputs == ("inq",)
    assert [(n.name, n.op, n.source, n.matches_source) for n in g.nodes] == [
        ("sep_dw", "depthwise_conv2d", "sep", False),
        ("sep_pw", "conv2d", "sep", False),
        ("sep", "quantize", "sep", True),
    ]
    assert g.tensors["sep"].dtype == FixedType(False, 4, 1)


def test_auto_po2_weights_are_qkeras_values_exactly() -> None:
    m = model_of((6, 6, 4), lambda h: QConv2D(8, 3, kernel_quantizer=quantized_bits(4, 0, alpha="auto_po2"),
                                              bias_quantizer=bq(), name="c")(h))  # fmt: skip
    layer = m.get_layer("c")
    layer.kernel.assign(layer.kernel * np.float32(2.0) ** np.arange(-3, 5, dtype=np.float32))  # spread the scales
    g = to_graph(m)
    node = g.node("c")
    qk = layer.kernel_quantizer_internal(layer.kernel).numpy()
    assert np.array_equal(node.param_types["weight"].to_float(node.params["weight"]), qk.astype(np.float64))
    assert len({float(s) for s in np.abs(qk).max(axis=(0, 1, 2))}) > 3  # really per-channel scales
    assert verify_against_qkeras(m, g, SAMPLES).mismatches == 0


def test_h5_round_trip(tmp_path) -> None:
    m = model_of((6, 6, 3), lambda h: QDepthwiseConv2DBatchnorm(3, depthwise_quantizer=kq(6, 1),
                                                                bias_quantizer=bq(10, 3))(h))  # fmt: skip
    path = tmp_path / "m.h5"
    m.save(path)
    model, graph = load_graph(path)
    assert graph.name == "m"
    assert verify_against_qkeras(model, graph, SAMPLES).mismatches == 0
    assert verify_against_qkeras(m, graph, SAMPLES).mismatches == 0  # the file holds the same network


def test_precision_warning_for_wide_accumulators() -> None:
    wide = quantized_bits(16, 0, alpha=1)
    m = model_of((6, 6, 16), lambda h: QConv2D(4, 3, kernel_quantizer=wide, bias_quantizer=bq())(h), in_q=wide)
    with pytest.warns(AccelPrecisionWarning, match="float32"):
        to_graph(m)


# -- quantizers against QKeras on dense grids --------------------------------------------

GRID_FRAC = 10
GRID = np.arange(-40 * 2**GRID_FRAC, 40 * 2**GRID_FRAC + 1, 3) / 2**GRID_FRAC  # steps of 3/1024, ties included
GRID_TYPE = FixedType(True, 18, 8)


@pytest.mark.parametrize(
    "q",
    [
        quantized_bits(8, 3, alpha=1), quantized_bits(4, 0), quantized_bits(6, 2, symmetric=1),
        quantized_bits(5, 1, keep_negative=0), quantized_bits(7, 4, keep_negative=0, symmetric=1),
        quantized_bits(3, 1), quantized_bits(10, 6, alpha=1.0), quantized_bits(6, 7),
        quantized_relu(4, 0), quantized_relu(8, 3), quantized_relu(3, 5), quantized_relu(6, 1),
        "quantized_relu(5,2)", "quantized_bits(6,2,1,alpha=1)",
    ],
    ids=str,
)  # fmt: skip
def test_activation_quantizer_matches_qkeras_on_grid(q) -> None:
    rq = activation_requant(q, "test")
    qobj = QActivation(q).quantizer
    keras_vals = qobj(tf.constant(GRID, dtype=tf.float32)).numpy()
    raw_in = GRID_TYPE.from_float(GRID)
    ours = quantize(np.maximum(raw_in, 0) if rq.relu else raw_in, GRID_TYPE, rq.out_type, rq.rounding, rq.overflow)
    k_raw, ok = keras_to_raw(keras_vals, rq.out_type)
    assert ok.all(), "QKeras produced a value outside the mapped type"
    assert np.array_equal(ours, k_raw)
    assert len(np.unique(k_raw)) > 4


# -- refusals: one sentence naming the layer or file --------------------------------------


def _conv(**kw):
    return lambda h: QConv2D(4, 3, name="bad", **{"kernel_quantizer": kq(), "bias_quantizer": bq(), **kw})(h)


REFUSALS = {
    "unsupported_layer": (lambda h: L.LayerNormalization(name="bad")(h), "not supported; supported layers"),
    # 0.3's 24-bit significand times a 16-bit grid, rounded to float32 (weights set in the test)
    "float_weights_over_32_bits": (_conv(kernel_quantizer=quantized_bits(16, 0, alpha=0.3)), "more than 32 bits"),
    "conv_without_quantizer": (_conv(kernel_quantizer=None), "no quantizer"),
    "keras_conv2d": (lambda h: L.Conv2D(4, 3, name="bad")(h), "no quantizer"),
    "avgpool_same": (lambda h: L.AveragePooling2D(2, padding="same", name="bad")(h), "padding='valid'"),
    "avgpool_3x3_alone": (lambda h: QConv2D(2, 1, kernel_quantizer=kq())(L.AveragePooling2D(3, name="bad")(h)),
                          "not a power of two"),  # fmt: skip
    "gap_3x3_output": (lambda h: L.GlobalAveragePooling2D(name="bad")(L.MaxPooling2D(3, strides=2)(h)),
                       "not a power of two"),  # fmt: skip
    "relu_slope": (lambda h: QActivation(quantized_relu(4, 0, negative_slope=0.25), name="bad")(h), "negative_slope"),
    "separate_bn": (lambda h: QBatchNormalization(name="bad")(QConv2D(4, 1, kernel_quantizer=kq())(h)),
                    "QConv2DBatchnorm"),  # fmt: skip
    "lone_permute": (lambda h: L.Permute((2, 1, 3), name="bad")(h), "channel shuffle"),
    "inexact_bias": (_conv(bias_quantizer=None), "bias without bias_quantizer"),
    "dilation": (_conv(dilation_rate=2), "dilation_rate"),
    "qavgpool_quantizer_3x3": (lambda h: QAveragePooling2D(3, average_quantizer=quantized_bits(8, 0, alpha=1),
                                                           activation=quantized_relu(6, 1), name="bad")(h),
                               "average_quantizer"),  # fmt: skip
    "sigmoid": (lambda h: L.Activation("sigmoid", name="bad")(h), "not supported"),
    "negative_integer_activation": (lambda h: QActivation(quantized_bits(8, -2), name="bad")(h), "negative integer"),
    "negative_integer_relu": (lambda h: QActivation(quantized_relu(8, -1), name="bad")(h), "negative integer"),
    "negative_integer_kernel": (_conv(kernel_quantizer=quantized_bits(8, -1, alpha=1)), "negative integer"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_the_layer(case: str) -> None:
    body, words = REFUSALS[case]
    m = model_of((8, 8, 3), body)
    if case == "inexact_bias":
        m.get_layer("bad").bias.assign(np.array([0.1, 300.7, -5e-6, 2.0], np.float32))
    if case == "float_weights_over_32_bits":  # quantized values 2**11 apart: exponents spread beyond 32 bits
        w = m.get_layer("bad").kernel.numpy()
        w.flat[:2] = [1e-4, 0.29]
        m.get_layer("bad").kernel.assign(w)
    with pytest.raises(AccelError, match="bad") as info:
        to_graph(m)
    assert words in str(info.value)


def test_refuses_model_without_input_quantizer() -> None:
    x = tf.keras.Input((6, 6, 3))
    m = tf.keras.Model(x, QConv2D(4, 3, kernel_quantizer=kq(), name="first")(x))
    with pytest.raises(AccelError, match="layer first .*QActivation"):
        to_graph(m)


def _two_inputs() -> tf.keras.Model:
    left, right = tf.keras.Input((4, 4, 3), name="left"), tf.keras.Input((4, 4, 3), name="right")
    q = quantized_bits(6, 2, alpha=1)
    return tf.keras.Model([left, right], L.Add()([QActivation(q)(left), QActivation(q)(right)]), name="pair")


def _two_outputs() -> tf.keras.Model:
    x = tf.keras.Input((4, 4, 3))
    h = QActivation(quantized_bits(6, 2, alpha=1))(x)
    heads = [QConv2D(2, 1, kernel_quantizer=kq(), bias_quantizer=bq(), name=n)(h) for n in ("left", "right")]
    return tf.keras.Model(x, heads, name="pair")


@pytest.mark.parametrize("make,sentence", [
    (_two_inputs, "model pair has 2 inputs (left, right); supported: a model with exactly one Input, since accel's "
                  "verification and its HLS and RTL designs take one input stream and give one output stream."),
    (_two_outputs, "model pair has 2 outputs (left, right); supported: a model with exactly one output, since "
                   "accel's verification and its HLS and RTL designs take one input stream and give one output "
                   "stream."),
], ids=["two_inputs", "two_outputs"])  # fmt: skip
def test_every_command_refuses_a_model_with_two_inputs_or_outputs(make, sentence: str, tmp_path, capsys) -> None:
    """`inspect` used to show such a graph that `verify` and `build` then refused: now all give the same sentence."""
    from accel.cli import main

    m = make()
    with pytest.raises(AccelError) as info:
        to_graph(m)
    assert str(info.value) == sentence
    path = tmp_path / "pair.h5"
    m.save(path)
    capsys.readouterr()
    build = ["build", "--backend", "rtl", "-o", str(tmp_path / "out")]
    for argv in (["inspect"], ["verify", "--against", "qkeras"], ["verify", "--against", "hls"],
                 ["verify", "--against", "rtl"], build):  # fmt: skip
        assert main([*argv, str(path)]) == 2, argv
        assert capsys.readouterr().err == f"accel: error: {sentence}\n", argv
    assert not (tmp_path / "out").exists()


def test_refuses_bad_files(tmp_path) -> None:
    with pytest.raises(AccelError, match="nope.h5 does not exist"):
        load_keras(tmp_path / "nope.h5")
    text = tmp_path / "text.h5"
    text.write_text("not a model")
    with pytest.raises(AccelError, match="text.h5 is not an HDF5 file"):
        load_keras(text)
    import h5py

    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(AccelError, match="data.h5 .*no Keras model"):
        load_keras(tmp_path / "data.h5")
    with pytest.raises(AccelError, match="is a directory|not a file"):
        load_keras(tmp_path)


@pytest.mark.parametrize("shape", [(None, None, 3), (None, 8, 3)])
def test_refuses_an_input_of_undefined_size(shape: tuple) -> None:
    """A fully convolutional model (Input((None, None, C))) has no size to build hardware for (it was a TypeError)."""
    x = tf.keras.Input(shape, name="img")
    h = QActivation(quantized_bits(8, 0, alpha=1), name="inq")(x)
    m = tf.keras.Model(x, QConv2D(4, 1, kernel_quantizer=kq())(h))
    with pytest.raises(AccelError, match=r"^layer inq has shape \(None, .*an undefined dimension \(None\); "
                                         r"supported: a fixed per-sample shape"):  # fmt: skip
        to_graph(m)


def test_refuses_unbuilt_models_and_non_models() -> None:
    with pytest.raises(AccelError, match="not built"):
        to_graph(tf.keras.Sequential([QActivation(quantized_bits(8, 2))], name="unbuilt"))
    with pytest.raises(AccelError, match="not a Keras model"):
        to_graph("model.h5")


@pytest.mark.parametrize("pool", ["gap", "avg"])
def test_average_of_six_rounds_ties_to_even_like_qkeras(pool: str) -> None:
    """sum/6 on an integer grid is a tie whenever sum = 6k+3: the fused rounding must match tf.round there."""
    integers = quantized_bits(8, 7, alpha=1)
    layer = L.GlobalAveragePooling2D() if pool == "gap" else L.AveragePooling2D((2, 3))
    m = model_of((2, 3, 4), lambda h: QActivation(integers)(layer(h)), in_q=integers)
    g = to_graph(m)
    assert g.nodes[-1].op == ("global_avgpool" if pool == "gap" else "avgpool")
    sums = random_inputs(g, 500, 1).sum(axis=(1, 2))
    assert np.count_nonzero(sums % 6 == 3) > 100  # many exact ties in the sample
    assert verify_against_qkeras(m, g, 500, seed=1).mismatches == 0
