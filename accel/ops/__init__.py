"""The op catalogue: one module per op, each registering its schema and type inference once.

Importing this package registers every op in :data:`accel.ir.OPS`.
"""

from accel.ops import (  # noqa: F401  (imported for registration)
    add,
    argmax,
    channel_shuffle,
    concat,
    conv2d,
    depthwise_conv2d,
    global_maxpool,
    pad,
    pool,
    quantize,
    reshape,
    threshold,
    upsample,
    zero_insert,
)
from accel.ops.common import window_out_size

__all__ = ["window_out_size"]
