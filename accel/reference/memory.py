"""Keep the reference's freed tensors in the C heap instead of returning them to the system after every slice.

Why: glibc serves blocks of a few MB with ``mmap`` and gives them back with ``munmap`` (or trims the heap's top)
as soon as they are freed; the next slice's tensors then fault every page in again, zeroed by the kernel.  On
the zoo's larger models that was half the reference's time, spent in the kernel (``sys``), and more with two
threads.  Raising glibc's two thresholds (``mallopt``, once per process) keeps up to :data:`TRIM_BYTES` of freed
memory for reuse.  Elsewhere (musl, macOS) nothing is done: correctness never depends on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: blocks below this come from the heap, not from their own mapping (glibc's own dynamic limit, 32 MB)
MMAP_BYTES = 32 << 20
#: free memory at the heap's top kept for reuse rather than given back
TRIM_BYTES = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_result: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds, once per process; True where that was done (Linux with glibc)."""
    global _result
    if _result is None:
        _result = sys.platform.startswith("linux") and _set_thresholds()
    return _result


def _set_thresholds() -> bool:
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # no glibc
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
