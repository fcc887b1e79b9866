"""Where QKeras' float32 arithmetic may round, and by how much: per-element bounds around accel's exact values.

Why: QKeras computes in float32 (a 24-bit significand).  Where a sum needs more bits, QKeras' own result depends
on the order TensorFlow sums in (which changes with the batch split), so it cannot be compared with accel's exact
result for equality.  This module gives, for one batch, every tensor's interval ``[lo, hi]`` (raw integers of the
tensor's type) that holds every value float32 arithmetic could produce from the same inputs in any summation
order; ``verify --against qkeras`` accepts a QKeras value inside it and counts it as ``float32_rounded``.
Tensors absent from the result are exact in float32 and are compared with ``==``.

The bounds (stated and derived in docs/fixed_point.md, "The float32 caveat"):

* a convolution or dense output is ``sum_i w_i x_i + b`` over ``n`` taps, summed by TensorFlow in some order
  (possibly blocked, possibly with fused multiply-adds), then the bias added: the computed value errs by at most
  ``gamma_{n+1} * (sum_i |w_i x_i| + |b|)``, ``gamma_k = k u / (1 - k u)``, ``u = 2**-24`` (Higham, Accuracy and
  Stability of Numerical Algorithms, 2nd ed., (3.4) and Lemma 3.1); when that sum of magnitudes is below
  ``2**24`` steps of the accumulator's grid, every partial sum is exact and the error is 0;
* an ``add`` of ``k`` operands errs by at most ``gamma_{k-1} * sum |x_i|`` (0 below ``2**24`` steps);
* a quantizer is monotone: an input in ``[lo, hi]`` gives an output in ``[q(lo), q(hi)]`` (an element whose
  input bound straddles a rounding boundary may move by one step); QKeras' straight-through form
  ``x + (q(x) - x)`` adds at most ``gamma_2 * (|x| + 2 |q(x)|)`` where its grids need more than 24 bits;
* every other monotone op (pooling, padding, reshaping, concatenation, upsampling, thresholds whose levels only rise
  or only fall per channel) maps ``[lo, hi]`` to the interval between ``f(lo)`` and ``f(hi)``; a convolution maps
  an input interval by splitting its weights by sign.

The error bound of each op uses the magnitudes of its actual inputs (the larger end of their intervals).  An op
with no bound here (``argmax``, an average whose own sum needs more than 24 bits, a wrapping quantizer, an op
added later) keeps its exact value as its only allowed value: a false alarm is possible there, a false pass not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

import accel.ops  # noqa: F401  (registers the ops)
from accel.fixed import FixedType, Overflow, union
from accel.ir import OPS, Graph, Node

#: float32's significand bits and unit roundoff
SIGNIFICAND_BITS = 24
UNIT_ROUNDOFF = 2.0**-SIGNIFICAND_BITS
#: the float64 bound computation errs by far less than this factor; shrinking by it keeps every bound below the
#: exact one (a bound is never larger than the mathematics allows)
_SAFETY = 1.0 - 2.0**-40

#: ops that are nondecreasing in every input element (given a rising threshold table and no wrap-around)
MONOTONE = frozenset({"quantize", "maxpool", "avgpool", "global_avgpool", "global_maxpool", "pad", "reshape",
                      "concat", "upsample", "channel_shuffle", "add", "threshold"})  # fmt: skip
AFFINE = frozenset({"conv2d", "depthwise_conv2d"})

Interval = tuple[np.ndarray, np.ndarray]


def gamma(n: int) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)``: the relative error bound of ``n`` float32 roundings in sequence."""
    return n * UNIT_ROUNDOFF / (1.0 - n * UNIT_ROUNDOFF)


def _mag(t: FixedType) -> int:
    """Significant bits of the type's largest magnitude (the sign is not a significand bit)."""
    return t.width - (1 if t.signed else 0)


def _taps(node: Node) -> int:
    """Products summed per output of a conv / depthwise node (padding zeros included: TensorFlow sums them too)."""
    w = node.params["weight"]
    return int(w.size // node.params["bias"].size)


def rounding_nodes(graph: Graph) -> list[str]:
    """Tensors (graph inputs and nodes) whose QKeras value float32 may round, for the worst inputs of their types.

    A conv counts when ``sum |w| * max|x| + |b|`` (per output channel, in steps of its accumulator) can reach
    ``2**24``, an add when its operands' magnitudes can, a quantizer when its straight-through arithmetic needs
    more than 24 bits, a graph input when its type has more than 24 significant bits.
    """
    out = [t for t in graph.inputs if _mag(graph.tensors[t].dtype) > SIGNIFICAND_BITS]
    for node in graph.nodes:
        ins = [graph.tensors[t].dtype for t in node.inputs]
        ot = graph.tensors[node.output].dtype
        if node.op in AFFINE:
            wide = max(int(v) for v in _channel_sums(node, ins[0], ot)) >= 1 << SIGNIFICAND_BITS
        elif node.op == "add":
            wide = sum(max(abs(t.min_raw), abs(t.max_raw)) << (ot.frac - t.frac) for t in ins) >> SIGNIFICAND_BITS > 0
        elif node.op == "quantize":
            wide = _mag(union(ins[0], ot)) > SIGNIFICAND_BITS
        else:
            wide = False
        if wide:
            out.append(node.output)
    return out


def _channel_sums(node: Node, xt: FixedType, ot: FixedType) -> np.ndarray:
    """``sum |w| * max|x| + |b|`` per output channel over every input of type ``xt``, in steps of ``ot``'s grid,
    exactly (Python integers)."""
    w = np.abs(node.params["weight"].astype(object)).reshape(-1, node.params["bias"].size)
    b = np.abs(node.params["bias"].astype(object))
    m = max(abs(xt.min_raw), abs(xt.max_raw))
    ps = ot.frac - xt.frac - node.param_types["weight"].frac
    bs = ot.frac - node.param_types["bias"].frac
    return w.sum(axis=0) * m * (1 << ps) + b * (1 << bs)


def _abs_sums(graph: Graph, node: Node, mags: np.ndarray) -> np.ndarray:
    """``sum |w| |x| + |b|`` per output element in steps of the output grid, for input magnitudes ``mags``
    (the op's own exact reference with the weights' and bias' magnitudes)."""
    return _run(graph, node, [mags], {"weight": np.abs(node.params["weight"]), "bias": np.abs(node.params["bias"])})


def _normal_range(t: FixedType) -> bool:
    """Every nonzero value of ``t`` is a normal float32 (no underflow, no overflow): the bounds above hold."""
    return t.frac <= 126 and t.integer <= 127


def _error_steps(sums: np.ndarray, terms: int) -> np.ndarray:
    """``floor(gamma_terms * sums)`` where ``sums >= 2**24``, else 0 (below that every partial sum is exact)."""
    s = np.asarray(sums, dtype=np.float64)
    err = np.floor(s * gamma(terms) * _SAFETY)
    return np.where(s >= float(1 << SIGNIFICAND_BITS), err, 0.0).astype(np.int64)


def _run(graph: Graph, node: Node, xs: list[np.ndarray], params: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The op's exact reference on ``xs`` (with ``params`` replacing the node's)."""
    n = dataclasses.replace(node, params=dict(params)) if params is not None else node
    y, _ = OPS[node.op].reference(n, graph.input_specs(node), graph.tensors[node.output], xs)
    return np.asarray(y, dtype=np.int64)


def _monotone(node: Node) -> bool:
    """Whether the op maps an input interval to the interval between its values at the two ends.

    A threshold qualifies when each channel's levels (one row, or one row per channel) only rise or only fall: a
    batch normalization with a negative scale before a step activation gives falling levels; the two ends are then
    swapped per element (:func:`float32_bounds` takes their minimum and maximum)."""
    if node.op not in MONOTONE or node.attrs.get("overflow") == Overflow.WRAP:
        return False
    if node.op != "threshold":
        return True
    d = np.diff(np.atleast_2d(node.params["levels"]), axis=-1)
    return bool(np.all(np.all(d >= 0, axis=-1) | np.all(d <= 0, axis=-1)))


def _input_view(graph: Graph, name: str, x: np.ndarray) -> Interval | None:
    """The graph input Keras is fed: the float32 rounding of a type wider than 24 bits, between it and x."""
    t = graph.tensors[name].dtype
    if _mag(t) <= SIGNIFICAND_BITS:
        return None
    x32 = np.ldexp(t.to_float(x).astype(np.float32).astype(np.float64), t.frac)
    r = np.rint(x32).astype(np.int64)
    return np.minimum(x, r), np.maximum(x, r)


def float32_bounds(graph: Graph, trace: Mapping[str, np.ndarray]) -> dict[str, Interval]:
    """Per tensor that float32 may change, ``(lo, hi)`` raw bounds of QKeras' value on this batch.

    ``trace`` is :func:`accel.reference.execute`'s traced tensors for the batch (the exact values).
    """
    wide = set(rounding_nodes(graph))
    bounds: dict[str, Interval] = {}
    for name in graph.inputs:
        if name in wide:
            bounds[name] = _input_view(graph, name, trace[name])
    for node in graph.nodes:
        ins = [bounds.get(t) for t in node.inputs]
        if all(b is None for b in ins) and node.output not in wide:
            continue
        if not all(_normal_range(graph.tensors[t].dtype) for t in (*node.inputs, node.output)):
            continue  # no bound outside float32's normal range: the exact value only
        lo_in = [b[0] if b is not None else trace[t] for b, t in zip(ins, node.inputs, strict=True)]
        hi_in = [b[1] if b is not None else trace[t] for b, t in zip(ins, node.inputs, strict=True)]
        mags = [np.maximum(np.abs(lo), np.abs(hi)) for lo, hi in zip(lo_in, hi_in, strict=True)]
        exact = trace[node.output]
        if node.op in AFFINE:
            lo, hi = _affine(graph, node, lo_in[0], hi_in[0]) if ins[0] is not None else (exact, exact)
            # per element: 0 where the actual magnitudes stay below 2**24 steps (also for a node whose input
            # type is narrow enough but whose actual inputs, widened by rounding upstream, are not)
            err = _error_steps(_abs_sums(graph, node, mags[0]), _taps(node) + 1)
            lo, hi = lo - err, hi + err
        elif _monotone(node):
            lo, hi = (_run(graph, node, lo_in), _run(graph, node, hi_in)) if any(ins) else (exact, exact)
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)  # falling threshold levels swap the ends
            if node.output in wide or node.op == "add":
                err = _extra_rounding(graph, node, mags, np.maximum(np.abs(lo), np.abs(hi)))
                lo, hi = lo - err, hi + err
        else:  # no bound known: the exact value is the only one allowed
            continue
        bounds[node.output] = (np.minimum(lo, exact), np.maximum(hi, exact))
    return bounds


def _affine(graph: Graph, node: Node, lo: np.ndarray, hi: np.ndarray) -> Interval:
    """A convolution of an input interval: positive weights take the low end to the low end, negative the high."""
    w, b = node.params["weight"], node.params["bias"]
    pos, neg, zero = np.maximum(w, 0), np.minimum(w, 0), np.zeros_like(b)
    low = _run(graph, node, [lo], {"weight": pos, "bias": b}) + _run(graph, node, [hi], {"weight": neg, "bias": zero})
    high = _run(graph, node, [hi], {"weight": pos, "bias": b}) + _run(graph, node, [lo], {"weight": neg, "bias": zero})
    return low, high


def _extra_rounding(graph: Graph, node: Node, mags: list[np.ndarray], out_mag: np.ndarray) -> np.ndarray:
    """The rounding float32 adds in an add (its partial sums) or a quantizer (its straight-through form), in steps
    of the output grid; 0 for the other monotone ops (they copy, compare or round onto a grid exactly)."""
    ot = graph.tensors[node.output].dtype
    if node.op == "add":
        total = sum(np.ldexp(m.astype(np.float64), ot.frac - graph.tensors[t].dtype.frac)
                    for m, t in zip(mags, node.inputs, strict=True))  # fmt: skip
        return _error_steps(total, len(node.inputs) - 1)
    if node.op == "quantize":  # x + (q(x) - x): |error| <= gamma_2 (|x| + 2 |q(x)|)
        x = np.ldexp(mags[0].astype(np.float64), ot.frac - graph.tensors[node.inputs[0]].dtype.frac)
        return np.floor(gamma(2) * (x + 2.0 * out_mag.astype(np.float64)) * _SAFETY).astype(np.int64)
    return np.zeros_like(out_mag)

