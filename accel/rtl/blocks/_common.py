"""Checks shared by the part-2 block descriptions (pooling, joins, reshuffles)."""

from __future__ import annotations

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.params import MAX_WIDTH, check_divides, check_positive


def check_frame(name: str, height: int, width: int, channels: int, lanes: int) -> None:
    """A frame ``(height, width, channels)`` streamed with ``lanes`` elements per beat."""
    check_positive(name, "height", height)
    check_positive(name, "width", width)
    check_positive(name, "channels", channels)
    check_divides(name, "lanes", lanes, "channels", channels)


def check_type(name: str, what: str, dtype: FixedType, max_width: int = MAX_WIDTH) -> None:
    """An element type the library can stream (width 1..max_width)."""
    if not isinstance(dtype, FixedType):
        raise AccelError(f"{name}: {what} is {dtype!r}; it must be an accel.fixed.FixedType.")
    if dtype.width > max_width:
        raise AccelError(f"{name}: {what} {dtype.hls} is {dtype.width} bits wide; supported are 1 to {max_width} bits.")


def check_pair(name: str, what: str, pair: tuple[int, int]) -> tuple[int, int]:
    """A (rows, cols) pair of positive integers."""
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise AccelError(f"{name}: {what} is {pair!r}; it must be a (rows, cols) pair.")
    check_positive(name, f"{what} rows", pair[0])
    check_positive(name, f"{what} cols", pair[1])
    return pair
