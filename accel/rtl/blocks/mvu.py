"""accel_mvu: matrix-vector unit (PE x SIMD folding) for pointwise conv, dense and KxK conv after accel_window.

Computes ``(x . W) << product_shift + bias << bias_shift`` per pixel, exactly
``accel.kernels.conv2d`` (groups=1) on the im2col stream; the output is the exact accumulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import (
    MULT_CODES,
    MULT_STYLES,
    RAM_STYLES,
    Cost,
    counter,
    logic,
    lut_multipliers,
    multipliers,
    packed_split,
    ram,
    rom,
    wants_block,
)
from accel.rtl.params import check_divides, check_nonnegative, check_positive, check_width, mem_hex, pack_lanes


def dot_sum_width(weights: np.ndarray, xtype: FixedType) -> int:
    """Signed width holding every partial dot product of ``weights`` (taps, outputs) with inputs of ``xtype``.

    Partial sums over any prefix of taps are bounded by the sums of the per-tap extremes, so the bound
    over all taps of the negative and of the positive extremes covers every prefix.
    """
    lo_x, hi_x = xtype.min_raw, xtype.max_raw
    w = np.asarray(weights)
    # int64 when no partial sum can come near its range (every zoo and practical layer), else exact Python ints
    bound = int(np.abs(w).max(initial=0)) * max(abs(lo_x), abs(hi_x)) * max(1, w.shape[0])
    w = w.astype(np.int64) if bound < 1 << 62 else w.astype(object)
    neg = np.minimum(np.minimum(w * lo_x, w * hi_x), 0).sum(axis=0)
    pos = np.maximum(np.maximum(w * lo_x, w * hi_x), 0).sum(axis=0)
    lo = min([0, *(int(v) for v in neg)])
    hi = max([0, *(int(v) for v in pos)])
    return FixedType.covering(lo, hi, 0, signed=True).width


@dataclass(frozen=True)
class Mvu(Block):
    """One ``accel_mvu`` instance.

    ``weight`` is ``(cin, cout)`` raw integers (for a KxK conv: ``weight.reshape(kh*kw*cin, cout)``, matching
    accel_window's (ky, kx, c) order); ``bias`` ``(cout,)`` raw; ``pixels`` = output pixels per frame.
    """

    name: str
    weight: np.ndarray = field(repr=False, compare=False)
    bias: np.ndarray = field(repr=False, compare=False)
    in_type: FixedType
    w_type: FixedType
    out_type: FixedType
    product_shift: int
    bias_shift: int
    pixels: int
    simd: int = 1
    pe: int = 1
    #: where the ROMs go: "auto" (block RAM from BLOCK_ROM_BITS up), "block" or "lut" (see accel.rtl.blocks.cost)
    rom_style: str = "auto"
    #: how the products are made: one of MULT_STYLES (see accel.rtl.blocks.cost)
    mult_style: str = "dsp"

    module = "accel_mvu"
    sources = ("accel_rom", "accel_fifo", "accel_result_queue", "accel_mul", "accel_mvu")
    resource_class = "compute"
    progress = "step"

    @property
    def cin(self) -> int:
        return int(self.weight.shape[0])

    @property
    def cout(self) -> int:
        return int(self.weight.shape[1])

    def validate(self) -> None:
        if self.rom_style not in RAM_STYLES:
            raise AccelError(f"{self.name}: ROM style '{self.rom_style}' is unknown; supported: "
                             f"{', '.join(RAM_STYLES)}.")
        if self.mult_style not in MULT_STYLES:
            raise AccelError(f"{self.name}: multiplier style '{self.mult_style}' is unknown; "
                             f"supported: {', '.join(MULT_STYLES)}.")
        if self.mult_style == "dsp2" and self.pack_shift() is None:
            raise AccelError(f"{self.name}: multiplier style 'dsp2' needs PE >= 2 and {self.w_type.hls} weights "
                             f"times {self.in_type.hls} inputs to fit two products in one DSP48E1 (8 bits or fewer "
                             "each); use dsp or lut.")
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[1],):
            raise AccelError(
                f"{self.name}: weight {self.weight.shape} / bias {self.bias.shape} are not (cin, cout) / (cout,)."
            )
        check_positive(self.name, "input channels", self.cin)
        check_positive(self.name, "output channels", self.cout)
        check_positive(self.name, "pixels per frame", self.pixels)
        check_divides(self.name, "SIMD", self.simd, "input channels", self.cin)
        check_divides(self.name, "PE", self.pe, "output channels", self.cout)
        check_width(self.name, "input width", self.in_type.width, self.in_type.signed)
        check_width(self.name, "weight width", self.w_type.width, self.w_type.signed)
        check_width(self.name, "accumulator width", self.out_type.width, self.out_type.signed, max_width=62)
        check_nonnegative(self.name, "product shift", self.product_shift)
        check_nonnegative(self.name, "bias shift", self.bias_shift)
        if self.weight.size and (self.weight.min() < self.w_type.min_raw or self.weight.max() > self.w_type.max_raw):
            raise AccelError(f"{self.name}: weights do not fit {self.w_type.hls}; they must be raw values of it.")
        b = self.bias.astype(object) * (1 << self.bias_shift)
        if b.size and (min(b) < self.out_type.min_raw or max(b) > self.out_type.max_raw):
            raise AccelError(f"{self.name}: the shifted bias does not fit the accumulator type {self.out_type.hls}.")

    def pack_shift(self) -> int | None:
        """Bit offset S of the second product in a packed DSP48E1 (mult_style "dsp2"), or None when this MVU's
        operands do not pack.

        Two output channels p, p+1 share the step's activation x, so one DSP48E1 computes
        ``A * x`` with ``A = w[p+1] * 2**S + w[p]`` (25-bit A port, x on the 18-bit B port): the low S bits of the
        product hold ``w[p] * x`` (sign-extended from bit S-1) and ``w[p+1] * x`` is the rest plus bit S-1 (the
        correction of the low product's sign).  S is the signed width of every ``w * x`` the types allow, so the
        low product never spills; the ROM holds ``w[p+1] - (w[p] < 0)`` (one bit wider) above ``w[p]`` so that A
        is wiring.  Packs when that adjusted weight and S fit the A port and x fits B: 8-bit signed weights with
        8-bit activations, signed or unsigned, exactly fill it (9 + 16 = 25 bits).
        """
        if self.pe < 2:
            return None
        w, x = self.w_type, self.in_type
        corners = [a * b for a in (w.min_raw, w.max_raw) for b in (x.min_raw, x.max_raw)]
        shift = FixedType.covering(min(corners), max(corners), 0, signed=True).width
        hi = FixedType.covering(w.min_raw - 1, w.max_raw, 0, signed=True).width
        x_bits = x.width + (0 if x.signed else 1)
        return shift if hi + shift <= 25 and x_bits <= 18 else None

    def mult_styles(self) -> tuple[str, ...]:
        """DSP48E1 or LUT multipliers, and two products per DSP48E1 where :meth:`pack_shift` allows it."""
        return ("dsp", "dsp2", "lut") if self.pack_shift() is not None else ("dsp", "lut")

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        """The im2col stream of ``pixels`` rows of ``cin`` in, ``pixels`` rows of ``cout`` out."""
        return ((Port("s_axis", (1, self.pixels, self.cin), self.simd, self.in_type.width, self.in_type),),
                (Port("m_axis", (1, self.pixels, self.cout), self.pe, self.out_type.width, self.out_type),))

    def verilog_parameters(self, directory: Path | None = None) -> dict:
        """Parameters; ROM paths point into ``directory`` (where :meth:`write_files` wrote them)."""
        self.validate()
        d = Path(directory) if directory is not None else Path(".")
        return {
            "CIN": self.cin, "COUT": self.cout, "SIMD": self.simd, "PE": self.pe, "PIXELS": self.pixels,
            "IN_WIDTH": self.in_type.width, "IN_SIGNED": int(self.in_type.signed),
            "W_WIDTH": self.w_type.width, "W_SIGNED": int(self.w_type.signed),
            "SUM_WIDTH": dot_sum_width(self.weight, self.in_type), "OUT_WIDTH": self.out_type.width,
            "PSHIFT": self.product_shift,
            "WEIGHT_FILE": str(d / f"{self.name}_weights.mem"), "BIAS_FILE": str(d / f"{self.name}_bias.mem"),
            "WEIGHT_BRAM": int(self._rom_shapes()[0][2]), "BIAS_BRAM": int(self._rom_shapes()[1][2]),
            "MULT": MULT_CODES[self.mult_style],
            "PACK_SHIFT": self.pack_shift() if self.mult_style == "dsp2" else 0,
        }

    def _weight_word_bits(self) -> int:
        """Bits of one weight ROM word: PE*SIMD weights, or for dsp2 PE/2*SIMD pair fields of 2*W+1 bits (the
        adjusted high weight is one bit wider) and an odd PE's last channel's SIMD weights."""
        w = self.w_type.width
        if self.mult_style != "dsp2":
            return self.pe * self.simd * w
        return (self.pe // 2) * self.simd * (2 * w + 1) + (self.pe % 2) * self.simd * w

    def _rom_shapes(self) -> tuple[tuple[int, int, bool], tuple[int, int, bool]]:
        """(words, width, asked for block RAM) of the weight ROM and of the bias ROM."""
        sf, nf = self.cin // self.simd, self.cout // self.pe
        w = (nf * sf, self._weight_word_bits())
        b = (nf, self.pe * self.out_type.width)
        return (*w, wants_block(self.rom_style, *w)), (*b, wants_block(self.rom_style, *b))

    def write_files(self, directory: Path) -> list[Path]:
        """Weight and bias ROM images in the layout documented in accel_mvu.v."""
        self.validate()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        sf, nf = self.cin // self.simd, self.cout // self.pe
        words = []
        for n in range(nf):
            for s in range(sf):
                blk = self.weight[s * self.simd : (s + 1) * self.simd, n * self.pe : (n + 1) * self.pe]  # (simd, pe)
                words.append(self._weight_word(blk))
        bias = [int(b) << self.bias_shift for b in self.bias]
        bwords = [pack_lanes(bias[n * self.pe : (n + 1) * self.pe], self.out_type.width) for n in range(nf)]
        wpath, bpath = d / f"{self.name}_weights.mem", d / f"{self.name}_bias.mem"
        wpath.write_text(mem_hex(words, self._weight_word_bits()))
        bpath.write_text(mem_hex(bwords, self.pe * self.out_type.width))
        return [wpath, bpath]

    def _weight_word(self, blk: np.ndarray) -> int:
        """One weight ROM word from the step's ``(simd, pe)`` weights, in accel_mvu.v's layout for the style."""
        w = self.w_type.width
        if self.mult_style != "dsp2":
            return pack_lanes([int(v) for v in blk.T.ravel()], w)  # p-major, s inner
        pairs = self.pe // 2
        fields = [pair_field(int(blk[s, 2 * j]), int(blk[s, 2 * j + 1]), w) for j in range(pairs)
                  for s in range(self.simd)]  # fmt: skip
        word = pack_lanes(fields, 2 * w + 1)
        if self.pe % 2:
            word |= pack_lanes([int(v) for v in blk[:, self.pe - 1]], w) << (pairs * self.simd * (2 * w + 1))
        return word

    def expected_cycles_per_frame(self) -> int:
        """One SIMD x PE step per cycle: pixels * (cin/SIMD) * (cout/PE)."""
        return self.pixels * (self.cin // self.simd) * (self.cout // self.pe)

    def cost(self) -> Cost:
        """The pipelined accel_mvu.v: weight ROM (NF*SF words of PE*SIMD weights, or of dsp2's pair fields) and
        bias ROM (NF words of PE accumulators), both read into a register (block RAM where yosys finds that
        cheaper, else LUTs and the register; a one-word ROM is a constant); the SF-word input buffer the later
        output folds reread (LUT-RAM); the products (:meth:`_products`); per PE the registered adder tree
        (SIMD-1 adders), the accumulator and the bias add; the output queue (4 + product stages + clog2(SIMD)
        words, registered read) and four counters.

        The accumulator type's width stands for the dot-product width (they differ by the bias only), so the
        cost never recomputes the weights' bound.  The adder tree's and the rest's constants are fitted to yosys
        over scripts/calibrate_cost.py's MVU configurations.
        """
        sf, nf = self.cin // self.simd, self.cout // self.pe
        out_w = self.out_type.width
        levels = (self.simd - 1).bit_length()
        stages = 1 if self.mult_style == "dsp" else 2
        tree = self.pe * _tree_nodes(self.simd) * out_w  # adder-tree register bits (at the accumulator's width)
        (ww, wb, w_block), (bw, bb, b_block) = self._rom_shapes()
        weights = rom("weights", ww, wb, registered_read=True, block=w_block) if ww > 1 else Cost()
        biases = rom("biases", bw, bb, registered_read=True, block=b_block) if bw > 1 else Cost()
        buf = ram("input buffer", sf, self.simd * self.in_type.width, registered_read=False) if nf > 1 else Cost()
        queue = ram("output queue", 4 + stages + levels, self.pe * out_w + 1, registered_read=True)
        ctl = counter(sf) + counter(nf) + counter(self.pixels) + counter(sf * nf)
        datapath = logic(lut=0.45 * tree + 2.3 * self.pe * out_w + 43,
                         ff=0.45 * tree + 0.55 * self.pe * out_w + 38)  # fmt: skip
        return weights + biases + buf + queue + self._products() + ctl + datapath

    def _products(self) -> Cost:
        """The PE*SIMD products by style.  dsp: one multiplier each (DSP48E1 with its input and product registers,
        or LUTs whose registers are flip-flops); dsp2: PE/2*SIMD packed multiplies of a (W+1+S)-bit A operand,
        one DSP48E1 each when that fits 25 x 18, their split, and an odd PE's last channel unpacked; lut: LUT
        multipliers and the step's input beat in flip-flops."""
        in_w, w_w, lanes = self.in_type.width, self.w_type.width, self.pe * self.simd
        if self.mult_style == "lut":
            return lut_multipliers(lanes, in_w, w_w) + logic(ff=self.simd * in_w)
        if self.mult_style == "dsp2":
            shift, pairs, odd = self.pack_shift(), (self.pe // 2) * self.simd, (self.pe % 2) * self.simd
            return (multipliers(pairs, w_w + 1 + shift, in_w + 1) + multipliers(odd, in_w + 1, w_w + 1)
                    + packed_split(pairs, shift))  # fmt: skip
        mults = multipliers(lanes, in_w + 1, w_w + 1)
        if mults.dsp:
            return mults
        # multipliers in LUTs: their input and product registers are flip-flops
        return mults + logic(ff=1.3 * (lanes * (in_w + w_w + 2) + self.simd * in_w))


def pair_field(w0: int, w1: int, width: int) -> int:
    """A dsp2 pair's ROM field (2*width+1 bits, as an unbounded int): ``w0`` in the low ``width`` bits, the
    adjusted high weight ``w1 - (w0 < 0)`` above, so that the field sign-extended from ``width`` bits to S is
    A = w1 * 2**S + w0 (see :meth:`Mvu.pack_shift`)."""
    return ((w1 - (w0 < 0)) << width) | (w0 & ((1 << width) - 1))


def _tree_nodes(simd: int) -> int:
    """Registered adder-tree nodes of one PE in accel_mvu.v: ceil(SIMD/2) + ceil(SIMD/4) + ... + 1."""
    total, n = 0, simd
    while n > 1:
        n = (n + 1) // 2
        total += n
    return total
