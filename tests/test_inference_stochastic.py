"""Quantizers whose randomness QKeras 0.9 applies only in training are exact at inference.

``stochastic_binary`` / ``stochastic_ternary`` sample only under ``K.learning_phase()`` 1 and otherwise run
``binary.__call__`` / ``ternary.__call__``; ``use_stochastic_rounding=True`` on ``quantized_bits``,
``quantized_relu``, ``quantized_po2`` and ``quantized_relu_po2`` rounds stochastically only then too.  Published
models use them (QKeras's example_mnist_po2.py and example_mnist_b2t.py).  Each test first checks that premise on
QKeras alone (the model predicts what the same model with the deterministic quantizer predicts), then that accel's
Graph of the model is exact against QKeras.  A model whose input quantizer is a step function (example_mnist_po2's
``quantized_relu_po2(4)``) is refused with advice naming ``--input-type``, and is exact with it.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QConv2D,
    binary,
    quantized_bits,
    quantized_po2,
    quantized_relu,
    quantized_relu_po2,
    stochastic_binary,
    stochastic_ternary,
    ternary,
)

from accel import AccelError  # noqa: E402
from accel.frontend import to_graph  # noqa: E402
from accel.verify import verify_against_qkeras  # noqa: E402
from tests.test_frontend import assert_exact, model_of  # noqa: E402

BQ = quantized_bits(8, 2, alpha=1)


def _conv_then(q_kernel, q_act):
    def body(h):
        h = QConv2D(8, 3, padding="same", kernel_quantizer=q_kernel, bias_quantizer=BQ, name="conv")(h)
        h = QActivation(q_act, name="act")(h)
        return QConv2D(4, 1, kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=BQ, name="head")(h)
    return body


# name -> (the model with the inference-only randomness, the same model with its deterministic quantizers)
PAIRS = {
    "stochastic_ternary_kernel": (lambda: _conv_then(stochastic_ternary(), quantized_bits(8, 3, alpha=1)),
                                  lambda: _conv_then(ternary(), quantized_bits(8, 3, alpha=1))),
    "stochastic_binary_kernel": (lambda: _conv_then(stochastic_binary(), quantized_relu(6, 3)),
                                 lambda: _conv_then(binary(), quantized_relu(6, 3))),
    "po2_kernel_and_relu_po2_rounding": (
        lambda: _conv_then(quantized_po2(4, 1, use_stochastic_rounding=True),
                           quantized_relu_po2(4, 4, use_stochastic_rounding=True)),
        lambda: _conv_then(quantized_po2(4, 1), quantized_relu_po2(4, 4))),
    "bits_and_relu_rounding": (
        lambda: _conv_then(quantized_bits(4, 0, alpha=1, use_stochastic_rounding=True),
                           quantized_relu(4, 2, use_stochastic_rounding=True)),
        lambda: _conv_then(quantized_bits(4, 0, alpha=1), quantized_relu(4, 2))),
    "stochastic_binary_activation": (lambda: _conv_then(quantized_bits(4, 0, alpha=1), stochastic_binary()),
                                     lambda: _conv_then(quantized_bits(4, 0, alpha=1), binary())),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_inference_only_randomness_is_exact(name: str) -> None:
    stochastic, deterministic = (model_of((6, 6, 3), make(), seed=3) for make in PAIRS[name])
    deterministic.set_weights(stochastic.get_weights())
    x = np.random.default_rng(0).uniform(-4, 4, (64, 6, 6, 3)).astype(np.float32)
    first = stochastic.predict(x, verbose=0)
    assert np.array_equal(first, stochastic.predict(x, verbose=0)), "QKeras itself is deterministic at inference"
    assert np.array_equal(first, deterministic.predict(x, verbose=0)), "and equals the deterministic quantizer"
    assert len(np.unique(first)) > 2, "a test that can fail: the outputs vary"
    assert_exact(stochastic)


def _po2_input_model() -> tf.keras.Model:
    """example_mnist_po2.py's head: a quantized_relu_po2 right after the input, then a po2 conv."""
    x = tf.keras.Input((8, 8, 1), name="input")
    h = QActivation("quantized_relu_po2(4)", name="acti")(x)
    h = QConv2D(4, 2, strides=2, kernel_quantizer=quantized_po2(4, 1), bias_quantizer=quantized_po2(4, 1),
                name="conv")(h)
    m = tf.keras.Model(x, QActivation("quantized_relu(4,1)", name="act")(h))
    rng = np.random.default_rng(5)
    m.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in m.get_weights()])
    return m


def test_a_step_input_quantizer_names_input_type_and_is_exact_with_it() -> None:
    m = _po2_input_model()
    with pytest.raises(AccelError, match="layer acti .*quantized_relu_po2.*--input-type 'ap_fixed<16,6>'") as info:
        to_graph(m)
    assert str(info.value).count(". ") == 0
    g = to_graph(m, input_type="ap_fixed<16,6>")
    assert g.node("acti").op == "threshold"
    r = verify_against_qkeras(m, g, 300, seed=2)
    assert r.mismatches == 0 and r.samples == 300
