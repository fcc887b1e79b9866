"""The bit-exact NumPy integer reference: QKeras restated on raw integers.

Each op's reference lowering (registered with the op in :mod:`accel.ops`) calls the
pure integer functions of :mod:`accel.kernels`, which the RTL testbenches also use as
their oracle; `executor` runs a whole :class:`accel.ir.Graph` through them.
"""

from accel.reference.executor import ExecutionResult, execute, run_node

__all__ = ["ExecutionResult", "execute", "run_node"]
