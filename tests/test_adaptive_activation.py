"""QAdaptiveActivation (QKeras 0.9) is exact at inference, where it is a fixed quantized_relu / quantized_bits.

Its integer bits move with moving averages of the activations only in training; at inference each call quantizes
with the bits the layer holds and then resets them from the (unchanged) averages.  accel takes those bits; a layer
whose bits disagree with its averages (its output would change after one call) and one with per-channel bits that
differ are refused in one sentence.  Published use: QKeras's tests/qtools_model_test.py ``test_qenergy``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from qkeras import QAdaptiveActivation, QConv2D, quantized_bits  # noqa: E402

from accel import AccelError  # noqa: E402
from accel.frontend import to_graph  # noqa: E402
from tests.test_frontend import assert_exact, model_of  # noqa: E402

BQ = quantized_bits(8, 2, alpha=1)


def _model(activation: str, ema_max: float, **kw):
    def body(h):
        h = QConv2D(6, 3, padding="same", kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=BQ,
                    name="conv")(h)
        h = QAdaptiveActivation(activation, 4, name="adaptive", **kw)(h)
        return QConv2D(3, 1, kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=BQ, name="head")(h)
    m = model_of((5, 5, 3), body, seed=4)
    layer = m.get_layer("adaptive")
    layer.ema_min.assign(-np.full(layer.ema_min.shape, ema_max, np.float32))
    layer.ema_max.assign(np.full(layer.ema_max.shape, ema_max, np.float32))
    return m


@pytest.mark.parametrize("activation,ema_max,bits", [("quantized_relu", 0.9, 0), ("quantized_relu", 3.0, 2),
                                                     ("quantized_bits", 3.0, 2)])
def test_adaptive_activation_is_exact_with_the_bits_it_settled_on(activation: str, ema_max: float, bits: int) -> None:
    m = _model(activation, ema_max)
    m.predict(np.zeros((1, 5, 5, 3), np.float32), verbose=0)  # one call moves the bits to the averages'
    layer = m.get_layer("adaptive")
    assert int(np.asarray(layer.quantizer.integer)[0]) == bits, "the moving averages chosen give these bits"
    graph = assert_exact(m)
    assert graph.tensors["adaptive"].dtype.integer == bits + (activation == "quantized_bits")


def test_bits_that_a_call_would_move_are_refused() -> None:
    m = _model("quantized_relu", 3.0)  # averages changed after the last call: the next call moves the bits
    with pytest.raises(AccelError, match=r"layer adaptive \(QAdaptiveActivation\) holds \[0\] integer bits but its "
                                         r"moving averages give \[2\]") as info:
        to_graph(m)
    assert str(info.value).count(". ") == 0


def test_per_channel_bits_that_differ_are_refused() -> None:
    m = _model("quantized_relu", 1.0, per_channel=True)
    layer = m.get_layer("adaptive")
    layer.ema_max.assign(np.array([0.9, 3.0, 0.9, 0.9, 0.9, 7.0], np.float32))
    m.predict(np.zeros((1, 5, 5, 3), np.float32), verbose=0)
    with pytest.raises(AccelError, match="per_channel=True with integer bits .* that differ by channel"):
        to_graph(m)
