"""upsample: nearest-neighbour upsampling by integer factors (Keras UpSampling2D, interpolation='nearest')."""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.common import PAIR
from accel.ops.examples import conv_node, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.upsample import Upsample


def _infer(node, inputs):
    (x,) = inputs
    fh, fw = node.attrs["factor"]
    if fh < 1 or fw < 1:
        raise AccelError(f"node {node.name}: upsampling factors {(fh, fw)} must be positive.")
    return (x.shape[0] * fh, x.shape[1] * fw, x.shape[2]), x.dtype


def _hls(ctx, node):
    x = ctx.graph.tensors[node.inputs[0]]
    y = ctx.graph.tensors[node.name]
    fh, fw = node.attrs["factor"]
    layer = {
        "class_name": "UpSampling2D", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "data_format": "channels_last", "in_height": x.shape[0], "in_width": x.shape[1], "n_chan": x.shape[2],
        "height_factor": fh, "width_factor": fw, "out_height": y.shape[0], "out_width": y.shape[1],
        "algorithm": "nearest", "align_corners": False,
    }  # fmt: skip
    ctx.emit(layer, y.dtype.hls, node.name)


def _rtl_block(node, x, out, lanes, extra_pads):
    h, w, c = x.shape
    return Upsample(f"{node.name}_upsample", h, w, c, lanes, x.dtype.width, tuple(node.attrs["factor"]))


def _examples(rng: np.random.Generator) -> list[Graph]:
    """2x2 on a 3x4x3 frame; (1, 3) of 5 unsigned channels; (3, 1) of a pointwise conv's output."""
    out = []
    for name, shape, signed, factor in (("upsample_2x2", (3, 4, 3), True, (2, 2)),
                                        ("upsample_1x3", (3, 2, 5), False, (1, 3))):  # fmt: skip
        b = GraphBuilder(name)
        x = b.input("x", shape, random_type(rng, signed=signed))
        out.append(b.build([b.add("up", "upsample", [x], {"factor": factor})]))
    b = GraphBuilder("upsample_3x1_conv")
    x = b.input("x", (2, 3, 2), random_type(rng))
    out.append(b.build([b.add("up", "upsample", [conv_node(b, "pw", x, rng, 4)], {"factor": (3, 1)})]))
    return out


register_op(
    OpDef(
        name="upsample",
        doc="Nearest upsampling.",
        attrs={"factor": PAIR},
        params=(),
        arity=1,
        infer=_infer,
        reference=lambda node, ins, out, xs: (kernels.upsample(xs[0], node.attrs["factor"]), 0),
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _rtl_block)),
        examples=_examples,
    )
)
