"""quantize: requantise to a narrower type with rounding, overflow and optional ReLU.

This is QKeras' ``QActivation(quantized_bits|quantized_relu)`` and a conv's fused
activation; the arithmetic is :func:`accel.fixed.quantize`, nothing else.
"""

from __future__ import annotations

from accel import kernels
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import AttrSpec, OpDef, register_op
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
    )
)
