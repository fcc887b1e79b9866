"""Random valid QKeras models for the fuzz tests (tests/test_fuzz.py, `make fuzz`).

Why: the zoo and the hand-written tests cover the shapes their authors thought of; a demanding user's model
has odd sizes (1x1 frames, 7x5, 1 channel), 2..16-bit types, strided 1x1 depthwise layers, padding folded
into windows, residual adds of differently typed branches.  ``random_model(seed)`` draws one such model from
every layer family the frontend's supported-layer table lists (README.md), every quantizer family and shape
class; the same seed always gives the same model, so a failure is replayed from its seed alone.

The models are *valid Keras* by construction (sizes never shrink below a window), not necessarily accepted by
the frontend: a refusal is a legitimate outcome (e.g. an accumulator wider than 62 bits), and the tests
count them so that a generator drifting into refusals is noticed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from accel.frontend import qkeras_tf_compat  # noqa: E402

qkeras_tf_compat()  # QKeras 0.9's QConv2DTranspose on TensorFlow 2.14

from qkeras import (  # noqa: E402
    QActivation,
    QConv2D,
    QConv2DBatchnorm,
    QConv2DTranspose,
    QDense,
    QDepthwiseConv2D,
    QSeparableConv2D,
    binary,
    quantized_bits,
    quantized_po2,
    quantized_relu,
    ternary,
)
from tensorflow import keras  # noqa: E402


@dataclass
class Fuzzed:
    """One random model and the frontend options it needs (a final softmax needs ``softmax``)."""

    seed: int
    model: Any
    softmax: str | None = None
    families: list[str] = field(default_factory=list)


class _Gen:
    """Draws layers on a growing model; ``shape`` is the current tensor's (H, W, C)."""

    def __init__(self, seed: int, small: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.small = small
        self.count = 0
        self.families: list[str] = []

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def pick(self, options: list[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    # -- quantizers ---------------------------------------------------------------------------------------------
    def activation_quantizer(self) -> Any:
        bits = int(self.rng.integers(2, 13 if self.small else 17))
        integer = int(self.rng.integers(0, min(bits, 6)))
        if self.chance(0.45):
            return quantized_relu(bits, integer)
        return quantized_bits(bits, integer, 1, alpha=1)

    def kernel_quantizer(self) -> Any:
        r = self.rng.random()
        if r < 0.08:
            return binary(alpha=1)
        if r < 0.16:
            return ternary(alpha=1)
        if r < 0.22:
            return quantized_po2(4)
        bits = int(self.rng.integers(2, 9))
        return quantized_bits(bits, int(self.rng.integers(0, 2)), 1, alpha=1)

    def bias(self) -> dict[str, Any]:
        if self.chance(0.25):
            return {"use_bias": False}
        bits = int(self.rng.integers(4, 13))
        return {"bias_quantizer": quantized_bits(bits, int(self.rng.integers(0, 4)), 1, alpha=1)}

    def act(self, x: Any) -> Any:
        """A quantizing activation (now and then a step function after it)."""
        x = QActivation(self.activation_quantizer(), name=self.name("act"))(x)
        if self.chance(0.06):
            step = self.pick(["quantized_relu_po2(4)", "quantized_po2(4)", "binary(alpha=1)", "ternary(alpha=1)"])
            self.families.append("threshold")
            x = QActivation(step, name=self.name("step"))(x)
        return x

    # -- layers -------------------------------------------------------------------------------------------------
    def window(self, h: int, w: int, most: int = 3) -> tuple[tuple[int, int], tuple[int, int], str]:
        """Kernel, strides and padding that fit an (h, w) frame."""
        padding = "same" if self.chance(0.5) else "valid"
        kh = int(self.rng.integers(1, min(most, h) + 1)) if padding == "valid" else int(self.rng.integers(1, most + 1))
        kw = int(self.rng.integers(1, min(most, w) + 1)) if padding == "valid" else int(self.rng.integers(1, most + 1))
        sh, sw = (int(self.rng.integers(1, 3)), int(self.rng.integers(1, 3))) if self.chance(0.4) else (1, 1)
        return (kh, kw), (sh, sw), padding

    def conv(self, x: Any, filters: int | None = None, same_shape: bool = False) -> Any:
        h, w, c = x.shape[1:]
        filters = filters or int(self.rng.integers(1, 9 if self.small else 13))
        if same_shape:
            k, s, padding = (int(self.pick([1, 3])),) * 2, (1, 1), "same"
        else:
            k, s, padding = self.window(h, w)
        if self.chance(0.1) and not same_shape:
            self.families.append("conv_bn")
            x = QConv2DBatchnorm(filters, k, strides=s, padding=padding, kernel_quantizer=self.kernel_quantizer(),
                                 bias_quantizer=quantized_bits(16, 6, 1, alpha=1),
                                 name=self.name("convbn"))(x)  # fmt: skip
        else:
            self.families.append("conv")
            x = QConv2D(filters, k, strides=s, padding=padding, kernel_quantizer=self.kernel_quantizer(),
                        name=self.name("conv"), **self.bias())(x)  # fmt: skip
        return self.act(x)

    def transposed(self, x: Any) -> Any:
        """QConv2DTranspose (zero insertion, then a stride-1 conv): any kernel up to 4, stride up to 2."""
        k = (int(self.rng.integers(1, 5)), int(self.rng.integers(1, 5)))
        s = (int(self.rng.integers(1, 3)), int(self.rng.integers(1, 3)))
        self.families.append("conv_transpose")
        x = QConv2DTranspose(int(self.rng.integers(1, 7)), k, strides=s, padding=self.pick(["same", "valid"]),
                             kernel_quantizer=self.kernel_quantizer(), name=self.name("tconv"),
                             **self.bias())(x)  # fmt: skip
        return self.act(x)

    def depthwise(self, x: Any) -> Any:
        h, w, _ = x.shape[1:]
        k, s, padding = self.window(h, w)
        if self.chance(0.2):
            k, s = (1, 1), (2, 2)  # hls4ml's strided 1x1 depthwise gap
        self.families.append("depthwise")
        x = QDepthwiseConv2D(k, strides=s, padding=padding, depth_multiplier=int(self.pick([1, 1, 2])),
                             depthwise_quantizer=self.kernel_quantizer(), name=self.name("dw"),
                             **self.bias())(x)  # fmt: skip
        return self.act(x)

    def separable(self, x: Any) -> Any:
        h, w, _ = x.shape[1:]
        k, s, padding = self.window(h, w)
        self.families.append("separable")
        x = QSeparableConv2D(int(self.rng.integers(1, 9)), k, strides=s, padding=padding,
                             depthwise_quantizer=self.kernel_quantizer(), pointwise_quantizer=self.kernel_quantizer(),
                             name=self.name("sep"), **self.bias())(x)  # fmt: skip
        return self.act(x)

    def maxpool(self, x: Any) -> Any:
        h, w, _ = x.shape[1:]
        p, s, padding = self.window(h, w)
        if p == (1, 1):
            p = (min(2, h), min(2, w)) if padding == "valid" else (2, 2)
        self.families.append("maxpool")
        return keras.layers.MaxPooling2D(p, strides=s, padding=padding, name=self.name("maxpool"))(x)

    def avgpool(self, x: Any) -> Any:
        h, w, _ = x.shape[1:]
        ph, pw = int(self.rng.integers(1, min(3, h) + 1)), int(self.rng.integers(1, min(3, w) + 1))
        self.families.append("avgpool")
        x = keras.layers.AveragePooling2D((ph, pw), padding="valid", name=self.name("avgpool"))(x)
        return self.act(x)  # a window of N != 2^k values needs its quantizer right after it

    def zeropad(self, x: Any) -> Any:
        pads = tuple(tuple(int(v) for v in self.rng.integers(0, 3, size=2)) for _ in range(2))
        self.families.append("zeropad")
        x = keras.layers.ZeroPadding2D(pads, name=self.name("pad"))(x)
        return self.pick([self.conv, self.depthwise, self.maxpool])(x)

    def upsample(self, x: Any) -> Any:
        self.families.append("upsample")
        f = (int(self.rng.integers(1, 3)), int(self.rng.integers(1, 3)))
        return keras.layers.UpSampling2D(f if f != (1, 1) else (2, 1), name=self.name("up"))(x)

    def residual(self, x: Any) -> Any:
        c = x.shape[-1]
        branches = [x] + [self.conv(x, filters=c, same_shape=True) for _ in range(int(self.pick([1, 1, 2])))]
        self.families.append(f"add{len(branches)}")
        y = keras.layers.Add(name=self.name("add"))(branches)
        return self.act(y) if self.chance(0.7) else y

    def concat(self, x: Any) -> Any:
        self.families.append("concat")
        a = self.conv(x, same_shape=True)
        b = self.pick([lambda t: t, lambda t: self.conv(t, same_shape=True)])(x)
        return keras.layers.Concatenate(name=self.name("cat"))([a, b])

    def shuffle(self, x: Any) -> Any:
        h, w, c = x.shape[1:]
        groups = [g for g in (2, 3, 4) if c % g == 0 and c // g > 1]
        if not groups:
            return self.conv(x)
        g = self.pick(groups)
        self.families.append("shuffle")
        y = keras.layers.Reshape((h, w, g, c // g), name=self.name("split"))(x)
        y = keras.layers.Permute((1, 2, 4, 3), name=self.name("perm"))(y)
        return keras.layers.Reshape((h, w, c), name=self.name("merge"))(y)

    def dropout(self, x: Any) -> Any:
        self.families.append("dropout")
        return keras.layers.Dropout(0.25, name=self.name("drop"))(x)

    def head(self, x: Any) -> tuple[Any, str | None]:
        r = self.rng.random()
        if r < 0.2:
            self.families.append("gap")
            return self.act(keras.layers.GlobalAveragePooling2D(name=self.name("gap"))(x)), None
        if r < 0.35:
            self.families.append("gmp")
            return keras.layers.GlobalMaxPooling2D(name=self.name("gmp"))(x), None
        if r < 0.55:
            self.families.append("dense")
            y = keras.layers.Flatten(name=self.name("flat"))(x)
            y = QDense(int(self.rng.integers(1, 11)), kernel_quantizer=self.kernel_quantizer(), name=self.name("fc"),
                       **self.bias())(y)  # fmt: skip
            if self.chance(0.4):
                self.families.append("softmax")
                return keras.layers.Activation("softmax", name=self.name("softmax"))(y), "argmax"
            return self.act(y), None
        return x, None


def random_model(seed: int, small: bool = False) -> Fuzzed:
    """The random model of ``seed``: an input quantizer, 1..5 body layers, a head.  ``small`` keeps frames and
    channels small, for the backends' (compiled, co-simulated) fuzz runs."""
    g = _Gen(seed, small)
    most = 8 if small else 12
    shape = (int(g.rng.integers(1, most + 1)), int(g.rng.integers(1, most + 1)), int(g.rng.integers(1, 7)))
    inp = keras.Input(shape, name="input")
    x = QActivation(g.activation_quantizer(), name="in_q")(inp)
    body = [g.conv, g.conv, g.depthwise, g.separable, g.maxpool, g.avgpool, g.zeropad, g.upsample, g.residual,
            g.concat, g.shuffle, g.dropout, g.transposed]  # fmt: skip
    for _ in range(int(g.rng.integers(1, 4 if small else 6))):
        x = g.pick(body)(x)
    x, softmax = g.head(x)
    model = keras.Model(inp, x, name=f"fuzz{seed}")
    _randomise_weights(model, g.rng)
    return Fuzzed(seed, model, softmax, g.families)


def _randomise_weights(model: Any, rng: np.random.Generator) -> None:
    """Weights spread over the quantizers' ranges; batch-norm statistics far from the identity."""
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        names = [w.name for w in layer.weights]
        new = []
        for name, w in zip(names, weights, strict=True):
            if "moving_variance" in name:
                new.append(rng.uniform(0.2, 3.0, w.shape).astype(w.dtype))
            elif "gamma" in name:
                new.append(rng.uniform(0.5, 2.0, w.shape).astype(w.dtype))
            elif "iteration" in name:
                new.append(w)
            else:
                new.append(rng.uniform(-1.0, 1.0, w.shape).astype(w.dtype))
        layer.set_weights(new)
