"""One exact integer kernel per operation; inputs and outputs are raw ``int64`` arrays ``(N, H, W, C)``.

Vectorised with NumPy (no loop per pixel).  Dot products run through float64
BLAS only when every partial sum provably stays below 2**53, where float64 is
exact; otherwise through int64 ``einsum``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from accel.fixed import FixedType, Overflow, Rounding, apply_overflow, quantize_counting, round_divide

#: partial sums below this magnitude are exact in float64
_FLOAT64_EXACT = 1 << 52


def pad(x: np.ndarray, pads: tuple[int, int, int, int], value: int = 0) -> np.ndarray:
    """Pad rows (top, bottom) and columns (left, right) with ``value``."""
    pt, pb, pl, pr = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], pads, value: int = 0) -> np.ndarray:
    """All KxK windows: ``(N, Ho, Wo, kh, kw, C)`` (the im2col of the sliding-window generator)."""
    kh, kw = kernel
    sh, sw = stride
    xp = pad(x, pads, value)
    v = sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (N, Hp-kh+1, Wp-kw+1, C, kh, kw)
    v = v[:, ::sh, ::sw]
    return np.moveaxis(v, 3, 5)


def _dot(a: np.ndarray, b: np.ndarray, subscripts: str, bound: int) -> np.ndarray:
    if bound < _FLOAT64_EXACT:
        return np.rint(np.einsum(subscripts, a.astype(np.float64), b.astype(np.float64), optimize=True)).astype(
            np.int64
        )
    return np.einsum(subscripts, a.astype(np.int64), b.astype(np.int64), optimize=True)


def _bound(x: np.ndarray, w: np.ndarray, taps: int) -> int:
    xm = int(np.abs(x).max(initial=0))
    wm = int(np.abs(w).max(initial=0))
    return xm * wm * taps


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    *,
    stride: tuple[int, int] = (1, 1),
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    groups: int = 1,
    product_shift: int = 0,
    bias_shift: int = 0,
) -> np.ndarray:
    """Exact (grouped) convolution: ``(sum x*w) << product_shift + bias << bias_shift``.

    The shifts align the product grid (x.frac + w.frac) and the bias grid to the
    accumulator's fractional bits.
    """
    kh, kw, cin_g, cout = weight.shape
    win = windows(x, (kh, kw), stride, pads)  # (N, Ho, Wo, kh, kw, C)
    n, ho, wo = win.shape[:3]
    win = win.reshape(n, ho, wo, kh, kw, groups, cin_g)
    w = weight.reshape(kh, kw, cin_g, groups, cout // groups)
    acc = _dot(win, w, "nhwijgc,ijcgo->nhwgo", _bound(x, weight, kh * kw * cin_g))
    acc = acc.reshape(n, ho, wo, cout)
    return (acc << product_shift) + (bias.astype(np.int64) << bias_shift)


def depthwise_conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    *,
    stride: tuple[int, int] = (1, 1),
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    product_shift: int = 0,
    bias_shift: int = 0,
) -> np.ndarray:
    """Exact depthwise convolution; weight ``(kh, kw, C, M)``, output channel ``c*M + m``."""
    kh, kw, c, m = weight.shape
    win = windows(x, (kh, kw), stride, pads)
    acc = _dot(win, weight, "nhwijc,ijcm->nhwcm", _bound(x, weight, kh * kw))
    n, ho, wo = acc.shape[:3]
    acc = acc.reshape(n, ho, wo, c * m)
    return (acc << product_shift) + (bias.astype(np.int64) << bias_shift)


def requantize(
    x: np.ndarray,
    src: FixedType,
    dst: FixedType,
    rounding: Rounding,
    overflow: Overflow,
    relu: bool = False,
) -> tuple[np.ndarray, int]:
    """Optional ReLU, then :func:`accel.fixed.quantize`; returns values and the overflow count."""
    if relu:
        x = np.maximum(x, 0)
    return quantize_counting(x, src, dst, rounding, overflow)


def maxpool(x: np.ndarray, pool, stride, pads=(0, 0, 0, 0)) -> np.ndarray:
    """Max over each window; padding never wins (it is below every value)."""
    lowest = int(x.min(initial=0)) - 1
    return windows(x, pool, stride, pads, value=lowest).max(axis=(3, 4))


def average(
    sums: np.ndarray,
    count: int,
    src: FixedType,
    dst: FixedType,
    rounding: Rounding,
    overflow: Overflow,
    relu: bool = False,
) -> tuple[np.ndarray, int]:
    """``round(sums / count)`` from ``src``'s grid onto ``dst``'s, in one exact step, then overflow."""
    if relu:
        sums = np.maximum(sums, 0)
    shift = dst.frac - src.frac
    if shift >= 0:
        q = round_divide(sums.astype(np.int64) << shift, count, rounding)
    else:
        q = round_divide(sums.astype(np.int64), count << -shift, rounding)
    return apply_overflow(q, dst, overflow)


def avgpool(x, pool, stride, src, dst, rounding, overflow, relu=False) -> tuple[np.ndarray, int]:
    sums = windows(x, pool, stride, (0, 0, 0, 0)).sum(axis=(3, 4))
    return average(sums, pool[0] * pool[1], src, dst, rounding, overflow, relu)


def global_avgpool(x, src, dst, rounding, overflow, relu=False) -> tuple[np.ndarray, int]:
    sums = x.sum(axis=(1, 2), keepdims=True)
    return average(sums, x.shape[1] * x.shape[2], src, dst, rounding, overflow, relu)


def add(xs: list[np.ndarray], shifts: list[int]) -> np.ndarray:
    """Sum after aligning each operand by its left shift."""
    out = np.zeros_like(xs[0], dtype=np.int64)
    for x, s in zip(xs, shifts, strict=True):
        out = out + (x.astype(np.int64) << s)
    return out


def concat(xs: list[np.ndarray], shifts: list[int]) -> np.ndarray:
    return np.concatenate([x.astype(np.int64) << s for x, s in zip(xs, shifts, strict=True)], axis=3)


def upsample(x: np.ndarray, factor: tuple[int, int]) -> np.ndarray:
    return np.repeat(np.repeat(x, factor[0], axis=1), factor[1], axis=2)


def zero_insert(x: np.ndarray, strides: tuple[int, int]) -> np.ndarray:
    """``strides - 1`` zero rows / columns between neighbouring rows / columns, none outside:
    ``(N, H, W, C)`` -> ``(N, (H-1)*sh+1, (W-1)*sw+1, C)``."""
    sh, sw = strides
    n, h, w, c = x.shape
    y = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c), dtype=np.int64)
    y[:, ::sh, ::sw, :] = x
    return y


def threshold(x: np.ndarray, thresholds: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``levels[k]`` where ``k`` is the number of (non-decreasing) thresholds at or below ``x``; raw integers.

    1-D tables apply to every element; 2-D tables ``(C, T)`` and ``(C, T + 1)`` hold one row per channel (the last
    axis of ``x``), as a batch normalization folded into the step function gives."""
    thr, lvl = np.asarray(thresholds), np.asarray(levels, dtype=np.int64)
    if thr.ndim == 1:
        return lvl[np.searchsorted(thr, x, side="right")]
    out = np.empty(np.shape(x), dtype=np.int64)
    for c in range(thr.shape[0]):
        out[..., c] = lvl[c][np.searchsorted(thr[c], x[..., c], side="right")]
    return out


def channel_shuffle(x: np.ndarray, groups: int) -> np.ndarray:
    n, h, w, c = x.shape
    return x.reshape(n, h, w, groups, c // groups).swapaxes(3, 4).reshape(n, h, w, c)


def reshape(x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    return x.reshape(x.shape[0], *shape)
