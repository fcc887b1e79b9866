"""Shared validation helpers for RTL block parameters.

Every check raises :class:`accel.AccelError` with one sentence naming the block instance, what is
wrong and what is supported, so the network generator can pass the message straight to the user.
"""

from __future__ import annotations

from accel import AccelError

#: Element widths the RTL library supports (per lane).
MIN_WIDTH, MAX_WIDTH = 1, 32


def check_positive(block: str, what: str, value: int) -> None:
    """``value`` must be an int >= 1 (sizes, depths, lane counts)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise AccelError(f"{block}: {what} is {value!r}; it must be a positive integer.")


def check_nonnegative(block: str, what: str, value: int) -> None:
    """``value`` must be an int >= 0 (paddings, shifts)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise AccelError(f"{block}: {what} is {value!r}; it must be a non-negative integer.")


def check_width(block: str, what: str, width: int, signed: bool = False, max_width: int = MAX_WIDTH) -> None:
    """Element widths must lie in ``1..max_width`` (signed ones need 2 bits)."""
    lo = 2 if signed else MIN_WIDTH
    if not isinstance(width, int) or isinstance(width, bool) or not lo <= width <= max_width:
        raise AccelError(
            f"{block}: {what} is {width!r} bits; supported {'signed ' if signed else ''}widths are {lo} to {max_width}."
        )


def check_divides(block: str, lanes_what: str, lanes: int, total_what: str, total: int) -> None:
    """A parallelism (PE, SIMD, lanes) must divide the size it folds."""
    check_positive(block, lanes_what, lanes)
    if total % lanes:
        raise AccelError(
            f"{block}: {lanes_what}={lanes} does not divide {total_what}={total}; "
            f"supported values are the divisors of {total}."
        )


def check_choice(block: str, what: str, value: int, choices: dict[int, str]) -> None:
    """An enumerated parameter must be one of ``choices`` (value -> meaning)."""
    if value not in choices:
        listed = ", ".join(f"{k} ({v})" for k, v in choices.items())
        raise AccelError(f"{block}: {what} is {value!r}; supported values are {listed}.")


def clog2(n: int) -> int:
    """Bits to index ``n`` items (at least 1), as Verilog's ``$clog2`` but never 0."""
    return max(1, (n - 1).bit_length())


def mem_hex(words: list[int], width: int) -> str:
    """Text of a ``$readmemh`` file: one hex word per line, each ``width`` bits (two's complement)."""
    digits = max(1, (width + 3) // 4)
    mask = (1 << width) - 1
    return "".join(f"{w & mask:0{digits}x}\n" for w in words)


def pack_lanes(values: list[int], width: int) -> int:
    """Pack ``values`` into one word, element k at bits ``[k*width +: width]`` (two's complement)."""
    mask = (1 << width) - 1
    word = 0
    for k, v in enumerate(values):
        word |= (int(v) & mask) << (k * width)
    return word
