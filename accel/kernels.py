"""One exact integer kernel per operation on raw integer arrays ``(N, H, W, C)``.

Inputs are int64, or a float type whose values are integers it holds exactly; outputs are int64, except where a
kernel says otherwise: a convolution with ``narrow=True`` returns its accumulator in the float type it was computed
in, and requantisation, an add, max pooling and the data-moving kernels keep a float input's type where that is
exact (the reference keeps tensors narrow between layers: half the memory traffic of int64).

Vectorised with NumPy: no loop per pixel or channel, only per kernel tap.  Convolutions gather their taps
(im2col) into a scratch buffer and multiply it by the weights in BLAS matrix products, in the cheapest
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


def accumulator_dtype(
    x: np.ndarray, weights_by_output: np.ndarray, bias: np.ndarray, product_shift: int, bias_shift: int, narrow: bool
) -> type:
    """:func:`exact_dtype` for a convolution: of the dot products' bound, or with ``narrow`` (the result stays in
    this type) of the bound on the whole accumulator ``(dot << product_shift) + (bias << bias_shift)``."""
    bound = dot_bound(x, weights_by_output)
    if narrow:
        bias_max = max(-int(bias.min(initial=0)), int(bias.max(initial=0)))
        bound = (bound << product_shift) + (bias_max << bias_shift)
    return exact_dtype(bound)


def _shift_add_bias(acc: np.ndarray, bias: np.ndarray, product_shift: int, bias_shift: int) -> np.ndarray:
    """``(acc << product_shift) + (bias << bias_shift)``, in place on the accumulator (int64 or, under the bound of
    :func:`accumulator_dtype`, float: multiplying by a power of two and adding then round nothing).

    The bias is added as one frame-long row (the per-channel values tiled over the pixels): broadcasting a short
    channel axis makes NumPy loop over C values at a time, ~5x slower on 16 channels."""
    scaled = bias.astype(np.int64) << bias_shift
    if acc.dtype.kind == "f":
        if product_shift:
            acc *= acc.dtype.type(2.0**product_shift)
        scaled = scaled.astype(acc.dtype)
    elif product_shift:
        np.left_shift(acc, product_shift, out=acc)
    if acc.size:
        rows = acc.reshape(acc.shape[0], -1)
        rows += np.tile(scaled, rows.shape[1] // scaled.size)
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
    narrow: bool = False,
) -> np.ndarray:
    """Exact (grouped) convolution: ``(sum x*w) << product_shift + bias << bias_shift``.

    The shifts align the product grid (x.frac + w.frac) and the bias grid to the
    accumulator's fractional bits.  ``dtype`` forces the arithmetic type (tests compare the float paths with
    int64); by default :func:`exact_dtype` of the proved bound.  The result is int64, or with ``narrow`` the
    arithmetic type itself (:func:`accumulator_dtype`), which the reference keeps between layers.
    """
    kh, kw, cin_g, cout = weight.shape
    cout_g = cout // groups
    t = kh * kw
    # (groups, taps * cin_g, cout_g): row order (tap, channel) matches the gathered columns below
    w = weight.reshape(t, cin_g, groups, cout_g).transpose(2, 0, 1, 3).reshape(groups, t * cin_g, cout_g)
    dtype = dtype or accumulator_dtype(x, w, bias, product_shift, bias_shift, narrow)
    w = w.astype(dtype)
    n = x.shape[0]
    ho, wo = _out_hw(x, (kh, kw), stride, pads)
    acc = np.empty((n, ho, wo, cout), dtype=dtype if narrow else np.int64)
    if kh > 1 and stride[0] == 1 and groups == 1 and kw * cin_g >= cout:  # see _conv_by_kernel_rows
        _conv_by_kernel_rows(pad(x.astype(dtype, copy=False), pads), w[0], acc, kh, kw, stride[1], dtype)
        return _shift_add_bias(acc, bias, product_shift, bias_shift)
    direct = (kh, kw) == (1, 1) and tuple(stride) == (1, 1) and not any(pads) and groups == 1
    per_frame = ho * wo * t * cin_g * groups
    step = _frames_per_slice(per_frame * np.dtype(dtype).itemsize)
    # padded once, and a window view over it: only the copy into the reused scratch buffer happens per step
    win = None if direct else windows(pad(x.astype(dtype, copy=False), pads), (kh, kw), stride, (0, 0, 0, 0))
    scratch = None if direct else np.empty(min(n, step) * per_frame, dtype=dtype)
    for s in range(0, n, step):
        k = min(step, n - s)
        m = k * ho * wo
        if direct:
            cols = x[s : s + k].reshape(1, m, cin_g).astype(dtype, copy=False)
        else:
            # NumPy merges each window row's (kw, C) into one contiguous run, ~8x faster than a copy per tap
            cols = scratch[: k * per_frame].reshape(groups, k, ho, wo, kh, kw, cin_g)
            cols[...] = np.moveaxis(win[s : s + k].reshape(k, ho, wo, kh, kw, groups, cin_g), 5, 0)
            cols = cols.reshape(groups, m, t * cin_g)
        if groups == 1 and acc.dtype == dtype:  # the product lands in the accumulator itself
            np.matmul(cols[0], w[0], out=acc[s : s + k].reshape(m, cout))
        else:
            prod = np.matmul(cols, w)  # (groups, m, cout_g), exact integers
            acc[s : s + k] = prod.transpose(1, 0, 2).reshape(k, ho, wo, cout)
    return _shift_add_bias(acc, bias, product_shift, bias_shift)


def _conv_by_kernel_rows(
    xp: np.ndarray, w: np.ndarray, acc: np.ndarray, kh: int, kw: int, stride_w: int, dtype: type
) -> None:
    """``acc[...] =`` the convolution of the padded ``xp`` (row stride 1, one group) as ``kh`` BLAS products, one
    per kernel row, over the input gathered along the width only (``kw`` taps per pixel, not ``kh * kw``).

    Why: gathering every tap writes ``kh * kw * C`` values per output pixel; gathering the rows' ``kw`` taps
    writes ``kw * C`` per input row, and kernel row ``i`` reads the same gathered rows shifted down by ``i``,
    a contiguous block per frame. ~30% faster on a 3x3 conv of 16 channels.  It saves ``(kh - 1) * kw * C``
    values gathered per pixel and costs ``kh - 1`` additions of ``cout`` values, so conv2d takes it when
    ``kw * C >= cout``.  Exact like one product: each of the ``kh`` products and their running sum is a sum of a
    subset of one output's products.
    """
    n, hp, _, c = xp.shape
    _, ho, wo, cout = acc.shape
    taps_w = np.moveaxis(sliding_window_view(xp, kw, axis=2)[:, :, ::stride_w], 4, 3)  # (n, Hp, Wo, kw, C)
    w_rows = w.reshape(kh, kw * c, cout)
    per_frame = hp * wo * kw * c
    step = _frames_per_slice(per_frame * np.dtype(dtype).itemsize)
    gathered = np.empty(min(n, step) * per_frame, dtype=dtype)
    part = np.empty(min(n, step) * ho * wo * cout, dtype=dtype)
    for s in range(0, n, step):
        k = min(step, n - s)
        rows = gathered[: k * per_frame].reshape(k, hp, wo, kw, c)
        rows[...] = taps_w[s : s + k]
        rows = rows.reshape(k, hp * wo, kw * c)
        out = acc[s : s + k].reshape(k, ho * wo, cout) if acc.dtype == dtype else np.empty((k, ho * wo, cout), dtype)
        p = part[: k * ho * wo * cout].reshape(k, ho * wo, cout)
        for i in range(kh):
            np.matmul(rows[:, i * wo : (i + ho) * wo], w_rows[i], out=p if i else out)
            if i:
                out += p
        if acc.dtype != dtype:
            acc[s : s + k] = out.reshape(k, ho, wo, cout)


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
    narrow: bool = False,
) -> np.ndarray:
    """Exact depthwise convolution; weight ``(kh, kw, C, M)``, output channel ``c*M + m``.

    One multiply-accumulate pass per kernel tap over shifted views of the input (no window tensor), in
    :func:`exact_dtype` of the proved bound unless ``dtype`` forces one; int64 out, or the arithmetic type with
    ``narrow`` (as :func:`conv2d`).  With a column stride of 1 a tap's view is rows of ``Wo*C`` contiguous
    values, and the weights are tiled to that length: NumPy's inner loop then runs over whole rows, not over
    the C channels of one pixel (8x faster on 8 channels).
    """
    kh, kw, c, mult = weight.shape
    cm = c * mult
    dtype = dtype or accumulator_dtype(x, weight.reshape(kh * kw, cm), bias, product_shift, bias_shift, narrow)
    n = x.shape[0]
    ho, wo = _out_hw(x, (kh, kw), stride, pads)
    rows = stride[1] == 1  # a tap's (Wo, C) is then one contiguous run
    w = weight.reshape(kh, kw, cm).astype(dtype)
    if rows:
        w = np.tile(w, (1, 1, wo))  # (kh, kw, Wo*C)
    acc = np.empty((n, ho, wo, cm), dtype=dtype if narrow else np.int64)
    step = _frames_per_slice(2 * ho * wo * cm * np.dtype(dtype).itemsize)
    for s in range(0, n, step):
        xp = pad(x[s : s + step].astype(dtype, copy=False), pads)
        if mult > 1:  # output channel c*M + m reads input channel c: one flat channel axis, long inner loops
            xp = np.repeat(xp, mult, axis=3)
        # the sums go straight into acc when it has the arithmetic's type (narrow), else through one buffer
        total = acc[s : s + step] if acc.dtype == dtype else np.empty((xp.shape[0], ho, wo, cm), dtype=dtype)
        if rows:
            total = total.reshape(-1, ho, wo * cm)
        tmp = np.empty_like(total)
        for k, (i, j, view) in enumerate(taps(xp, (kh, kw), stride, (ho, wo))):
            if rows:
                view = view.reshape(view.shape[0], ho, wo * cm)  # a view: (Wo, C) are adjacent in memory
            np.multiply(view, w[i, j], out=total if k == 0 else tmp)
            if k:
                total += tmp
        if acc.dtype != dtype:
            acc[s : s + step] = total.reshape(-1, ho, wo, cm)
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
    ReLU becomes the lower clip bound.  A float input (a ``narrow`` accumulator) stays in its type when
    :func:`_float_shift` is exact for it.  Other cases go through :func:`accel.fixed.quantize_counting`.
    """
    shift = src.frac - dst.frac
    lo, hi = dst.min_raw, dst.max_raw
    if overflow is Overflow.SATURATE_SYMMETRIC and dst.signed:
        lo = -hi
    if x.size == 0:
        return np.asarray(x, dtype=np.int64), 0
    # a left shift too wide for int64 is refused by quantize_counting, whatever the values: so in float too
    in_float = x.dtype.kind == "f" and overflow is not Overflow.WRAP and src.width - min(shift, 0) <= MAX_WIDTH + 1
    shifted = _float_shift(x, shift, rounding, lo, hi) if in_float else None
    if shifted is None:
        x = np.asarray(x, dtype=np.int64)
        if overflow is Overflow.WRAP or not 0 < shift <= MAX_WIDTH:
            return quantize_counting(np.maximum(x, 0) if relu else x, src, dst, rounding, overflow)
        v = _int_shift(x, shift, rounding)
        vmin, vmax = v.min(), v.max()
    else:
        v, vmin, vmax = shifted
    low = max(lo, 0) if relu else lo
    count = int(np.count_nonzero(v > hi)) if vmax > hi else 0
    if vmin < lo and not relu:
        count += int(np.count_nonzero(v < lo))
    if vmax > hi:
        _bound_in_place(np.minimum, v, hi)
    if vmin < low:
        _bound_in_place(np.maximum, v, low)
    return v, count


def _bound_in_place(ufunc: np.ufunc, v: np.ndarray, bound: int) -> None:
    """``ufunc(v, bound)`` into ``v`` (contiguous), the bound given as a row one frame long: NumPy 1.26's minimum
    and maximum run about 3x faster against an array than against a scalar (and np.clip is slower still)."""
    rows = v.reshape(v.shape[0] if v.ndim > 1 else 1, -1)
    ufunc(rows, np.full(rows.shape[1], bound, dtype=v.dtype), out=rows)


def _int_shift(x: np.ndarray, shift: int, rounding: Rounding) -> np.ndarray:
    """``x / 2**shift`` rounded (0 < shift <= MAX_WIDTH) into one new int64 array."""
    half = 1 << (shift - 1)  # |x| < 2**62 (MAX_WIDTH) and half <= 2**61: no int64 overflow below
    if rounding is Rounding.TRUNCATE:
        return x >> shift
    if rounding is Rounding.ROUND_HALF_UP:
        v = x + half
        v >>= shift
        return v
    # ties to even, as accel.fixed: the floor's parity bit lifts odd floors' ties up
    v = x >> shift
    v &= 1
    v += x
    v += half - 1
    v >>= shift
    return v


def _float_shift(x: np.ndarray, shift: int, rounding: Rounding, lo: int, hi: int):
    """:func:`_int_shift` on integers held in a float array, in its own type: ``(values, min, max)``, or None
    where that could round.

    Exact when ``|x| + 2**(shift-1)`` and the clip bounds ``lo``, ``hi`` are integers the type holds: adding the
    half is then exact, scaling by ``2**-shift`` only moves the exponent, and floor and rint (ties to even) of a
    held value are held.  A shift of 0 or below drops no bit: a scaling by ``2**-shift``, exact when
    ``|x| * 2**-shift`` is held.  Rounding is monotone, so the result's extremes are those of the input's, rounded.
    """
    if shift > MAX_WIDTH:
        return None
    limit = FLOAT32_EXACT if x.dtype == np.float32 else FLOAT64_EXACT
    ends = np.array([x.min(), x.max()], dtype=x.dtype)
    top = max(-float(ends[0]), float(ends[1]))
    half = 1 << (shift - 1) if shift > 0 else 0
    if top * 2.0 ** max(0, -shift) + half > limit or max(-lo, hi) > limit:
        return None
    scale = x.dtype.type(2.0**-shift)
    if shift <= 0:
        return x * scale, ends[0] * scale, ends[1] * scale

    def rounded(a: np.ndarray) -> np.ndarray:
        if rounding is Rounding.ROUND_HALF_UP:
            v = a + x.dtype.type(half)
            v *= scale
        else:
            v = a * scale
        return np.rint(v, out=v) if rounding is Rounding.ROUND_HALF_EVEN else np.floor(v, out=v)

    lo_end, hi_end = rounded(ends)
    return rounded(x), lo_end, hi_end


def maxpool(x: np.ndarray, pool, stride, pads=(0, 0, 0, 0)) -> np.ndarray:
    """Max over each window; padding never wins (it is below every value)."""
    lowest = int(x.min(initial=0)) - 1
    return _tap_reduce(pad(x, pads, lowest), pool, stride, _out_hw(x, pool, stride, pads), np.maximum)


def _tap_reduce(xp: np.ndarray, pool, stride, out_hw, ufunc) -> np.ndarray:
    """``ufunc`` (maximum, add) over the pool's taps, one pass per tap over shifted views."""
    out = None
    for _, _, view in taps(xp, pool, stride, out_hw):
        if out is None:
            out = view.copy()  # the views alias the input
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
    x = np.asarray(x, dtype=np.int64)  # sums of many taps: int64, where no sum rounds
    sums = _tap_reduce(x, pool, stride, _out_hw(x, pool, stride, (0, 0, 0, 0)), np.add)
    return average(sums, pool[0] * pool[1], src, dst, rounding, overflow, relu)


def global_avgpool(x, src, dst, rounding, overflow, relu=False) -> tuple[np.ndarray, int]:
    sums = np.asarray(x, dtype=np.int64).sum(axis=(1, 2), keepdims=True)  # a float sum could round
    return average(sums, x.shape[1] * x.shape[2], src, dst, rounding, overflow, relu)


def add(xs: list[np.ndarray], shifts: list[int]) -> np.ndarray:
    """Sum after aligning each operand by its left shift: in float32 when every operand is a float32 tensor and
    the sum of their largest magnitudes (the bound of every partial sum) is an integer float32 holds, else int64."""
    if all(x.dtype == np.float32 for x in xs):
        bound = sum(max(-int(x.min(initial=0)), int(x.max(initial=0))) << s for x, s in zip(xs, shifts, strict=True))
        if bound <= FLOAT32_EXACT:
            out = xs[0] * np.float32(2.0 ** shifts[0])
            for x, s in zip(xs[1:], shifts[1:], strict=True):
                out += x * np.float32(2.0**s) if s else x
            return out
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
    x = np.asarray(x, dtype=np.int64)  # never compared as floats with thresholds of any width
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
