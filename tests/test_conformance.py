"""The op conformance test: every registered op, on its own examples, through the reference and both backends.

Why: the op is the unit of extension.  Each op is one object in :data:`accel.ir.OPS` that brings its type
inference, its reference, HLS and RTL lowerings and its own small test graphs (``OpDef.examples``).  This
file is parametrised over that registry at collection time (``sorted(OPS)`` x each example), so a new op is
tested here, on its own examples, without editing this file:

* every op has all four hooks (a missing one fails a test that names the op);
* the examples are small single-input, single-output graphs that contain their op, the same every time
  they are drawn (pytest-xdist workers collect them independently);
* reference: the op's nodes, run by :func:`accel.reference.execute`, equal an independent evaluation
  written here from the fixed-point definition alone (exact :class:`fractions.Fraction` values, naive loops,
  rounding and overflow as ``docs/fixed_point.md`` defines them, no :mod:`accel.kernels` and no
  :mod:`accel.fixed` arithmetic); an op without such an evaluation is still checked for shape and range;
* HLS: hls4ml's g++ C simulation (io_stream) equals the reference on every sample;
* RTL: the generated network, co-simulated in Icarus with random stalls, equals the reference with no stream
  fault, and its measured II and every layer's measured cycles equal the build's expectation exactly; once
  with the default folding (PE = SIMD = 1 for such small layers: one lane everywhere) and, for examples with a
  folded layer, once with PE and SIMD above 1 (several lanes through every block behind it).

A known bug stays visible: its case is listed in :data:`KNOWN_BUGS` and marked ``xfail(strict=True)`` for
the one kind of failure the bug causes (a :class:`ValuesDiffer`, a :class:`CyclesDiffer` or a refusal), so
a different failure of the same case still fails, and fixing the bug fails the test until the entry goes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from fractions import Fraction
from itertools import product
from pathlib import Path

import numpy as np
import pytest

import accel.ops  # noqa: F401  (registers every op)
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import OPS, Graph, Node
from accel.reference import execute
from accel.verify import random_inputs

HOOKS = ("reference", "hls", "rtl", "examples")
#: frames per example.  RTL: verify_build streams the first half without stalls and measures cycles on those
#: frames minus the first; with 8 that is frames 1-3, whose median is not moved by frame 3, the one whose
#: monitoring window reaches into the stalled frames after it (with 6 frames, a median of two, it was)
REF_SAMPLES, HLS_SAMPLES, RTL_SAMPLES = 8, 40, 8
#: Icarus: for these tiny designs it compiles in well under a second, where Verilator's C++ build takes seconds
SIMULATOR = "icarus"
#: the largest tensor an example may hold (a frame of 8x8x8), so that compiling and simulating stay cheap
MAX_TENSOR = 8 * 8 * 8



class ValuesDiffer(AssertionError):
    """A backend computed other values than the reference (or lost, added or mis-framed beats)."""


class CyclesDiffer(AssertionError):
    """A measured cycle count differs from the build's cycle model."""


#: (test, case id) -> (the bug in one sentence, the failure it causes); such a case is xfail(strict=True)
#: for that failure only.  Reproduce one with ``pytest tests/test_conformance.py -k "<test> and <id>" --runxfail``.
KNOWN_BUGS: dict[tuple[str, str], tuple[str, type[Exception]]] = {}


def _seed(op: str) -> int:
    """A seed per op, from its name: adding an op does not change the other ops' examples."""
    return zlib.crc32(op.encode())


def _draw(op: str) -> list[Graph]:
    examples = OPS[op].examples
    return list(examples(np.random.default_rng(_seed(op)))) if examples is not None else []


CASES: list[tuple[str, Graph]] = [(op, g) for op in sorted(OPS) for g in _draw(op)]


def _param(test: str, case_id: str, *values: object):
    """One parameter set of ``test``, marked xfail for its known bug (and only for the failure it causes)."""
    bug = KNOWN_BUGS.get((test, case_id))
    marks = [pytest.mark.xfail(strict=True, reason=bug[0], raises=bug[1])] if bug else []
    return pytest.param(*values, id=case_id, marks=marks)


def _cases(test: str) -> list:
    """The (op, graph) parameters of one test: every example of every op."""
    return [_param(test, g.name, op, g) for op, g in CASES]


# -- the registry and the examples ------------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(OPS))
def test_op_has_every_hook(op: str) -> None:
    missing = [h for h in HOOKS if getattr(OPS[op], h) is None]
    assert missing == [], f"op {op} lacks {', '.join(missing)}"


@pytest.mark.parametrize("op", sorted(OPS))
def test_examples_are_small_single_stream_graphs_with_the_op(op: str) -> None:
    graphs = _draw(op)
    assert 1 <= len(graphs) <= 3, f"op {op} has {len(graphs)} examples; 1 to 3 keep the backends' runs cheap"
    for g in graphs:
        assert (len(g.inputs), len(g.outputs)) == (1, 1), g.name
        assert op in [n.op for n in g.nodes], f"example {g.name} of op {op} does not contain it"
        too_big = [t.name for t in g.tensors.values() if t.size > MAX_TENSOR]
        assert too_big == [], f"example {g.name}: tensors {too_big} are larger than {MAX_TENSOR} values"


def _fingerprint(g: Graph) -> list:
    return [(n.name, n.op, n.inputs, dict(n.attrs), {k: v.tolist() for k, v in n.params.items()},
             dict(n.param_types), g.tensors[n.name]) for n in g.nodes] + [g.tensors[t] for t in g.inputs]  # fmt: skip


@pytest.mark.parametrize("op", sorted(OPS))
def test_examples_are_reproducible(op: str) -> None:
    """The same generator seed draws the same graphs: xdist workers must collect identical parameters."""
    assert [_fingerprint(g) for g in _draw(op)] == [_fingerprint(g) for g in _draw(op)]


def test_example_names_are_unique() -> None:
    names = [g.name for _, g in CASES]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


# -- the independent evaluation: exact values from the fixed-point definition ----------------------------


def _values(raw: np.ndarray, t: FixedType) -> np.ndarray:
    """The exact values ``raw * 2**-frac`` as an object array of Fractions."""
    lsb = Fraction(2) ** -(t.width - t.integer)
    out = np.empty(raw.shape, dtype=object)
    for idx in np.ndindex(raw.shape):
        out[idx] = int(raw[idx]) * lsb
    return out


def _convert(v: Fraction, t: FixedType, rounding: Rounding, overflow: Overflow, relu: bool) -> Fraction:
    """``v`` assigned to ``ap_[u]fixed<W,I>``: optional ReLU, rounding onto the grid, then overflow."""
    if relu:
        v = max(v, Fraction(0))
    frac = t.width - t.integer
    q = v * Fraction(2) ** frac
    if rounding is Rounding.TRUNCATE:
        r = math.floor(q)
    elif rounding is Rounding.ROUND_HALF_UP:
        r = math.floor(q + Fraction(1, 2))
    else:
        r = round(q)  # Python rounds a Fraction half to even
    lo, hi = (-(2 ** (t.width - 1)), 2 ** (t.width - 1) - 1) if t.signed else (0, 2**t.width - 1)
    if overflow is Overflow.WRAP:
        r = (r - lo) % 2**t.width + lo
    else:
        r = min(max(r, -hi if overflow is Overflow.SATURATE_SYMMETRIC and t.signed else lo), hi)
    return r * Fraction(2) ** -frac


def _requant(node: Node, v: Fraction) -> Fraction:
    a = node.attrs
    return _convert(v, a["out_type"], a["rounding"], a["overflow"], a["relu"])


def _out_size(size: int, k: int, s: int, lo: int, hi: int) -> int:
    return (size + lo + hi - k) // s + 1


def _eval_conv(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """Grouped convolution: output channel o of group g sums its window of group g's input channels."""
    (x,) = xs
    w = _values(node.params["weight"], node.param_types["weight"])
    b = _values(node.params["bias"], node.param_types["bias"])
    n, h, wd, _ = x.shape
    kh, kw, cin_g, cout = w.shape
    (sh, sw), (pt, pb, pl, pr) = node.attrs["stride"], node.attrs["pads"]
    depthwise = node.op == "depthwise_conv2d"
    groups = 1 if depthwise else node.attrs["groups"]
    ho, wo = _out_size(h, kh, sh, pt, pb), _out_size(wd, kw, sw, pl, pr)
    out_c = x.shape[3] * w.shape[3] if depthwise else cout
    y = np.empty((n, ho, wo, out_c), dtype=object)
    for s, i, j, o in product(range(n), range(ho), range(wo), range(out_c)):
        acc = b[o]
        for di, dj in product(range(kh), range(kw)):
            r, c = i * sh + di - pt, j * sw + dj - pl
            if not (0 <= r < h and 0 <= c < wd):
                continue  # a zero of the padding
            if depthwise:  # output channel o = input channel * multiplier + m
                acc += x[s, r, c, o // cout] * w[di, dj, o // cout, o % cout]
            else:
                g = o // (cout // groups)
                acc += sum(x[s, r, c, g * cin_g + k] * w[di, dj, k, o] for k in range(cin_g))
        y[s, i, j, o] = acc
    return y


def _windows(node: Node, x: np.ndarray, pads: tuple[int, int, int, int]):
    """(sample, out row, out col, channel, the in-range values of its window): padding holds no value."""
    n, h, wd, ch = x.shape
    (kh, kw), (sh, sw) = node.attrs["pool"], node.attrs["stride"]
    pt, pb, pl, pr = pads
    for s, i, j, c in product(range(n), range(_out_size(h, kh, sh, pt, pb)), range(_out_size(wd, kw, sw, pl, pr)),
                              range(ch)):  # fmt: skip
        rows = [i * sh + di - pt for di in range(kh)]
        cols = [j * sw + dj - pl for dj in range(kw)]
        yield (s, i, j, c), [x[s, r, q, c] for r in rows for q in cols if 0 <= r < h and 0 <= q < wd]


def _eval_maxpool(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    return _fill({idx: max(vals) for idx, vals in _windows(node, xs[0], node.attrs["pads"])})


def _eval_avgpool(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    count = math.prod(node.attrs["pool"])
    return _fill({idx: _requant(node, sum(vals) / count) for idx, vals in _windows(node, xs[0], (0, 0, 0, 0))})


def _eval_gap(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    (x,) = xs
    n, h, w, c = x.shape
    return _fill({(s, 0, 0, k): _requant(node, sum(x[s, :, :, k].ravel()) / (h * w))
                  for s, k in product(range(n), range(c))})  # fmt: skip


def _fill(values: dict[tuple[int, ...], Fraction]) -> np.ndarray:
    shape = tuple(max(i[d] for i in values) + 1 for d in range(4))
    y = np.empty(shape, dtype=object)
    for idx, v in values.items():
        y[idx] = v
    return y


def _eval_pad(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    (x,) = xs
    pt, pb, pl, pr = node.attrs["pads"]
    n, h, w, c = x.shape
    y = np.full((n, h + pt + pb, w + pl + pr, c), Fraction(0), dtype=object)
    y[:, pt : pt + h, pl : pl + w, :] = x
    return y


def _eval_upsample(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    (x,) = xs
    fh, fw = node.attrs["factor"]
    n, h, w, c = x.shape
    return _fill({(s, i, j, k): x[s, i // fh, j // fw, k]
                  for s, i, j, k in product(range(n), range(h * fh), range(w * fw), range(c))})  # fmt: skip


def _eval_zero_insert(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """Output (i, j) holds input (i / sh, j / sw) where both divide, zero elsewhere."""
    (x,) = xs
    sh, sw = node.attrs["strides"]
    n, h, w, c = x.shape
    return _fill({(s, i, j, k): x[s, i // sh, j // sw, k] if i % sh == 0 and j % sw == 0 else Fraction(0)
                  for s, i, j, k in product(range(n), range((h - 1) * sh + 1), range((w - 1) * sw + 1), range(c))})


def _eval_shuffle(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """Channel g * (C/groups) + i moves to i * groups + g."""
    (x,) = xs
    g = node.attrs["groups"]
    c = x.shape[3]
    y = np.empty(x.shape, dtype=object)
    for gi, i in product(range(g), range(c // g)):
        y[..., i * g + gi] = x[..., gi * (c // g) + i]
    return y


def _eval_reshape(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """Row-major (H, W, C) order, read under the new shape."""
    (x,) = xs
    flat = [list(x[s].ravel()) for s in range(x.shape[0])]
    h, w, c = node.attrs["shape"]
    return _fill({(s, i, j, k): flat[s][(i * w + j) * c + k]
                  for s, i, j, k in product(range(x.shape[0]), range(h), range(w), range(c))})  # fmt: skip


def _eval_argmax(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """The first channel holding each pixel's largest value, scanned by hand."""
    (x,) = xs
    n, h, w, c = x.shape
    out = {}
    for s, i, j in product(range(n), range(h), range(w)):
        best = 0
        for k in range(1, c):
            if x[s, i, j, k] > x[s, i, j, best]:
                best = k
        out[(s, i, j, 0)] = Fraction(best)
    return _fill(out)


def _eval_threshold(node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """Scan the steps from the top: the level after the highest threshold whose value is at or below x, in the
    element's channel's row (2-D tables) or the one table."""
    t_thr, t_lvl = node.param_types["thresholds"], node.param_types["levels"]
    thr = np.atleast_2d(_values(node.params["thresholds"], t_thr))
    lvl = np.atleast_2d(_values(node.params["levels"], t_lvl))

    def one(v: Fraction, c: int) -> Fraction:
        row = c if thr.shape[0] > 1 else 0
        for k in range(thr.shape[1] - 1, -1, -1):
            if thr[row, k] <= v:
                return lvl[row, k + 1]
        return lvl[row, 0]

    x = xs[0]
    return np.vectorize(one, otypes=[object])(x, np.broadcast_to(np.arange(x.shape[-1]), x.shape))


#: op -> (node, exact input values) -> exact output values; an op not listed gets the shape and range check only
INDEPENDENT: dict[str, Callable[[Node, list[np.ndarray]], np.ndarray]] = {
    "conv2d": _eval_conv,
    "depthwise_conv2d": _eval_conv,
    "quantize": lambda node, xs: np.vectorize(lambda v: _requant(node, v), otypes=[object])(xs[0]),
    "maxpool": _eval_maxpool,
    "avgpool": _eval_avgpool,
    "global_avgpool": _eval_gap,
    "add": lambda node, xs: sum(xs[1:], xs[0]),
    "concat": lambda node, xs: np.concatenate(xs, axis=3),
    "pad": _eval_pad,
    "reshape": _eval_reshape,
    "upsample": _eval_upsample,
    "channel_shuffle": _eval_shuffle,
    "argmax": _eval_argmax,
    "threshold": _eval_threshold,
    "zero_insert": _eval_zero_insert,
}


def test_convert_follows_the_definitions() -> None:
    """The test's own rounding/overflow, on hand-worked values (so it is not checked only against accel)."""
    s3 = FixedType(True, 3, 2)  # values -2 .. 1.5 in steps of 0.5
    assert [_convert(Fraction(v), s3, Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, False)
            for v in ("0.25", "0.75", "-0.25", "-0.75", "5", "-5")] == [0, 1, 0, -1, Fraction(3, 2), -2]  # fmt: skip
    assert _convert(Fraction("0.25"), s3, Rounding.ROUND_HALF_UP, Overflow.SATURATE, False) == Fraction(1, 2)
    assert _convert(Fraction("-0.25"), s3, Rounding.TRUNCATE, Overflow.SATURATE, False) == Fraction(-1, 2)
    assert _convert(Fraction(-5), s3, Rounding.TRUNCATE, Overflow.SATURATE_SYMMETRIC, False) == Fraction(-3, 2)
    assert _convert(Fraction(2), s3, Rounding.TRUNCATE, Overflow.WRAP, False) == -2  # raw 4 wraps to -4
    assert _convert(Fraction(-1), FixedType(False, 2, 2), Rounding.TRUNCATE, Overflow.SATURATE, True) == 0


# -- reference ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "graph"), _cases("reference"))
def test_reference(op: str, graph: Graph) -> None:
    raw = random_inputs(graph, REF_SAMPLES, seed=1)
    tensors = execute(graph, raw, trace=True).tensors
    for node in graph.nodes:  # every node: the inferred shape, values inside the declared type
        spec = graph.tensors[node.name]
        y = tensors[node.name]
        assert y.shape == (REF_SAMPLES, *spec.shape), node.name
        assert (int(y.min()) >= spec.dtype.min_raw, int(y.max()) <= spec.dtype.max_raw) == (True, True), node.name
    evaluate = INDEPENDENT.get(op)
    if evaluate is None:
        return
    for node in (n for n in graph.nodes if n.op == op):
        ins = [_values(tensors[t], graph.tensors[t].dtype) for t in node.inputs]
        expected = evaluate(node, ins)
        got = _values(tensors[node.name], graph.tensors[node.name].dtype)
        assert got.shape == expected.shape, node.name
        bad = [idx for idx in np.ndindex(got.shape) if got[idx] != expected[idx]]
        assert bad == [], (f"{node.name}: {len(bad)} values differ, first at {bad[0]}: "
                           f"reference {got[bad[0]]}, definition {expected[bad[0]]}")  # fmt: skip


# -- the hardware backends -----------------------------------------------------------------------------------


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize(("op", "graph"), _cases("test_hls"))
def test_hls(op: str, graph: Graph, tmp_path: Path) -> None:
    from accel.hls.verify import verify_against_hls

    r = verify_against_hls(None, graph, HLS_SAMPLES, io_type="io_stream", seed=2, output_dir=tmp_path / "hls")
    if (r.mismatches, r.mismatched_values) != (0, 0):
        raise ValuesDiffer(f"{r.mismatches} of {HLS_SAMPLES} samples differ; first: {r.first_divergence}")


def _verify_build() -> Callable:
    """``verify_build``: in ``accel.rtl.verify`` since co-simulation was split up, in ``accel.rtl.cosim`` before."""
    try:
        from accel.rtl.verify import verify_build
    except ImportError:
        from accel.rtl.cosim import verify_build  # type: ignore[no-redef]
    return verify_build


def _parallel_folding(graph: Graph) -> dict[str, dict[str, int]]:
    """PE = the smallest divisor above 1 of its dimension (a partial fold), SIMD = all input channels, for every
    folded layer: its output (and, for a KxK conv, its window) then carries several lanes."""
    from accel.rtl.folding import folding_of

    fold = {}
    for node in graph.nodes:
        spec = folding_of(node)
        if spec is not None:
            pe_dim, simd_dim = spec.dims(graph, node)
            pe = min(d for d in range(2, pe_dim + 1) if pe_dim % d == 0) if pe_dim > 1 else 1
            fold[node.name] = {"pe": pe} | ({"simd": simd_dim} if simd_dim is not None else {})
    return fold


def _rtl_cases() -> list:
    """Every example with the default folding, and those with a folded layer also with :func:`_parallel_folding`."""
    out = []
    for op, g in CASES:
        out.append(_param("test_rtl", g.name, op, g, False))
        if _parallel_folding(g):
            out.append(_param("test_rtl", f"{g.name}-parallel", op, g, True))
    return out


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize(("op", "graph", "parallel"), _rtl_cases())
def test_rtl(op: str, graph: Graph, parallel: bool, tmp_path: Path) -> None:
    from accel.rtl.network import build_rtl

    build_rtl(graph, tmp_path, folding=_parallel_folding(graph) if parallel else None)
    r = _verify_build()(graph, tmp_path, RTL_SAMPLES, seed=3, simulator=SIMULATOR)
    if (r.mismatches, r.problems) != (0, []):
        raise ValuesDiffer(f"{r.mismatches} of {RTL_SAMPLES} samples differ, {r.problems}; first: {r.first_divergence}")
    # the II, and every layer that places blocks (a folded pad places none), at the build's cycle model
    placed = [row for row in r.layers if row["instances"]]
    measured = [("II", r.ii_cycles)] + [(row["node"], row["measured_cycles"]) for row in placed]
    expected = [("II", r.expected_ii_cycles)] + [(row["node"], row["expected_cycles"]) for row in placed]
    if measured != expected:
        raise CyclesDiffer(f"measured {measured}, expected {expected}")
