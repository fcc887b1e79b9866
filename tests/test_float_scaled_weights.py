"""Weights QKeras quantizes to float32 numbers that are not short dyadic ones are taken exactly.

A float scale (``alpha='auto'``, QKeras's least-squares mean per output channel, or a number that is not a power of
two) on quantized_bits / binary / ternary, and ``quantized_ulaw``'s mu-law levels, give weights with up to 24
significant bits.  accel takes each float32 value exactly (a fixed-point type of at most 32 bits), so its sums are
the exact sums of QKeras's own weights; QKeras then sums them in float32, which may round: ``verify --against
qkeras`` accepts a QKeras value within float32's error bound of the exact one (``float32_rounded``), anything else
is a mismatch.  Published use: QKeras's example_cifar10_po2.py and example_mnist_bn.py (a ``quantized_ulaw`` dense),
hls4ml's test_btnn (``ternary(alpha='auto')``).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2D, QDense, binary, quantized_bits, quantized_relu, quantized_ulaw, ternary  # noqa: E402,E501
from qkeras.quantizers import stochastic_ternary  # noqa: E402

from accel import AccelError  # noqa: E402
from accel.frontend import to_graph  # noqa: E402
from accel.frontend.quantizers import MAX_FLOAT_WEIGHT_BITS  # noqa: E402
from accel.verify import verify_against_qkeras  # noqa: E402
from tests.test_frontend import model_of  # noqa: E402

BQ = quantized_bits(6, 2, alpha=1)

KERNELS = {
    "ternary_auto": lambda: ternary(alpha="auto"),
    "stochastic_ternary_auto": lambda: stochastic_ternary(alpha="auto"),
    "bits_auto": lambda: quantized_bits(4, 0, alpha="auto"),
    "binary_alpha_0.3": lambda: binary(alpha=0.3),
    "ulaw": lambda: quantized_ulaw(4, 0, 1),
}


def _conv_model(kernel):
    def body(h):
        h = QConv2D(8, 3, padding="same", kernel_quantizer=kernel(), bias_quantizer=BQ, name="conv")(h)
        h = QActivation(quantized_relu(4, 2), name="act")(h)
        return QConv2D(4, 1, kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=BQ, name="head")(h)
    return model_of((6, 6, 3), body, seed=7)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_float_scaled_weights_are_qkeras_values_exactly(name: str) -> None:
    m = _conv_model(KERNELS[name])
    layer = m.get_layer("conv")
    qkeras_values = layer.kernel_quantizer_internal(layer.kernel).numpy()
    node = to_graph(m).node("conv")
    t = node.param_types["weight"]
    assert np.array_equal(t.to_float(node.params["weight"]), qkeras_values.astype(np.float64))
    assert len(np.unique(qkeras_values)) >= 2 and t.width <= MAX_FLOAT_WEIGHT_BITS
    assert any(np.frexp(np.unique(np.abs(qkeras_values[qkeras_values != 0])))[0] != 0.5), "not powers of two"


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_models_with_float_scaled_weights_are_exact_within_float32(name: str) -> None:
    m = _conv_model(KERNELS[name])
    r = verify_against_qkeras(m, to_graph(m), 300, seed=1)
    assert (r.samples, r.mismatches) == (300, 0), r.first_divergence
    assert "conv" in r.float32_rounded["tensors"], "the conv's float32 sums are where QKeras may round"


def _ulaw_classifier() -> tf.keras.Model:
    """example_cifar10_po2.py's head, small: a quantized_ulaw dense whose exact logits need more than 32 bits,
    then softmax (its arg-max)."""
    def body(h):
        h = QConv2D(6, 3, kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=BQ, name="conv",
                    activation=quantized_relu(4, 2))(h)
        h = tf.keras.layers.Flatten(name="flatten")(h)
        h = QDense(10, kernel_quantizer=quantized_ulaw(4, 0, 1), bias_quantizer=quantized_bits(4, 0, 1),
                   name="dense")(h)
        return tf.keras.layers.Activation("softmax", name="softmax")(h)
    return model_of((5, 5, 2), body, seed=11)


def _classifier_graph():
    m = _ulaw_classifier()
    g = to_graph(m, softmax="argmax")
    assert g.tensors["dense"].dtype.width > 32, "the arg-max reads logits wider than 32 bits"
    return m, g


def test_ulaw_classifier_is_exact_against_qkeras() -> None:
    m, g = _classifier_graph()
    r = verify_against_qkeras(m, g, 300, seed=2)
    assert (r.samples, r.mismatches) == (300, 0), r.first_divergence


@pytest.mark.hls
@pytest.mark.slow
def test_ulaw_classifier_is_exact_against_hls(tmp_path: Path) -> None:
    from accel.hls import verify_against_hls

    m, g = _classifier_graph()
    r = verify_against_hls(m, g, 10, io_type="io_stream", seed=2, output_dir=tmp_path)
    assert (r.samples, r.mismatches) == (10, 0), r.first_divergence


@pytest.mark.rtl
@pytest.mark.slow
def test_ulaw_classifier_is_exact_against_rtl(tmp_path: Path) -> None:
    from accel.rtl.verify import verify_against_rtl

    m, g = _classifier_graph()
    r = verify_against_rtl(m, g, 3, seed=3, output_dir=tmp_path)
    assert (r.mismatches, r.problems) == (0, []), r.first_divergence


def test_float_values_wider_than_32_bits_are_refused() -> None:
    # 0.3's 24-bit significand times a 12-bit grid, rounded to float32: the values' exponents spread beyond 32 bits
    m = _conv_model(lambda: quantized_bits(12, 0, alpha=0.3))
    with pytest.raises(AccelError, match=r"layer conv \(QConv2D\) kernel uses .* whose float32 values need more "
                                         r"than 32 bits") as info:
        to_graph(m)
    assert str(info.value).count(". ") == 0 and "supported" in str(info.value)
