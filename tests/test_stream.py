"""The stream packer: hand-worked example, round trips, sign handling, byte images, errors."""

from __future__ import annotations

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.stream import beat_bytes, frames_from_bytes, frames_to_bytes, from_bytes, pack, to_bytes, unpack
from accel.fixed import FixedType


def test_hand_worked_example() -> None:
    t = FixedType(True, 4, 2)
    x = np.array([[[-1, 3], [2, -8]]])  # (H=1, W=2, C=2)
    assert pack(x, t, 2) == [0x3F, 0x82]  # element 0 in the low nibble, -1 -> 0xF, -8 -> 0x8
    assert pack(x, t, 1) == [0xF, 0x3, 0x2, 0x8]
    assert beat_bytes(t, 2) == 1
    assert to_bytes([0x3F, 0x82], t, 2) == bytes([0x3F, 0x82])


def test_byte_padding_little_endian() -> None:
    t = FixedType(False, 5, 5)  # 3 lanes x 5 bits = 15 bits -> 2 bytes per beat
    x = np.array([[[1, 2, 31]]])
    beats = pack(x, t, 3)
    assert beats == [1 | (2 << 5) | (31 << 10)]
    assert beat_bytes(t, 3) == 2
    assert to_bytes(beats, t, 3) == bytes([0x41, 0x7C])
    assert from_bytes(bytes([0x41, 0x7C]), t, 3) == beats


@pytest.mark.parametrize(
    "signed,width,lanes", [(True, 2, 1), (True, 7, 3), (False, 3, 6), (True, 32, 2), (False, 13, 3)]
)
def test_round_trip(signed: bool, width: int, lanes: int) -> None:
    t = FixedType(signed, width, 1 if signed else 0)
    rng = np.random.default_rng(width)
    x = rng.integers(t.min_raw, t.max_raw + 1, size=(2, 3, 4, 6), dtype=np.int64)
    x.flat[0], x.flat[1] = t.min_raw, t.max_raw  # both ends of the range
    beats = pack(x, t, lanes)
    assert len(beats) == x.size // lanes
    assert all(0 <= b < (1 << (width * lanes)) for b in beats)
    assert np.array_equal(unpack(beats, x.shape, t, lanes), x)
    assert from_bytes(to_bytes(beats, t, lanes), t, lanes) == beats
    assert np.array_equal(unpack(pack(x[0], t, lanes), x.shape[1:], t, lanes), x[0])


def test_errors() -> None:
    t = FixedType(True, 4, 2)
    with pytest.raises(AccelError, match="lane count must divide"):
        pack(np.zeros((1, 1, 3)), t, 2)
    with pytest.raises(AccelError, match="do not fit"):
        pack(np.array([[[8]]]), t, 1)
    with pytest.raises(AccelError, match="needs"):
        unpack([0, 1], (1, 1, 3), t, 1)
    with pytest.raises(AccelError, match="whole number"):
        from_bytes(b"\x00\x01\x02", FixedType(True, 16, 1), 1)


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_byte_path_equals_pack(seed: int) -> None:
    """frames_to_bytes / frames_from_bytes (the driver's) give the bytes of pack -> to_bytes and invert them, on
    random signedness, widths 1..24 and lane counts up to beats of 64 bits and beyond (the general path)."""
    rng = np.random.default_rng(seed)
    for _ in range(25):
        signed = bool(rng.integers(2))
        width = int(rng.integers(2 if signed else 1, 25))
        lanes = int(rng.choice([1, 2, 3, 4, 5, 8]))
        t = FixedType(signed, width, int(rng.integers(0, width + 1)))
        n, h, w = (int(v) for v in rng.integers(1, 4, size=3))
        shape = (n, h, w, lanes * int(rng.integers(1, 3)))
        x = rng.integers(t.min_raw, t.max_raw + 1, size=shape, dtype=np.int64)
        x.flat[0], x.flat[-1] = t.min_raw, t.max_raw
        data = frames_to_bytes(x, t, lanes)
        assert data == to_bytes(pack(x, t, lanes), t, lanes), (t, lanes)
        assert np.array_equal(frames_from_bytes(data, shape, t, lanes), x)
    with pytest.raises(AccelError, match="do not fit"):
        frames_to_bytes(np.full((1, 1, 1, 1), 8, dtype=np.int64), FixedType(True, 4, 4), 1)
