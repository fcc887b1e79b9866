"""One exact integer kernel per operation; inputs and outputs are raw ``int64`` arrays ``(N, H, W, C)``.

Vectorised with NumPy: no loop per pixel or channel, only per kernel tap.  Convolutions gather their taps
(im2col) into a scratch buffer and multiply it by the weights in one BLAS matrix product, in the cheapest
type that is provably exact (:func:`exact_dtype`): float32 when every partial sum stays within 2**24,
float64 within 2**53, else int64.  Scratch buffers are filled a slice of the batch at a time
(:data:`SCRATCH_BYTES`), so memory stays bounded whatever the batch.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from accel.fixed import MAX_WIDTH, FixedType, Overflow, Rounding, apply_overflow, quantize_counting, round_divide

#: integers up to these magnitudes are exact in float32 (24-bit significand) and float64 (53-bit)
FLOAT32_EXACT = 1 << 24
FLOAT64_EXACT = 1 << 53
#: the largest scratch buffer (gathered taps, depthwise partial sums) one kernel call allocates, in bytes
SCRATCH_BYTES = 4 << 20


def pad(x: np.ndarray, pads: tuple[int, int, int, int], value: int = 0) -> np.ndarray:
    """Pad rows (top, bottom) and columns (left, right) with ``value``."""
    pt, pb, pl, pr = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], pads, value: int = 0) -> np.ndarray:
    """All KxK windows: ``(N, Ho, Wo, kh, kw, C)`` (the im2col of the sliding-window generator), a strided view."""
    kh, kw = kernel
    sh, sw = stride
    xp = pad(x, pads, value)
    v = sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (N, Hp-kh+1, Wp-kw+1, C, kh, kw)
    v = v[:, ::sh, ::sw]
    return np.moveaxis(v, 3, 5)


def taps(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]):
    """Yield ``(i, j, view)``: for each kernel tap, the (already padded) input pixels it meets, ``(N, Ho, Wo, C)``.

    A view, no copy: ops that combine taps one by one (depthwise MACs, pooling) never hold a window tensor.
    """
    ho, wo = out_hw
    sh, sw = stride
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield i, j, xp[:, i : i + (ho - 1) * sh + 1 : sh, j : j + (wo - 1) * sw + 1 : sw]


def _out_hw(x: np.ndarray, kernel, stride, pads) -> tuple[int, int]:
    pt, pb, pl, pr = pads
    return (x.shape[1] + pt + pb - kernel[0]) // stride[0] + 1, (x.shape[2] + pl + pr - kernel[1]) // stride[1] + 1


def exact_dtype(bound: int) -> type:
    """The cheapest dtype in which a dot product whose every partial sum is at most ``bound`` is exact.

    Why this is exact: every product and every partial sum, in whatever order BLAS adds (blocked, FMA), is a sum of
    a subset of one output's products, so its magnitude is at most ``bound``; every integer up to 2**24 (float32) or
    2**53 (float64) is representable, so no operation ever rounds.  Above 2**53, int64 (exact, slower).
    """
    if bound <= FLOAT32_EXACT:
        return np.float32
    if bound <= FLOAT64_EXACT:
        return np.float64
    return np.int64


def dot_bound(x: np.ndarray, weights_by_output: np.ndarray) -> int:
    """Largest possible partial sum: ``max|x|`` times the largest per-output sum of ``|w|``
    (``weights_by_output``: taps on axis -2, outputs on the last axis).  Python ints, so it cannot overflow."""
    xm = max(-int(x.min(initial=0)), int(x.max(initial=0)))
    wsum = np.abs(weights_by_output.astype(np.int64)).sum(axis=-2)
    return xm * int(wsum.max(initial=0))


def _shift_add_bias(acc: np.ndarray, bias: np.ndarray, product_shift: int, bias_shift: int) -> np.ndarray:
    """``(acc << product_shift) + (bias << bias_shift)``, in place on the accumulator."""
    if product_shift:
        np.left_shift(acc, product_shift, out=acc)
    acc += bias.astype(np.int64) << bias_shift
    return acc


def _frames_per_slice(bytes_per_frame: int) -> int:
    return max(1, SCRATCH_BYTES // max(1, bytes_per_frame))


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
    dtype: type | None = None,
) -> np.ndarray:
    """Exact (grouped) convolution: ``(sum x*w) << product_shift + bias << bias_shift``.

    The shifts align the product grid (x.frac + w.frac) and the bias grid to the
    accumulator's fractional bits.  ``dtype`` forces the arithmetic type (tests compare the float paths with
    int64); by default :func:`exact_dtype` of the proved bound.
    """
    kh, kw, cin_g, cout = weight.shape
    cout_g = cout // groups
    t = kh * kw
    # (groups, taps * cin_g, cout_g): row order (tap, channel) matches the gathered columns below
    w = weight.reshape(t, cin_g, groups, cout_g).transpose(2, 0, 1, 3).reshape(groups, t * cin_g, cout_g)
    dtype = dtype or exact_dtype(dot_bound(x, w))
    w = w.astype(dtype)
    n = x.shape[0]
    ho, wo = _out_hw(x, (kh, kw), stride, pads)
    acc = np.empty((n, ho, wo, cout), dtype=np.int64)
    direct = (kh, kw) == (1, 1) and tuple(stride) == (1, 1) and not any(pads) and groups == 1
    step = _frames_per_slice(ho * wo * t * cin_g * groups * np.dtype(dtype).itemsize)
    for s in range(0, n, step):
        xs = x[s : s + step]
        m = xs.shape[0] * ho * wo
        if direct:
            cols = xs.reshape(1, m, cin_g).astype(dtype)
        else:
            # one copy of the window view (cast first: gathering while casting is ~3x slower); NumPy merges each
            # window row's (kw, C) into one contiguous run, ~8x faster than a copy per tap on 16 channels
            win = windows(xs.astype(dtype), (kh, kw), stride, pads)  # (n, Ho, Wo, kh, kw, C)
            cols = np.empty((groups, xs.shape[0], ho, wo, kh, kw, cin_g), dtype=dtype)
            cols[...] = np.moveaxis(win.reshape(*win.shape[:5], groups, cin_g), 5, 0)
            cols = cols.reshape(groups, m, t * cin_g)
        prod = np.matmul(cols, w)  # (groups, m, cout_g), exact integers
        acc[s : s + step] = prod.transpose(1, 0, 2).reshape(xs.shape[0], ho, wo, cout)
    return _shift_add_bias(acc, bias, product_shift, bias_shift)


def depthwise_conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    *,
    stride: tuple[int, int] = (1, 1),
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    product_shift: int = 0,
    bias_shift: int = 0,
    dtype: type | None = None,
) -> np.ndarray:
    """Exact depthwise convolution; weight ``(kh, kw, C, M)``, output channel ``c*M + m``.

    One multiply-accumulate pass per kernel tap over shifted views of the input (no window tensor), in
    :func:`exact_dtype` of the proved bound unless ``dtype`` forces one.
    """
    kh, kw, c, mult = weight.shape
    dtype = dtype or exact_dtype(dot_bound(x, weight.reshape(kh * kw, c * mult)))
    w = weight.reshape(kh, kw, c * mult).astype(dtype)
    n = x.shape[0]
    ho, wo = _out_hw(x, (kh, kw), stride, pads)
    acc = np.empty((n, ho, wo, c * mult), dtype=np.int64)
    step = _frames_per_slice(2 * ho * wo * c * mult * np.dtype(dtype).itemsize)
    for s in range(0, n, step):
        xp = pad(x[s : s + step].astype(dtype), pads)
        if mult > 1:  # output channel c*M + m reads input channel c: one flat channel axis, long inner loops
            xp = np.repeat(xp, mult, axis=3)
        total = tmp = None
        for i, j, view in taps(xp, (kh, kw), stride, (ho, wo)):
            if total is None:
                total = view * w[i, j]
                tmp = np.empty_like(total)
            else:
                np.multiply(view, w[i, j], out=tmp)
                total += tmp
        acc[s : s + step] = total
    return _shift_add_bias(acc, bias, product_shift, bias_shift)


def requantize(
    x: np.ndarray,
    src: FixedType,
    dst: FixedType,
    rounding: Rounding,
    overflow: Overflow,
    relu: bool = False,
) -> tuple[np.ndarray, int]:
    """Optional ReLU, then :func:`accel.fixed.quantize`; returns values and the overflow count.

    The common case (a right shift that rounds, then saturation) runs in place on one new array; it relies on
    ReLU commuting with rounding (both monotone, zero stays zero) and on 0 lying in every type's range, so the
    ReLU becomes the lower clip bound.  Other cases go through :func:`accel.fixed.quantize_counting`.
    """
    shift = src.frac - dst.frac
    if overflow is Overflow.WRAP or not 0 < shift <= MAX_WIDTH:
        return quantize_counting(np.maximum(x, 0) if relu else x, src, dst, rounding, overflow)
    half = 1 << (shift - 1)  # |x| < 2**62 (MAX_WIDTH) and half <= 2**61: no int64 overflow below
    if rounding is Rounding.TRUNCATE:
        v = x >> shift
    elif rounding is Rounding.ROUND_HALF_UP:
        v = x + half
        v >>= shift
    else:  # ties to even, as accel.fixed: the floor's parity bit lifts odd floors' ties up
        v = x >> shift
        v &= 1
        v += x
        v += half - 1
        v >>= shift
    lo, hi = dst.min_raw, dst.max_raw
    if overflow is Overflow.SATURATE_SYMMETRIC and dst.signed:
        lo = -hi
    if v.size == 0:
        return v, 0
    count = 0
    if v.max() > hi:
        count += int(np.count_nonzero(v > hi))
        np.minimum(v, hi, out=v)
    low = max(lo, 0) if relu else lo
    if v.min() < low:
        count += 0 if relu else int(np.count_nonzero(v < lo))
        np.maximum(v, low, out=v)
    return v, count


def maxpool(x: np.ndarray, pool, stride, pads=(0, 0, 0, 0)) -> np.ndarray:
    """Max over each window; padding never wins (it is below every value)."""
    lowest = int(x.min(initial=0)) - 1
    return _tap_reduce(pad(x, pads, lowest), pool, stride, _out_hw(x, pool, stride, pads), np.maximum)


def _tap_reduce(xp: np.ndarray, pool, stride, out_hw, ufunc) -> np.ndarray:
    """``ufunc`` (maximum, add) over the pool's taps, one pass per tap over shifted views."""
    out = None
    for _, _, view in taps(xp, pool, stride, out_hw):
        if out is None:
            out = view.astype(np.int64)  # a copy: the views alias the input
        else:
            ufunc(out, view, out=out)
    return out


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
    sums = _tap_reduce(x, pool, stride, _out_hw(x, pool, stride, (0, 0, 0, 0)), np.add)
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
