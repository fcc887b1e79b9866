"""Shared pieces of the zoo builders: quantizer shorthands, seeded weights, saturation statistics.

Every zoo model is built with Keras' own random initialisers and then overwritten with
`set_weights` from one NumPy generator seeded by the caller, so a (name, seed) pair names
exactly one network on every machine.  The scales are He-like (std = gain * sqrt(2 / fan_in))
because the point of a zoo model is to exercise the hardware with realistic value
distributions: activations that are neither all saturated nor all zero.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from qkeras import quantized_bits, quantized_relu  # noqa: E402
from tensorflow import keras  # noqa: E402

__all__ = [
    "activation_stats",
    "bq",
    "kq",
    "qbits",
    "qrelu",
    "random_inputs",
    "seeded_weights",
]


def qbits(bits: int, integer: int = 0, alpha: float | str = 1, keep_negative: bool = True) -> quantized_bits:
    """Signed (or unsigned) fixed-point quantizer; alpha=1 means a plain ap_fixed grid."""
    return quantized_bits(bits, integer, keep_negative=keep_negative, alpha=alpha)


def qrelu(bits: int, integer: int = 0) -> quantized_relu:
    """Unsigned ReLU quantizer: ap_ufixed<bits, integer>."""
    return quantized_relu(bits, integer)


def kq(bits: int, alpha: float | str = 1) -> quantized_bits:
    """Kernel quantizer: weights in [-1, 1) on a `bits`-bit grid (alpha="auto_po2": per-channel po2 scale)."""
    return quantized_bits(bits, 0, alpha=alpha)


def bq(bits: int = 8, integer: int = 0) -> quantized_bits:
    """Bias quantizer (biases are stored with more bits than kernels, as in real deployments)."""
    return quantized_bits(bits, integer, alpha=1)


def _fan_in(layer: keras.layers.Layer, weight_name: str, shape: tuple[int, ...]) -> int:
    """Fan-in of one kernel: taps x input channels per output (depthwise kernels see one channel)."""
    if "depthwise" in weight_name:
        return int(shape[0] * shape[1])
    return int(np.prod(shape[:-1]))


def seeded_weights(model: keras.Model, seed: int, gain: float = 1.0, gains: dict[str, float] | None = None) -> None:
    """Overwrite every weight of `model` from `np.random.default_rng(seed)`, layer by layer in model order.

    Kernels are N(0, (g*sqrt(2/fan_in))^2) with g = gains.get(layer name, gain); biases U(-0.1, 0.1).
    Batch-norm-folding layers get non-trivial gamma/beta/moving statistics, and their raw kernel is divided
    by the folding factor gamma/sqrt(var+eps) so that the *folded* kernel (the one QKeras quantises) has
    the He scale.  The `iteration` counter of those layers is left at 0.
    """
    rng = np.random.default_rng(seed)
    gains = gains or {}
    for layer in model.layers:
        if not layer.weights:
            continue
        g = gains.get(layer.name, gain)
        by_name: dict[str, np.ndarray] = {}
        shapes = {w.name.split("/")[-1].split(":")[0]: tuple(w.shape) for w in layer.weights}
        if "gamma" in shapes:
            c = shapes["gamma"][0]
            by_name["gamma"] = rng.uniform(0.6, 1.4, c)
            by_name["beta"] = rng.uniform(-0.2, 0.2, c)
            by_name["moving_mean"] = rng.uniform(-0.2, 0.2, c)
            by_name["moving_variance"] = rng.uniform(0.5, 2.0, c)
        for key, shape in shapes.items():
            if key in by_name:
                continue
            if key.endswith("kernel"):
                std = g * np.sqrt(2.0 / _fan_in(layer, key, shape))
                w = rng.normal(0.0, std, shape)
                if "gamma" in shapes:
                    eps = layer.batchnorm.epsilon
                    fold = by_name["gamma"] / np.sqrt(by_name["moving_variance"] + eps)
                    # The output channel is the last axis (conv) or the channel axis of a depthwise kernel.
                    fold_shape = (1, 1, -1, 1) if "depthwise" in key else (1, 1, 1, -1)
                    w = w / fold.reshape(fold_shape)
                by_name[key] = w
            elif key == "bias":
                by_name[key] = rng.uniform(-0.1, 0.1, shape)
            elif key == "iteration":
                by_name[key] = np.zeros(shape)
            else:  # pragma: no cover - a new layer kind in a builder
                raise ValueError(f"layer {layer.name}: no seeded initialiser for weight {key!r}")
        layer.set_weights([by_name[w.name.split("/")[-1].split(":")[0]].astype(np.float32) for w in layer.weights])


def input_quantizer(model: keras.Model):
    """The quantizer of the first QActivation (the model's input grid)."""
    for layer in model.layers:
        if layer.__class__.__name__ == "QActivation":
            return layer.quantizer
    raise ValueError(f"model {model.name} has no input QActivation")


def quantizer_range(q) -> tuple[float, float]:
    """The smallest and largest value a quantizer can output (QKeras' own max() returns 2**integer instead)."""
    ext = np.asarray(q(np.array([-1e6, 1e6], dtype=np.float32)), dtype=np.float64)
    return float(ext[0]), float(ext[1])


def random_inputs(model: keras.Model, n: int, seed: int = 0) -> np.ndarray:
    """`n` random inputs uniformly spread over the model's input quantizer grid (exactly representable)."""
    q = input_quantizer(model)
    lo, hi = quantizer_range(q)
    step = 2.0 ** (q.integer - (q.bits - (1 if q.keep_negative else 0))) if hasattr(q, "keep_negative") else None
    if step is None:  # quantized_relu
        step = 2.0 ** (q.integer - q.bits)
    rng = np.random.default_rng(seed)
    levels = int(round((hi - lo) / step)) + 1
    shape = (n, *model.input_shape[1:])
    return (lo + step * rng.integers(0, levels, shape)).astype(np.float32)


def output_quantizer(layer: keras.layers.Layer):
    """The quantizer applied to a layer's output: a QActivation's, or a fused `activation=` quantizer."""
    if layer.__class__.__name__ == "QActivation":
        return layer.quantizer
    act = getattr(layer, "activation", None)
    return act if hasattr(act, "bits") else None


def activation_stats(model: keras.Model, x: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per quantised activation (QActivation or fused): (fraction saturated, fraction non-zero).

    Saturated means at the quantizer's largest value, or (signed quantizers) at its smallest.

    Zero is the natural floor of a ReLU, so for unsigned quantizers only the top counts as saturated.
    """
    acts = [(layer, q) for layer in model.layers if (q := output_quantizer(layer)) is not None]
    probe = keras.Model(model.inputs, [layer.output for layer, _ in acts])
    outs = probe.predict(x, verbose=0)
    if len(acts) == 1:
        outs = [outs]
    stats = {}
    for (layer, q), y in zip(acts, outs, strict=True):
        lo, hi = quantizer_range(q)
        sat = y >= hi
        if lo < 0:
            sat |= y <= lo
        stats[layer.name] = (float(np.mean(sat)), float(np.mean(y != 0)))
    return stats
