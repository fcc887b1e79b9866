"""add: element-wise sum of two or more tensors (residual joins), exact in the widened union type."""

from __future__ import annotations

from accel import AccelError, kernels
from accel.fixed import FixedType
from accel.ir import OpDef, register_op
from accel.ops.lowering import RtlLowering
from accel.rtl.blocks.add import Add


def _infer(node, inputs):
    shapes = {x.shape for x in inputs}
    if len(shapes) != 1:
        raise AccelError(f"node {node.name}: add needs equal shapes, got {sorted(shapes)}.")
    frac = max(x.dtype.frac for x in inputs)
    lo = sum(x.dtype.min_raw << (frac - x.dtype.frac) for x in inputs)
    hi = sum(x.dtype.max_raw << (frac - x.dtype.frac) for x in inputs)
    signed = any(x.dtype.signed for x in inputs)
    return inputs[0].shape, FixedType.covering(lo, hi, frac, signed=signed)


def _reference(node, ins, out, xs):
    return kernels.add(xs, [out.dtype.frac - s.dtype.frac for s in ins]), 0


def _rtl_pair(name, a, b, lanes):
    """One two-input accel_add of the chain (N operands take N-1 of them, typed by this op's inference)."""
    h, w, c = a.shape
    return Add(name, h, w, c, lanes, a.dtype, b.dtype)


register_op(
    OpDef(
        name="add",
        doc="Element-wise sum, operands aligned to the finest grid; cannot overflow.",
        attrs={},
        params=(),
        arity=None,
        infer=_infer,
        macs=lambda node, inputs, out: 0,
        reference=_reference,
        hls=lambda ctx, node: ctx.chain(node, "Merge", "add", {}),
        rtl=RtlLowering(lambda wiring, node: wiring.join(node, _rtl_pair)),
    )
)
