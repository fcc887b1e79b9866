"""quantize: requantise to a narrower type with rounding, overflow and optional ReLU.

This is QKeras' ``QActivation(quantized_bits|quantized_relu)`` and a conv's fused
activation; the arithmetic is :func:`accel.fixed.quantize`, nothing else.
"""

from __future__ import annotations

from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import AttrSpec, OpDef, register_op

#: the attributes every op that ends in a requantisation shares
REQUANT_ATTRS = {
    "out_type": AttrSpec(FixedType),
    "rounding": AttrSpec(Rounding, required=False, default=Rounding.ROUND_HALF_EVEN),
    "overflow": AttrSpec(Overflow, required=False, default=Overflow.SATURATE),
    "relu": AttrSpec(bool, required=False, default=False, doc="clamp negatives to zero before rounding"),
}

register_op(
    OpDef(
        name="quantize",
        doc="Requantise: optional ReLU, round to out_type's grid, then handle overflow.",
        attrs=REQUANT_ATTRS,
        params=(),
        arity=1,
        infer=lambda node, inputs: (inputs[0].shape, node.attrs["out_type"]),
    )
)
