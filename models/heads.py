"""pointwise_head: conv features, then a 1x1 conv classifier and global average pooling instead of a dense layer.

4-bit weights and activations, 8-bit input and logits.  16x16x3 -> 3x3 conv (8) -> 3x3 stride-2 conv (16)
-> 1x1 conv (10 classes) -> GAP over 8x8 = 64 pixels (a power of two: the average is exact).
"""

from __future__ import annotations

from qkeras import QActivation, QConv2D
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights


@zoo_model("pointwise_head")
def pointwise_head(seed: int) -> keras.Model:
    """16x16x3 image -> 10 logits; the classifier is a pointwise conv followed by global average pooling."""
    x_in = keras.Input((16, 16, 3), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = QConv2D(8, 3, padding="same", kernel_quantizer=kq(4), bias_quantizer=bq(8), name="conv1")(x)
    x = QActivation(qrelu(4, 0), name="relu1")(x)
    x = QConv2D(16, 3, strides=2, padding="same", kernel_quantizer=kq(4), bias_quantizer=bq(8), name="conv2")(x)
    x = QActivation(qrelu(4, 0), name="relu2")(x)
    x = QConv2D(10, 1, kernel_quantizer=kq(4), bias_quantizer=bq(8), name="classifier")(x)
    x = QActivation(qbits(8, 2), name="logits_q")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(x_in, x, name="pointwise_head")
    seeded_weights(model, seed)
    return model
