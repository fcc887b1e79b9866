"""concat: channel concatenation (Inception, SqueezeNet); operands aligned exactly to their union type."""

from __future__ import annotations

from accel import AccelError
from accel.fixed import union
from accel.ir import OpDef, register_op


def _infer(node, inputs):
    spatial = {x.shape[:2] for x in inputs}
    if len(spatial) != 1:
        raise AccelError(f"node {node.name}: concat needs equal heights and widths, got {sorted(spatial)}.")
    h, w = inputs[0].shape[:2]
    return (h, w, sum(x.shape[2] for x in inputs)), union(*(x.dtype for x in inputs))


register_op(
    OpDef(
        name="concat",
        doc="Concatenate along channels in input order.",
        attrs={},
        params=(),
        arity=None,
        infer=_infer,
    )
)
