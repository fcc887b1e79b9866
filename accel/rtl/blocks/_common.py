"""Checks shared by the part-2 block descriptions (pooling, joins, reshuffles), and the cost of ``accel_pool_core``,
which every pooling block contains."""

from __future__ import annotations

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks.cost import Cost, logic, ram, skid
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


def _vclog2(n: int) -> int:
    """Verilog's ``$clog2`` (0 for 1), as accel_pool_core sizes its counters."""
    return max(0, (int(n) - 1).bit_length())


def pool_core_cost(height: int, width: int, channels: int, lanes: int, window: tuple[int, int],
                   pads: tuple[int, int], out_hw: tuple[int, int], acc_w: int, *, summing: bool = False
                   ) -> Cost:  # fmt: skip
    """``accel_pool_core`` (the max or sum of non-overlapping windows): a row buffer of WO*C/P partial results
    (read combinationally and written at one address: single-port LUT-RAM), per lane a compare or add of
    ``acc_w`` bits and the output register, and nine position counters (about 1.6 LUT and one FF per bit).

    Per lane bit the maximum takes about 1.1 LUT (compare, then select); a sum only 0.2, as the select of a
    window's first pixel folds into the adder's LUTs (least squares over scripts/calibrate_cost.py's average
    and global-average configurations: 0.23; their LUT error mean 7.5 %, worst 14 %)."""
    ph, pw = window
    pt, pl = pads
    ho, wo = out_hw
    cb = channels // lanes
    depth = max(wo, 1) * cb
    bits = (_vclog2(2 * depth + 1) + _vclog2(cb + 1) + _vclog2(width + 1) + _vclog2(height + 1) + _vclog2(pw + 1)
            + _vclog2(ph + 1) + _vclog2((width - 1 + pl) // pw + 2) + _vclog2((height - 1 + pt) // ph + 2)
            + _vclog2(ho * wo * cb + 1))  # fmt: skip
    row = ram("row buffer", depth, lanes * acc_w, registered_read=False, single_port=True)
    per_bit = 0.2 if summing else 1.1
    return row + logic(lut=per_bit * lanes * acc_w + 1.6 * bits + 10, ff=lanes * acc_w + bits + 2) + skid(lanes * acc_w)
