"""concat: channel concatenation (Inception, SqueezeNet); operands aligned exactly to their union type."""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.fixed import union
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import conv_node, quantize_node, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.concat import Concat


def _infer(node, inputs):
    spatial = {x.shape[:2] for x in inputs}
    if len(spatial) != 1:
        raise AccelError(f"node {node.name}: concat needs equal heights and widths, got {sorted(spatial)}.")
    h, w = inputs[0].shape[:2]
    return (h, w, sum(x.shape[2] for x in inputs)), union(*(x.dtype for x in inputs))


def _reference(node, ins, out, xs):
    return kernels.concat(xs, [out.dtype.frac - s.dtype.frac for s in ins]), 0


def _rtl_pair(name, a, b, lanes, out_type):
    """One two-input accel_concat of the chain (N operands take N-1 of them); the union of the union is the
    union of all, so its type is already ``out_type``."""
    h, w, _ = a.shape
    return Concat(name, h, w, a.shape[2], b.shape[2], lanes, a.dtype, b.dtype)


def _examples(rng: np.random.Generator) -> list[Graph]:
    """Two differently typed activations of one input; three operands of 2, 2 and 3 channels (the input, an
    activation of it and a pointwise conv's activation), as in an Inception block."""
    b = GraphBuilder("concat_two_activations")
    x = b.input("x", (5, 7, 3), random_type(rng))
    two = b.build([b.add("cat", "concat", [quantize_node(b, "q0", x, rng), quantize_node(b, "q1", x, rng)])])
    b = GraphBuilder("concat_three_2_2_3")
    x = b.input("x", (4, 5, 2), random_type(rng))
    branch = quantize_node(b, "act", conv_node(b, "pw", x, rng, 3), rng)
    return [two, b.build([b.add("cat", "concat", [x, quantize_node(b, "q", x, rng), branch])])]


register_op(
    OpDef(
        name="concat",
        doc="Concatenate along channels in input order.",
        attrs={},
        params=(),
        arity=None,
        infer=_infer,
        reference=_reference,
        hls=lambda ctx, node: ctx.chain(node, "Concatenate", "concatenate3d", {"axis": -1}),
        rtl=RtlLowering(lambda wiring, node: wiring.join(node, _rtl_pair)),
        examples=_examples,
    )
)
