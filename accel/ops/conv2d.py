"""conv2d: standard and grouped 2-D convolution; 1x1 is the pointwise case and a dense layer is a
pointwise conv on a ``(1, 1, N)`` tensor.

Output type is the exact accumulator: ``x * w`` summed over the window plus the bias,
sized from the actual weights (see :func:`accel.ops.common.accumulator_type`).
"""

from __future__ import annotations

from accel import AccelError
from accel.ir import AttrSpec, OpDef, register_op
from accel.ops.common import PADS, PAIR, accumulator_type, spatial_out


def _infer(node, inputs):
    (x,) = inputs
    w = node.params["weight"]
    kh, kw = node.attrs["kernel"]
    groups = node.attrs["groups"]
    h, wd, cin = x.shape
    if w.ndim != 4 or w.shape[:2] != (kh, kw):
        raise AccelError(f"node {node.name}: weight shape {w.shape} does not match kernel {(kh, kw)}.")
    cout = w.shape[3]
    if cin % groups or cout % groups or w.shape[2] != cin // groups:
        raise AccelError(
            f"node {node.name}: {cin} input and {cout} output channels do not split into {groups} groups "
            f"with weight shape {w.shape}."
        )
    if node.params["bias"].shape != (cout,):
        raise AccelError(f"node {node.name}: bias shape {node.params['bias'].shape} is not ({cout},).")
    ho, wo = spatial_out(node.name, x.shape, node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"])
    acc = accumulator_type(
        w.reshape(kh * kw * (cin // groups), cout),
        node.param_types["weight"],
        x.dtype,
        node.params["bias"],
        node.param_types["bias"],
    )
    return (ho, wo, cout), acc


def _macs(node, inputs, out):
    kh, kw, cin_g, _ = node.params["weight"].shape
    return out.size * kh * kw * cin_g


register_op(
    OpDef(
        name="conv2d",
        doc="2-D convolution (grouped, strided, zero-padded); weight (kh, kw, cin/groups, cout), bias (cout,).",
        attrs={
            "kernel": PAIR,
            "stride": AttrSpec(tuple, required=False, default=(1, 1)),
            "pads": PADS,
            "groups": AttrSpec(int, required=False, default=1),
        },
        params=("weight", "bias"),
        arity=1,
        infer=_infer,
        macs=_macs,
    )
)
