"""THE packer/unpacker of accel's AXI-Stream contract (one definition for testbenches, driver and docs).

Stream contract
---------------
* A frame is one ``(H, W, C)`` tensor of raw fixed-point integers (see :mod:`accel.fixed`).
* Pixels go in row-major order; the channels of a pixel go in order, ``lanes`` (P) of them per beat,
  so one beat never mixes two pixels (P must divide C).  A frame is ``H*W*C/P`` beats.
* Element ``k`` of a beat sits in bits ``[k*W +: W]`` of TDATA (little-endian lanes), ``W`` = the
  type's width; signed types are two's complement in those ``W`` bits.
* TLAST is high on the last beat of every frame; frames stream back to back.

Worked example: type ``ap_fixed<4,2>`` (W=4, signed), lanes 2, one pixel with channels ``[-1, 3]``
-> raw ``-1`` is ``0xF``, raw ``3`` is ``0x3`` -> beat ``0x3F`` (element 0 in the low nibble).

For an AXI DMA every beat is padded with zero bits up to whole bytes: :func:`beat_bytes` bytes per
beat, little-endian (byte 0 holds bits 0..7 of the beat).  :func:`to_bytes` / :func:`from_bytes`
convert between beats and that byte image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accel import AccelError
from accel.fixed import FixedType


def _check_lanes(shape: tuple[int, ...], dtype: FixedType, lanes: int) -> int:
    """Validate the channel count against ``lanes``; return the channel count."""
    if lanes < 1:
        raise AccelError(f"stream lanes must be at least 1, got {lanes}.")
    channels = shape[-1]
    if channels % lanes:
        raise AccelError(
            f"stream of {dtype.hls} with {channels} channels cannot use {lanes} lanes; "
            "the lane count must divide the channel count."
        )
    return channels


def pack(raw: np.ndarray, dtype: FixedType, lanes: int) -> list[int]:
    """Raw integers ``(N, H, W, C)`` or ``(H, W, C)`` -> list of beats (Python ints, lane k at bits k*W).

    Values outside ``dtype``'s range raise AccelError: packing would silently wrap them.
    """
    x = np.asarray(raw, dtype=np.int64)
    if x.ndim not in (3, 4):
        raise AccelError(f"stream packing needs an (H, W, C) or (N, H, W, C) array, got shape {x.shape}.")
    _check_lanes(x.shape, dtype, lanes)
    if x.size and (x.min() < dtype.min_raw or x.max() > dtype.max_raw):
        raise AccelError(
            f"values in [{x.min()}, {x.max()}] do not fit {dtype.hls} (raw range [{dtype.min_raw}, {dtype.max_raw}]); "
            "only in-range raw values can be packed."
        )
    w = dtype.width
    mask = (1 << w) - 1
    lanes_arr = (x.reshape(-1, lanes) & mask).tolist()  # two's complement bits of each element
    beats = []
    for row in lanes_arr:
        v = 0
        for k, e in enumerate(row):
            v |= int(e) << (k * w)
        beats.append(v)
    return beats


def unpack(beats: Sequence[int], shape: tuple[int, ...], dtype: FixedType, lanes: int) -> np.ndarray:
    """Beats -> raw int64 array of ``shape`` ((N, H, W, C) or (H, W, C)); the inverse of :func:`pack`."""
    _check_lanes(tuple(shape), dtype, lanes)
    total = int(np.prod(shape))
    if len(beats) * lanes != total:
        raise AccelError(
            f"{len(beats)} beats of {lanes} lanes hold {len(beats) * lanes} elements, "
            f"but shape {tuple(shape)} needs {total}."
        )
    w = dtype.width
    mask = (1 << w) - 1
    out = np.empty((len(beats), lanes), dtype=np.int64)
    for i, b in enumerate(beats):
        b = int(b)
        for k in range(lanes):
            out[i, k] = (b >> (k * w)) & mask
    if dtype.signed:
        out = np.where(out >= (1 << (w - 1)), out - (1 << w), out)
    return out.reshape(shape)


def beat_bits(dtype: FixedType, lanes: int) -> int:
    """TDATA width of a stream: ``lanes * width`` bits (before byte padding)."""
    return lanes * dtype.width


def beat_bytes(dtype: FixedType, lanes: int) -> int:
    """Bytes per beat in the DMA byte image: the beat width rounded up to whole bytes."""
    return (beat_bits(dtype, lanes) + 7) // 8


def to_bytes(beats: Sequence[int], dtype: FixedType, lanes: int) -> bytes:
    """Beats -> DMA byte image: each beat in :func:`beat_bytes` bytes, little-endian, zero-padded."""
    nb = beat_bytes(dtype, lanes)
    limit = 1 << beat_bits(dtype, lanes)
    out = bytearray()
    for b in beats:
        if not 0 <= b < limit:
            bits = beat_bits(dtype, lanes)
            raise AccelError(f"beat {b:#x} does not fit {bits} bits; only packed beats are accepted.")
        out += int(b).to_bytes(nb, "little")
    return bytes(out)


def from_bytes(data: bytes, dtype: FixedType, lanes: int) -> list[int]:
    """DMA byte image -> beats; the inverse of :func:`to_bytes` (padding bits are dropped)."""
    nb = beat_bytes(dtype, lanes)
    if len(data) % nb:
        raise AccelError(f"{len(data)} bytes are not a whole number of {nb}-byte beats.")
    mask = (1 << beat_bits(dtype, lanes)) - 1
    return [int.from_bytes(data[i : i + nb], "little") & mask for i in range(0, len(data), nb)]
