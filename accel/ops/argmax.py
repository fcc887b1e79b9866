"""argmax: the index of each pixel's largest channel, (H, W, C) -> (H, W, 1) (``--softmax argmax``).

Why an op: a final softmax has no exact fixed-point form, but it keeps the order of its inputs, so the class it
ranks first is the arg-max of the logits, which is exact.  Ties go to the lowest index, as ``np.argmax`` and
``tf.argmax`` break them.  The output is the index as an unsigned integer ``ap_ufixed<k,k>`` with
``k = max(1, ceil(log2 C))`` bits.  Backends: the reference's ``np.argmax``; hls4ml through accel's
``AccelArgMax`` layer (``hls_templates/nnet_accel_pool.h``); the RTL block ``accel_argmax``, which reads one
element per cycle.
"""

from __future__ import annotations

import numpy as np

from accel.fixed import FixedType
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import conv_node, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.argmax import ArgMax


def index_type(channels: int) -> FixedType:
    """The unsigned integer type of a channel index below ``channels``."""
    bits = max(1, (int(channels) - 1).bit_length())
    return FixedType(False, bits, bits)


def _infer(node, inputs):
    (x,) = inputs
    return (x.shape[0], x.shape[1], 1), index_type(x.shape[2])


def _reference(node, ins, out, xs):
    return np.argmax(xs[0], axis=-1)[..., None].astype(np.int64), 0


def _hls(ctx, node):
    x = ctx.graph.tensors[node.inputs[0]]
    y = ctx.graph.tensors[node.name]
    h, w, c = x.shape
    layer = {
        "class_name": "AccelArgMax", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "in_height": h, "in_width": w, "n_filt": c, "out_height": h, "out_width": w,
    }  # fmt: skip
    ctx.emit(layer, y.dtype.hls, node.name)


def _rtl_block(node, x, out, lanes, extra_pads):
    h, w, c = x.shape
    return ArgMax(f"{node.name}_argmax", h, w, c, lanes, x.dtype, out.dtype)


def _examples(rng: np.random.Generator) -> list[Graph]:
    """Ten logits of a 1x1 frame (a classifier head), a 3x2 frame of 6 narrow unsigned channels (ties are
    frequent), and the per-pixel arg-max of a pointwise conv over 4 lanes' worth of channels."""
    out = []
    for name, shape, t in (("argmax_logits", (1, 1, 10), random_type(rng, signed=True)),
                           ("argmax_ties", (3, 2, 6), FixedType(False, 2, 2))):  # fmt: skip
        b = GraphBuilder(name)
        x = b.input("x", shape, t)
        out.append(b.build([b.add("amax", "argmax", [x])]))
    b = GraphBuilder("argmax_conv")
    x = b.input("x", (2, 3, 3), random_type(rng))
    out.append(b.build([b.add("amax", "argmax", [conv_node(b, "pw", x, rng, 8)])]))
    return out


register_op(
    OpDef(
        name="argmax",
        doc="Index of each pixel's largest channel (ties: the lowest), to (H, W, 1) as an unsigned integer.",
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
