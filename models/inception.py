"""inception_module: one GoogLeNet-style Inception module between a conv stem and a dense head.

Branches: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | 3x3 max-pool (stride 1, 'same') -> 1x1; concat.
4-bit weights, 8-bit activations; the branches end in different quantizers on purpose, so the concat is
followed by a QActivation that brings the mixed types back to one 8-bit type.
"""

from __future__ import annotations

from qkeras import QActivation, QConv2D, QDense
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights


def _conv(x, filters: int, k: int, name: str, act):
    """Quantised conv ('same' padding) followed by its own QActivation."""
    x = QConv2D(filters, k, padding="same", kernel_quantizer=kq(4), bias_quantizer=bq(8), name=name)(x)
    return QActivation(act, name=f"{name}_relu")(x)


@zoo_model("inception_module")
def inception_module(seed: int) -> keras.Model:
    """8x8x3 -> 3x3 conv (16) -> Inception (8 | 4->8 | 4->8->8 | pool->8 = 32) -> GAP -> dense (10)."""
    x_in = keras.Input((8, 8, 3), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = _conv(x, 16, 3, "stem", qrelu(8, 0))
    b1 = _conv(x, 8, 1, "b1_1x1", qrelu(8, 0))
    b2 = _conv(x, 4, 1, "b2_1x1", qrelu(8, 0))
    b2 = _conv(b2, 8, 3, "b2_3x3", qrelu(8, 2))
    b3 = _conv(x, 4, 1, "b3_1x1", qrelu(8, 0))
    b3 = _conv(b3, 8, 3, "b3_3x3a", qrelu(8, 0))
    b3 = _conv(b3, 8, 3, "b3_3x3b", qrelu(6, 1))
    b4 = keras.layers.MaxPooling2D(3, strides=1, padding="same", name="b4_pool")(x)
    b4 = _conv(b4, 8, 1, "b4_1x1", qrelu(4, 0))
    x = keras.layers.Concatenate(name="concat")([b1, b2, b3, b4])
    x = QActivation(qrelu(8, 0), name="concat_q")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = QDense(10, kernel_quantizer=kq(4), bias_quantizer=bq(8), name="fc")(x)
    x = QActivation(qbits(8, 2), name="logits_q")(x)
    model = keras.Model(x_in, x, name="inception_module")
    seeded_weights(model, seed)
    return model
