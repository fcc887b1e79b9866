"""zero_insert: ``strides - 1`` zeros between neighbouring rows and columns, the first step of a transposed
convolution.

Why an op of its own: Keras's ``Conv2DTranspose`` (and QKeras's ``QConv2DTranspose``) is lowered by the frontend
to ``zero_insert`` then an ordinary ``conv2d`` (zero padding, flipped kernel, channels swapped; see
:func:`accel.frontend.lowering.transpose_conv_geometry`), so the conv's exact accumulator, its HLS layer and its
RTL window + MVU are reused unchanged.  ``(H, W, C)`` -> ``((H-1)*sh+1, (W-1)*sw+1, C)``: no zeros after the
last row or column (the conv's padding supplies those).  HLS: ``AccelZeroInsert``
(``hls_templates/nnet_accel_zero_insert.h``; hls4ml has no such layer); RTL: ``accel_upsample`` with
``ZERO = 1``.
"""

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
    sh, sw = node.attrs["strides"]
    if sh < 1 or sw < 1:
        raise AccelError(f"node {node.name}: zero-insertion strides {(sh, sw)} must be positive.")
    return ((x.shape[0] - 1) * sh + 1, (x.shape[1] - 1) * sw + 1, x.shape[2]), x.dtype


def _hls(ctx, node):
    x = ctx.graph.tensors[node.inputs[0]]
    y = ctx.graph.tensors[node.name]
    sh, sw = node.attrs["strides"]
    layer = {
        "class_name": "AccelZeroInsert", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "in_height": x.shape[0], "in_width": x.shape[1], "n_chan": x.shape[2],
        "stride_height": sh, "stride_width": sw, "out_height": y.shape[0], "out_width": y.shape[1],
    }  # fmt: skip
    ctx.emit(layer, x.dtype.hls, node.name)


def _rtl_block(node, x, out, lanes, extra_pads):
    h, w, c = x.shape
    return Upsample(f"{node.name}_zero_insert", h, w, c, lanes, x.dtype.width, tuple(node.attrs["strides"]),
                    zero=True)  # fmt: skip


def _examples(rng: np.random.Generator) -> list[Graph]:
    """What transposed convs lower to (the conv's pads as the frontend derives them): kernel 3, stride 2, 'same';
    unsigned values, kernel (2, 3), stride (1, 3), 'valid'; a pointwise conv's output, kernel 3, stride (3, 2),
    'valid' (pads of kernel - 1 on every side)."""
    out = []
    b = GraphBuilder("zero_insert_2x2_conv3")
    x = b.input("x", (3, 4, 3), random_type(rng, signed=True))
    z = b.add("zi", "zero_insert", [x], {"strides": (2, 2)})
    out.append(b.build([conv_node(b, "conv", z, rng, 2, (3, 3), pads=(2, 1, 2, 1))]))
    b = GraphBuilder("zero_insert_1x3_conv2x3")
    x = b.input("x", (3, 2, 2), random_type(rng, signed=False))
    z = b.add("zi", "zero_insert", [x], {"strides": (1, 3)})
    out.append(b.build([conv_node(b, "conv", z, rng, 3, (2, 3), pads=(1, 1, 2, 2))]))
    b = GraphBuilder("zero_insert_3x2_pw")
    x = b.input("x", (2, 3, 2), random_type(rng))
    z = b.add("zi", "zero_insert", [conv_node(b, "pw", x, rng, 4)], {"strides": (3, 2)})
    out.append(b.build([conv_node(b, "conv", z, rng, 2, (3, 3), pads=(2, 2, 2, 2))]))
    return out


register_op(
    OpDef(
        name="zero_insert",
        doc="Zero insertion: strides - 1 zero rows/cols between neighbours (a transposed conv's first step).",
        attrs={"strides": PAIR},
        params=(),
        arity=1,
        infer=_infer,
        reference=lambda node, ins, out, xs: (kernels.zero_insert(xs[0], node.attrs["strides"]), 0),
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _rtl_block)),
        examples=_examples,
    )
)
