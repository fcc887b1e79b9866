"""binary, ternary and quantized_po2 weights and quantized_relu_po2 / quantized_po2 / binary / ternary activations (as
published QKeras models use them, e.g. hls4ml's own QKeras tests): QKeras's quantized weights are taken exactly, the
activations become accel's threshold op tabulated from QKeras, and models with them are exact against QKeras (the
activations on every value of their input type), the hls4ml C simulation and the RTL co-simulation.  The settings
with no deterministic or narrow result are refused in one sentence (the stochastic variants, deterministic at
inference, are tested in test_inference_stochastic.py; float scales such as alpha='auto' in
test_float_scaled_weights.py)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import json  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QConv2D,
    QDense,
    QDepthwiseConv2D,
    QSeparableConv2D,
    binary,
    quantized_bits,
    quantized_po2,
    quantized_relu,
    quantized_relu_po2,
    ternary,
)

from accel import AccelError  # noqa: E402
from accel.fixed import FixedType  # noqa: E402
from accel.frontend import AccelPrecisionWarning, to_graph  # noqa: E402
from accel.reference import execute  # noqa: E402
from accel.verify import keras_to_raw, random_inputs, verify_against_qkeras  # noqa: E402
from tests.test_frontend import model_of  # noqa: E402

L = tf.keras.layers
BQ = quantized_bits(8, 2, alpha=1)


def _sign(w: np.ndarray) -> np.ndarray:
    """QKeras's binary/po2 sign: tf.sign with 0 taken as +1."""
    return np.where(w >= 0, 1.0, -1.0)


def _po2(w: np.ndarray, lo: int, hi: int, max_value: float | None) -> np.ndarray:
    """quantized_po2 by its definition: sign * 2**clip(round(log2 |w|), lo, hi), |w| first clipped to max_value."""
    a = np.abs(w.astype(np.float64))
    if max_value is not None:
        a = np.minimum(a, max_value)
    e = np.where(a < 1e-7, lo, np.clip(np.round(np.log2(np.maximum(a, 1e-7))), lo, hi))
    return _sign(w) * 2.0**e


def _ternary(w: np.ndarray, threshold: float) -> np.ndarray:
    """ternary with a numeric alpha by its definition: sign where |w| >= threshold (a float32 constant), else 0."""
    return np.where(np.abs(w) >= np.float32(threshold), _sign(w), 0.0)


# quantizer -> (its values by definition for float32 weights w, the narrowest exact type of those values); binary and
# ternary need an explicit alpha here: with alpha=None a QKeras layer switches them to 'auto_po2' (tested below)
DEFINITIONS = {
    "binary_alpha_1": (lambda: binary(alpha=1), _sign, "ap_fixed<2,2>"),
    "binary_01_alpha_1": (lambda: binary(use_01=True, alpha=1), lambda w: (w >= 0).astype(float), "ap_ufixed<1,1>"),
    "binary_alpha_quarter": (lambda: binary(alpha=0.25), lambda w: 0.25 * _sign(w), "ap_fixed<2,0>"),
    "ternary_alpha_1": (lambda: ternary(alpha=1), lambda w: _ternary(w, 0.33), "ap_fixed<2,2>"),
    "ternary_alpha_1_threshold_half": (lambda: ternary(alpha=1, threshold=0.5), lambda w: _ternary(w, 0.5),
                                       "ap_fixed<2,2>"),  # fmt: skip
    "ternary_alpha_2": (lambda: ternary(alpha=2), lambda w: 2 * _ternary(w, 0.33), "ap_fixed<2,3>"),
    # quantized_bits(4, 0) is clip(round(8 w), -8, 7) / 8; a numeric alpha multiplies it
    "bits_alpha_half": (lambda: quantized_bits(4, 0, alpha=0.5), lambda w: 0.5 * np.clip(np.round(w * 8), -8, 7) / 8,
                        "ap_fixed<4,0>"),  # fmt: skip
    # bits=4, max_value=1: 3 exponent bits without a sign bit (max_value <= 1), exponents -8..7, clipped at 1
    "po2_4_max_1": (lambda: quantized_po2(4, 1), lambda w: _po2(w, -8, 7, 1.0), "ap_fixed<10,2>"),
    # bits=4, no max_value: an exponent sign bit, exponents -4..3
    "po2_4": (lambda: quantized_po2(4), lambda w: _po2(w, -4, 3, None), "ap_fixed<8,4>"),
}


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_quantized_weights_are_qkeras_values_in_the_narrowest_exact_type(name: str) -> None:
    """The Graph's weights are QKeras's quantized kernel, value for value, in the narrowest type that holds it."""
    make_q, definition, hls_type = DEFINITIONS[name]
    m = model_of((4, 4, 8), lambda h: QConv2D(16, 1, kernel_quantizer=make_q(), use_bias=False, name="c")(h))
    w = m.get_layer("c").kernel.numpy()
    w[0, 0, 0, :4] = [0.0, 3.0, -3.0, 1e-9]  # zero, beyond any clip, tiny
    w *= np.float32(1.5)  # spread the weights over more exponents
    m.get_layer("c").kernel.assign(w)
    node = to_graph(m).node("c")
    t = node.param_types["weight"]
    assert t.hls == hls_type
    expected = definition(w)
    assert np.array_equal(t.to_float(node.params["weight"]), expected)
    assert len(np.unique(expected)) >= (2 if name.startswith("binary") else 3)


AUTO_PO2 = {"binary": binary, "binary_01": lambda: binary(use_01=True), "ternary": ternary,
            "ternary_auto_po2": lambda: ternary(alpha="auto_po2")}


@pytest.mark.parametrize("name", sorted(AUTO_PO2))
def test_alpha_none_in_a_layer_is_one_power_of_two_per_channel(name: str) -> None:
    """A QKeras layer turns alpha=None into 'auto_po2' (``_set_trainable_parameter``): each output channel is scaled
    by a power of two QKeras fits, so every weight of a channel is 0 or +-that power of two."""
    m = model_of((4, 4, 8), lambda h: QConv2D(6, 1, kernel_quantizer=AUTO_PO2[name](), use_bias=False, name="c")(h))
    node = to_graph(m).node("c")
    v = node.param_types["weight"].to_float(node.params["weight"]).reshape(-1, 6)
    for c in range(6):
        mags = np.unique(np.abs(v[:, c][v[:, c] != 0]))
        assert mags.size == 1 and np.frexp(mags[0])[0] == 0.5, (c, mags)
    assert node.param_types["weight"].width <= 4


def pw_binary(h):
    h = QConv2D(8, 1, kernel_quantizer=binary(), bias_quantizer=BQ, activation=quantized_relu(6, 2), name="pw_bin")(h)
    return QConv2D(6, 1, kernel_quantizer=binary(use_01=True, alpha="auto_po2"), use_bias=False,
                   activation=quantized_bits(8, 4, alpha=1), name="pw_01")(h)  # fmt: skip


def dw_ternary(h):
    h = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=ternary(), bias_quantizer=quantized_po2(4, 1),
                         activation=quantized_bits(8, 3, alpha=1), name="dw_ter")(h)  # fmt: skip
    return QDepthwiseConv2D(3, depthwise_quantizer=ternary(alpha="auto_po2"), bias_quantizer=BQ,
                            activation=quantized_relu(8, 3), name="dw_auto")(h)  # fmt: skip


def dense_po2(h):
    h = QConv2D(4, 1, kernel_quantizer=quantized_po2(4, 1), bias_quantizer=BQ, activation=quantized_relu(6, 2))(h)
    h = L.Flatten()(h)
    return QDense(5, kernel_quantizer=quantized_po2(5), bias_quantizer=quantized_po2(4), name="fc_po2")(h)


def separable_mixed(h):
    return QSeparableConv2D(6, 3, padding="same", depthwise_quantizer=quantized_po2(4, 1),
                            pointwise_quantizer=ternary(alpha=1), bias_quantizer=BQ,
                            activation=quantized_relu(8, 3), name="sep")(h)  # fmt: skip


def po2_activations(h):
    h = QConv2D(8, 1, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=BQ,
                activation=quantized_relu_po2(4, 4), name="pw_relu_po2")(h)  # fmt: skip
    h = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=BQ)(h)
    h = QActivation(quantized_po2(4, 2), name="po2")(h)
    h = QConv2D(6, 1, kernel_quantizer=ternary(alpha=1), use_bias=False)(h)
    h = QActivation(binary(alpha=1), name="sign")(h)
    h = QConv2D(6, 1, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=BQ)(h)
    h = QActivation(ternary(), name="ter")(h)
    return QConv2D(5, 1, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=BQ,
                   activation=quantized_relu_po2(5), name="head")(h)  # fmt: skip


def dense_string_quantizers(h):
    """hls4ml's test_qactivation_kwarg and test_btnn forms: quantizers given as strings, binary/ternary biases."""
    h = L.Flatten()(h)
    h = QDense(10, activation="binary", kernel_quantizer="binary", bias_quantizer="binary", name="fc_bin")(h)
    h = QDense(10, activation="ternary", kernel_quantizer="ternary", bias_quantizer="ternary", name="fc_ter")(h)
    h = QDense(10, kernel_quantizer=ternary(alpha=1), bias_quantizer=quantized_bits(5, 2), name="fc_t1")(h)
    return QActivation("binary_tanh", name="btanh")(h)


MODELS = {"pw_binary": pw_binary, "dw_ternary": dw_ternary, "dense_po2": dense_po2, "separable_mixed": separable_mixed,
          "po2_activations": po2_activations, "dense_string_quantizers": dense_string_quantizers}


def _graph(name: str, seed: int = 0):
    m = model_of((6, 6, 3), MODELS[name], seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccelPrecisionWarning)  # no tensor beyond float32's exact range
        return m, to_graph(m)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_are_exact_against_qkeras(name: str) -> None:
    m, g = _graph(name)
    r = verify_against_qkeras(m, g, 500, seed=1)
    assert (r.samples, r.mismatches) == (500, 0), r.first_divergence
    out = execute(g, random_inputs(g, 64, 2)).outputs[g.outputs[0]]
    assert len(np.unique(out.reshape(len(out), -1), axis=0)) > 16, "degenerate test model: few distinct outputs"


def test_cli_verify_of_a_saved_model(tmp_path: Path, capsys) -> None:
    """The quantizers survive an .h5 round trip (QKeras's custom objects) and `accel verify --json` is exact."""
    from accel.cli import main

    m, _ = _graph("pw_binary")
    path = tmp_path / "binary.h5"
    m.save(path)
    capsys.readouterr()
    code = main(["verify", str(path), "--against", "qkeras", "--samples", "200", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert (code, result["samples"], result["mismatches"]) == (0, 200, 0)


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_are_exact_against_hls(name: str, tmp_path: Path) -> None:
    """hls4ml gets the weights as fixed-point values with their exact precision (no BinaryQuantizer/XNOR types)."""
    from accel.hls import verify_against_hls

    m, g = _graph(name)
    r = verify_against_hls(m, g, 10, io_type="io_stream", seed=2, output_dir=tmp_path)
    assert (r.samples, r.mismatches) == (10, 0), r.first_divergence


@pytest.mark.hls
@pytest.mark.slow
def test_threshold_layers_are_exact_against_hls_io_parallel(tmp_path: Path) -> None:
    """AccelThreshold's io_parallel kernel (the test above streams)."""
    from accel.hls import verify_against_hls

    m, g = _graph("po2_activations")
    r = verify_against_hls(m, g, 10, io_type="io_parallel", seed=2, output_dir=tmp_path)
    assert (r.samples, r.mismatches) == (10, 0), r.first_divergence


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_are_exact_against_rtl(name: str, tmp_path: Path) -> None:
    from accel.rtl.verify import verify_against_rtl

    m, g = _graph(name)
    r = verify_against_rtl(m, g, 3, seed=3, output_dir=tmp_path)
    assert (r.mismatches, r.problems) == (0, []), r.first_divergence


# activation -> its input type (every raw value of it goes through QKeras once); negative inputs included
STEP_ACTIVATIONS = {
    "relu_po2_4_4": (lambda: quantized_relu_po2(4, 4), quantized_bits(12, 4, alpha=1)),
    "relu_po2_5_slope": (lambda: quantized_relu_po2(5, 2, negative_slope=0.25), quantized_bits(10, 3, alpha=1)),
    "po2_4_2": (lambda: quantized_po2(4, 2), quantized_bits(12, 2, alpha=1)),
    "po2_5_floor": (lambda: quantized_po2(5, 4, log2_rounding="floor"), quantized_bits(16, 6, alpha=1)),
    "binary": (lambda: binary(), quantized_bits(8, 2, alpha=1)),
    "binary_01": (lambda: binary(use_01=True, alpha=1), quantized_bits(8, 2, alpha=1)),
    "ternary": (lambda: ternary(), quantized_bits(8, 2, alpha=1)),
    "ternary_alpha_half_threshold": (lambda: ternary(alpha=0.5, threshold=0.75), quantized_bits(8, 2, alpha=1)),
    "binary_tanh": (lambda: "binary_tanh", quantized_bits(8, 2, alpha=1)),
    "binary_sigmoid": (lambda: "binary_sigmoid", quantized_bits(8, 2, alpha=1)),
}


@pytest.mark.parametrize("name", sorted(STEP_ACTIVATIONS))
def test_step_activation_equals_qkeras_on_every_input_value(name: str) -> None:
    """One sample holding every value of the input type, through QKeras's model and accel's reference."""
    make_q, in_q = STEP_ACTIVATIONS[name]
    in_type = FixedType(True, int(in_q.bits), int(in_q.integer) + 1)
    n = in_type.max_raw - in_type.min_raw + 1
    x = tf.keras.Input((1, n, 1))
    m = tf.keras.Model(x, QActivation(make_q(), name="act")(QActivation(in_q, name="inq")(x)))
    g = to_graph(m)
    assert [node.op for node in g.nodes] == ["threshold"] and g.tensors["inq"].dtype == in_type
    raw = np.arange(in_type.min_raw, in_type.max_raw + 1).reshape(1, 1, n, 1)
    ours = execute(g, raw).outputs["act"]
    theirs, ok = keras_to_raw(m.predict(in_type.to_float(raw).astype(np.float32), verbose=0), g.tensors["act"].dtype)
    assert ok.all() and np.array_equal(ours, theirs)
    assert len(np.unique(ours)) >= 2 + (not name.startswith("binary"))


def test_relu_po2_steps_sit_at_the_midpoints_between_powers_of_two() -> None:
    """quantized_relu_po2(4, 4): 2**round(log2 x), so the output doubles at x = 2**(k + 1/2) (the first input on the
    grid at or above it, float32's log may move it by one step), and every input below Keras' epsilon (1e-7),
    negatives included, gives 2**-8 (4 bits, max_value > 1: an exponent sign bit, exponents -8..7)."""
    m = model_of((2, 2, 1), lambda h: QActivation(quantized_relu_po2(4, 4), name="act")(h),
                 in_q=quantized_bits(12, 4, alpha=1))  # fmt: skip
    node = to_graph(m).node("act")
    thr, lvl, t = node.params["thresholds"], node.params["levels"], node.param_types["levels"]
    frac = FixedType(True, 12, 5).frac
    ideal = np.ceil(2.0 ** (np.arange(-7, 2) + 0.5) * 2**frac).astype(np.int64)  # 2**-6.5 .. 2**1.5; 1 step = 2**-7
    assert np.abs(thr[1:] - ideal[-(len(thr) - 1):]).max() <= 1 and thr[0] == 1
    assert np.array_equal(t.to_float(lvl), 2.0 ** np.array([-8, *range(-7, 3)]))


def test_quadratic_approximation_is_exact_or_refused_where_qkeras_depends_on_position() -> None:
    """quantized_relu_po2 with quadratic_approximation rounds log2(sqrt(x)); for x = 2**(2k+1) that is k + 1/2 exactly,
    a tie that float32 noise decides, and TensorFlow's scalar and vector code decide it differently (seen here for
    x = 0.5): such a model is refused, naming the input; where both agree the table is QKeras's result."""
    in_q = quantized_bits(12, 6, alpha=1)
    in_type = FixedType(True, 12, 7)
    n = in_type.max_raw - in_type.min_raw + 1
    x = tf.keras.Input((1, n, 1))
    m = tf.keras.Model(x, QActivation(quantized_relu_po2(4, 8, quadratic_approximation=True), name="act")(
        QActivation(in_q, name="inq")(x)))  # fmt: skip
    try:
        g = to_graph(m)
    except AccelError as exc:
        assert "depends on the value's position" in str(exc) and "layer act" in str(exc)
        return
    raw = np.arange(in_type.min_raw, in_type.max_raw + 1).reshape(1, 1, n, 1)
    theirs, ok = keras_to_raw(m.predict(in_type.to_float(raw).astype(np.float32), verbose=0), g.tensors["act"].dtype)
    assert ok.all() and np.array_equal(execute(g, raw).outputs["act"], theirs)


def _conv(q):
    return lambda h: QConv2D(4, 1, kernel_quantizer=q, bias_quantizer=BQ, name="bad")(h)


def _wide_then(q):
    return lambda h: QActivation(q, name="bad")(QConv2D(4, 1, kernel_quantizer=quantized_bits(20, 0, alpha=1),
                                                        bias_quantizer=quantized_bits(20, 2, alpha=1))(h))  # fmt: skip


REFUSALS = {
    "binary_stochastic_rounding": (_conv(binary(use_stochastic_rounding=True)), "stochastic rounding"),
    "binary_auto_activation": (lambda h: QActivation(binary(alpha="auto_po2"), name="bad")(h), "from each batch"),
    # 6 bits: exponents -32..31, so 2**-32 below epsilon; the input quantized_bits(8, 2) reaches 4
    "relu_po2_6_bits": (lambda h: QActivation(quantized_relu_po2(6), name="bad")(h), "from 2.32831e-10 to 4 "),
    "relu_po2_wide_input": (_wide_then(quantized_relu_po2(4, 4)), "more bits than float32 holds exactly"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_the_layer_and_what_is_supported(case: str) -> None:
    body, words = REFUSALS[case]
    with pytest.raises(AccelError, match="bad") as info:
        to_graph(model_of((4, 4, 3), body))
    msg = str(info.value)
    assert words in msg and "supported" in msg
    assert msg.count(". ") == 0 and msg.endswith("."), "one sentence"


def test_a_step_activation_cannot_define_the_input_type() -> None:
    x = tf.keras.Input((4, 4, 3))
    m = tf.keras.Model(x, QActivation(quantized_relu_po2(4, 4), name="first")(x))
    with pytest.raises(AccelError, match="layer first .*quantized_relu_po2.*--input-type 'ap_fixed<16,6>'"):
        to_graph(m)
