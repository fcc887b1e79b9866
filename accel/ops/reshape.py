"""reshape: reinterpret a tensor's row-major (H, W, C) order under a new shape (Flatten, Reshape).

Streams carry tensors in that order, so a reshape moves no data.
"""

from __future__ import annotations

import math

import numpy as np

from accel import AccelError, kernels
from accel.ir import AttrSpec, Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import conv_node, random_type
from accel.ops.lowering import RtlLowering


def _infer(node, inputs):
    (x,) = inputs
    shape = tuple(node.attrs["shape"])
    if len(shape) != 3 or math.prod(shape) != x.size:
        raise AccelError(f"node {node.name}: cannot reshape {x.shape} to {shape}.")
    return shape, x.dtype


def _hls(ctx, node):
    y = ctx.graph.tensors[node.name]
    layer = {
        "class_name": "Reshape", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "target_shape": list(y.shape),
    }  # fmt: skip
    ctx.emit(layer, y.dtype.hls, node.name)


def _rtl(wiring, node):
    """Wiring only: the stream order is row-major (H, W, C) in every shape; a width converter first when the
    lanes do not divide the new channel count."""
    src = wiring.take(node.inputs[0], reader=node)
    c_new = wiring.graph.tensors[node.output].shape[2]
    s = wiring.edge(node, 0, math.gcd(wiring.lanes_of(src), c_new), stream=src)
    wiring.publish(node, wiring.restream(s, shape=wiring.graph.tensors[node.output].shape))


def _examples(rng: np.random.Generator) -> list[Graph]:
    """Flatten then a dense layer (the classifier head); a 3-D Reshape of a pointwise conv's 6 channels into 3
    (the stream is re-cut, not moved)."""
    b = GraphBuilder("reshape_flatten_dense")
    x = b.input("x", (2, 3, 4), random_type(rng))
    flat = b.build([conv_node(b, "dense", b.add("flatten", "reshape", [x], {"shape": (1, 1, 24)}), rng, 3)])
    b = GraphBuilder("reshape_conv_6_to_3")
    x = b.input("x", (4, 4, 2), random_type(rng))
    y = conv_node(b, "pw", x, rng, 6)
    return [flat, b.build([b.add("reshape", "reshape", [y], {"shape": (4, 8, 3)})])]


register_op(
    OpDef(
        name="reshape",
        doc="Row-major reshape to (H, W, C).",
        attrs={"shape": AttrSpec(tuple)},
        params=(),
        arity=1,
        infer=_infer,
        reference=lambda node, ins, out, xs: (kernels.reshape(xs[0], out.shape), 0),
        hls=_hls,
        rtl=RtlLowering(_rtl),
        examples=_examples,
    )
)
