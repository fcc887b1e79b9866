"""channel_shuffle: ShuffleNet's permutation, channel ``g * (C/groups) + i`` moves to ``i * groups + g``."""

from __future__ import annotations

from accel import AccelError
from accel.ir import AttrSpec, OpDef, register_op


def _infer(node, inputs):
    (x,) = inputs
    g = node.attrs["groups"]
    if g < 1 or x.shape[2] % g:
        raise AccelError(f"node {node.name}: {x.shape[2]} channels do not split into {g} shuffle groups.")
    return x.shape, x.dtype


register_op(
    OpDef(
        name="channel_shuffle",
        doc="Transpose channels viewed as (groups, C/groups).",
        attrs={"groups": AttrSpec(int)},
        params=(),
        arity=1,
        infer=_infer,
    )
)
