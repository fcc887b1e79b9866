"""maxpool, avgpool and global_avgpool.

Averages over N pixels are exact when N is a power of two (the type gains
log2 N fractional bits).  Otherwise the average is only exact together with the
rounding that follows it, so ``avgpool``/``global_avgpool`` carry the
requantisation attributes of ``quantize`` and round ``sum / N`` in one exact step.
"""

from __future__ import annotations

from accel import AccelError
from accel.ir import OpDef, register_op
from accel.ops.common import PADS, PAIR, spatial_out
from accel.ops.quantize import REQUANT_ATTRS


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


register_op(
    OpDef(
        name="maxpool",
        doc="Max pooling; padded positions never win (TensorFlow 'same' semantics).",
        attrs={"pool": PAIR, "stride": PAIR, "pads": PADS},
        params=(),
        arity=1,
        infer=_max_infer,
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
    )
)


def check_pool_window(name: str, pool: tuple[int, int], stride: tuple[int, int]) -> None:
    """Refuse degenerate pooling windows with a sentence (used by the frontend)."""
    if min(pool) < 1 or min(stride) < 1:
        raise AccelError(f"layer {name}: pool size {pool} and strides {stride} must be positive.")
