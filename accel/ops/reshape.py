"""reshape: reinterpret a tensor's row-major (H, W, C) order under a new shape (Flatten, Reshape).

Streams carry tensors in that order, so a reshape moves no data.
"""

from __future__ import annotations

import math

from accel import AccelError
from accel.ir import AttrSpec, OpDef, register_op


def _infer(node, inputs):
    (x,) = inputs
    shape = tuple(node.attrs["shape"])
    if len(shape) != 3 or math.prod(shape) != x.size:
        raise AccelError(f"node {node.name}: cannot reshape {x.shape} to {shape}.")
    return shape, x.dtype


register_op(
    OpDef(
        name="reshape",
        doc="Row-major reshape to (H, W, C).",
        attrs={"shape": AttrSpec(tuple)},
        params=(),
        arity=1,
        infer=_infer,
    )
)
