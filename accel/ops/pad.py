"""pad: zero padding of rows and columns (Keras ZeroPadding2D)."""

from __future__ import annotations

from accel.ir import OpDef, register_op
from accel.ops.common import PADS


def _infer(node, inputs):
    (x,) = inputs
    pt, pb, pl, pr = node.attrs["pads"]
    return (x.shape[0] + pt + pb, x.shape[1] + pl + pr, x.shape[2]), x.dtype


register_op(OpDef(name="pad", doc="Zero padding.", attrs={"pads": PADS}, params=(), arity=1, infer=_infer))
