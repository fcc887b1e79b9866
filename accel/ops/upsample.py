"""upsample: nearest-neighbour upsampling by integer factors (Keras UpSampling2D, interpolation='nearest')."""

from __future__ import annotations

from accel import AccelError
from accel.ir import OpDef, register_op
from accel.ops.common import PAIR


def _infer(node, inputs):
    (x,) = inputs
    fh, fw = node.attrs["factor"]
    if fh < 1 or fw < 1:
        raise AccelError(f"node {node.name}: upsampling factors {(fh, fw)} must be positive.")
    return (x.shape[0] * fh, x.shape[1] * fw, x.shape[2]), x.dtype


register_op(OpDef(name="upsample", doc="Nearest upsampling.", attrs={"factor": PAIR}, params=(), arity=1, infer=_infer))
