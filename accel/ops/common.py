"""Small facts shared by several ops: window geometry, exact accumulator sizing, and the helpers the ops'
examples (``OpDef.examples``) build their random graphs with."""

from __future__ import annotations

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.ir import AttrSpec

PAIR = AttrSpec(tuple, doc="(rows, cols)")
PADS = AttrSpec(tuple, required=False, default=(0, 0, 0, 0), doc="(top, bottom, left, right) zero rows/cols")


def window_out_size(node_name: str, size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int) -> int:
    """Output length of a sliding window along one axis; refuses windows larger than the padded input."""
    if kernel < 1 or stride < 1 or pad_lo < 0 or pad_hi < 0:
        raise AccelError(f"node {node_name}: kernel, stride and padding must be positive (got {kernel}, {stride}).")
    padded = size + pad_lo + pad_hi
    if padded < kernel:
        raise AccelError(f"node {node_name}: window {kernel} is larger than the padded input {padded}.")
    return (padded - kernel) // stride + 1


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: (before, after), the extra row/col going after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def spatial_out(node_name: str, shape: tuple[int, int, int], kernel, stride, pads) -> tuple[int, int]:
    kh, kw = kernel
    sh, sw = stride
    pt, pb, pl, pr = pads
    return (
        window_out_size(node_name, shape[0], kh, sh, pt, pb),
        window_out_size(node_name, shape[1], kw, sw, pl, pr),
    )


def accumulator_type(
    weights_by_output: np.ndarray, wtype: FixedType, xtype: FixedType, bias: np.ndarray, btype: FixedType
) -> FixedType:
    """The narrowest type that holds every possible dot product plus bias, for the actual weights.

    ``weights_by_output`` is ``(taps, outputs)``: the raw weights feeding each output.
    The bound is the worst case over every input in ``xtype``'s range (padding
    zeros lie inside it), so an accumulator of this type cannot overflow.
    """
    frac = max(xtype.frac + wtype.frac, btype.frac)
    w = weights_by_output.astype(object)  # Python ints: bounds never overflow
    lo_x, hi_x = xtype.min_raw, xtype.max_raw
    prod_lo = np.minimum(w * lo_x, w * hi_x).sum(axis=0)
    prod_hi = np.maximum(w * lo_x, w * hi_x).sum(axis=0)
    shift_p = frac - (xtype.frac + wtype.frac)
    shift_b = frac - btype.frac
    b = bias.astype(object)
    lo = min(int(v) for v in (prod_lo * (1 << shift_p) + b * (1 << shift_b)))
    hi = max(int(v) for v in (prod_hi * (1 << shift_p) + b * (1 << shift_b)))
    return FixedType.covering(min(lo, 0), max(hi, 0), frac, signed=lo < 0)


def exact_average_type(in_type: FixedType, count: int) -> FixedType | None:
    """The exact type of an average over ``count`` values, or None when ``count`` is not a power of two."""
    if count & (count - 1):
        return None
    extra = count.bit_length() - 1
    return FixedType(in_type.signed, in_type.width + extra, in_type.integer)


def conv_shifts(node, x: FixedType, out: FixedType) -> tuple[int, int]:
    """(product shift, bias shift): how far ``x * w`` and the bias move to reach the accumulator's grid."""
    return out.frac - x.frac - node.param_types["weight"].frac, out.frac - node.param_types["bias"].frac


def rtl_conv_shifts(node, x: FixedType, out: FixedType) -> tuple[int, int]:
    """:func:`conv_shifts`, refused when negative: the RTL units produce the exact accumulator only."""
    ps, bs = conv_shifts(node, x, out)
    if ps < 0 or bs < 0:
        raise AccelError(f"node {node.name}: its output type {out.hls} is coarser than the exact accumulator; "
                         "the RTL MVU/DWU produce the exact accumulator type only.")
    return ps, bs


def hls_conv(ctx, node, weight: np.ndarray, wtype: FixedType, depthwise: bool) -> None:
    """Emit one hls4ml Conv2D / DepthwiseConv2D layer with ``weight`` (possibly rewritten) and the node's types."""
    g = ctx.graph
    x = g.tensors[node.inputs[0]]
    y = g.tensors[node.name]
    pads = tuple(node.attrs["pads"])
    h, w, c = x.shape
    kh, kw = node.attrs["kernel"]
    sh, sw = node.attrs["stride"]
    if ctx.io_type == "io_stream" and (kh, kw) != (1, 1) and (kh < sh or kw < sw):
        # hls4ml 1.3.0's streaming conv with a kernel smaller than its stride along an axis (e.g. 1x2, stride 2)
        # leaves the skipped rows in its stream (wrong values, "leftover data"): the kernel is extended to the
        # stride with zero taps and the input padded by as much at the end, which gives the same windows' sums
        # and the same output size (floor((n + pads - k) / s) + 1 is unchanged)
        eh, ew = max(kh, sh) - kh, max(kw, sw) - kw
        weight = np.pad(weight, ((0, eh), (0, ew), (0, 0), (0, 0)))
        kh, kw = kh + eh, kw + ew
        pads = (pads[0], pads[1] + eh, pads[2], pads[3] + ew)
    layer = {
        "class_name": "DepthwiseConv2D" if depthwise else "Conv2D", "name": ctx.ident(node.name),
        "inputs": [ctx.layer_name(node.inputs[0])],
        "data_format": "channels_last", "in_height": h, "in_width": w, "n_chan": c, "n_filt": y.shape[2],
        "filt_height": kh, "filt_width": kw, "stride_height": sh, "stride_width": sw,
        "out_height": y.shape[0], "out_width": y.shape[1],
        "pad_top": pads[0], "pad_bottom": pads[1], "pad_left": pads[2], "pad_right": pads[3],
        "bias_data": ctx.weights(node.params["bias"], node.param_types["bias"]),
    }  # fmt: skip
    wf = ctx.weights(weight, wtype)
    if depthwise:
        layer["depthwise_data"] = wf
        layer["depth_multiplier"] = int(weight.shape[3])
    else:
        layer["weight_data"] = wf
    ctx.emit(layer, y.dtype.hls, node.name, accum=y.dtype.hls, weight=wtype.hls, bias=node.param_types["bias"].hls)


def block_diagonal(w: np.ndarray, groups: int) -> np.ndarray:
    """Grouped conv weight (kh, kw, cin/g, cout) as an ordinary conv weight (kh, kw, cin, cout).

    The zero taps change neither the value nor the accumulator type; the HLS and RTL backends use this
    for grouped convolutions (and the HLS one for depthwise layers hls4ml cannot take).
    """
    kh, kw, cin_g, cout = w.shape
    cout_g = cout // groups
    full = np.zeros((kh, kw, cin_g * groups, cout), dtype=np.int64)
    for g in range(groups):
        cols = slice(g * cout_g, (g + 1) * cout_g)
        full[:, :, g * cin_g : (g + 1) * cin_g, cols] = w[:, :, :, cols]
    return full
