"""threshold: an elementwise step function, ``levels[number of thresholds <= x]``.

Why an op of its own: QKeras's power-of-two activations (``quantized_relu_po2``, ``quantized_po2``) and
its sign activations (``binary``, ``ternary`` with a fixed alpha) do not round onto a uniform grid, so
``quantize`` cannot state them.  Each is, on the finite set of values its input type holds, a
piecewise-constant function of the input; the frontend tabulates QKeras itself on every input value
(:func:`accel.frontend.quantizers.step_table`) and states the result as sorted ``thresholds`` (raw values of
the input type, where the output changes) and ``levels`` (raw values of the output type, one more than
thresholds).  The reference, the HLS kernel and the RTL block then only compare and look up: exact by
construction.

Per channel: a batch normalization between a conv or dense layer and such an activation (hls4ml's and FINN's
BN + sign folding) makes the step function differ per output channel, so the tables may also be 2-D, one row
per channel: ``thresholds`` ``(C, T)`` and ``levels`` ``(C, T + 1)`` (:mod:`accel.frontend.batchnorm`).  Rows
are non-decreasing; a channel with fewer steps repeats a threshold, which skips the level between the two
copies (no input reaches it), so every row has the same length and ``levels[c][number of thresholds[c] <= x]``
stays exact.  The 1-D form is the same for every channel.
"""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.fixed import FixedType
from accel.ir import AttrSpec, Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import conv_node, random_raw, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.threshold import Threshold

#: most thresholds one node may have (each is a comparator per lane in the RTL)
MAX_THRESHOLDS = 64


def tables(node) -> tuple[np.ndarray, np.ndarray]:
    """The node's tables as 2-D arrays ``(rows, T)`` and ``(rows, T + 1)``: one row for the per-tensor (1-D) form,
    one per channel otherwise."""
    return np.atleast_2d(node.params["thresholds"]), np.atleast_2d(node.params["levels"])


def _infer(node, inputs):
    (x,) = inputs
    thr, lvl = node.params["thresholds"], node.params["levels"]
    if node.param_types["thresholds"] != x.dtype:
        raise AccelError(f"node {node.name}: thresholds must be raw values of the input type {x.dtype.hls}.")
    if node.param_types["levels"] != node.attrs["out_type"]:
        raise AccelError(f"node {node.name}: levels must be raw values of out_type {node.attrs['out_type'].hls}.")
    if thr.ndim not in (1, 2) or lvl.ndim != thr.ndim or (thr.ndim == 2 and thr.shape[0] != x.shape[2]):
        raise AccelError(f"node {node.name}: thresholds {thr.shape} and levels {lvl.shape} must be 1-D (one table "
                         f"for every element) or 2-D with one row per channel ({x.shape[2]}).")  # fmt: skip
    if lvl.shape[-1] != thr.shape[-1] + 1 or lvl.shape[:-1] != thr.shape[:-1] or \
            not 1 <= thr.shape[-1] <= MAX_THRESHOLDS:  # fmt: skip
        raise AccelError(f"node {node.name}: needs 1..{MAX_THRESHOLDS} thresholds and one level more than thresholds.")
    if np.any(np.diff(thr, axis=-1) < 0):
        raise AccelError(f"node {node.name}: thresholds must be non-decreasing (per channel).")
    return x.shape, node.attrs["out_type"]


def _reference(node, ins, out, xs):
    return kernels.threshold(xs[0], node.params["thresholds"], node.params["levels"]), 0


def _hls(ctx, node):
    x = ctx.graph.tensors[node.inputs[0]]
    layer = {
        "class_name": "AccelThreshold", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "n_elem": int(np.prod(x.shape)), "n_chan": x.shape[2],
        "thresholds": tables(node)[0].tolist(), "levels": tables(node)[1].tolist(),
    }  # fmt: skip
    ctx.emit(layer, ctx.precision(node.attrs["out_type"]), node.name)


def _rtl_block(node, x, out, lanes, extra_pads):
    return Threshold(f"{node.name}_threshold", x.dtype, out.dtype, node.params["thresholds"], node.params["levels"],
                     x.shape, lanes)  # fmt: skip


def _examples(rng: np.random.Generator) -> list[Graph]:
    """Power-of-two levels over a signed input (as quantized_relu_po2 gives: the lowest level below the first
    threshold), a sign function (binary) of a pointwise conv's accumulator, with a threshold at the type's
    maximum (only that value passes it) and a folded variant in the conformance test (several lanes), and
    per-channel tables (a batch normalization folded into ternary steps): rising and falling levels, a row
    padded with a repeated threshold (its skipped level unreachable) and a constant row."""
    out = []
    b = GraphBuilder("threshold_po2")
    t = random_type(rng, signed=True, widths=(6, 12))
    x = b.input("x", (3, 4, 4), t)
    thr = np.unique(random_raw(rng, t, (6,)))
    lvl = np.array([1 << k for k in range(thr.size + 1)], dtype=np.int64)
    lt = FixedType(False, int(lvl.max()).bit_length(), int(lvl.max()).bit_length() - 4)
    out.append(b.build([b.add("po2", "threshold", [x], {"out_type": lt}, params={"thresholds": thr, "levels": lvl},
                              param_types={"thresholds": t, "levels": lt})]))  # fmt: skip
    b = GraphBuilder("threshold_sign_conv")
    x = b.input("x", (2, 3, 5), random_type(rng, signed=False, widths=(3, 8)))
    acc = conv_node(b, "pw", x, rng, 4)
    t = b.spec(acc).dtype
    thr = np.array([int(rng.integers(t.min_raw // 4, 0)), int(rng.integers(1, t.max_raw // 4)), t.max_raw])
    st = FixedType(True, 2, 2)
    out.append(b.build([b.add("sign", "threshold", [acc], {"out_type": st},
                              params={"thresholds": thr, "levels": np.array([-1, 0, 1, -2])},
                              param_types={"thresholds": t, "levels": st})]))  # fmt: skip
    b = GraphBuilder("threshold_per_channel")
    x = b.input("x", (2, 2, 4), random_type(rng, signed=True, widths=(3, 6)))
    acc = conv_node(b, "pw", x, rng, 4)
    t = b.spec(acc).dtype
    a, c = sorted(int(v) for v in rng.integers(t.min_raw // 8, t.max_raw // 8, size=2, endpoint=True))
    c += a == c
    thr = np.array([[a, c], [a, c], [c, c], [t.max_raw, t.max_raw]])
    lvl = np.array([[-1, 0, 1], [1, 0, -1], [-1, -2, 1], [0, -2, 0]])  # rising, falling, a skipped level, constant
    out.append(b.build([b.add("bn_ternary", "threshold", [acc], {"out_type": st},
                              params={"thresholds": thr, "levels": lvl},
                              param_types={"thresholds": t, "levels": st})]))  # fmt: skip
    return out


register_op(
    OpDef(
        name="threshold",
        doc="Elementwise step function: levels[number of thresholds <= x], one table or one per channel (QKeras po2 "
            "and sign activations, batch normalization folded into them).",
        attrs={"out_type": AttrSpec(FixedType)},
        params=("thresholds", "levels"),
        arity=1,
        infer=_infer,
        reference=_reference,
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _rtl_block)),
        examples=_examples,
    )
)
