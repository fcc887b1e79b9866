"""depthwise_conv2d: per-channel KxK convolution with a depth multiplier.

Weight ``(kh, kw, cin, mult)``; output channel ``c * mult + m`` (Keras' order).
Output type is the exact accumulator, as for conv2d.
"""

from __future__ import annotations

from accel import AccelError
from accel.ir import AttrSpec, OpDef, register_op
from accel.ops.common import PADS, PAIR, accumulator_type, spatial_out


def _infer(node, inputs):
    (x,) = inputs
    w = node.params["weight"]
    kh, kw = node.attrs["kernel"]
    cin = x.shape[2]
    if w.ndim != 4 or w.shape[:3] != (kh, kw, cin):
        raise AccelError(f"node {node.name}: weight shape {w.shape} is not ({kh}, {kw}, {cin}, multiplier).")
    cout = cin * w.shape[3]
    if node.params["bias"].shape != (cout,):
        raise AccelError(f"node {node.name}: bias shape {node.params['bias'].shape} is not ({cout},).")
    ho, wo = spatial_out(node.name, x.shape, node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"])
    acc = accumulator_type(
        w.reshape(kh * kw, cout), node.param_types["weight"], x.dtype, node.params["bias"], node.param_types["bias"]
    )
    return (ho, wo, cout), acc


def _macs(node, inputs, out):
    kh, kw = node.attrs["kernel"]
    return out.size * kh * kw


register_op(
    OpDef(
        name="depthwise_conv2d",
        doc="Depthwise 2-D convolution; weight (kh, kw, cin, multiplier), bias (cin*multiplier,).",
        attrs={"kernel": PAIR, "stride": AttrSpec(tuple, required=False, default=(1, 1)), "pads": PADS},
        params=("weight", "bias"),
        arity=1,
        infer=_infer,
        macs=_macs,
    )
)
