"""MobileNet family: a tiny MobileNet-v1 (depthwise-separable blocks) and one MobileNet-v2 inverted residual.

mobilenet_v1_tiny is a 4-bit network with per-channel power-of-two kernel scales (alpha="auto_po2", as
QKeras users deploy it), batch norm folded into the first and last standard convs (QConv2DBatchnorm), a
stride-2 depthwise conv, and one block written as a single QSeparableConv2D.
mobilenet_v2_block is the inverted residual: 1x1 expand (BN folded), 3x3 depthwise (BN folded, with
QDepthwiseConv2DBatchnorm), linear 1x1 project, and the residual add, re-quantised to 8 bits.
"""

from __future__ import annotations

from qkeras import (
    QActivation,
    QConv2D,
    QConv2DBatchnorm,
    QDense,
    QDepthwiseConv2D,
    QDepthwiseConv2DBatchnorm,
    QSeparableConv2D,
)
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights

PO2 = "auto_po2"


@zoo_model("mobilenet_v1_tiny")
def mobilenet_v1_tiny(seed: int) -> keras.Model:
    """16x16x3 -> stride-2 conv (8) -> dw/pw (16) -> stride-2 dw/pw (32) -> separable (32) -> GAP -> dense (10)."""
    x_in = keras.Input((16, 16, 3), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = QConv2DBatchnorm(
        8, 3, strides=2, padding="same", kernel_quantizer=kq(4, PO2), bias_quantizer=bq(8, 1), name="conv1_bn"
    )(x)
    x = QActivation(qrelu(4, 0), name="relu1")(x)
    x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=kq(4), bias_quantizer=bq(8), name="dw1")(x)
    x = QActivation(qrelu(4, 0), name="dw1_relu")(x)
    x = QConv2D(16, 1, kernel_quantizer=kq(4, PO2), bias_quantizer=bq(8), name="pw1")(x)
    x = QActivation(qrelu(4, 0), name="pw1_relu")(x)
    x = QDepthwiseConv2D(3, strides=2, padding="same", depthwise_quantizer=kq(4), bias_quantizer=bq(8), name="dw2")(x)
    x = QActivation(qrelu(4, 0), name="dw2_relu")(x)
    x = QConv2DBatchnorm(32, 1, kernel_quantizer=kq(4, PO2), bias_quantizer=bq(8, 1), name="pw2_bn")(x)
    x = QActivation(qrelu(4, 0), name="pw2_relu")(x)
    x = QSeparableConv2D(
        32,
        3,
        padding="same",
        depthwise_quantizer=kq(4),
        pointwise_quantizer=kq(4),
        bias_quantizer=bq(8),
        name="sep3",
    )(x)
    x = QActivation(qrelu(4, 0), name="sep3_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = QDense(10, kernel_quantizer=kq(4, PO2), bias_quantizer=bq(8), name="fc")(x)
    x = QActivation(qbits(8, 2), name="logits_q")(x)
    model = keras.Model(x_in, x, name="mobilenet_v1_tiny")
    seeded_weights(model, seed)
    return model


@zoo_model("mobilenet_v2_block")
def mobilenet_v2_block(seed: int) -> keras.Model:
    """8x8x8 -> 1x1 expand (32, BN) -> 3x3 depthwise (BN) -> linear 1x1 project (8) -> + input -> 8-bit."""
    x_in = keras.Input((8, 8, 8), name="input")
    skip = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = QConv2DBatchnorm(32, 1, kernel_quantizer=kq(4), bias_quantizer=bq(8, 1), name="expand_bn")(skip)
    x = QActivation(qrelu(4, 0), name="expand_relu")(x)
    x = QDepthwiseConv2DBatchnorm(3, padding="same", depthwise_quantizer=kq(4), bias_quantizer=bq(8, 1), name="dw_bn")(
        x
    )
    x = QActivation(qrelu(4, 0), name="dw_relu")(x)
    x = QConv2D(8, 1, kernel_quantizer=kq(4), bias_quantizer=bq(8), name="project")(x)
    x = QActivation(qbits(8, 0), name="project_q")(x)
    x = keras.layers.Add(name="add")([skip, x])
    x = QActivation(qbits(8, 1), name="add_q")(x)
    model = keras.Model(x_in, x, name="mobilenet_v2_block")
    seeded_weights(model, seed, gains={"project": 0.5})
    return model
