"""channel_shuffle: ShuffleNet's permutation, channel ``g * (C/groups) + i`` moves to ``i * groups + g``."""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.ir import AttrSpec, Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import conv_node, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.shuffle import ChannelShuffle


def _infer(node, inputs):
    (x,) = inputs
    g = node.attrs["groups"]
    if g < 1 or x.shape[2] % g:
        raise AccelError(f"node {node.name}: {x.shape[2]} channels do not split into {g} shuffle groups.")
    return x.shape, x.dtype


def _hls(ctx, node):
    """hls4ml has no shuffle: a 1x1 convolution with a 0/1 permutation matrix (exact, nothing is summed)."""
    x = ctx.graph.tensors[node.inputs[0]]
    c = x.shape[2]
    g = node.attrs["groups"]
    perm = np.arange(c).reshape(g, c // g).T.ravel()  # output channel j reads input channel perm[j]
    w = np.zeros((1, 1, c, c), dtype=np.int64)
    w[0, 0, perm, np.arange(c)] = 1
    layer = {
        "class_name": "Conv2D", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "data_format": "channels_last", "in_height": x.shape[0], "in_width": x.shape[1], "n_chan": c,
        "n_filt": c, "filt_height": 1, "filt_width": 1, "stride_height": 1, "stride_width": 1,
        "out_height": x.shape[0], "out_width": x.shape[1],
        "pad_top": 0, "pad_bottom": 0, "pad_left": 0, "pad_right": 0,
        "weight_data": w.astype(np.float64), "bias_data": np.zeros(c),
    }  # fmt: skip
    t = x.dtype.hls
    ctx.emit(layer, t, node.name, accum=t, weight="ap_ufixed<1,1>", bias="ap_ufixed<1,1>")


def _rtl_block(node, x, out, lanes, extra_pads):
    h, w, c = x.shape
    return ChannelShuffle(f"{node.name}_shuffle", h, w, c, lanes, x.dtype.width, node.attrs["groups"])


def _examples(rng: np.random.Generator) -> list[Graph]:
    """2 groups of 3 channels of the input; 4 groups of 2 channels of a grouped pointwise conv (ShuffleNet's
    pattern: the grouped conv's output is shuffled)."""
    b = GraphBuilder("shuffle_g2")
    x = b.input("x", (3, 3, 6), random_type(rng))
    two = b.build([b.add("shuffle", "channel_shuffle", [x], {"groups": 2})])
    b = GraphBuilder("shuffle_g4_after_grouped_conv")
    x = b.input("x", (3, 2, 4), random_type(rng))
    y = conv_node(b, "gconv", x, rng, 8, groups=2)
    return [two, b.build([b.add("shuffle", "channel_shuffle", [y], {"groups": 4})])]


register_op(
    OpDef(
        name="channel_shuffle",
        doc="Transpose channels viewed as (groups, C/groups).",
        attrs={"groups": AttrSpec(int)},
        params=(),
        arity=1,
        infer=_infer,
        reference=lambda node, ins, out, xs: (kernels.channel_shuffle(xs[0], node.attrs["groups"]), 0),
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _rtl_block)),
        examples=_examples,
    )
)
