"""pad: zero padding of rows and columns (Keras ZeroPadding2D).

RTL: folded into the window of the one layer that reads it when that layer's ``absorbs_pad`` takes it (the
layer then streams the unpadded tensor); otherwise (several readers, a reader without a window, padding as wide
as the kernel, a signed max pool that also pads itself) an ``accel_pad`` block makes the padded stream.
"""

from __future__ import annotations

import numpy as np

from accel import kernels
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.common import PADS
from accel.ops.examples import conv_node, depthwise_node, random_type
from accel.ops.lowering import RtlLowering, reads_alone, total_pads, unpadded_input
from accel.rtl.blocks.pad import Pad


def _infer(node, inputs):
    (x,) = inputs
    pt, pb, pl, pr = node.attrs["pads"]
    return (x.shape[0] + pt + pb, x.shape[1] + pl + pr, x.shape[2]), x.dtype


def _hls(ctx, node):
    x = ctx.graph.tensors[node.inputs[0]]
    h, w, c = x.shape
    pt, pb, pl, pr = node.attrs["pads"]
    layer = {
        "class_name": "ZeroPadding2D", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "data_format": "channels_last", "in_height": h, "in_width": w, "n_chan": c,
        "out_height": h + pt + pb, "out_width": w + pl + pr,
        "pad_top": pt, "pad_bottom": pb, "pad_left": pl, "pad_right": pr,
    }  # fmt: skip
    ctx.emit(layer, x.dtype.hls, node.name)


def _folds(graph: Graph, node) -> bool:
    """Whether the pad (with the pads in front of it) folds into the window of its one reader."""
    readers = graph.consumers(node.output)
    if len(readers) != 1 or not reads_alone(graph, node, readers[0]):
        return False
    reader = readers[0]
    if reader.op == "pad":
        return True  # the pads add up; the last one decides
    return unpadded_input(graph, reader) != (graph.tensors[reader.inputs[0]], (0, 0, 0, 0))


def _rtl(wiring, node):
    """Folded into the reader's window where it can take the padding, else an ``accel_pad`` block."""
    if _folds(wiring.graph, node):
        s = wiring.take(node.inputs[0], reader=node)
        pads = tuple(a + b for a, b in zip(wiring.pads_of(s), node.attrs["pads"], strict=True))
        wiring.publish(node, wiring.restream(s, pads=pads))
    else:
        wiring.follow(node, _pad_block)


def _pad_block(node, x, out, lanes, extra_pads):
    """accel_pad with this node's padding plus that of pads folded into it from in front."""
    pads = total_pads(node, extra_pads)
    h, w, c = x.shape
    return Pad(f"{node.name}_pad", h, w, c, lanes, x.dtype.width, pads)


def _examples(rng: np.random.Generator) -> list[Graph]:
    """A pad feeds a window in every example (the RTL backend folds it into its reader): ZeroPadding2D(1) then a
    3x3 'valid' conv; a bottom/right pad of signed values then a 2x2/2 max pool (the padded zeros are values
    that can win, unlike the pool's own padding); an asymmetric pad then a 3x3 stride-2 'same' depthwise conv,
    whose own padding adds to it."""
    b = GraphBuilder("pad_conv")
    x = b.input("x", (5, 6, 3), random_type(rng, signed=True))
    conv = b.build([conv_node(b, "conv", b.add("pad", "pad", [x], {"pads": (1, 1, 1, 1)}), rng, 2, (3, 3))])
    b = GraphBuilder("pad_maxpool_signed")
    x = b.input("x", (5, 7, 2), random_type(rng, signed=True))
    y = b.add("pad", "pad", [x], {"pads": (0, 1, 0, 1)})
    pool = b.build([b.add("pool", "maxpool", [y], {"pool": (2, 2), "stride": (2, 2)})])
    b = GraphBuilder("pad_depthwise_s2_same")
    x = b.input("x", (6, 5, 4), random_type(rng, signed=False))
    y = b.add("pad", "pad", [x], {"pads": (1, 0, 0, 1)})
    return [conv, pool, b.build([depthwise_node(b, "dw", y, rng, (3, 3), (2, 2), "same")])]


register_op(
    OpDef(
        name="pad",
        doc="Zero padding.",
        attrs={"pads": PADS},
        params=(),
        arity=1,
        infer=_infer,
        reference=lambda node, ins, out, xs: (kernels.pad(xs[0], node.attrs["pads"]), 0),
        hls=_hls,
        rtl=RtlLowering(_rtl, absorbed=True),
        examples=_examples,
    )
)
