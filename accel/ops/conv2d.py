"""conv2d: standard and grouped 2-D convolution; 1x1 is the pointwise case and a dense layer is a
pointwise conv on a ``(1, 1, N)`` tensor.

Output type is the exact accumulator: ``x * w`` summed over the window plus the bias,
sized from the actual weights (see :func:`accel.ops.common.accumulator_type`).
"""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.ir import AttrSpec, Graph, GraphBuilder, Node, OpDef, register_op
from accel.ops.common import (
    PADS,
    PAIR,
    accumulator_type,
    block_diagonal,
    conv_shifts,
    hls_conv,
    rtl_conv_shifts,
    spatial_out,
)
from accel.ops.examples import conv_node, quantize_node, random_type
from accel.ops.lowering import Folding, LayerFold, RtlLowering, total_pads, unpadded_input, window_absorbs
from accel.rtl.blocks.mvu import Mvu
from accel.rtl.blocks.window import Window


def _infer(node, inputs):
    (x,) = inputs
    w = node.params["weight"]
    kh, kw = node.attrs["kernel"]
    groups = node.attrs["groups"]
    h, wd, cin = x.shape
    if w.ndim != 4 or w.shape[:2] != (kh, kw):
        raise AccelError(f"node {node.name}: weight shape {w.shape} does not match kernel {(kh, kw)}.")
    cout = w.shape[3]
    if cin % groups or cout % groups or w.shape[2] != cin // groups:
        raise AccelError(
            f"node {node.name}: {cin} input and {cout} output channels do not split into {groups} groups "
            f"with weight shape {w.shape}."
        )
    if node.params["bias"].shape != (cout,):
        raise AccelError(f"node {node.name}: bias shape {node.params['bias'].shape} is not ({cout},).")
    ho, wo = spatial_out(node.name, x.shape, node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"])
    acc = accumulator_type(
        w.reshape(kh * kw * (cin // groups), cout),
        node.param_types["weight"],
        x.dtype,
        node.params["bias"],
        node.param_types["bias"],
    )
    return (ho, wo, cout), acc


def _macs(node, inputs, out):
    kh, kw, cin_g, _ = node.params["weight"].shape
    return out.size * kh * kw * cin_g


def _reference(node, ins, out, xs):
    a = node.attrs
    ps, bs = conv_shifts(node, ins[0].dtype, out.dtype)
    y = kernels.conv2d(xs[0], node.params["weight"], node.params["bias"], stride=a["stride"], pads=a["pads"],
                       groups=a["groups"], product_shift=ps, bias_shift=bs, narrow=True)  # fmt: skip
    return y, 0


def _hls(ctx, node):
    w = node.params["weight"]
    if node.attrs["groups"] > 1:  # hls4ml has no grouped conv: block-diagonal weights, same arithmetic
        w = block_diagonal(w, node.attrs["groups"])
    hls_conv(ctx, node, w, node.param_types["weight"], depthwise=False)


def _blocks(graph: Graph, node: Node, fold: LayerFold, prefix: str) -> list:
    """[accel_window] + accel_mvu; a 1x1 stride-1 unpadded conv needs no window (SIMD = window lanes)."""
    x, extra = unpadded_input(graph, node)
    out = graph.tensors[node.output]
    h, w, cin = x.shape
    pads = total_pads(node, extra)
    kh, kw = node.attrs["kernel"]
    stride = tuple(node.attrs["stride"])
    ps, bs = rtl_conv_shifts(node, x.dtype, out.dtype)
    weight = node.params["weight"]
    if node.attrs["groups"] > 1:  # one block-diagonal MVU: the zero weights cost multipliers, not exactness
        weight = block_diagonal(weight, node.attrs["groups"])
    simd = fold.simd or 1
    blocks: list = []
    if (kh, kw) != (1, 1) or stride != (1, 1) or any(pads):
        blocks.append(Window(f"{prefix}window", (h, w, cin), (kh, kw), stride, pads, simd, x.dtype.width))
    blocks.append(Mvu(f"{prefix}mvu", weight.reshape(kh * kw * cin, weight.shape[3]), node.params["bias"], x.dtype,
                      node.param_types["weight"], out.dtype, ps, bs, out.shape[0] * out.shape[1], simd=simd,
                      pe=fold.pe, rom_style=fold.ram_style,
              mult_style=fold.mult_style))  # fmt: skip
    return blocks


def _examples(rng: np.random.Generator) -> list[Graph]:
    """A 3x3 'same' conv on an odd 5x7x3 frame with its fused activation; a grouped (2) 3x2 stride-2 'same' conv
    of unsigned input (asymmetric padding, a non-square kernel); a dense layer on (1, 1, 8)."""
    b = GraphBuilder("conv2d_3x3_same_act")
    x = b.input("x", (5, 7, 3), random_type(rng))
    same = b.build([quantize_node(b, "act", conv_node(b, "conv", x, rng, 4, (3, 3), padding="same"), rng)])
    b = GraphBuilder("conv2d_grouped_3x2_s2_same")
    x = b.input("x", (6, 5, 6), random_type(rng, signed=False))
    grouped = b.build([conv_node(b, "conv", x, rng, 4, (3, 2), (2, 2), "same", groups=2)])
    b = GraphBuilder("conv2d_dense")
    x = b.input("x", (1, 1, 8), random_type(rng))
    return [same, grouped, b.build([conv_node(b, "dense", x, rng, 5)])]


FOLDING = Folding(
    dims=lambda graph, node: (int(node.params["weight"].shape[3]), int(graph.tensors[node.inputs[0]].shape[2])),
    lanes=lambda node, fold: (fold.simd or 1, fold.pe),
    multipliers=lambda node, fold: fold.pe * (fold.simd or 1),
    blocks=_blocks,
    pe_dim_name="output channels",
)

register_op(
    OpDef(
        name="conv2d",
        doc="2-D convolution (grouped, strided, zero-padded); weight (kh, kw, cin/groups, cout), bias (cout,).",
        attrs={
            "kernel": PAIR,
            "stride": AttrSpec(tuple, required=False, default=(1, 1)),
            "pads": PADS,
            "groups": AttrSpec(int, required=False, default=1),
        },
        params=("weight", "bias"),
        arity=1,
        infer=_infer,
        macs=_macs,
        reference=_reference,
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.chain(node), folding=FOLDING, absorbs_pad=window_absorbs("kernel")),
        examples=_examples,
    )
)
