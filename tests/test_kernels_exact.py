"""The reference's fast paths (float32/float64 BLAS under a proved bound, in-place requantisation, batch slicing)
against slow exact oracles written here: Python-int (object) einsums over every window and
:func:`accel.fixed.quantize_counting`.  Inputs sit at their types' extremes, the worst case for the bound."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from accel import AccelError, kernels
from accel.fixed import FixedType, Overflow, Rounding, quantize_counting
from accel.reference import execute, executor


def _windows(x: np.ndarray, kh: int, kw: int, stride, pads) -> np.ndarray:
    pt, pb, pl, pr = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    v = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, :: stride[0], :: stride[1]]
    return np.moveaxis(v, 3, 5)  # (N, Ho, Wo, kh, kw, C)


def oracle_conv(x, w, b, stride, pads, groups, ps, bs) -> np.ndarray:
    """Grouped convolution in Python integers (no overflow, no rounding possible)."""
    kh, kw, cg, cout = w.shape
    win = _windows(x.astype(object), kh, kw, stride, pads)
    win = win.reshape(*win.shape[:5], groups, cg)
    acc = np.einsum("nhwijgc,ijcgo->nhwgo", win, w.astype(object).reshape(kh, kw, cg, groups, cout // groups))
    acc = acc.reshape(*acc.shape[:3], cout) * (1 << ps) + b.astype(object) * (1 << bs)
    return acc


def oracle_depthwise(x, w, b, stride, pads) -> np.ndarray:
    kh, kw, c, m = w.shape
    win = _windows(x.astype(object), kh, kw, stride, pads)
    acc = np.einsum("nhwijc,ijcm->nhwcm", win, w.astype(object))
    return acc.reshape(*acc.shape[:3], c * m) + b.astype(object)


def extremes(rng: np.random.Generator, shape, bits: int, signed: bool = True) -> np.ndarray:
    """Values drawn from the type's two ends (and zero): the largest partial sums the bound allows."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return rng.choice(np.array([lo, hi, 0, lo + 1, hi - 1], dtype=np.int64), size=shape, p=[.4, .4, .1, .05, .05])


CONV_CASES = [  # (frame h, w, cin), kernel, stride, pads, groups, cout, x bits, w bits
    ((7, 6, 3), (3, 3), (1, 1), (1, 1, 1, 1), 1, 5, 8, 8),
    ((9, 8, 4), (3, 2), (2, 2), (0, 1, 0, 1), 2, 6, 8, 4),
    ((6, 6, 8), (1, 1), (1, 1), (0, 0, 0, 0), 1, 7, 16, 16),
    ((5, 5, 6), (1, 1), (2, 1), (0, 0, 0, 0), 3, 6, 12, 10),
    ((10, 4, 1), (10, 4), (2, 2), (4, 5, 1, 2), 1, 4, 8, 8),
    # by kernel rows (row stride 1, kw * C >= cout): a column stride, an uneven kernel and padding
    ((8, 9, 4), (3, 3), (1, 2), (1, 1, 0, 2), 1, 4, 8, 8),
    ((6, 7, 5), (2, 3), (1, 1), (0, 1, 2, 0), 1, 3, 12, 6),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}k{c[1]}s{c[2]}g{c[4]}")
def test_conv2d_fast_paths_equal_the_exact_oracle(case):
    (h, w_, cin), kernel, stride, pads, groups, cout, xb, wb = case
    rng = np.random.default_rng(sum(h * w_ * cin for _ in kernel) + groups)
    x = extremes(rng, (6, h, w_, cin), xb)
    w = extremes(rng, (*kernel, cin // groups, cout), wb)
    b = extremes(rng, (cout,), 12)
    want = oracle_conv(x, w, b, stride, pads, groups, 3, 1)
    bound = kernels.dot_bound(x, w.reshape(-1, cout))
    dtypes = [None, np.int64] + [d for d, lim in ((np.float32, kernels.FLOAT32_EXACT),
                                                  (np.float64, kernels.FLOAT64_EXACT)) if bound <= lim]  # fmt: skip
    for dtype in dtypes:
        got = kernels.conv2d(x, w, b, stride=stride, pads=pads, groups=groups, product_shift=3, bias_shift=1,
                             dtype=dtype)  # fmt: skip
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want.astype(np.int64), err_msg=f"dtype {dtype}")
    narrow = kernels.conv2d(x, w, b, stride=stride, pads=pads, groups=groups, product_shift=3, bias_shift=1,
                            narrow=True)  # fmt: skip
    whole_bound = max(abs(int(v)) for v in want.ravel())  # the accumulator's own values, bias and shift included
    limit = {np.dtype(np.float32): kernels.FLOAT32_EXACT, np.dtype(np.float64): kernels.FLOAT64_EXACT}
    assert whole_bound <= limit.get(narrow.dtype, 1 << 63)  # a float result holds every value it has
    np.testing.assert_array_equal(narrow, want.astype(np.int64))


@pytest.mark.parametrize("mult,stride,pads", [(1, (1, 1), (1, 1, 1, 1)), (2, (2, 2), (0, 1, 0, 1)),
                                              (3, (1, 2), (2, 0, 1, 1))])  # fmt: skip
def test_depthwise_fast_paths_equal_the_exact_oracle(mult, stride, pads):
    rng = np.random.default_rng(mult)
    x = extremes(rng, (5, 7, 6, 4), 8, signed=False)
    w = extremes(rng, (3, 3, 4, mult), 8)
    b = extremes(rng, (4 * mult,), 16)
    want = oracle_depthwise(x, w, b, stride, pads).astype(np.int64)
    assert kernels.dot_bound(x, w.reshape(9, -1)) <= kernels.FLOAT32_EXACT
    for dtype in (None, np.float32, np.float64, np.int64):
        got = kernels.depthwise_conv2d(x, w, b, stride=stride, pads=pads, dtype=dtype)
        np.testing.assert_array_equal(got, want, err_msg=f"dtype {dtype}")
        assert got.dtype == np.int64
    narrow = kernels.depthwise_conv2d(x, w, b, stride=stride, pads=pads, narrow=True)
    assert narrow.dtype == np.float32  # 8-bit data, 16-bit bias: the whole accumulator is within 2**24
    np.testing.assert_array_equal(narrow, want)


def test_narrow_accumulator_widens_when_the_bias_breaks_the_float32_bound():
    """The dot products fit float32 but the shifted bias does not: the narrow result must be float64, exact."""
    rng = np.random.default_rng(11)
    x = extremes(rng, (3, 5, 5, 2), 8)
    w = extremes(rng, (3, 3, 2, 2), 4)
    b = np.array([(1 << 23) - 1, -(1 << 23)], dtype=np.int64)
    assert kernels.dot_bound(x, w.reshape(-1, 2)) <= kernels.FLOAT32_EXACT
    got = kernels.conv2d(x, w, b, pads=(1, 1, 1, 1), bias_shift=2, narrow=True)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, oracle_conv(x, w, b, (1, 1), (1, 1, 1, 1), 1, 0, 2).astype(np.int64))


def test_exact_dtype_switches_at_the_representable_limits():
    assert kernels.exact_dtype(1 << 24) is np.float32
    assert kernels.exact_dtype((1 << 24) + 1) is np.float64
    assert kernels.exact_dtype(1 << 53) is np.float64
    assert kernels.exact_dtype((1 << 53) + 1) is np.int64


def test_beyond_the_float64_bound_the_integer_path_is_taken_and_needed():
    """28-bit inputs and weights over 36 taps: partial sums up to ~2**61.  The kernel must choose int64 and be
    exact; float64 forced on the same data rounds (so the bound is what keeps the fast path honest)."""
    rng = np.random.default_rng(53)
    x = extremes(rng, (2, 4, 4, 4), 29)
    w = extremes(rng, (3, 3, 4, 3), 29)
    b = np.zeros(3, dtype=np.int64)
    assert kernels.dot_bound(x, w.reshape(-1, 3)) > kernels.FLOAT64_EXACT
    want = oracle_conv(x, w, b, (1, 1), (1, 1, 1, 1), 1, 0, 0)
    assert max(abs(int(v)) for v in want.ravel()) < 1 << 63
    np.testing.assert_array_equal(kernels.conv2d(x, w, b, pads=(1, 1, 1, 1)), want.astype(np.int64))
    rounded = kernels.conv2d(x, w, b, pads=(1, 1, 1, 1), dtype=np.float64)
    assert np.any(rounded != want.astype(np.int64))
    wd, bd = extremes(rng, (3, 3, 4, 1), 29), np.zeros(4, np.int64)
    want_dw = oracle_depthwise(x, wd, bd, (1, 1), (1, 1, 1, 1)).astype(np.int64)
    np.testing.assert_array_equal(kernels.depthwise_conv2d(x, wd, bd, pads=(1, 1, 1, 1)), want_dw)


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dst", [FixedType(True, 6, 2), FixedType(False, 5, 1), FixedType(True, 8, 8),
                                 FixedType(True, 12, 1), FixedType(False, 16, 4)])  # same grid; left shift
@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_requantize_fast_path_equals_quantize_counting(rounding, overflow, relu, dst, dtype):
    """Every value near the rounding ties and the saturation limits of a 20-bit source with 9 fractional bits,
    held as int64 or (a narrow accumulator) as float32 / float64, which stay in their type."""
    src = FixedType(True, 20, 11)
    x = np.arange(src.min_raw, src.max_raw + 1, 37, dtype=np.int64)
    x = np.concatenate([x, [src.min_raw, src.max_raw, 0, 1, -1, 256, -256, 768, -768]]).reshape(1, 1, -1, 1)
    want, want_count = quantize_counting(np.maximum(x, 0) if relu else x, src, dst, rounding, overflow)
    got, count = kernels.requantize(x.astype(dtype), src, dst, rounding, overflow, relu)
    np.testing.assert_array_equal(got, want)
    assert count == want_count
    if overflow is not Overflow.WRAP:  # a float input stays in its type (these shifts are all exact in float32)
        assert got.dtype == dtype


@pytest.mark.parametrize("rounding", list(Rounding))
def test_requantize_of_float32_beyond_its_exact_range_takes_the_integer_path(rounding):
    """Multiples of 4 up to 2**25 are held exactly by float32, but adding half an LSB of the result to them
    would round: the kernel must see that and compute in int64, equal to the integer oracle."""
    src, dst = FixedType(True, 27, 10), FixedType(True, 20, 2)
    x = np.concatenate([np.arange(-(1 << 25), 1 << 25, 4 * 99991), [(1 << 25) - 4, -(1 << 25), 4, -4, 12, -12]])
    x = x.astype(np.int64).reshape(1, 1, -1, 1)
    assert kernels._float_shift(x.astype(np.float32), 8, rounding, dst.min_raw, dst.max_raw) is None
    want, _ = quantize_counting(x, src, dst, rounding, Overflow.SATURATE)
    got, _ = kernels.requantize(x.astype(np.float32), src, dst, rounding, Overflow.SATURATE)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_requantize_refuses_a_left_shift_too_wide_for_int64_in_float_too():
    """quantize_counting refuses a 40-bit type shifted left by 30 whatever the values; a float tensor of small
    values must get the same refusal, not a result the integer path would never give."""
    src, dst = FixedType(True, 40, 20), FixedType(True, 50, 0)  # 30 more fractional bits, a range float64 holds
    x = np.array([[[[1.0, -2.0, 3.0]]]], dtype=np.float64)
    with pytest.raises(AccelError, match="more than"):
        kernels.requantize(x, src, dst, Rounding.TRUNCATE, Overflow.SATURATE)


def test_add_stays_in_float32_only_within_its_bound():
    rng = np.random.default_rng(5)
    a, b = extremes(rng, (4, 3, 3, 2), 12), extremes(rng, (4, 3, 3, 2), 10)
    want = (a << 2) + (b << 5)
    got = kernels.add([a.astype(np.float32), b.astype(np.float32)], [2, 5])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    wide = kernels.add([a.astype(np.float32), b.astype(np.float32)], [13, 15])  # up to 2**26: int64
    assert wide.dtype == np.int64
    np.testing.assert_array_equal(wide, (a << 13) + (b << 15))


def test_execute_in_slices_equals_one_batch(monkeypatch):
    """Slicing the batch changes no output, traced tensor or overflow count (a conv, a saturating activation)."""
    from accel.ir import GraphBuilder
    from accel.ops.examples import conv_node, quantize_node, random_type

    rng = np.random.default_rng(7)
    b = GraphBuilder("sliced")
    x = b.input("x", (6, 5, 3), random_type(rng))
    graph = b.build([quantize_node(b, "act", conv_node(b, "conv", x, rng, 4, (3, 3), padding="same"), rng)])
    spec = graph.tensors[graph.inputs[0]]
    raw = extremes(rng, (37, 6, 5, 3), spec.dtype.width, spec.dtype.signed)
    whole = execute(graph, raw, trace=True)
    monkeypatch.setattr(executor, "SLICE_BYTES", 1)  # one frame per slice
    assert executor.frames_per_slice(graph) == 1
    for threads in ("1", "3"):  # slices one after another, and on a pool of threads
        monkeypatch.setenv("ACCEL_REFERENCE_THREADS", threads)
        assert executor.reference_threads() == int(threads)
        sliced = execute(graph, raw, trace=True)
        assert whole.overflows == sliced.overflows
        for name in whole.tensors:
            assert sliced.tensors[name].dtype == np.int64
            np.testing.assert_array_equal(whole.tensors[name], sliced.tensors[name])
        for name in whole.outputs:
            assert sliced.outputs[name].dtype == np.int64
            np.testing.assert_array_equal(whole.outputs[name], sliced.outputs[name])


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_one_sentence(monkeypatch, value):
    monkeypatch.setenv("ACCEL_REFERENCE_THREADS", value)
    with pytest.raises(AccelError, match="ACCEL_REFERENCE_THREADS is .*whole number of threads"):
        executor.reference_threads()


def test_an_interrupted_batch_starts_no_further_slice(monkeypatch):
    """Ctrl-C (here raised by the second slice) stops the pool: the slices not yet started never run."""
    from accel.ir import GraphBuilder
    from accel.ops.examples import conv_node, random_type

    rng = np.random.default_rng(3)
    b = GraphBuilder("interrupted")
    graph = b.build([conv_node(b, "conv", b.input("x", (4, 4, 2), random_type(rng)), rng, 3, (3, 3))])
    spec = graph.tensors[graph.inputs[0]]
    raw = extremes(rng, (40, 4, 4, 2), spec.dtype.width, spec.dtype.signed)
    monkeypatch.setattr(executor, "SLICE_BYTES", 1)  # 40 slices
    monkeypatch.setenv("ACCEL_REFERENCE_THREADS", "2")
    started = []
    real = executor._execute_slice

    def slice_then_interrupt(graph, values, trace):
        started.append(1)
        if len(started) == 2:
            raise KeyboardInterrupt
        return real(graph, values, trace)

    monkeypatch.setattr(executor, "_execute_slice", slice_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        execute(graph, raw)
    assert len(started) < 10


def test_freed_memory_is_kept_on_glibc():
    from accel.reference.memory import keep_freed_memory

    assert keep_freed_memory() is True  # Linux with glibc, as CI: the thresholds were set (and stay set)
