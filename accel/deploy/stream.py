"""THE packer/unpacker of accel's AXI-Stream contract (one definition for testbenches, driver and docs).

Stream contract
---------------
* A frame is one ``(H, W, C)`` tensor of raw fixed-point integers (see :mod:`accel.fixed`).
* Pixels go in row-major order; the channels of a pixel go in order, ``lanes`` (P) of them per beat,
  so one beat never mixes two pixels (P must divide C).  A frame is ``H*W*C/P`` beats.
* Element ``k`` of a beat sits in bits ``[k*W +: W]`` of TDATA (little-endian lanes), ``W`` = the
  type's width; signed types are two's complement in those ``W`` bits.
* Frames stream back to back.  TLAST is passed through per frame: the last beat of output frame k carries
  TLAST exactly when the last beat of input frame k did (TLAST on other input beats is ignored).  A source
  that marks every frame gets every output frame marked; a DMA that sends a batch in one transfer (TLAST on
  its last beat only) gets the batch back as one S2MM packet.  :func:`tlast_flags` spells the rule.

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


def tlast_flags(frame_last: Sequence[bool] | np.ndarray, beats_per_frame: int) -> np.ndarray:
    """TLAST of every beat, shape (frames, beats_per_frame) uint8: only a frame's last beat, where ``frame_last``
    says so.  The input pattern a source drives and, by the pass-through rule, the output the hardware returns."""
    flags = np.zeros((len(frame_last), beats_per_frame), dtype=np.uint8)
    flags[:, -1] = np.asarray(frame_last, dtype=bool)
    return flags


def testbench_frame_last(frames: int) -> np.ndarray:
    """Which input frames the testbenches end with TLAST: the odd ones and the last one.  Both kinds of frame
    occur, so a wrapper that marked every frame, or none, or the wrong one, fails; the run ends on TLAST as a DMA
    transfer does."""
    last = np.arange(frames) % 2 == 1
    if frames:
        last[-1] = True
    return last


def frames_to_bytes(raw: np.ndarray, dtype: FixedType, lanes: int) -> bytes:
    """Raw frames -> DMA byte image: ``to_bytes(pack(raw, ...), ...)`` computed with NumPy where a beat fits 64 bits.

    Why: the driver packs every batch on the board's CPU, between batches; the per-beat Python loop of
    :func:`pack` costs tens of microseconds a frame.  The result is the same bytes (tests compare the two on random
    types and lane counts); beats wider than 64 bits take the general path.
    """
    x = np.asarray(raw, dtype=np.int64)
    w, nb = dtype.width, beat_bytes(dtype, lanes)
    if lanes * w > 64 or x.ndim not in (3, 4):
        return to_bytes(pack(x, dtype, lanes), dtype, lanes)
    _check_lanes(x.shape, dtype, lanes)
    if x.size and (x.min() < dtype.min_raw or x.max() > dtype.max_raw):
        pack(x, dtype, lanes)  # raises the range error
    bits = (x.reshape(-1, lanes) & ((1 << w) - 1)).astype(np.uint64)
    beats = np.zeros(bits.shape[0], dtype=np.uint64)
    for k in range(lanes):
        beats |= bits[:, k] << np.uint64(k * w)
    return beats.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :nb].tobytes()


def frames_from_bytes(data: bytes, shape: tuple[int, ...], dtype: FixedType, lanes: int) -> np.ndarray:
    """DMA byte image -> raw int64 array of ``shape``: ``unpack(from_bytes(data, ...), shape, ...)`` with NumPy where a
    beat fits 64 bits (the inverse of :func:`frames_to_bytes`)."""
    w, nb = dtype.width, beat_bytes(dtype, lanes)
    if lanes * w > 64:
        return unpack(from_bytes(data, dtype, lanes), shape, dtype, lanes)
    _check_lanes(tuple(shape), dtype, lanes)
    total = int(np.prod(shape))
    if len(data) != total // lanes * nb:
        raise AccelError(f"{len(data)} bytes are not the {total // lanes} beats of {nb} bytes that shape "
                         f"{tuple(shape)} needs.")  # fmt: skip
    padded = np.zeros((total // lanes, 8), dtype=np.uint8)
    padded[:, :nb] = np.frombuffer(data, dtype=np.uint8).reshape(-1, nb)
    beats = padded.view("<u8").reshape(-1)
    mask = np.uint64((1 << w) - 1)
    out = np.stack([((beats >> np.uint64(k * w)) & mask).astype(np.int64) for k in range(lanes)], axis=1)
    if dtype.signed:
        out = np.where(out >= (1 << (w - 1)), out - (1 << w), out)
    return out.reshape(shape)
