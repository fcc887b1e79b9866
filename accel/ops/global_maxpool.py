"""global_maxpool: the maximum of every channel over the whole frame (Keras GlobalMaxPooling2D) -> (1, 1, C).

Exact in any type: a maximum is one of its inputs, so the output type is the input's.  Every backend
reuses its max pooling with one window the size of the frame: the reference's ``kernels.maxpool``,
hls4ml's MaxPooling2D (pool = stride, which it streams), and ``accel_maxpool`` (non-overlapping windows).
"""

from __future__ import annotations

import numpy as np

from accel import kernels
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import random_type
from accel.ops.lowering import RtlLowering
from accel.ops.pool import hls_max_pool
from accel.rtl.blocks.maxpool import MaxPool


def _infer(node, inputs):
    (x,) = inputs
    return (1, 1, x.shape[2]), x.dtype


def _reference(node, ins, out, xs):
    h, w, _ = ins[0].shape
    return kernels.maxpool(xs[0], (h, w), (h, w)), 0


def _hls(ctx, node):
    h, w, _ = ctx.graph.tensors[node.inputs[0]].shape
    hls_max_pool(ctx, node, (h, w), (h, w), (0, 0, 0, 0))


def _rtl_block(node, x, out, lanes, extra_pads):
    h, w, c = x.shape
    return MaxPool(f"{node.name}_maxpool", h, w, c, lanes, x.dtype, (h, w), (h, w))


def _examples(rng: np.random.Generator) -> list[Graph]:
    """An odd 5x7 frame of signed values (the maximum may be negative) and a 4x4 frame of unsigned ones."""
    out = []
    for name, shape, signed in (("global_max_5x7_signed", (5, 7, 3), True), ("global_max_4x4", (4, 4, 6), False)):
        b = GraphBuilder(name)
        x = b.input("x", shape, random_type(rng, signed=signed))
        out.append(b.build([b.add("gmax", "global_maxpool", [x])]))
    return out


register_op(
    OpDef(
        name="global_maxpool",
        doc="Maximum of each channel over the whole frame, to (1, 1, C); the input's type.",
        attrs={},
        params=(),
        arity=1,
        infer=_infer,
        reference=_reference,
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _rtl_block)),
        examples=_examples,
    )
)
