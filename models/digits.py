"""digits: a small depthwise-separable QKeras network trained on scikit-learn's 8x8 handwritten digits.

The data set ships inside scikit-learn (no download), so the model is real and reproducible offline.
`models/train_digits.py` trains it (quantisation-aware) and stores the weights in
`models/digits_weights.npz` and the accuracies in `models/digits_metrics.json`; `build("digits")` only
rebuilds the architecture and loads those weights (the seed is ignored: the weights are the trained ones).

Input pixels 0..16 are scaled by 15/256, so every input is exactly an 8-bit unsigned fixed-point value
(multiples of 1/256 in [0, 240/256]) and the input quantizer quantized_relu(8, 0) is the identity on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from qkeras import QActivation, QConv2D, QDense, QDepthwiseConv2D
from tensorflow import keras

from accel import AccelError

from . import zoo_model
from ._common import bq, kq, qbits, qrelu

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "digits_weights.npz"
METRICS = HERE / "digits_metrics.json"
#: how to retrain: the zoo is the package `models` in the source tree and `accel.zoo` when installed
RETRAIN = f"python -m {__package__}.train_digits"
SPLIT_SEED = 0
TEST_FRACTION = 0.25
PIXEL_SCALE = 15.0 / 256.0


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed train/test split (stratified, seed 0): x as (N, 8, 8, 1) float32 on the 8-bit grid, y as int."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images.astype(np.float64) * PIXEL_SCALE).astype(np.float32)[..., None]
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y)
    return x_tr, y_tr, x_te, y_te


def architecture(quantized: bool = True) -> keras.Model:
    """The digits network; `quantized=False` gives the same shape in plain float Keras (for comparison).

    8x8x1 -> 3x3 conv (8) -> stride-2 3x3 depthwise -> 1x1 (16) -> 3x3 depthwise -> 1x1 (16)
    -> flatten (4x4x16) -> dense (10).  4-bit weights and activations, 8-bit input, biases and logits.
    """

    def act(x, name: str, q):
        return QActivation(q, name=name)(x) if quantized else keras.layers.ReLU(name=name)(x)

    def conv(x, filters: int, k: int, name: str, strides: int = 1):
        if quantized:
            return QConv2D(
                filters, k, strides=strides, padding="same", kernel_quantizer=kq(4), bias_quantizer=bq(8), name=name
            )(x)
        return keras.layers.Conv2D(filters, k, strides=strides, padding="same", name=name)(x)

    def dw(x, name: str, strides: int = 1):
        if quantized:
            return QDepthwiseConv2D(
                3, strides=strides, padding="same", depthwise_quantizer=kq(4), bias_quantizer=bq(8), name=name
            )(x)
        return keras.layers.DepthwiseConv2D(3, strides=strides, padding="same", name=name)(x)

    x_in = keras.Input((8, 8, 1), name="input")
    x = QActivation(qrelu(8, 0), name="in_q")(x_in) if quantized else x_in
    x = act(conv(x, 8, 3, "conv1"), "conv1_relu", qrelu(4, 1))
    x = act(dw(x, "dw1", strides=2), "dw1_relu", qrelu(4, 1))
    x = act(conv(x, 16, 1, "pw1"), "pw1_relu", qrelu(4, 1))
    x = act(dw(x, "dw2"), "dw2_relu", qrelu(4, 1))
    x = act(conv(x, 16, 1, "pw2"), "pw2_relu", qrelu(4, 1))
    x = keras.layers.Flatten(name="flatten")(x)
    if quantized:
        x = QDense(10, kernel_quantizer=kq(4), bias_quantizer=bq(8), name="fc")(x)
        x = QActivation(qbits(8, 4), name="logits_q")(x)
    else:
        x = keras.layers.Dense(10, name="fc")(x)
    return keras.Model(x_in, x, name="digits" if quantized else "digits_float")


def save_weights(model: keras.Model, path: Path = WEIGHTS) -> None:
    """Store every weight as float32 under '<layer>/<index>' (a few kilobytes, compressed)."""
    arrays = {
        f"{layer.name}/{i}": w.astype(np.float32) for layer in model.layers for i, w in enumerate(layer.get_weights())
    }
    np.savez_compressed(path, **arrays)


def load_weights(model: keras.Model, path: Path = WEIGHTS) -> None:
    """Load weights written by `save_weights`; a missing or mismatching file is an AccelError."""
    if not path.exists():
        raise AccelError(f"model digits: weight file {path} is missing; run `{RETRAIN}`.")
    with np.load(path) as data:
        for layer in model.layers:
            current = layer.get_weights()
            if not current:
                continue
            stored = [data.get(f"{layer.name}/{i}") for i in range(len(current))]
            if any(s is None or s.shape != c.shape for s, c in zip(stored, current, strict=True)):
                raise AccelError(
                    f"model digits: weight file {path} does not match layer {layer.name}; retrain with `{RETRAIN}`."
                )
            layer.set_weights(stored)


def load_metrics() -> dict:
    """The accuracies recorded by the last training run."""
    return json.loads(METRICS.read_text())


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """(number correct, fraction correct) of argmax predictions; ties go to the lowest class (np.argmax)."""
    pred = np.argmax(model.predict(x, batch_size=256, verbose=0), axis=-1)
    correct = int(np.sum(pred == y))
    return correct, correct / len(y)


@zoo_model("digits")
def digits(seed: int) -> keras.Model:
    """The trained digits classifier (8x8x1 -> 10 logits); `seed` is ignored, the weights are the trained ones."""
    model = architecture(quantized=True)
    load_weights(model)
    return model
