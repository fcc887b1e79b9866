"""shufflenet_unit: one ShuffleNet-v1 unit (stride 1) with grouped pointwise convs and a channel shuffle.

8x8x16 -> grouped 1x1 conv (g=4) -> ReLU -> channel shuffle -> 3x3 depthwise -> grouped 1x1
conv (g=4) -> + input -> ReLU.  Grouped convs are QConv2D(groups=4) (TensorFlow's CPU kernel runs them);
the shuffle is the canonical Reshape(H, W, g, C/g) -> Permute((1, 2, 4, 3)) -> Reshape(H, W, C).
4-bit weights, 8-bit activations.
"""

from __future__ import annotations

from qkeras import QActivation, QConv2D, QDepthwiseConv2D
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights

GROUPS = 4


def channel_shuffle(x, groups: int, name: str):
    """ShuffleNet's channel shuffle: output channel i*g + j takes input channel j*(C/g) + i."""
    h, w, c = x.shape[1:]
    x = keras.layers.Reshape((h, w, groups, c // groups), name=f"{name}_split")(x)
    x = keras.layers.Permute((1, 2, 4, 3), name=f"{name}_transpose")(x)
    return keras.layers.Reshape((h, w, c), name=f"{name}_merge")(x)


@zoo_model("shufflenet_unit")
def shufflenet_unit(seed: int) -> keras.Model:
    """8x8x16 -> ShuffleNet-v1 unit (groups=4, bottleneck 16) -> 8x8x16."""
    x_in = keras.Input((8, 8, 16), name="input")
    skip = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = QConv2D(16, 1, groups=GROUPS, use_bias=False, kernel_quantizer=kq(4), name="gconv1")(skip)
    x = QActivation(qrelu(8, 0), name="gconv1_relu")(x)
    x = channel_shuffle(x, GROUPS, "shuffle")
    x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=kq(4), bias_quantizer=bq(8), name="dw")(x)
    x = QActivation(qbits(8, 1), name="dw_q")(x)
    x = QConv2D(16, 1, groups=GROUPS, use_bias=False, kernel_quantizer=kq(4), name="gconv2")(x)
    x = QActivation(qbits(8, 1), name="gconv2_q")(x)
    x = keras.layers.Add(name="add")([skip, x])
    x = QActivation(qrelu(8, 0), name="out_relu")(x)
    model = keras.Model(x_in, x, name="shufflenet_unit")
    seeded_weights(model, seed, gains={"gconv2": 0.7})
    return model
