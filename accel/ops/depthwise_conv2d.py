"""depthwise_conv2d: per-channel KxK convolution with a depth multiplier.

Weight ``(kh, kw, cin, mult)``; output channel ``c * mult + m`` (Keras' order).
Output type is the exact accumulator, as for conv2d.
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
from accel.ops.examples import depthwise_node, quantize_node, random_type
from accel.ops.lowering import Folding, LayerFold, RtlLowering, total_pads, unpadded_input, window_absorbs
from accel.rtl.blocks.dwu import Dwu
from accel.rtl.blocks.window import Window


def _infer(node, inputs):
    (x,) = inputs
    w = node.params["weight"]
    kh, kw = node.attrs["kernel"]
    cin = x.shape[2]
    if w.ndim != 4 or w.shape[:3] != (kh, kw, cin):
        raise AccelError(f"node {node.name}: weight shape {w.shape} is not ({kh}, {kw}, {cin}, multiplier).")
    cout = cin * w.shape[3]
    if node.params["bias"].shape != (cout,):
        raise AccelError(f"node {node.name}: bias shape {node.params['bias'].shape} is not ({cout},).")
    ho, wo = spatial_out(node.name, x.shape, node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"])
    acc = accumulator_type(
        w.reshape(kh * kw, cout), node.param_types["weight"], x.dtype, node.params["bias"], node.param_types["bias"]
    )
    return (ho, wo, cout), acc


def _macs(node, inputs, out):
    kh, kw = node.attrs["kernel"]
    return out.size * kh * kw


def _reference(node, ins, out, xs):
    a = node.attrs
    ps, bs = conv_shifts(node, ins[0].dtype, out.dtype)
    y = kernels.depthwise_conv2d(xs[0], node.params["weight"], node.params["bias"], stride=a["stride"],
                                 pads=a["pads"], product_shift=ps, bias_shift=bs, narrow=True)  # fmt: skip
    return y, 0


def _hls(ctx, node):
    """hls4ml's depthwise layer where it is exact; else the same arithmetic as a grouped (groups = C) conv.

    hls4ml 1.3.0 supports neither ``depth_multiplier > 1`` nor depthwise under io_parallel + Resource, and its
    streaming depthwise layer with a 1x1 kernel and a stride above 1 leaves the skipped pixels in its output stream
    (the C simulation warns of leftover data and the values are wrong), so those take the conv path too.
    """
    w = node.params["weight"]
    kh, kw, c, m = w.shape
    strided_1x1 = (kh, kw) == (1, 1) and tuple(node.attrs["stride"]) != (1, 1)
    native_ok = m == 1 and not (ctx.io_type == "io_parallel" and ctx.strategy == "Resource") and not strided_1x1
    if native_ok or "depthwise" in ctx.disable:
        hls_conv(ctx, node, w, node.param_types["weight"], depthwise=True)
        return
    full = block_diagonal(np.asarray(w).reshape(kh, kw, 1, c * m), c)
    hls_conv(ctx, node, full, node.param_types["weight"], depthwise=False)


def _blocks(graph: Graph, node: Node, fold: LayerFold, prefix: str) -> list:
    """accel_window (lanes = PE) + accel_dwu."""
    x, extra = unpadded_input(graph, node)
    out = graph.tensors[node.output]
    ps, bs = rtl_conv_shifts(node, x.dtype, out.dtype)
    window = Window(f"{prefix}window", x.shape, tuple(node.attrs["kernel"]), tuple(node.attrs["stride"]),
                    total_pads(node, extra), fold.pe, x.dtype.width)  # fmt: skip
    dwu = Dwu(f"{prefix}dwu", node.params["weight"], node.params["bias"], x.dtype, node.param_types["weight"],
              out.dtype, ps, bs, out.shape[0] * out.shape[1], pe=fold.pe, rom_style=fold.ram_style,
              mult_style=fold.mult_style)  # fmt: skip
    return [window, dwu]


def _examples(rng: np.random.Generator) -> list[Graph]:
    """Depth multiplier 2, 3x3 'same', on an odd 5x7x3 frame with its fused activation; a 3x3 stride-2 'same'
    depthwise conv (padding on the bottom/right only) of unsigned input; a 1x1 stride-2 'same' one on an odd frame
    (hls4ml's own streaming layer gets it wrong, so the HLS backend lowers it as a grouped conv)."""
    b = GraphBuilder("depthwise_mult2_same_act")
    x = b.input("x", (5, 7, 3), random_type(rng))
    y = depthwise_node(b, "dw", x, rng, (3, 3), padding="same", multiplier=2)
    mult2 = b.build([quantize_node(b, "act", y, rng)])
    b = GraphBuilder("depthwise_s2_same")
    x = b.input("x", (6, 6, 4), random_type(rng, signed=False))
    s2 = b.build([depthwise_node(b, "dw", x, rng, (3, 3), (2, 2), "same")])
    b = GraphBuilder("depthwise_1x1_s2")
    x = b.input("x", (5, 7, 3), random_type(rng))
    return [mult2, s2, b.build([depthwise_node(b, "dw", x, rng, (1, 1), (2, 2), "same")])]


FOLDING = Folding(
    dims=lambda graph, node: (int(graph.tensors[node.inputs[0]].shape[2]), None),
    lanes=lambda node, fold: (fold.pe, fold.pe * int(node.params["weight"].shape[3])),
    multipliers=lambda node, fold: fold.pe * int(node.params["weight"].shape[3]),
    blocks=_blocks,
)

register_op(
    OpDef(
        name="depthwise_conv2d",
        doc="Depthwise 2-D convolution; weight (kh, kw, cin, multiplier), bias (cin*multiplier,).",
        attrs={"kernel": PAIR, "stride": AttrSpec(tuple, required=False, default=(1, 1)), "pads": PADS},
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
