"""A separate (Q)BatchNormalization between a linear conv/dense layer and a quantizing QActivation becomes per-channel
thresholds on the layer's accumulator (accel.frontend.batchnorm): exact against QKeras (every sample, integers
equal), the hls4ml C simulation (io_stream and io_parallel) and the RTL co-simulation; negative and positive gammas
(falling and rising rows), QBatchNormalization (with its own quantizers) and Keras BatchNormalization, after
QConv2D, QDepthwiseConv2D and QDense; the bisection used for wide accumulators finds the same tables as the full
evaluation; the cases that stay refused say why in one sentence."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QBatchNormalization,
    QConv2D,
    QDense,
    QDepthwiseConv2D,
    quantized_bits,
    quantized_po2,
    quantized_relu,
    quantized_relu_po2,
    ternary,
)

from accel import AccelError  # noqa: E402
from accel.frontend import AccelPrecisionWarning, batchnorm, to_graph  # noqa: E402
from accel.reference import execute  # noqa: E402
from accel.verify import random_inputs, verify_against_qkeras  # noqa: E402
from tests.test_frontend import model_of, randomize  # noqa: E402

L = tf.keras.layers
KQ = quantized_bits(4, 0, alpha=1)
BQ = quantized_bits(6, 2, alpha=1)
SAMPLES = 300


def conv_qbn_binary(h):
    """hls4ml's binary CNN form: a QConv2D without bias, QBatchNormalization, QActivation('binary')."""
    h = QConv2D(4, 3, kernel_quantizer=KQ, use_bias=False, name="conv")(h)
    h = QBatchNormalization(name="bn")(h)
    return QActivation("binary", name="act")(h)


def conv_bn_ternary(h):
    """Keras BatchNormalization (its fused 4-D kernel) before a ternary with a fixed alpha and threshold."""
    h = QConv2D(5, 3, padding="same", kernel_quantizer=KQ, bias_quantizer=BQ, name="conv")(h)
    h = L.BatchNormalization(name="bn")(h)
    return QActivation(ternary(alpha=1, threshold=0.4), name="act")(h)


def conv_qbn_relu(h):
    """QKeras's example_mnist_bn form: QBatchNormalization with power-of-two quantizers of its own statistics,
    then quantized_relu(3, 1); then a depthwise conv -> BN -> quantized_bits."""
    h = QConv2D(6, 3, kernel_quantizer=ternary(alpha=1), use_bias=False, name="conv")(h)
    h = QBatchNormalization(gamma_quantizer=quantized_relu_po2(4, 8), variance_quantizer=quantized_relu_po2(6),
                            beta_quantizer=quantized_po2(4, 4), gamma_range=8, beta_range=4, name="bn")(h)
    h = QActivation(quantized_relu(3, 1), name="act")(h)
    h = QDepthwiseConv2D(3, depthwise_quantizer=KQ, bias_quantizer=BQ, name="dw")(h)
    h = L.BatchNormalization(name="bn_dw")(h)
    return QActivation(quantized_bits(4, 1, alpha=1), name="act_dw")(h)


def dense_bn_binary_tanh(h):
    """hls4ml's binary dense form: QDense -> BatchNormalization (2-D, the non-fused kernel) -> binary_tanh."""
    h = L.Flatten()(h)
    h = QDense(12, kernel_quantizer=KQ, bias_quantizer=BQ, name="fc")(h)
    h = L.BatchNormalization(name="bn")(h)
    return QActivation("binary_tanh", name="act")(h)


MODELS = {"conv_qbn_binary": conv_qbn_binary, "conv_bn_ternary": conv_bn_ternary, "conv_qbn_relu": conv_qbn_relu,
          "dense_bn_binary_tanh": dense_bn_binary_tanh}
#: per model, gammas of its batch norms, half of them negative (falling steps)
SIGNS = np.array([1.0, -1.0])


def _model(name: str, seed: int = 0) -> tf.keras.Model:
    m = model_of((6, 6, 3), MODELS[name], seed=seed)
    rng = np.random.default_rng(seed + 5)
    for layer in m.layers:
        if "BatchNormalization" in type(layer).__name__ and layer.gamma is not None:
            g = layer.gamma.numpy()
            layer.gamma.assign((g * np.resize(SIGNS, g.shape) * rng.uniform(0.5, 2.0, g.shape)).astype(np.float32))
    return m


def _graph(name: str, seed: int = 0):
    m = _model(name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccelPrecisionWarning)  # no tensor beyond float32's exact range
        return m, to_graph(m)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_are_exact_against_qkeras(name: str) -> None:
    m, g = _graph(name)
    thresholds = [n for n in g.nodes if n.op == "threshold"]
    assert thresholds and all(n.params["thresholds"].ndim == 2 for n in thresholds)
    assert not any(n.op == "quantize" and "bn" in n.name for n in g.nodes)
    r = verify_against_qkeras(m, g, SAMPLES, seed=1)
    assert (r.samples, r.mismatches) == (SAMPLES, 0), r.first_divergence
    out = execute(g, random_inputs(g, 64, 2)).outputs[g.outputs[0]]
    assert len(np.unique(out.reshape(len(out), -1), axis=0)) > 16, "degenerate test model: few distinct outputs"


def test_negative_gamma_gives_falling_levels() -> None:
    """A channel with a negative scale steps down: its row's levels fall; one with a positive scale rises."""
    m, g = _graph("conv_qbn_binary")
    lvl = g.node("act").params["levels"]
    gamma = m.get_layer("bn").gamma.numpy()
    for c in range(lvl.shape[0]):
        d = np.diff(lvl[c])
        assert np.all(d <= 0) if gamma[c] < 0 else np.all(d >= 0), (c, gamma[c], lvl[c])
    assert (gamma < 0).any() and (gamma > 0).any()


def test_bisection_finds_the_full_evaluation_tables(monkeypatch) -> None:
    """The wide-accumulator path (bisection per channel and level) gives the tables of evaluating every value."""
    m, g = _graph("conv_qbn_relu")
    node = g.node("act")
    acc = g.tensors[node.inputs[0]].dtype
    layer, q = m.get_layer("bn"), m.get_layer("act").quantizer
    full = batchnorm.bn_step_table(layer, q, acc, "test")
    monkeypatch.setattr(batchnorm, "FULL_EVALUATION", 0)
    bisected = batchnorm.bn_step_table(layer, q, acc, "test")
    assert all(np.array_equal(a, b) for a, b in zip(full[:2], bisected[:2], strict=True)) and full[2] == bisected[2]
    assert np.array_equal(full[0], node.params["thresholds"]) and full[0].shape[1] > 1


def test_wide_accumulator_uses_bisection_and_is_exact() -> None:
    """An accumulator of about 2**21 values per channel: more than the full evaluation takes at once."""
    def body(h):
        h = QConv2D(4, 3, kernel_quantizer=quantized_bits(8, 0, alpha=1), bias_quantizer=quantized_bits(8, 2),
                    name="conv")(h)  # fmt: skip
        h = QBatchNormalization(name="bn")(h)
        return QActivation(quantized_relu(3, 1), name="act")(h)

    m = model_of((5, 5, 3), body, seed=3, in_q=quantized_bits(10, 3, alpha=1))
    g = to_graph(m)
    acc = g.tensors[g.node("act").inputs[0]].dtype
    assert (acc.max_raw - acc.min_raw + 1) * 4 > batchnorm.FULL_EVALUATION
    r = verify_against_qkeras(m, g, SAMPLES, seed=4)
    assert (r.samples, r.mismatches) == (SAMPLES, 0), r.first_divergence


# -- refusals ---------------------------------------------------------------------------------------------------


def _refused(body, match: str, in_q=None) -> None:
    with pytest.raises(AccelError, match=match) as info:
        to_graph(model_of((6, 6, 3), body, in_q=in_q))
    text = str(info.value)
    assert text.count(". ") == 0 and text.endswith("."), text  # one sentence


def _wide_body(kernel_bits: int):
    def body(h):
        h = QConv2D(4, 3, kernel_quantizer=quantized_bits(kernel_bits, 0, alpha=1), name="conv")(h)
        return QActivation("binary", name="act")(QBatchNormalization(name="bn")(h))
    return body


def test_an_accumulator_beyond_float32_is_exact_within_its_bound() -> None:
    """A 31-bit accumulator: QKeras's float32 conv rounds it, so its batch norm may see a value within float32's
    bound of the exact one; the table on fl32(S) and the bound's ends account for every such value."""
    m = model_of((6, 6, 3), _wide_body(12), in_q=quantized_bits(14, 4, alpha=1))
    g = to_graph(m)
    assert g.tensors["conv"].dtype.width > 25 and g.node("act").op == "threshold"
    r = verify_against_qkeras(m, g, SAMPLES, seed=4)
    assert (r.samples, r.mismatches) == (SAMPLES, 0), r.first_divergence
    assert "conv" in r.float32_rounded["tensors"]


def test_refuses_an_accumulator_beyond_float64() -> None:
    _refused(_wide_body(24), r"layer bn \(QBatchNormalization\) reads an accumulator of ap_fixed<\d+,\d+>, more bits "
             "than accel tabulates the batch norm on exactly; supported: accumulators of at most 53",
             in_q=quantized_bits(30, 4, alpha=1))


def test_refuses_a_batchnorm_before_a_float_activation() -> None:
    def body(h):
        h = L.BatchNormalization(name="bad")(QConv2D(4, 3, kernel_quantizer=KQ, name="src")(h))
        return L.Activation("relu")(h)

    _refused(body, r"layer bad \(BatchNormalization\) is a separate batch normalization after src \(QConv2D\).*"
                   r"use QConv2DBatchnorm.*or keep it followed directly \(and only\) by a QActivation")


def test_refuses_a_batchnorm_read_twice() -> None:
    def body(h):
        h = L.BatchNormalization(name="bad")(QDense(4, kernel_quantizer=KQ, name="src")(L.Flatten()(h)))
        return L.Add()([QActivation("binary")(h), QActivation("binary")(h)])

    _refused(body, r"layer bad \(BatchNormalization\) is a separate batch normalization after src \(QDense\).*"
                   "QConv2DBatchnorm")


def _auto_ternary_dense() -> tf.keras.Model:
    """hls4ml's test_btnn form: QDense with ternary(alpha='auto') (float32 scales: a 40-odd-bit accumulator QKeras
    sums in float32) -> BatchNormalization -> ternary activation."""
    def body(h):
        h = QDense(10, kernel_quantizer=ternary(alpha="auto"), bias_quantizer=quantized_bits(5, 2), name="fc")(h)
        h = L.BatchNormalization(name="bn")(h)
        return QActivation(ternary(threshold=0.2), name="act")(h)
    x = tf.keras.Input((10,))
    m = tf.keras.Model(x, body(QActivation(quantized_bits(16, 6, alpha=1), name="in_q")(x)))
    randomize(m, 3)
    bn = m.get_layer("bn")
    bn.gamma.assign(np.resize(np.float32([1.3, -0.7]), bn.gamma.shape))
    return m


def test_float_scaled_accumulator_before_a_batchnorm_is_exact_within_float32() -> None:
    m = _auto_ternary_dense()
    g = to_graph(m)
    assert g.tensors["fc"].dtype.width > 32 and g.node("act").params["thresholds"].ndim == 2
    r = verify_against_qkeras(m, g, SAMPLES, seed=1)
    assert (r.samples, r.mismatches) == (SAMPLES, 0), r.first_divergence
    assert "fc" in r.float32_rounded["tensors"]


# -- the backends -------------------------------------------------------------------------------------------------


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_stream", "io_parallel"])
def test_exact_against_hls(io_type: str, tmp_path: Path) -> None:
    from accel.hls import verify_against_hls

    for name in ("conv_qbn_relu", "dense_bn_binary_tanh"):
        m, g = _graph(name)
        r = verify_against_hls(m, g, 10, io_type=io_type, seed=2, output_dir=tmp_path / name)
        assert (r.samples, r.mismatches) == (10, 0), (name, r.first_divergence)


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv_qbn_relu", "conv_bn_ternary", "dense_bn_binary_tanh"])
def test_exact_against_rtl(name: str, tmp_path: Path) -> None:
    from accel.rtl.verify import verify_against_rtl

    m, g = _graph(name)
    r = verify_against_rtl(m, g, 3, seed=3, output_dir=tmp_path)
    assert (r.mismatches, r.problems) == (0, []), r.first_divergence


@pytest.mark.rtl
@pytest.mark.slow
def test_float_scaled_accumulator_thresholds_are_exact_against_rtl(tmp_path: Path) -> None:
    """accel_threshold reads the dense layer's 40-odd-bit accumulator (inputs up to 62 bits, as accel_requant)."""
    from accel.rtl.verify import verify_against_rtl

    m = _auto_ternary_dense()
    r = verify_against_rtl(m, to_graph(m), 3, seed=3, output_dir=tmp_path)
    assert (r.mismatches, r.problems) == (0, []), r.first_divergence
