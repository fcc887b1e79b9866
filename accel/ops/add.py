"""add: element-wise sum of two or more tensors (residual joins), exact in the widened union type."""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.fixed import FixedType
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import conv_node, quantize_node, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.add import Add


def _infer(node, inputs):
    shapes = {x.shape for x in inputs}
    if len(shapes) != 1:
        raise AccelError(f"node {node.name}: add needs equal shapes, got {sorted(shapes)}.")
    frac = max(x.dtype.frac for x in inputs)
    lo = sum(x.dtype.min_raw << (frac - x.dtype.frac) for x in inputs)
    hi = sum(x.dtype.max_raw << (frac - x.dtype.frac) for x in inputs)
    signed = any(x.dtype.signed for x in inputs)
    return inputs[0].shape, FixedType.covering(lo, hi, frac, signed=signed)


def _reference(node, ins, out, xs):
    return kernels.add(xs, [out.dtype.frac - s.dtype.frac for s in ins]), 0


def _rtl_pair(name, a, b, lanes, out_type):
    """One two-input accel_add of the chain (N operands take N-1 of them); its output is typed by this op's
    inference over the original operands it has summed, which holds every partial sum exactly."""
    h, w, c = a.shape
    return Add(name, h, w, c, lanes, a.dtype, b.dtype, out=out_type)


def _examples(rng: np.random.Generator) -> list[Graph]:
    """Two differently typed activations of one input added; a three-input residual join: the input, a
    pointwise conv's activation and another activation of the input."""
    b = GraphBuilder("add_two_activations")
    x = b.input("x", (5, 7, 3), random_type(rng))
    two = b.build([b.add("add", "add", [quantize_node(b, "q0", x, rng), quantize_node(b, "q1", x, rng)])])
    b = GraphBuilder("add_three_residual")
    x = b.input("x", (4, 4, 6), random_type(rng, widths=(2, 8)))
    branch = quantize_node(b, "act", conv_node(b, "pw", x, rng, 6), rng)
    return [two, b.build([b.add("add", "add", [x, branch, quantize_node(b, "q", x, rng)])])]


register_op(
    OpDef(
        name="add",
        doc="Element-wise sum, operands aligned to the finest grid; cannot overflow.",
        attrs={},
        params=(),
        arity=None,
        infer=_infer,
        macs=lambda node, inputs, out: 0,
        reference=_reference,
        hls=lambda ctx, node: ctx.chain(node, "Merge", "add", {}),
        rtl=RtlLowering(lambda wiring, node: wiring.join(node, _rtl_pair)),
        examples=_examples,
    )
)
