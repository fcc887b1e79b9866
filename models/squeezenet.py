"""squeezenet_fire: two SqueezeNet fire modules (1x1 squeeze, parallel 1x1 and 3x3 expand, concat).

8-bit weights and activations, activations fused into the convs (`activation=quantized_relu(...)`), so
the two expand branches leave with the same type and their concatenation needs no re-quantisation.
16x16x3 -> 3x3 conv (16) -> 2x2 max-pool -> fire(4 -> 8+8) -> fire(4 -> 8+8) -> 2x2 max-pool
-> 1x1 conv (10) -> GAP over 4x4.
"""

from __future__ import annotations

from qkeras import QActivation, QConv2D
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights


def _fire(x, name: str, squeeze: int, expand: int):
    """One fire module; both expand branches end in the same quantized_relu, so the concat is type-uniform."""
    s = QConv2D(
        squeeze, 1, kernel_quantizer=kq(8), bias_quantizer=bq(8), activation=qrelu(8, 0), name=f"{name}_squeeze"
    )(x)
    e1 = QConv2D(
        expand, 1, kernel_quantizer=kq(8), bias_quantizer=bq(8), activation=qrelu(8, 0), name=f"{name}_expand1x1"
    )(s)
    e3 = QConv2D(
        expand,
        3,
        padding="same",
        kernel_quantizer=kq(8),
        bias_quantizer=bq(8),
        activation=qrelu(8, 0),
        name=f"{name}_expand3x3",
    )(s)
    return keras.layers.Concatenate(name=f"{name}_concat")([e1, e3])


@zoo_model("squeezenet_fire")
def squeezenet_fire(seed: int) -> keras.Model:
    """16x16x3 -> 10 logits through two fire modules."""
    x_in = keras.Input((16, 16, 3), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = QConv2D(16, 3, padding="same", kernel_quantizer=kq(8), bias_quantizer=bq(8), name="conv1")(x)
    x = QActivation(qrelu(8, 0), name="conv1_relu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = _fire(x, "fire2", 4, 8)
    x = _fire(x, "fire3", 4, 8)
    x = keras.layers.MaxPooling2D(2, name="pool3")(x)
    x = QConv2D(10, 1, kernel_quantizer=kq(8), bias_quantizer=bq(8), name="classifier")(x)
    x = QActivation(qbits(8, 3), name="logits_q")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(x_in, x, name="squeezenet_fire")
    seeded_weights(model, seed)
    return model
