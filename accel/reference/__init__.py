"""The bit-exact NumPy integer reference: QKeras restated on raw integers.

`kernels` holds one pure function per operation on raw ``int64`` arrays of shape
``(N, H, W, C)``; the RTL testbenches call these very functions as their oracle.
`executor` runs a whole :class:`accel.ir.Graph` with them.
"""

from accel.reference.executor import ExecutionResult, execute, run_node

__all__ = ["ExecutionResult", "execute", "run_node"]
