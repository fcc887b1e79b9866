"""Refusal advice fits the layer: a separate batch normalization is refused with the QKeras 0.9 fold that exists for
the layer before it (QConv2DBatchnorm, QDepthwiseConv2DBatchnorm; a dense or separable layer through a 1x1
QConv2DBatchnorm, since QKeras 0.9 has no QDenseBatchnorm), and the model rewritten as the advice says is accepted and
exact against QKeras."""

from __future__ import annotations

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
import qkeras  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QBatchNormalization,
    QConv2D,
    QConv2DBatchnorm,
    QDense,
    QDepthwiseConv2D,
    QDepthwiseConv2DBatchnorm,
    QSeparableConv2D,
    quantized_bits,
    quantized_relu,
)

from accel import AccelError  # noqa: E402
from tests.test_frontend import assert_exact, bq, kq, model_of  # noqa: E402

L = tf.keras.layers
FOLD = {"kernel_quantizer": kq(6, 1), "bias_quantizer": bq(10, 3)}


def _dense_bn(h):
    return L.BatchNormalization(name="bad")(QDense(4, name="src", kernel_quantizer=kq(), bias_quantizer=bq())(
        L.Flatten()(h)))  # fmt: skip


def _dense_as_conv_bn(h):
    """The advice for dense: a 1x1 QConv2DBatchnorm on the vector reshaped to (1, 1, N), flattened after."""
    n = h.shape[1] * h.shape[2] * h.shape[3]
    return L.Flatten()(QConv2DBatchnorm(4, 1, **FOLD)(L.Reshape((1, 1, n))(L.Flatten()(h))))


def _separable_bn(h):
    return QBatchNormalization(name="bad")(QSeparableConv2D(4, 3, name="src", depthwise_quantizer=kq(),
                                                            pointwise_quantizer=kq(), bias_quantizer=bq())(h))


def _separable_split(h):
    """The advice for separable: QDepthwiseConv2D (no bias, as in the separable layer) and a 1x1 QConv2DBatchnorm."""
    return QConv2DBatchnorm(4, 1, **FOLD)(QDepthwiseConv2D(3, use_bias=False, depthwise_quantizer=kq())(h))


#: case -> (the refused model, words its refusal must contain, the model written as the advice says)
CASES = {
    "conv": (lambda h: L.BatchNormalization(name="bad")(QConv2D(4, 3, name="src", kernel_quantizer=kq())(h)),
             "use QConv2DBatchnorm in place of the pair", lambda h: QConv2DBatchnorm(4, 3, **FOLD)(h)),
    "depthwise": (lambda h: L.BatchNormalization(name="bad")(QDepthwiseConv2D(3, name="src",
                                                                              depthwise_quantizer=kq())(h)),
                  "use QDepthwiseConv2DBatchnorm in place of the pair",
                  lambda h: QDepthwiseConv2DBatchnorm(3, depthwise_quantizer=kq(6, 1), bias_quantizer=bq(10, 3))(h)),
    "dense": (_dense_bn, "no QDenseBatchnorm, so use QConv2DBatchnorm(units, 1)", _dense_as_conv_bn),
    "separable": (_separable_bn, "split it into QDepthwiseConv2D and a 1x1 QConv2DBatchnorm", _separable_split),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_batchnorm_advice_names_the_fold_for_the_layer_before_it(case: str) -> None:
    refused, words, advised = CASES[case]
    with pytest.raises(AccelError) as info:
        from accel.frontend import to_graph

        to_graph(model_of((6, 6, 3), refused))
    message = str(info.value)
    assert message.startswith("layer bad (") and "after src (" in message and words in message, message
    if case != "conv":
        assert "QConv2DBatchnorm or QDepthwiseConv2DBatchnorm" not in message  # the conv-only advice it replaced
    assert_exact(model_of((6, 6, 3), advised, seed=3))


def test_every_layer_the_batchnorm_advice_names_exists_in_qkeras() -> None:
    """QKeras 0.9 has these (and no QDenseBatchnorm, which the advice says)."""
    from accel.frontend.batchnorm import BN_FOLDS as _BN_FOLDS

    named = {w for text in _BN_FOLDS.values() for w in re.findall(r"\bQ\w+", text)} - {"QKeras"}
    assert named == {"QConv2DBatchnorm", "QDepthwiseConv2DBatchnorm", "QDenseBatchnorm", "QDepthwiseConv2D"}
    assert all(hasattr(qkeras, n) for n in named - {"QDenseBatchnorm"})
    assert not hasattr(qkeras, "QDenseBatchnorm")


@pytest.mark.parametrize("where", ["activation", "pool", "input"])
def test_batchnorm_that_cannot_be_folded_says_what_can(where: str) -> None:
    """After a fused activation the fold changes the function; after a pool or the input there is no weight."""
    from accel.frontend import to_graph

    if where == "input":
        x = tf.keras.Input((6, 6, 3))
        model = tf.keras.Model(x, QActivation(quantized_bits(8, 2, alpha=1))(L.BatchNormalization(name="bad")(x)))
        words = "after the model input; its float scale has no exact fixed-point form; supported: a batch"
    elif where == "pool":
        model = model_of((6, 6, 3), lambda h: L.BatchNormalization(name="bad")(L.MaxPooling2D(name="src")(h)))
        words = "after src (MaxPooling2D); its float scale has no exact fixed-point form; supported: a batch"
    else:
        model = model_of((6, 6, 3), lambda h: L.BatchNormalization(name="bad")(
            QConv2D(4, 3, name="src", kernel_quantizer=kq(), activation=quantized_relu(6, 2))(h)))  # fmt: skip
        words = "after src (QConv2D)'s activation, so it cannot be folded into the weights"
    with pytest.raises(AccelError, match="^layer bad ") as info:
        to_graph(model)
    assert words in str(info.value), str(info.value)


#: a layer without a weight quantizer -> the advice names the QKeras class and argument that give it one
NO_QUANTIZER = {
    "keras_conv2d": (lambda h: L.Conv2D(4, 3, name="bad")(h), "QConv2D with kernel_quantizer set to"),
    "keras_dense": (lambda h: L.Dense(4, name="bad")(h), "QDense with kernel_quantizer set to"),
    "keras_depthwise": (lambda h: L.DepthwiseConv2D(3, name="bad")(h), "QDepthwiseConv2D with depthwise_quantizer"),
    "keras_separable": (lambda h: L.SeparableConv2D(4, 3, name="bad")(h),
                        "QSeparableConv2D with depthwise_quantizer set to"),
    "qseparable_pointwise": (lambda h: QSeparableConv2D(4, 3, depthwise_quantizer=kq(), name="bad")(h),
                             "supported: pointwise_quantizer set to quantized_bits"),
    "qdense": (lambda h: QDense(4, name="bad")(h), "supported: kernel_quantizer set to quantized_bits"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(NO_QUANTIZER))
def test_missing_weight_quantizer_names_the_class_and_argument_that_exist(case: str) -> None:
    from accel.frontend import to_graph

    body, words = NO_QUANTIZER[case]
    if words.startswith("Q"):  # the QKeras class exists and really takes that argument
        cls, argument = words.split()[0], words.split()[2]
        assert argument in getattr(qkeras, cls).__init__.__code__.co_varnames
    with pytest.raises(AccelError, match="^layer bad ") as info:
        to_graph(model_of((6, 6, 3), body))
    assert words in str(info.value), str(info.value)


@pytest.mark.parametrize("cls", ["AveragePooling2D", "QAveragePooling2D"])
def test_inexact_average_names_its_own_activation_only_where_the_layer_has_one(cls: str) -> None:
    from accel.frontend import to_graph

    pool = getattr(qkeras if cls.startswith("Q") else L, cls)
    model = model_of((6, 6, 3), lambda h: QConv2D(2, 1, kernel_quantizer=kq())(pool(3, name="bad")(h)))
    with pytest.raises(AccelError, match="^layer bad ") as info:
        to_graph(model)
    assert ("activation=" in str(info.value)) == cls.startswith("Q"), str(info.value)
