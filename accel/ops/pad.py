"""pad: zero padding of rows and columns (Keras ZeroPadding2D).

RTL: no block of its own; the padding is folded into the window of the one layer that reads it (an op
whose RTL lowering ``absorbs_pad``), which then streams the unpadded tensor.
"""

from __future__ import annotations

import numpy as np

from accel import kernels
from accel.ir import OPS, Graph, GraphBuilder, OpDef, register_op
from accel.ops.common import PADS
from accel.ops.examples import conv_node, depthwise_node, random_type
from accel.ops.lowering import RtlLowering


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


def _rtl(wiring, node):
    g = wiring.graph
    readers = g.consumers(node.output)
    absorbing = sorted(name for name, op in OPS.items() if op.rtl is not None and op.rtl.absorbs_pad)
    ok = (len(readers) == 1 and node.output not in g.outputs and readers[0].inputs.count(node.output) == 1
          and OPS[readers[0].op].rtl is not None and (OPS[readers[0].op].rtl.absorbs_pad or readers[0].op == "pad"))
    if not ok:
        raise wiring.error(node, "the RTL backend has no pad block; a pad is supported only when exactly one "
                                 f"{', '.join(absorbing)} layer reads it (its padding is then folded in).")
    s = wiring.take(node.inputs[0], reader=node)
    pads = tuple(a + b for a, b in zip(wiring.pads_of(s), node.attrs["pads"], strict=True))
    wiring.publish(node, wiring.restream(s, pads=pads))


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
