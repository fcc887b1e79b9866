"""quantize: requantise to a narrower type with rounding, overflow and optional ReLU.

This is QKeras' ``QActivation(quantized_bits|quantized_relu)`` and a conv's fused
activation; the arithmetic is :func:`accel.fixed.quantize`, nothing else.
"""

from __future__ import annotations

import numpy as np

from accel import kernels
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import AttrSpec, Graph, GraphBuilder, OpDef, register_op
from accel.ops.examples import random_requant, random_type
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.requant import Requant

#: the attributes every op that ends in a requantisation shares
REQUANT_ATTRS = {
    "out_type": AttrSpec(FixedType),
    "rounding": AttrSpec(Rounding, required=False, default=Rounding.ROUND_HALF_EVEN),
    "overflow": AttrSpec(Overflow, required=False, default=Overflow.SATURATE),
    "relu": AttrSpec(bool, required=False, default=False, doc="clamp negatives to zero before rounding"),
}


def requant_args(node) -> dict:
    """The requantisation attributes as keyword arguments of :func:`accel.kernels.requantize`/``average``."""
    a = node.attrs
    return {"rounding": a["rounding"], "overflow": a["overflow"], "relu": a["relu"]}


def _reference(node, ins, out, xs):
    return kernels.requantize(xs[0], ins[0].dtype, out.dtype, **requant_args(node))


def _hls(ctx, node):
    a = node.attrs
    layer = {
        "class_name": "Activation", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "activation": "relu" if a["relu"] else "linear",
    }  # fmt: skip
    ctx.emit(layer, ctx.precision(a["out_type"], a["rounding"], a["overflow"]), node.name)


def _rtl_block(node, x, out, lanes, extra_pads):
    a = node.attrs
    return Requant(f"{node.name}_requant", x.dtype, out.dtype, a["rounding"], a["overflow"], a["relu"], x.shape, lanes)


def _examples(rng: np.random.Generator) -> list[Graph]:
    """The frontend's uses and the IR's other roundings.

    A symmetric input quantizer (the input keeps the type, a quantize node clips to [-max, max]); a
    ``quantized_relu`` dropping one or two fractional bits of a wide signed tensor (many ties to round, most
    values clipped); and two chained requantisations with the roundings and overflows the IR defines but the
    frontend never emits (``ap_fixed``'s own AP_TRN/AP_WRAP, then AP_RND).
    """
    b = GraphBuilder("quantize_symmetric_input")
    t = random_type(rng, signed=True, widths=(3, 12))
    x = b.input("x_in", (5, 7, 3), t)
    sym = b.build([b.add("x", "quantize", [x], {"out_type": t, "overflow": Overflow.SATURATE_SYMMETRIC})])
    b = GraphBuilder("quantize_relu_narrow")
    t = random_type(rng, signed=True, widths=(8, 12))
    x = b.input("x", (4, 4, 6), t)
    width = int(rng.integers(2, 7))  # one or two bits fewer below the point: many ties to round
    out = FixedType(False, width, width - t.frac + int(rng.integers(1, 3)))
    narrow = b.build([b.add("act", "quantize", [x], random_requant(rng) | {"out_type": out, "relu": True})])
    b = GraphBuilder("quantize_trn_wrap_rnd")
    x = b.input("x", (3, 5, 3), random_type(rng, signed=False))
    y = b.add("wrap", "quantize", [x], {"out_type": random_type(rng, signed=True), "rounding": Rounding.TRUNCATE,
                                        "overflow": Overflow.WRAP})  # fmt: skip
    y = b.add("rnd", "quantize", [y], {"out_type": random_type(rng), "rounding": Rounding.ROUND_HALF_UP})
    return [sym, narrow, b.build([y])]


register_op(
    OpDef(
        name="quantize",
        doc="Requantise: optional ReLU, round to out_type's grid, then handle overflow.",
        attrs=REQUANT_ATTRS,
        params=(),
        arity=1,
        infer=lambda node, inputs: (inputs[0].shape, node.attrs["out_type"]),
        reference=_reference,
        hls=_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _rtl_block)),
        examples=_examples,
    )
)
