"""accel_dwu: depthwise vector unit behind accel_window = ``accel.kernels.depthwise_conv2d``."""

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
    ram,
    rom,
    wants_block,
)
from accel.rtl.blocks.mvu import dot_sum_width
from accel.rtl.params import check_divides, check_nonnegative, check_positive, check_width, mem_hex, pack_lanes


@dataclass(frozen=True)
class Dwu(Block):
    """One ``accel_dwu`` instance: ``weight`` ``(kh, kw, C, M)`` raw, ``bias`` ``(C*M,)`` raw, PE channels per beat.

    The input is accel_window's stream with ``lanes == pe``; ``pixels`` = output pixels per frame.
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
    pe: int = 1
    #: where the ROMs go: "auto" (block RAM from BLOCK_ROM_BITS up), "block" or "lut" (see accel.rtl.blocks.cost)
    rom_style: str = "auto"
    #: how the products are made: one of MULT_STYLES (see accel.rtl.blocks.cost)
    mult_style: str = "dsp"

    module = "accel_dwu"
    sources = ("accel_rom", "accel_fifo", "accel_result_queue", "accel_mul", "accel_dwu")
    resource_class = "compute"
    progress = "step"

    def validate(self) -> None:
        if self.rom_style not in RAM_STYLES:
            raise AccelError(f"{self.name}: ROM style '{self.rom_style}' is unknown; supported: "
                             f"{', '.join(RAM_STYLES)}.")
        if self.mult_style not in MULT_STYLES or self.mult_style == "dsp2":
            raise AccelError(f"{self.name}: multiplier style '{self.mult_style}' is not supported by accel_dwu; "
                             "supported: dsp, lut (its products share no operand to pack).")
        if self.weight.ndim != 4 or self.bias.shape != (self.weight.shape[2] * self.weight.shape[3],):
            raise AccelError(
                f"{self.name}: weight {self.weight.shape} / bias {self.bias.shape} are not (kh, kw, C, M) / (C*M,)."
            )
        kh, kw, c, m = self.weight.shape
        for what, v in (("kernel height", kh), ("kernel width", kw), ("channels", c), ("depth multiplier", m),
                        ("pixels per frame", self.pixels)):
            check_positive(self.name, what, v)
        check_divides(self.name, "PE", self.pe, "channels", c)
        check_width(self.name, "input width", self.in_type.width, self.in_type.signed)
        check_width(self.name, "weight width", self.w_type.width, self.w_type.signed)
        check_width(self.name, "accumulator width", self.out_type.width, self.out_type.signed, max_width=62)
        check_nonnegative(self.name, "product shift", self.product_shift)
        check_nonnegative(self.name, "bias shift", self.bias_shift)
        if self.weight.min() < self.w_type.min_raw or self.weight.max() > self.w_type.max_raw:
            raise AccelError(f"{self.name}: weights do not fit {self.w_type.hls}; they must be raw values of it.")
        b = self.bias.astype(object) * (1 << self.bias_shift)
        if min(b) < self.out_type.min_raw or max(b) > self.out_type.max_raw:
            raise AccelError(f"{self.name}: the shifted bias does not fit the accumulator type {self.out_type.hls}.")

    def mult_styles(self) -> tuple[str, ...]:
        """DSP48E1 or LUT multipliers; never packed (no two products of a step share an operand)."""
        return ("dsp", "lut")

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        """KxK windows of every channel in, ``multiplier`` outputs per channel out."""
        kh, kw, c, m = self.weight.shape
        return ((Port("s_axis", (1, self.pixels, kh * kw * c), self.pe, self.in_type.width, self.in_type),),
                (Port("m_axis", (1, self.pixels, c * m), self.pe * m, self.out_type.width, self.out_type),))

    def verilog_parameters(self, directory: Path | None = None) -> dict:
        """Parameters; ROM paths point into ``directory`` (where :meth:`write_files` wrote them)."""
        self.validate()
        kh, kw, c, m = self.weight.shape
        d = Path(directory) if directory is not None else Path(".")
        return {
            "C": c, "M": m, "KK": kh * kw, "PE": self.pe, "PIXELS": self.pixels,
            "IN_WIDTH": self.in_type.width, "IN_SIGNED": int(self.in_type.signed),
            "W_WIDTH": self.w_type.width, "W_SIGNED": int(self.w_type.signed),
            "SUM_WIDTH": dot_sum_width(self.weight.reshape(kh * kw, c * m), self.in_type),
            "OUT_WIDTH": self.out_type.width, "PSHIFT": self.product_shift,
            "WEIGHT_FILE": str(d / f"{self.name}_weights.mem"), "BIAS_FILE": str(d / f"{self.name}_bias.mem"),
            "WEIGHT_BRAM": int(self._rom_shapes()[0][2]), "BIAS_BRAM": int(self._rom_shapes()[1][2]),
            "MULT": MULT_CODES[self.mult_style],
        }

    def _rom_shapes(self) -> tuple[tuple[int, int, bool], tuple[int, int, bool]]:
        """(words, width, asked for block RAM) of the weight ROM and of the bias ROM."""
        kh, kw, c, m = self.weight.shape
        cg, lanes = c // self.pe, self.pe * m
        w = (kh * kw * cg, lanes * self.w_type.width)
        b = (cg, lanes * self.out_type.width)
        return (*w, wants_block(self.rom_style, *w)), (*b, wants_block(self.rom_style, *b))

    def write_files(self, directory: Path) -> list[Path]:
        """Weight and bias ROM images in the layout documented in accel_dwu.v."""
        self.validate()
        kh, kw, c, m = self.weight.shape
        cg = c // self.pe
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        taps = self.weight.reshape(kh * kw, c, m)
        words = [pack_lanes([int(v) for v in taps[t, g * self.pe : (g + 1) * self.pe].ravel()], self.w_type.width)
                 for t in range(kh * kw) for g in range(cg)]
        bias = [int(b) << self.bias_shift for b in self.bias]
        span = self.pe * m
        bwords = [pack_lanes(bias[g * span : (g + 1) * span], self.out_type.width) for g in range(cg)]
        wpath, bpath = d / f"{self.name}_weights.mem", d / f"{self.name}_bias.mem"
        wpath.write_text(mem_hex(words, span * self.w_type.width))
        bpath.write_text(mem_hex(bwords, span * self.out_type.width))
        return [wpath, bpath]

    def expected_cycles_per_frame(self) -> int:
        """One input beat per cycle: pixels * kh*kw * C/PE."""
        kh, kw, c, _ = self.weight.shape
        return self.pixels * kh * kw * (c // self.pe)

    def cost(self) -> Cost:
        """The pipelined accel_dwu.v: weight ROM (KK*CG words of PE*M weights) and bias ROM (CG words), both read
        into a register (block RAM where yosys finds that cheaper, else LUTs and the register; a one-word ROM is
        a constant); the CG-word accumulator memory of partial sums (LUT-RAM, read and written at the same
        group); PE*M multipliers with their input, M and P registers in the DSP48E1s (flip-flops when the
        multipliers are LUTs), or for mult_style "lut" accel_mul.v's LUT multipliers; the sum register and the
        bias add; the output queue (6 words, registered read) and four counters.

        The accumulator type's width stands for the dot-product width, as in :meth:`Mvu.cost`; the remaining
        constants are fitted to yosys over scripts/calibrate_cost.py's DWU configurations.
        """
        kh, kw, c, m = self.weight.shape
        kk, cg, lanes = kh * kw, c // self.pe, self.pe * m
        out_w, in_w, w_w = self.out_type.width, self.in_type.width, self.w_type.width
        if self.mult_style == "lut":  # accel_mul.v's LUT multipliers (their registers included), the beat
            mults, regs = lut_multipliers(lanes, in_w, w_w), self.pe * in_w
        else:
            mults = multipliers(lanes, in_w + 1, w_w + 1)
            in_lut = mults.dsp == 0
            regs = 2 * lanes * (in_w + w_w + 2) + self.pe * in_w if in_lut else 0  # M and P registers, the beat
        (ww, wb, w_block), (bw, bb, b_block) = self._rom_shapes()
        weights = rom("weights", ww, wb, registered_read=True, block=w_block) if ww > 1 else Cost()
        biases = rom("biases", bw, bb, registered_read=True, block=b_block) if bw > 1 else Cost()
        acc = ram("accumulators", cg, lanes * out_w, registered_read=False)
        queue = ram("output queue", 6, lanes * out_w + 1, registered_read=True)
        ctl = counter(cg) + counter(kk) + counter(self.pixels) + counter(kk * cg)
        datapath = logic(lut=1.6 * lanes * out_w + 51, ff=0.55 * lanes * out_w + regs + 37)
        return weights + biases + acc + queue + mults + ctl + datapath
