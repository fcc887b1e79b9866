"""The MLPerf Tiny inference benchmarks' reference networks, 8-bit QKeras, batch norm folded.

Shapes follow the MLPerf Tiny reference models (github.com/mlcommons/tiny, benchmark/training/*) so that the
figures accel reports for them can stand beside published MLPerf Tiny results for the same part:

* ``vww_mobilenet_v1``: visual wake words, MobileNetV1 with width multiplier 0.25 on 96x96x3 -> 2 classes;
  3x3 stride-2 conv (8), 13 depthwise-separable blocks (16, 32, 32, 64, 64, 128 x 6, 256, 256; stride 2 in
  blocks 2, 4, 6 and 12), global average pooling over 3x3 = 9 pixels (not a power of two, so a QActivation
  rounds the exact average), dense to 2 logits.  About 7.5 M MACs.
* ``ic_resnet8``: image classification (CIFAR-10), ResNet-8 on 32x32x3 -> 10 classes; 3x3 conv (16), three
  residual stacks of 16/32/64 channels (stride 2 and a 1x1 shortcut conv in stacks 2 and 3), GAP over 8x8,
  dense to 10 logits.  About 12.5 M MACs.
* ``ad_autoencoder``: anomaly detection (ToyADMOS), the dense autoencoder 640 -> 128 x 4 -> 8 -> 128 x 4 -> 640
  with batch norm and ReLU after every hidden layer.  QKeras 0.9 has no QDenseBatchnorm, so each dense layer
  is a 1x1 QConv2DBatchnorm on a 1x1x640 input (a 1x1 conv on one pixel is a dense layer); about 0.26 M MACs.

Every conv and dense layer has 8-bit weights; every activation is 8 bits.  The reference models end in a
softmax (the autoencoder in a linear layer); these end at quantised logits, like the other zoo models.
"""

from __future__ import annotations

from qkeras import QActivation, QConv2D, QConv2DBatchnorm, QDense, QDepthwiseConv2DBatchnorm
from tensorflow import keras

from . import zoo_model
from ._common import bq, kq, qbits, qrelu, seeded_weights

#: MobileNetV1's 13 depthwise-separable blocks at width multiplier 1: (pointwise filters, depthwise stride)
MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                       (512, 1), (512, 1), (1024, 2), (1024, 1))  # fmt: skip


def _conv_bn_relu(x, filters: int, kernel: int, name: str, strides: int = 1, relu: bool = True):
    """Conv (batch norm folded into the quantised kernel) then an 8-bit ReLU, or an 8-bit signed quantizer."""
    x = QConv2DBatchnorm(filters, kernel, strides=strides, padding="same", kernel_quantizer=kq(8),
                         bias_quantizer=bq(8, 1), name=f"{name}_bn")(x)  # fmt: skip
    return QActivation(qrelu(8, 0) if relu else qbits(8, 0), name=f"{name}_{'relu' if relu else 'q'}")(x)


@zoo_model("vww_mobilenet_v1")
def vww_mobilenet_v1(seed: int) -> keras.Model:
    """MLPerf Tiny VWW: MobileNetV1 0.25 on 96x96x3 -> 2 logits."""
    alpha = 0.25
    x_in = keras.Input((96, 96, 3), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = _conv_bn_relu(x, int(32 * alpha), 3, "conv1", strides=2)
    for i, (filters, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = QDepthwiseConv2DBatchnorm(3, strides=stride, padding="same", depthwise_quantizer=kq(8),
                                      bias_quantizer=bq(8, 1), name=f"dw{i}_bn")(x)  # fmt: skip
        x = QActivation(qrelu(8, 0), name=f"dw{i}_relu")(x)
        x = _conv_bn_relu(x, int(filters * alpha), 1, f"pw{i}")
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = QActivation(qrelu(8, 0), name="gap_q")(x)
    x = QDense(2, kernel_quantizer=kq(8), bias_quantizer=bq(8), name="fc")(x)
    x = QActivation(qbits(8, 3), name="logits_q")(x)
    model = keras.Model(x_in, x, name="vww_mobilenet_v1")
    seeded_weights(model, seed)
    return model


def _residual_stack(x, filters: int, stride: int, name: str):
    """ResNet v1 basic block: conv-BN-ReLU, conv-BN, + shortcut (a strided 1x1 conv when the shape changes), ReLU.

    Both summands are quantised to the same 8-bit signed grid before the add, as QKeras needs for an exact sum.
    """
    y = _conv_bn_relu(x, filters, 3, f"{name}_conv1", strides=stride)
    y = _conv_bn_relu(y, filters, 3, f"{name}_conv2", relu=False)
    if stride != 1:
        x = QConv2D(filters, 1, strides=stride, kernel_quantizer=kq(8), bias_quantizer=bq(8),
                    name=f"{name}_shortcut")(x)  # fmt: skip
        x = QActivation(qbits(8, 0), name=f"{name}_shortcut_q")(x)
    x = keras.layers.Add(name=f"{name}_add")([x, y])
    return QActivation(qrelu(8, 0), name=f"{name}_relu")(x)


@zoo_model("ic_resnet8")
def ic_resnet8(seed: int) -> keras.Model:
    """MLPerf Tiny IC: ResNet-8 on 32x32x3 -> 10 logits."""
    x_in = keras.Input((32, 32, 3), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    x = _conv_bn_relu(x, 16, 3, "conv1")
    x = _residual_stack(x, 16, 1, "stack1")
    x = _residual_stack(x, 32, 2, "stack2")
    x = _residual_stack(x, 64, 2, "stack3")
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = QDense(10, kernel_quantizer=kq(8), bias_quantizer=bq(8), name="fc")(x)
    x = QActivation(qbits(8, 3), name="logits_q")(x)
    model = keras.Model(x_in, x, name="ic_resnet8")
    # the shortcut conv and the residual branch add up: smaller summands keep the sum below 20% saturation
    seeded_weights(model, seed, gains={"stack2_shortcut": 0.7, "stack2_conv2_bn": 0.8})
    return model


@zoo_model("ad_autoencoder")
def ad_autoencoder(seed: int) -> keras.Model:
    """MLPerf Tiny AD: the 640 -> 8 -> 640 dense autoencoder as 1x1 convs on a 1x1x640 input."""
    x_in = keras.Input((1, 1, 640), name="input")
    x = QActivation(qbits(8, 0), name="in_q")(x_in)
    for i, units in enumerate((128, 128, 128, 128, 8, 128, 128, 128, 128), start=1):
        x = _conv_bn_relu(x, units, 1, f"dense{i}")
    x = QConv2D(640, 1, kernel_quantizer=kq(8), bias_quantizer=bq(8), name="dense_out")(x)
    x = QActivation(qbits(8, 0), name="out_q")(x)
    model = keras.Model(x_in, x, name="ad_autoencoder")
    seeded_weights(model, seed)
    return model
