"""Helpers of the ops' examples (``OpDef.examples``): small random graphs of the kind the frontend produces.

Why a module of its own: the examples are test cases each op brings along (run by
``tests/test_conformance.py`` through every implementation); the helpers here type weights, biases and
activations exactly as the frontend does (:mod:`accel.frontend.quantizers`), so every example is a graph
a QKeras model could turn into.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import GraphBuilder
from accel.ops.common import same_pads


def random_type(rng: np.random.Generator, signed: bool | None = None, widths: tuple[int, int] = (2, 12)) -> FixedType:
    """A random activation type as a QKeras quantizer defines one.

    ``quantized_bits(b, i)`` is ``ap_fixed<b, i+1>`` and ``quantized_relu(b, i)`` / unsigned ``quantized_bits`` are
    ``ap_ufixed<b, i>`` with ``i >= 0``: so ``width`` bits, of which 1..width (signed) or 0..width (unsigned) are
    integer bits.  ``signed`` None: a coin flip.
    """
    s = bool(rng.integers(2)) if signed is None else signed
    width = int(rng.integers(max(widths[0], 2 if s else 1), widths[1] + 1))
    integer = int(rng.integers(1 if s else 0, width + 1))
    return FixedType(s, width, integer)


def random_raw(rng: np.random.Generator, t: FixedType, shape: tuple[int, ...]) -> np.ndarray:
    """Raw values drawn uniformly over ``t``'s whole range (its extremes included)."""
    return rng.integers(t.min_raw, t.max_raw, size=shape, endpoint=True, dtype=np.int64)


def exact_params(raw: np.ndarray, frac: int) -> tuple[np.ndarray, FixedType]:
    """Raw parameters (``raw * 2**-frac``) restated in the narrowest type that holds them exactly.

    This is how the frontend types quantized weights (``accel.frontend.quantizers.exact_raw``): common trailing
    zero bits are dropped (the grid may become coarser than 1), and the type is signed only when a value is
    negative; all zeros (a layer without bias) are ``ap_ufixed<1,1>``.  Examples typed this way are graphs the
    frontend can produce.
    """
    raw = np.asarray(raw, dtype=np.int64)
    nonzero = [int(v) for v in raw.ravel() if v]
    if not nonzero:
        return raw, FixedType(False, 1, 1)
    tz = min((v & -v).bit_length() - 1 for v in nonzero)
    raw = raw >> tz
    return raw, FixedType.covering(min(int(raw.min()), 0), max(int(raw.max()), 0), frac - tz)


def random_weights(rng: np.random.Generator, shape: tuple[int, ...], widths: tuple[int, int] = (2, 8)):
    """Weights as a ``quantized_bits`` kernel quantizer gives them: signed, 2..8 bits, then typed exactly."""
    t = random_type(rng, signed=True, widths=widths)
    return exact_params(random_raw(rng, t, shape), t.frac)


def random_bias(rng: np.random.Generator, n: int, max_frac: int) -> tuple[np.ndarray, FixedType]:
    """A quantized bias of at most ``max_frac`` fractional bits, or (one time in three) none at all.

    ``max_frac`` keeps the accumulator narrow: a bias on a finer grid than the products widens it, and the RTL
    requantiser after it takes at most 32 bits.
    """
    if rng.integers(3) == 0:
        return exact_params(np.zeros(n, dtype=np.int64), 0)
    t = random_type(rng, signed=True)
    if t.frac > max_frac:
        t = FixedType(True, t.width, t.width - max_frac)
    return exact_params(random_raw(rng, t, (n,)), t.frac)


def random_requant(rng: np.random.Generator, src: FixedType | None = None,
                   widths: tuple[int, int] = (2, 8)) -> dict[str, Any]:  # fmt: skip
    """The attributes of a QKeras activation as the frontend restates it (``activation_requant``).

    One of: ``quantized_bits`` (signed, saturating, symmetric or not), ``quantized_bits(keep_negative=False)``,
    ``quantized_relu``, and, when ``src`` is given, a plain ``'relu'``, which keeps ``src``'s type.  All round
    half to even, as ``tf.round`` does.
    """
    kind = int(rng.integers(4 if src is not None else 3))
    relu = kind >= 2
    overflow = Overflow.SATURATE
    if kind == 3:
        out = src
    else:
        out = random_type(rng, signed=kind == 0, widths=widths)
        if kind == 0 and rng.integers(2):
            overflow = Overflow.SATURATE_SYMMETRIC
    return {"out_type": out, "rounding": Rounding.ROUND_HALF_EVEN, "overflow": overflow, "relu": relu}


def same_window_pads(shape: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int]):
    """Keras ``padding='same'`` as explicit (top, bottom, left, right) pads, as the frontend emits them."""
    return (*same_pads(shape[0], kernel[0], stride[0]), *same_pads(shape[1], kernel[1], stride[1]))


def conv_node(b: GraphBuilder, name: str, x: str, rng: np.random.Generator, cout: int,
              kernel: tuple[int, int] = (1, 1), stride: tuple[int, int] = (1, 1), padding: str = "valid",
              groups: int = 1, pads: tuple[int, int, int, int] | None = None) -> str:  # fmt: skip
    """A ``QConv2D`` (a ``QDense`` when 1x1 on (1, 1, N)) with random quantized weights and bias, as the frontend
    emits it; explicit ``pads`` (as a transposed conv's lowering gives them) override ``padding``."""
    spec = b.spec(x)
    w, wt = random_weights(rng, (*kernel, spec.shape[2] // groups, cout))
    bias, bt = random_bias(rng, cout, spec.dtype.frac + wt.frac + 2)
    if pads is None:
        pads = same_window_pads(spec.shape, kernel, stride) if padding == "same" else (0, 0, 0, 0)
    attrs = {"kernel": kernel, "stride": stride, "pads": pads, "groups": groups}
    return b.add(name, "conv2d", [x], attrs, {"weight": w, "bias": bias}, {"weight": wt, "bias": bt})


def depthwise_node(b: GraphBuilder, name: str, x: str, rng: np.random.Generator, kernel: tuple[int, int],
                   stride: tuple[int, int] = (1, 1), padding: str = "valid", multiplier: int = 1) -> str:  # fmt: skip
    """A ``QDepthwiseConv2D`` with random quantized weights and bias, as the frontend emits it."""
    spec = b.spec(x)
    c = spec.shape[2]
    w, wt = random_weights(rng, (*kernel, c, multiplier))
    bias, bt = random_bias(rng, c * multiplier, spec.dtype.frac + wt.frac + 2)
    pads = same_window_pads(spec.shape, kernel, stride) if padding == "same" else (0, 0, 0, 0)
    attrs = {"kernel": kernel, "stride": stride, "pads": pads}
    return b.add(name, "depthwise_conv2d", [x], attrs, {"weight": w, "bias": bias}, {"weight": wt, "bias": bt})


def quantize_node(b: GraphBuilder, name: str, x: str, rng: np.random.Generator) -> str:
    """A random QKeras activation (``QActivation`` or a layer's fused one) on ``x``."""
    return b.add(name, "quantize", [x], random_requant(rng, src=b.spec(x).dtype))
