"""maxpool, avgpool and global_avgpool.

Averages over N pixels are exact when N is a power of two (the type gains
log2 N fractional bits).  Otherwise the average is only exact together with the
rounding that follows it, so ``avgpool``/``global_avgpool`` carry the
requantisation attributes of ``quantize`` and round ``sum / N`` in one exact step.
"""

from __future__ import annotations

import numpy as np

from accel import AccelError, kernels
from accel.fixed import FixedType
from accel.ir import Graph, GraphBuilder, OpDef, register_op
from accel.ops.common import PADS, PAIR, exact_average_type, spatial_out
from accel.ops.examples import random_requant, random_type, same_window_pads
from accel.ops.lowering import RtlLowering, total_pads, window_absorbs
from accel.ops.quantize import REQUANT_ATTRS, requant_args
from accel.rtl.blocks.avgpool import AvgPool
from accel.rtl.blocks.avgpool_win import AvgPoolWindowed
from accel.rtl.blocks.gap import GlobalAvgPool
from accel.rtl.blocks.maxpool import MaxPool
from accel.rtl.blocks.maxpool_win import MaxPoolWindowed


def _max_infer(node, inputs):
    (x,) = inputs
    ho, wo = spatial_out(node.name, x.shape, node.attrs["pool"], node.attrs["stride"], node.attrs["pads"])
    return (ho, wo, x.shape[2]), x.dtype


def _avg_infer(node, inputs):
    (x,) = inputs
    ho, wo = spatial_out(node.name, x.shape, node.attrs["pool"], node.attrs["stride"], (0, 0, 0, 0))
    return (ho, wo, x.shape[2]), node.attrs["out_type"]


def _gap_infer(node, inputs):
    (x,) = inputs
    return (1, 1, x.shape[2]), node.attrs["out_type"]


def _avg_macs(node, inputs, out):
    ph, pw = node.attrs["pool"]
    return out.size * ph * pw


# -- reference ------------------------------------------------------------------------------------------
def _max_reference(node, ins, out, xs):
    return kernels.maxpool(xs[0], node.attrs["pool"], node.attrs["stride"], node.attrs["pads"]), 0


def _avg_reference(node, ins, out, xs):
    a = node.attrs
    return kernels.avgpool(xs[0], a["pool"], a["stride"], ins[0].dtype, out.dtype, **requant_args(node))


def _gap_reference(node, ins, out, xs):
    return kernels.global_avgpool(xs[0], ins[0].dtype, out.dtype, **requant_args(node))


# -- HLS ------------------------------------------------------------------------------------------------
def _max_hls(ctx, node):
    hls_max_pool(ctx, node, tuple(node.attrs["pool"]), tuple(node.attrs["stride"]), tuple(node.attrs["pads"]))


def hls_max_pool(ctx, node, pool: tuple[int, int], stride: tuple[int, int], pads: tuple[int, int, int, int]) -> None:
    """hls4ml's own max pooling where it is exact, else accel's ``AccelMaxPool``.

    hls4ml pads with zeros (which can win over negative values) and streams only pool == stride.
    """
    x = ctx.graph.tensors[node.inputs[0]]
    y = ctx.graph.tensors[node.name]
    ph, pw = pool
    sh, sw = stride
    h, w, c = x.shape
    layer = {
        "class_name": "MaxPooling2D", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "data_format": "channels_last", "in_height": h, "in_width": w, "n_filt": c,
        "pool_height": ph, "pool_width": pw, "stride_height": sh, "stride_width": sw,
        "out_height": y.shape[0], "out_width": y.shape[1],
        "pad_top": pads[0], "pad_bottom": pads[1], "pad_left": pads[2], "pad_right": pads[3],
    }  # fmt: skip
    native_ok = not any(pads) and (ctx.io_type == "io_parallel" or (ph, pw) == (sh, sw))
    if not native_ok and "maxpool" not in ctx.disable:
        layer["class_name"] = "AccelMaxPool"
    ctx.emit(layer, y.dtype.hls, node.name, accum=x.dtype.hls)


def _hls_average(ctx, node, pool: tuple[int, int], stride: tuple[int, int]) -> None:
    """accel's ``AccelAvgPool`` (one exact rounding of sum / N); hls4ml's own pooling when the workaround is off."""
    a = node.attrs
    x = ctx.graph.tensors[node.inputs[0]]
    y = ctx.graph.tensors[node.name]
    count_bits = (pool[0] * pool[1]).bit_length()
    shift = abs(y.dtype.frac - x.dtype.frac)
    if x.dtype.width + count_bits + shift + 2 > 63:
        raise AccelError(
            f"node {node.name}: averaging {x.dtype.hls} over {pool[0] * pool[1]} pixels into {y.dtype.hls} "
            "needs more than 63 bits in accel's exact average kernel; narrower types are supported."
        )
    layer = {
        "class_name": "AccelAvgPool", "name": ctx.ident(node.name), "inputs": [ctx.layer_name(node.inputs[0])],
        "in_height": x.shape[0], "in_width": x.shape[1], "n_filt": x.shape[2],
        "pool_height": pool[0], "pool_width": pool[1], "stride_height": stride[0], "stride_width": stride[1],
        "out_height": y.shape[0], "out_width": y.shape[1],
        "rounding": ctx.rounding_code(a["rounding"]), "relu": bool(a["relu"]),
    }  # fmt: skip
    result = ctx.precision(y.dtype, a["rounding"], a["overflow"])
    if "avgpool" not in ctx.disable:
        ctx.emit(layer, result, node.name)
        return
    # hls4ml's own average pooling, with the best types it can be given: an exact sum accumulator
    count = pool[0] * pool[1]
    acc = FixedType(x.dtype.signed, x.dtype.width + count.bit_length(), x.dtype.integer + count.bit_length())
    layer = dict(layer, data_format="channels_last", pad_top=0, pad_bottom=0, pad_left=0, pad_right=0)
    if node.op == "global_avgpool":
        layer.update(class_name="GlobalAveragePooling2D", keepdims=True)
    else:
        layer.update(class_name="AveragePooling2D")
    if a["relu"]:
        raise AccelError(f"node {node.name}: hls4ml's own average pooling has no ReLU.")
    ctx.emit(layer, result, node.name, accum=acc.hls)


def _avg_hls(ctx, node):
    _hls_average(ctx, node, tuple(node.attrs["pool"]), tuple(node.attrs["stride"]))


def _gap_hls(ctx, node):
    h, w, _ = ctx.graph.tensors[node.inputs[0]].shape
    _hls_average(ctx, node, (h, w), (h, w))


# -- RTL ------------------------------------------------------------------------------------------------
def _max_absorbs(node, x, extra_pads) -> bool:
    """A max pool takes a ZeroPadding2D in front within its window, and for a signed input only when it has no
    padding of its own: the pad's zeros may win the maximum and its own padding must not, one window cannot
    pad with both (the pad then streams through an accel_pad block)."""
    own = any(node.attrs["pads"])
    return window_absorbs("pool")(node, x, extra_pads) and not (x.dtype.signed and own and any(extra_pads))


def _max_block(node, x, out, lanes, extra_pads):
    """accel_maxpool when windows do not overlap (pool == stride), else accel_maxpool_win.

    Their own padding never wins, as the pool's ('same') padding in TensorFlow; the padding of a pad node
    folded in front is zeros, which may win over negative values: for signed types that is accel_maxpool_win
    with ``zero_pads`` (:func:`_max_absorbs` folds such a pad only into a pool without padding of its own).
    """
    pool, stride = tuple(node.attrs["pool"]), tuple(node.attrs["stride"])
    h, w, c = x.shape
    pads = total_pads(node, extra_pads)
    if x.dtype.signed and any(extra_pads):
        return MaxPoolWindowed(f"{node.name}_maxpool", h, w, c, lanes, x.dtype, pool, stride, pads, zero_pads=True)
    cls = MaxPool if pool == stride else MaxPoolWindowed
    return cls(f"{node.name}_maxpool", h, w, c, lanes, x.dtype, pool, stride, pads)


def _avg_block(node, x, out, lanes, extra_pads):
    a = node.attrs
    pool, stride = tuple(a["pool"]), tuple(a["stride"])
    cls = AvgPool if pool == stride else AvgPoolWindowed
    h, w, c = x.shape
    return cls(f"{node.name}_avgpool", h, w, c, lanes, x.dtype, out.dtype, pool, stride, a["rounding"],
               a["overflow"], a["relu"])  # fmt: skip


def _gap_block(node, x, out, lanes, extra_pads):
    a = node.attrs
    h, w, c = x.shape
    return GlobalAvgPool(f"{node.name}_gap", h, w, c, lanes, x.dtype, out.dtype, a["rounding"], a["overflow"],
                         a["relu"])  # fmt: skip


# -- examples -------------------------------------------------------------------------------------------
def _max_examples(rng: np.random.Generator) -> list[Graph]:
    """Keras 'same' 2x2/2 of signed values on an odd 5x7 frame (padding must never win); overlapping 3x3/2
    'same' of unsigned values (ResNet's stem pool); overlapping 3x3/1 'valid' of signed values."""
    out = []
    for name, shape, signed, pool, stride, padding in (
        ("maxpool_2x2_same_signed", (5, 7, 3), True, (2, 2), (2, 2), "same"),
        ("maxpool_3x3_s2_same_unsigned", (6, 6, 4), False, (3, 3), (2, 2), "same"),
        ("maxpool_3x3_s1_signed", (5, 6, 2), True, (3, 3), (1, 1), "valid"),
    ):
        b = GraphBuilder(name)
        x = b.input("x", shape, random_type(rng, signed=signed))
        pads = same_window_pads(shape, pool, stride) if padding == "same" else (0, 0, 0, 0)
        out.append(b.build([b.add("pool", "maxpool", [x], {"pool": pool, "stride": stride, "pads": pads})]))
    return out


def _average_attrs(rng: np.random.Generator, x: FixedType, count: int) -> dict:
    """The exact type of a power-of-two average; else the quantizing activation the frontend fuses into the pool."""
    exact = exact_average_type(x, count)
    return {"out_type": exact} if exact is not None else random_requant(rng)


def _avg_examples(rng: np.random.Generator) -> list[Graph]:
    """2x2/2 (exact, 4 values) on an odd 5x7 frame; 3x3/3 (9 values) and overlapping 3x2/(1,2) (6 values),
    each fused with the quantizing activation that must follow it."""
    out = []
    for name, shape, signed, pool, stride in (
        ("avgpool_2x2_exact", (5, 7, 3), True, (2, 2), (2, 2)),
        ("avgpool_3x3_fused", (6, 6, 2), False, (3, 3), (3, 3)),
        ("avgpool_3x2_s1x2_fused", (5, 5, 3), True, (3, 2), (1, 2)),
    ):
        b = GraphBuilder(name)
        t = random_type(rng, signed=signed)
        x = b.input("x", shape, t)
        attrs = {"pool": pool, "stride": stride} | _average_attrs(rng, t, pool[0] * pool[1])
        out.append(b.build([b.add("pool", "avgpool", [x], attrs)]))
    return out


def _gap_examples(rng: np.random.Generator) -> list[Graph]:
    """A 4x4 frame (16 values: exact) and a 5x3x6 frame (15 values: fused with the activation after it)."""
    out = []
    for name, shape, signed in (("gap_4x4_exact", (4, 4, 3), True), ("gap_5x3_fused", (5, 3, 6), False)):
        b = GraphBuilder(name)
        t = random_type(rng, signed=signed)
        x = b.input("x", shape, t)
        out.append(b.build([b.add("gap", "global_avgpool", [x], _average_attrs(rng, t, shape[0] * shape[1]))]))
    return out


register_op(
    OpDef(
        name="maxpool",
        doc="Max pooling; padded positions never win (TensorFlow 'same' semantics).",
        attrs={"pool": PAIR, "stride": PAIR, "pads": PADS},
        params=(),
        arity=1,
        infer=_max_infer,
        reference=_max_reference,
        hls=_max_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _max_block), absorbs_pad=_max_absorbs),
        examples=_max_examples,
    )
)
register_op(
    OpDef(
        name="avgpool",
        doc="Average pooling without padding; sum / (ph*pw) rounded exactly into out_type.",
        attrs={"pool": PAIR, "stride": PAIR, **REQUANT_ATTRS},
        params=(),
        arity=1,
        infer=_avg_infer,
        macs=_avg_macs,
        reference=_avg_reference,
        hls=_avg_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _avg_block)),
        examples=_avg_examples,
    )
)
register_op(
    OpDef(
        name="global_avgpool",
        doc="Global average pooling to (1, 1, C); sum / (H*W) rounded exactly into out_type.",
        attrs=dict(REQUANT_ATTRS),
        params=(),
        arity=1,
        infer=_gap_infer,
        macs=lambda node, inputs, out: inputs[0].size,
        reference=_gap_reference,
        hls=_gap_hls,
        rtl=RtlLowering(lambda wiring, node: wiring.follow(node, _gap_block)),
        examples=_gap_examples,
    )
)


def check_pool_window(name: str, pool: tuple[int, int], stride: tuple[int, int]) -> None:
    """Refuse degenerate pooling windows with a sentence (used by the frontend)."""
    if min(pool) < 1 or min(stride) < 1:
        raise AccelError(f"layer {name}: pool size {pool} and strides {stride} must be positive.")
