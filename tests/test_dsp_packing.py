"""Two products of a shared activation in one DSP48E1 (multiplier style "dsp2"): the packing identity, and yosys.

accel_mul.v (STYLE 1) multiplies A = w1 * 2**S + w0 by x in one DSP48E1 and splits the product: x*w0 is its low
S bits sign-extended, x*w1 its bits from S up plus bit S-1 (the correction of the low product's sign).  The first
test replays that arithmetic in NumPy on every 8-bit weight pair and every 8-bit activation, from the ROM field
``Mvu.write_files`` stores (:func:`accel.rtl.blocks.mvu.pair_field`) with the S of ``Mvu.pack_shift``; the others
count what yosys makes of a packed and of a LUT-multiplier MVU.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from accel.fixed import FixedType
from accel.rtl.blocks.mvu import Mvu, pair_field


def mvu(w_type: FixedType, x_type: FixedType, style: str = "dsp2", cin: int = 16, cout: int = 16, simd: int = 4,
        pe: int = 4, seed: int = 0) -> Mvu:  # fmt: skip
    """A pointwise MVU with random weights of ``w_type`` and inputs of ``x_type``."""
    rng = np.random.default_rng(seed)
    w = rng.integers(w_type.min_raw, w_type.max_raw + 1, (cin, cout))
    return Mvu("m", w, np.zeros(cout, dtype=np.int64), x_type, w_type, FixedType(True, 24, 0), 0, 0, 4, simd, pe,
               mult_style=style)  # fmt: skip


def signed(v: np.ndarray, bits: int) -> np.ndarray:
    """The low ``bits`` of ``v`` read as two's complement."""
    v = v & ((1 << bits) - 1)
    return np.where(v >= 1 << (bits - 1), v - (1 << bits), v)


def packed_products(w0: np.ndarray, w1: np.ndarray, x: np.ndarray, w_bits: int, s: int) -> tuple[np.ndarray, ...]:
    """(x*w0, x*w1, A) as accel_mul.v computes them from the ROM field of (w0, w1): A is the concatenation of the
    field's adjusted high weight (W+1 bits, two's complement) and its low weight sign-extended to S bits; P = A*x;
    the split of P (NumPy's >> on int64 is the arithmetic shift, i.e. P's bits from S up)."""
    a = concatenated_a(w0, w1, w_bits, s)
    p = a[:, None] * x[None, :]
    lo = signed(p, s)
    hi = signed((p >> s) + ((p >> (s - 1)) & 1), s)
    return lo, hi, a


def concatenated_a(w0: np.ndarray, w1: np.ndarray, w_bits: int, s: int) -> np.ndarray:
    """The A operand as accel_mul.v wires it from the ROM field: {adjusted high weight, w0 sign-extended to S}."""
    field = np.vectorize(pair_field, otypes=[np.int64])(w0, w1, w_bits) & ((1 << (2 * w_bits + 1)) - 1)
    return (signed(field >> w_bits, w_bits + 1) << s) + (signed(field, w_bits) & ((1 << s) - 1))


@pytest.mark.parametrize("x_type", [FixedType(False, 8, 8), FixedType(True, 8, 0)], ids=["u8", "s8"])
def test_packing_is_exact_for_every_8bit_weight_pair_and_activation(x_type: FixedType) -> None:
    w_type = FixedType(True, 8, 7)
    s = mvu(w_type, x_type).pack_shift()
    assert s == 16  # every product of 8-bit signed weights and 8-bit activations fits 16 signed bits
    w = np.arange(w_type.min_raw, w_type.max_raw + 1, dtype=np.int64)
    w0, w1 = (v.ravel() for v in np.meshgrid(w, w, indexing="ij"))  # all 65,536 pairs
    x = np.arange(x_type.min_raw, x_type.max_raw + 1, dtype=np.int64)  # all 256 activations
    for chunk in np.array_split(x, 8):  # 65,536 x 32 products at a time
        lo, hi, a = packed_products(w0, w1, chunk, w_type.width, s)
        np.testing.assert_array_equal(a, w1 * (1 << s) + w0)
        assert a.min() >= -(1 << 24) and a.max() < 1 << 24  # A fits the DSP48E1's 25-bit A port
        np.testing.assert_array_equal(lo, w0[:, None] * chunk[None, :])
        np.testing.assert_array_equal(hi, w1[:, None] * chunk[None, :])


def test_the_correction_term_is_needed() -> None:
    """Without bit S-1 the high product is one too small exactly where the low product is negative."""
    w_type, x_type = FixedType(True, 8, 7), FixedType(False, 8, 8)
    s = mvu(w_type, x_type).pack_shift()
    w0, w1, x = np.array([-128, 127, -1]), np.array([127, -128, 5]), np.array([0, 1, 255])
    p = concatenated_a(w0, w1, 8, s)[:, None] * x[None, :]
    uncorrected = signed(p >> s, s)
    assert ((uncorrected != w1[:, None] * x[None, :]) == (w0[:, None] * x[None, :] < 0)).all()


def test_pack_shift_and_the_styles_an_mvu_offers() -> None:
    s8, u8 = FixedType(True, 8, 7), FixedType(False, 8, 8)
    assert mvu(s8, u8).mult_styles() == ("dsp", "dsp2", "lut")
    assert mvu(s8, u8, pe=1, cout=4, style="dsp").pack_shift() is None  # one channel: nothing to pair
    assert mvu(FixedType(True, 10, 7), u8, style="dsp").pack_shift() is None  # 11 + 18 bits exceed the A port
    assert mvu(FixedType(True, 4, 3), FixedType(True, 4, 3)).pack_shift() == 8


needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (make system)")


@pytest.mark.slow
@needs_yosys
@pytest.mark.parametrize(("style", "dsp"), [("dsp", 16), ("dsp2", 8), ("lut", 0)])
def test_yosys_puts_a_pe4_simd4_mvu_in_the_dsp48e1s_its_style_says(style: str, dsp: int, tmp_path: Path) -> None:
    """PE=4 x SIMD=4 8-bit products: 16 DSP48E1 one per product, 8 packed two per DSP48E1, none as LUTs."""
    from accel.rtl.synth import SynthJob, columns, library_sources, synthesize

    blk = mvu(FixedType(True, 8, 7), FixedType(False, 8, 8), style)
    blk.write_files(tmp_path)
    res = columns(synthesize(SynthJob(blk.module, blk.verilog_parameters(tmp_path), library_sources(), tmp_path),
                             tmp_path))  # fmt: skip
    assert res["DSP48E1"] == dsp == blk.cost().dsp, res
