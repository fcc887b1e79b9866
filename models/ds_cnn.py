"""ds_cnn_kws: the MLPerf Tiny keyword-spotting DS-CNN, 8-bit weights and activations.

49x10x1 MFCC input -> 10x4 stride-2 conv to 64 channels (25x5x64) -> four depthwise-separable blocks of 64
(3x3 depthwise, 1x1 pointwise with batch norm folded) -> global average pooling over 25x5 = 125 pixels
(not a power of two, so it is followed directly by a QActivation that rounds the exact average) ->
dropout -> dense to 12 classes.  About 2.7 M MACs: the one zoo model sized by its published spec.
"""

from __future__ import annotations

from qkeras import QActivation, QConv2DBatchnorm, QDense, QDepthwiseConv2D
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights


@zoo_model("ds_cnn_kws")
def ds_cnn_kws(seed: int) -> keras.Model:
    """MLPerf Tiny KWS DS-CNN (small variant): 49x10x1 -> 12 logits."""
    x_in = keras.Input((49, 10, 1), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = QConv2DBatchnorm(
        64, (10, 4), strides=2, padding="same", kernel_quantizer=kq(8), bias_quantizer=bq(8, 1), name="conv1_bn"
    )(x)
    x = QActivation(qrelu(8, 0), name="conv1_relu")(x)
    for i in range(1, 5):
        x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=kq(8), bias_quantizer=bq(8), name=f"dw{i}")(x)
        x = QActivation(qrelu(8, 0), name=f"dw{i}_relu")(x)
        x = QConv2DBatchnorm(64, 1, kernel_quantizer=kq(8), bias_quantizer=bq(8, 1), name=f"pw{i}_bn")(x)
        x = QActivation(qrelu(8, 0), name=f"pw{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = QActivation(qrelu(8, 0), name="gap_q")(x)
    x = keras.layers.Dropout(0.4, name="dropout")(x)
    x = QDense(12, kernel_quantizer=kq(8), bias_quantizer=bq(8), name="fc")(x)
    x = QActivation(qbits(8, 3), name="logits_q")(x)
    model = keras.Model(x_in, x, name="ds_cnn_kws")
    seeded_weights(model, seed)
    return model
