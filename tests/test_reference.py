"""accel.reference against independent naive loop implementations written here (exact equality only).

Values are handled as exact fractions: the expected raw output of a node is its
mathematical value times ``2**out.frac``, which must be an integer.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import GraphBuilder
from accel.reference import execute

RNG = np.random.default_rng(1234)
X8 = FixedType(True, 8, 3)  # frac 5
U6 = FixedType(False, 6, 2)  # frac 4


def _rand(t: FixedType, shape) -> np.ndarray:
    return RNG.integers(t.min_raw, t.max_raw + 1, size=shape, dtype=np.int64)


def _val(raw: int, t: FixedType) -> Fraction:
    return Fraction(int(raw)) / Fraction(2) ** t.frac


def _raw(value: Fraction, t: FixedType) -> int:
    scaled = value * Fraction(2) ** t.frac
    assert scaled.denominator == 1, f"{value} is not on the grid of {t}"
    return int(scaled)


def _round(x: Fraction, rounding: Rounding) -> int:
    if rounding is Rounding.TRUNCATE:
        return math.floor(x)
    if rounding is Rounding.ROUND_HALF_UP:
        return math.floor(x + Fraction(1, 2))
    return round(x)  # half to even


def _overflow(q: int, t: FixedType, overflow: Overflow) -> int:
    lo, hi = t.min_raw, t.max_raw
    if overflow is Overflow.WRAP:
        return (q - lo) % (1 << t.width) + lo
    if overflow is Overflow.SATURATE_SYMMETRIC and t.signed:
        lo = -hi
    return min(max(q, lo), hi)


def _run(op: str, inputs: list[tuple[FixedType, tuple]], attrs=None, params=None, ptypes=None, n: int = 2):
    """One-node graph; returns (input arrays, output array, output spec, execution result)."""
    b = GraphBuilder(f"t_{op}")
    names = [b.input(f"x{i}", shape, t) for i, (t, shape) in enumerate(inputs)]
    out = b.add("y", op, names, attrs=attrs, params=params, param_types=ptypes)
    g = b.build([out])
    xs = {name: _rand(t, (n, *shape)) for name, (t, shape) in zip(names, inputs, strict=True)}
    res = execute(g, xs if len(xs) > 1 else xs["x0"], trace=True)
    return [xs[k] for k in names], res.outputs["y"], g.tensors["y"], res


def _padded(x: np.ndarray, pads, fill) -> np.ndarray:
    """(H, W, C) nested lists padded with `fill` (loops, not np.pad)."""
    pt, pb, pl, pr = pads
    h, w, c = x.shape
    out = [[[fill] * c for _ in range(w + pl + pr)] for _ in range(h + pt + pb)]
    for i, j, k in product(range(h), range(w), range(c)):
        out[i + pt][j + pl][k] = int(x[i, j, k])
    return out


# -- convolutions ------------------------------------------------------------------------------
CONV_CASES = [  # (in shape, kernel, stride, pads, groups, cout)
    ((5, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1), 1, 3),
    ((6, 5, 4), (3, 2), (2, 1), (0, 1, 2, 0), 2, 4),
    ((4, 4, 6), (1, 1), (1, 1), (0, 0, 0, 0), 3, 6),
    ((7, 7, 2), (3, 3), (2, 2), (1, 1, 1, 1), 1, 2),
    ((1, 1, 10), (1, 1), (1, 1), (0, 0, 0, 0), 1, 5),  # dense
]


@pytest.mark.parametrize(("shape", "kernel", "stride", "pads", "groups", "cout"), CONV_CASES)
def test_conv2d_matches_loops(shape, kernel, stride, pads, groups, cout) -> None:
    wt, bt = FixedType(True, 4, 1), FixedType(True, 8, 2)
    kh, kw = kernel
    cin_g = shape[2] // groups
    w = _rand(wt, (kh, kw, cin_g, cout))
    bias = _rand(bt, (cout,))
    attrs = {"kernel": kernel, "stride": stride, "pads": pads, "groups": groups}
    (x,), y, spec, _ = _run("conv2d", [(X8, shape)], attrs, {"weight": w, "bias": bias}, {"weight": wt, "bias": bt})
    ho, wo = spec.shape[:2]
    assert (ho, wo) == ((shape[0] + pads[0] + pads[1] - kh) // stride[0] + 1,
                        (shape[1] + pads[2] + pads[3] - kw) // stride[1] + 1)  # fmt: skip
    cout_g = cout // groups
    for n in range(x.shape[0]):
        xp = _padded(x[n], pads, 0)
        for i, j, o in product(range(ho), range(wo), range(cout)):
            g = o // cout_g
            acc = Fraction(0)
            for a, bb, c in product(range(kh), range(kw), range(cin_g)):
                acc += _val(xp[i * stride[0] + a][j * stride[1] + bb][g * cin_g + c], X8) * _val(w[a, bb, c, o], wt)
            acc += _val(bias[o], bt)
            assert y[n, i, j, o] == _raw(acc, spec.dtype), (n, i, j, o)


@pytest.mark.parametrize(("mult", "stride", "pads"), [(1, (1, 1), (1, 1, 1, 1)), (3, (2, 1), (0, 1, 1, 0))])
def test_depthwise_matches_loops(mult, stride, pads) -> None:
    wt, bt = FixedType(True, 5, 0), FixedType(True, 6, 4)
    c = 3
    w = _rand(wt, (3, 3, c, mult))
    bias = _rand(bt, (c * mult,))
    attrs = {"kernel": (3, 3), "stride": stride, "pads": pads}
    (x,), y, spec, _ = _run("depthwise_conv2d", [(U6, (5, 6, c))], attrs, {"weight": w, "bias": bias},
                            {"weight": wt, "bias": bt})  # fmt: skip
    ho, wo, cout = spec.shape
    assert cout == c * mult
    for n in range(x.shape[0]):
        xp = _padded(x[n], pads, 0)
        for i, j, ch, m in product(range(ho), range(wo), range(c), range(mult)):
            acc = _val(bias[ch * mult + m], bt)
            for a, bb in product(range(3), range(3)):
                acc += _val(xp[i * stride[0] + a][j * stride[1] + bb][ch], U6) * _val(w[a, bb, ch, m], wt)
            assert y[n, i, j, ch * mult + m] == _raw(acc, spec.dtype)


# -- pooling ------------------------------------------------------------------------------
@pytest.mark.parametrize(("pool", "stride", "pads"), [((2, 2), (2, 2), (0, 0, 0, 0)), ((3, 3), (2, 2), (1, 1, 1, 1)),
                                                     ((3, 2), (1, 2), (0, 2, 1, 0))])  # fmt: skip
def test_maxpool_matches_loops_padding_never_wins(pool, stride, pads) -> None:
    t = FixedType(True, 6, 6)  # all negative values occur, so a zero pad would win if it were used
    (x,), y, spec, _ = _run("maxpool", [(t, (5, 6, 3))], {"pool": pool, "stride": stride, "pads": pads})
    for n in range(x.shape[0]):
        xp = _padded(x[n], pads, None)
        for i, j, c in product(*(range(s) for s in spec.shape)):
            window = [xp[i * stride[0] + a][j * stride[1] + b][c] for a in range(pool[0]) for b in range(pool[1])]
            assert y[n, i, j, c] == max(v for v in window if v is not None)


REQUANT = list(product(Rounding, [Overflow.SATURATE, Overflow.WRAP, Overflow.SATURATE_SYMMETRIC], [False, True]))


def _expected_average(values: list[int], src: FixedType, dst: FixedType, rounding, overflow, relu) -> int:
    total = sum(_val(v, src) for v in values)
    if relu:
        total = max(total, Fraction(0))
    q = _round(total / len(values) * Fraction(2) ** dst.frac, rounding)
    return _overflow(q, dst, overflow)


@pytest.mark.parametrize(("rounding", "overflow", "relu"), REQUANT, ids=str)
def test_avgpool_matches_loops(rounding, overflow, relu) -> None:
    dst = FixedType(True, 5, 2)  # frac 3 < X8's 5: rounding matters; narrow: overflow matters
    attrs = {"pool": (3, 3), "stride": (2, 1), "out_type": dst, "rounding": rounding, "overflow": overflow,
             "relu": relu}  # fmt: skip
    (x,), y, spec, _ = _run("avgpool", [(X8, (7, 5, 2))], attrs, n=3)
    for n, i, j, c in product(range(3), *(range(s) for s in spec.shape)):
        window = [x[n, i * 2 + a, j + b, c] for a in range(3) for b in range(3)]
        assert y[n, i, j, c] == _expected_average(window, X8, dst, rounding, overflow, relu)


@pytest.mark.parametrize(("rounding", "overflow", "relu"), REQUANT, ids=str)
@pytest.mark.parametrize("hw", [(3, 5), (4, 4), (1, 7)])
def test_global_avgpool_matches_loops(hw, rounding, overflow, relu) -> None:
    dst = FixedType(True, 6, 1)  # frac 5 == X8's: the division alone rounds
    attrs = {"out_type": dst, "rounding": rounding, "overflow": overflow, "relu": relu}
    (x,), y, spec, _ = _run("global_avgpool", [(X8, (*hw, 4))], attrs, n=8)
    assert spec.shape == (1, 1, 4)
    for n, c in product(range(8), range(4)):
        values = [x[n, i, j, c] for i in range(hw[0]) for j in range(hw[1])]
        assert y[n, 0, 0, c] == _expected_average(values, X8, dst, rounding, overflow, relu)


@pytest.mark.parametrize(("rounding", "overflow", "relu"), REQUANT, ids=str)
def test_quantize_node_matches_loops(rounding, overflow, relu) -> None:
    dst = FixedType(False, 4, 1) if relu else FixedType(True, 4, 1)
    attrs = {"out_type": dst, "rounding": rounding, "overflow": overflow, "relu": relu}
    (x,), y, _, res = _run("quantize", [(X8, (3, 3, 4))], attrs, n=4)
    expected_overflows = 0
    for idx in np.ndindex(x.shape):
        v = max(_val(x[idx], X8), Fraction(0)) if relu else _val(x[idx], X8)
        q = _round(v * Fraction(2) ** dst.frac, rounding)
        lo = -dst.max_raw if overflow is Overflow.SATURATE_SYMMETRIC and dst.signed else dst.min_raw
        expected_overflows += not lo <= q <= dst.max_raw
        assert y[idx] == _overflow(q, dst, overflow)
    assert res.overflows["y"] == expected_overflows > 0


# -- joins and data movement ---------------------------------------------------------------
def test_add_aligns_to_the_finest_grid() -> None:
    types = [X8, U6, FixedType(True, 4, 4)]
    xs, y, spec, _ = _run("add", [(t, (2, 3, 2)) for t in types])
    for idx in np.ndindex(y.shape):
        assert y[idx] == _raw(sum(_val(x[idx], t) for x, t in zip(xs, types, strict=True)), spec.dtype)


def test_concat_aligns_and_orders_channels() -> None:
    types = [U6, X8]
    (a, b), y, spec, _ = _run("concat", [(U6, (2, 3, 2)), (X8, (2, 3, 3))])
    assert spec.shape == (2, 3, 5)
    for n, i, j in product(range(2), range(2), range(3)):
        expected = [_raw(_val(a[n, i, j, c], types[0]), spec.dtype) for c in range(2)]
        expected += [_raw(_val(b[n, i, j, c], types[1]), spec.dtype) for c in range(3)]
        assert list(y[n, i, j]) == expected


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_channel_shuffle_permutation(groups: int) -> None:
    (x,), y, _, _ = _run("channel_shuffle", [(X8, (2, 2, 6))], {"groups": groups})
    per = 6 // groups
    for g, i in product(range(groups), range(per)):
        assert np.array_equal(y[..., i * groups + g], x[..., g * per + i])


def test_upsample_nearest() -> None:
    (x,), y, spec, _ = _run("upsample", [(X8, (2, 3, 2))], {"factor": (3, 2)})
    assert spec.shape == (6, 6, 2)
    for n, i, j, c in product(range(2), range(6), range(6), range(2)):
        assert y[n, i, j, c] == x[n, i // 3, j // 2, c]


def test_reshape_is_row_major() -> None:
    (x,), y, _, _ = _run("reshape", [(X8, (2, 3, 4))], {"shape": (1, 1, 24)})
    for n in range(2):
        flat = [x[n, i, j, c] for i in range(2) for j in range(3) for c in range(4)]
        assert list(y[n, 0, 0]) == flat


def test_pad_zeros() -> None:
    pads = (1, 2, 0, 3)
    (x,), y, _, _ = _run("pad", [(X8, (2, 2, 1))], {"pads": pads})
    for n in range(2):
        assert y[n].tolist() == _padded(x[n], pads, 0)


# -- executor ----------------------------------------------------------------------------------
def _chain():
    b = GraphBuilder("chain")
    b.input("x", (4, 4, 2), X8)
    b.add("q", "quantize", ["x"], {"out_type": FixedType(True, 3, 1), "overflow": Overflow.SATURATE})
    b.add("up", "upsample", ["q"], {"factor": (2, 2)})
    b.add("s", "add", ["up", "up"])
    return b.build(["s"])


def test_executor_trace_and_overflow_counters() -> None:
    g = _chain()
    x = _rand(X8, (5, 4, 4, 2))
    traced = execute(g, x, trace=True)
    plain = execute(g, x)
    assert set(traced.tensors) == {"x", "q", "up", "s"} and plain.tensors == {}
    assert np.array_equal(traced.outputs["s"], plain.outputs["s"])
    assert np.array_equal(traced.tensors["s"], 2 * traced.tensors["up"])
    q_type = g.tensors["q"].dtype  # values outside [-1, 0.75] saturate
    lo, hi = q_type.to_float(q_type.min_raw), q_type.to_float(q_type.max_raw)
    v = X8.to_float(x)
    rounded = np.array([_round(Fraction(int(r), 8), Rounding.ROUND_HALF_EVEN) for r in x.ravel()])  # 2^5 -> 2^2
    assert traced.overflows["q"] == int(np.count_nonzero((rounded < q_type.min_raw) | (rounded > q_type.max_raw)))
    assert traced.overflows["q"] > 0 and (v < lo).any() and (v > hi).any()
    assert traced.overflows["up"] == traced.overflows["s"] == 0


@pytest.mark.parametrize(
    ("x", "message"),
    [(np.zeros((2, 4, 4, 3), dtype=np.int64), "must have shape"),
     (np.zeros((2, 4, 4, 2), dtype=np.float32), "raw integers"),
     (np.full((2, 4, 4, 2), 128, dtype=np.int64), "outside"),
     (np.full((2, 4, 4, 2), -129, dtype=np.int64), "outside")],
)  # fmt: skip
def test_executor_refuses_bad_inputs(x, message: str) -> None:
    with pytest.raises(AccelError, match=message):
        execute(_chain(), x)


def test_executor_needs_names_for_several_inputs() -> None:
    b = GraphBuilder("two")
    b.input("a", (1, 1, 2), X8)
    b.input("b", (1, 1, 2), X8)
    g = b.build([b.add("s", "add", ["a", "b"])])
    with pytest.raises(AccelError, match="pass them by name"):
        execute(g, np.zeros((1, 1, 1, 2), dtype=np.int64))
