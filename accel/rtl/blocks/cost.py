"""The resource cost model of the RTL blocks: what one instance takes of an FPGA, estimated without yosys.

Why: ``accel build --backend rtl`` must refuse a design that cannot fit its part before writing it, and must do so
in milliseconds, so every block description states its cost as a closed formula of its own parameters
(:meth:`accel.rtl.blocks.base.Block.cost`), built from the few primitives of this module.  The units are those of
:func:`accel.rtl.synth.resources` and of :mod:`accel.parts`: LUT6 sites (logic and LUT-RAM), flip-flops, DSP48E1
slices and BRAM36 blocks (a RAMB18 is half of one).

Method.  The structure mirrors what yosys 0.23 ``synth_xilinx -family xc7`` makes of the library's Verilog, and
the constants are fitted to it (``scripts/calibrate_cost.py`` prints model against yosys per configuration;
docs/hardware.md, "Fit check", states the calibration set and the error):

* memories (:func:`rom`, :func:`ram`) follow yosys' ``memory_libmap`` choice.  A combinationally read constant
  array cannot use LUT-RAM or block RAM there, so it becomes logic: one LUT6 per
  64 words of every bit column up to 256 words (MUXF7/MUXF8 join four), and, deeper, that many times a factor
  growing with the address width (ABC's wider mux trees; 1.25x at 1,024 words, 2x at 32,768).  A ROM read into
  a register (the MVU's and DWU's weights and biases, ``accel_rom``) may become block RAM instead, when that is
  cheaper than logic at memory_libmap's one per 64 bits, or when the generator asks for it (:data:`BLOCK_ROM_BITS`).
  A written array becomes LUT-RAM (RAM32M/RAM64M cells, RAM128X1S/RAM256X1S for single-port ones) or block RAM
  (RAMB36 chunks of the depth, the remainder in a RAMB18), whichever memory_libmap's costs (8 per LUT-RAM cell
  plus the read mux, 129 per RAMB18, 257 per RAMB36) make cheaper; block RAM only when the read is registered;
* multipliers (:func:`multipliers`) go to DSP48E1 when yosys' ``mul2dsp`` takes them (both signed operands of 2
  bits or more and 10 bits together; wider than 25 x 18 bits: several slices), otherwise to LUTs; a packed
  pair (multiplier style "dsp2") is one such multiply of the wider A operand and its split (:func:`packed_split`);
  LUT multipliers (style "lut", :func:`lut_multipliers`) are accel_mul.v's digit sums;
* the rest (counters, adders, muxes, control) is a per-block linear formula in its widths and lanes whose
  constants were fitted to the calibration set.

Each :class:`Memory` an instance holds is recorded with what it becomes and its bits, so ``build.json`` can say
where a layer's resources go (``weights``, ``biases``, ``line buffer`` ...).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

#: the resources a device is sized by, in the keys :func:`accel.rtl.synth.resources` and the report use
RESOURCES = ("LUT", "FF", "DSP", "BRAM")
#: what a memory becomes: LUT logic (a constant ROM read combinationally), LUT-RAM, block RAM or flip-flops
MEMORY_KINDS = ("lut-rom", "lutram", "bram", "ff")

#: a ROM of at least this many bits is asked to become block RAM (accel_rom BLOCK = 1): a quarter of a RAMB18,
#: 64 LUT6 as logic; below it a ROM costs less as LUTs than the block RAM it would waste.  A folding file's
#: "ram_style" overrides it per layer ("block": always, "lut": never ask, "auto": this threshold).
BLOCK_ROM_BITS = 4096
#: the per-layer ROM choices a folding file may give
RAM_STYLES = ("auto", "block", "lut")
#: how a compute block makes its products: "dsp" one product per DSP48E1, "dsp2" two products that share their
#: activation packed into one DSP48E1 (accel_mvu only, operands of 8 bits or fewer), "lut" LUT multipliers
MULT_STYLES = ("dsp", "dsp2", "lut")
#: the library's MULT parameter (accel_mul.v STYLE) of each style
MULT_CODES = {"dsp": 0, "dsp2": 1, "lut": 2}

#: memory_libmap's costs (yosys 0.23 share/xilinx/lutrams_xc5v.txt, brams_xc4v.txt): a LUT-RAM cell, RAMB18, RAMB36
_LUTRAM_COST, _RAMB18_COST, _RAMB36_COST = 8.0, 129.0, 257.0
#: block RAM aspect ratios (depth, width) of a RAMB36 and of a RAMB18 in simple dual-port use
_RAMB36 = ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72))
_RAMB18 = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


@dataclass(frozen=True)
class Memory:
    """One memory of an instance: what it holds (``name``), what yosys makes of it (``kind``), its size and cost."""

    name: str  # "weights", "bias", "line buffer", "queue", "row buffer", ...
    kind: str  # one of MEMORY_KINDS
    words: int
    width: int
    lut: float = 0.0
    ff: float = 0.0
    bram36: float = 0.0

    @property
    def bits(self) -> int:
        return self.words * self.width


@dataclass(frozen=True)
class Cost:
    """Estimated resources of a block instance (or a sum of them), and the memories among them."""

    lut: float = 0.0
    ff: float = 0.0
    dsp: float = 0.0
    bram36: float = 0.0
    memory: tuple[Memory, ...] = field(default=(), compare=False)

    def __add__(self, other: Cost) -> Cost:
        if not isinstance(other, Cost):
            return NotImplemented
        return Cost(self.lut + other.lut, self.ff + other.ff, self.dsp + other.dsp, self.bram36 + other.bram36,
                    self.memory + other.memory)  # fmt: skip

    def __radd__(self, other: object) -> Cost:
        """``sum(costs)`` starts from 0."""
        if other == 0:
            return self
        return NotImplemented

    def of(self, resource: str) -> float:
        """The amount of one of :data:`RESOURCES`."""
        return {"LUT": self.lut, "FF": self.ff, "DSP": self.dsp, "BRAM": self.bram36}[resource]

    def resources(self) -> dict[str, float]:
        """``{"LUT": .., "FF": .., "DSP": .., "BRAM": ..}``, the keys of :func:`accel.rtl.synth.resources`."""
        return {r: self.of(r) for r in RESOURCES}


def total(costs: Iterable[Cost]) -> Cost:
    """The sum of several costs (an empty sum is zero)."""
    out = Cost()
    for c in costs:
        out = out + c
    return out


def clog2(n: int) -> int:
    """Address / counter bits for ``n`` values (at least 1), as the library sizes its counters."""
    return max(1, (int(n) - 1).bit_length())


def logic(lut: float = 0.0, ff: float = 0.0) -> Cost:
    """Plain logic: LUTs and flip-flops."""
    return Cost(lut=float(lut), ff=float(ff))


def counter(count: int) -> Cost:
    """A counter over ``count`` values with its wrap compare: one FF and about one LUT per bit."""
    b = clog2(count) if count > 1 else 0
    return logic(b, b)


def rom_luts(words: int, width: int) -> float:
    """LUT6s of a constant ``words`` x ``width`` array read combinationally (yosys makes it logic).

    Per bit column: nothing up to 2 words (a wire or an inverter of the address), one LUT6 per 64 words up to 256
    (MUXF7/MUXF8 join four LUTs for free), and beyond that ``words / 64`` times a factor that grows by 1/7.5 per
    address bit above 8 (ABC's mux trees: 1.27x at 1,024 words, 2x at 32,768 in the calibration set).
    """
    if words <= 2 or width <= 0:
        return 0.0
    if words <= 256:
        return float(width * math.ceil(words / 64))
    return width * words / 64 * (1 + (math.log2(words) - 8) / 7.5)


def rom(name: str, words: int, width: int, *, registered_read: bool = False, block: bool = False) -> Cost:
    """A constant ROM: LUT logic (see :func:`rom_luts`), or, when its read is registered (``q <= rom[a]``), block
    RAM where memory_libmap finds that cheaper: its cost of a ROM in logic is one per 64 bits, against 129 per
    RAMB18 and 257 per RAMB36 (a standalone ROM in yosys 0.23: 256 x 36 and 4,096 x 4 bits become a RAMB18,
    1,024 x 4 and 256 x 128 stay LUTs), or always when ``block`` asks for it (accel_rom's BLOCK: rom_style
    "block").  A registered read in LUTs keeps its output register."""
    words, width = int(words), int(width)
    luts = rom_luts(words, width)
    logic_rom = Memory(name, "lut-rom", words, width, lut=luts, ff=float(width if registered_read else 0))
    if registered_read and words > 2:
        blocks, pieces = bram_layout(words, width)
        bcost = sum(_RAMB36_COST if b == 1.0 else _RAMB18_COST for b in _split(blocks))
        if block or bcost < words * width / 64:
            mem = Memory(name, "bram", words, width, lut=float(width * (pieces - 1)), bram36=blocks)
            return Cost(lut=mem.lut, bram36=mem.bram36, memory=(mem,))
    return Cost(lut=logic_rom.lut, ff=logic_rom.ff, memory=(logic_rom,))


def skid(width: int) -> Cost:
    """``accel_skid``'s spare register (``width`` data bits, TLAST and its valid flag) and the output register's
    input select (the spare or the new beat, about one LUT per bit); the output register itself is counted by
    the block that owns it (it had one before)."""
    return logic(lut=float(width + 2), ff=float(width + 2))


def wants_block(style: str, words: int, width: int) -> bool:
    """Whether a registered-read ROM of ``words`` x ``width`` is asked to become block RAM under ``style``."""
    if style == "block":
        return words > 2
    return style == "auto" and words > 2 and words * width >= BLOCK_ROM_BITS


def bram_layout(words: int, width: int) -> tuple[float, int]:
    """(BRAM36 blocks, pieces along the depth) of a ``words`` x ``width`` simple dual-port memory, as yosys 0.23
    packs it: whole RAMB36s along the depth and a RAMB18 for a remainder that fits one, or RAMB18s only,
    whichever is fewer.  More than one piece along the depth means a read mux in LUTs."""
    best: tuple[float, int] = (math.inf, 1)
    for depth, w in _RAMB36:
        full, rest = divmod(words, depth)
        tail = 0.0 if rest == 0 else (0.5 if rest <= depth // 2 and w <= 36 else 1.0)
        best = min(best, (math.ceil(width / w) * (full + tail), full + (rest > 0)))
    for depth, w in _RAMB18:
        deep = math.ceil(words / depth)
        best = min(best, (0.5 * math.ceil(width / w) * deep, deep))
    return best


def bram36_blocks(words: int, width: int) -> float:
    """BRAM36 blocks of a ``words`` x ``width`` block RAM (see :func:`bram_layout`)."""
    return bram_layout(words, width)[0]


def _lutram(words: int, width: int, single_port: bool) -> tuple[float, float, float]:
    """(LUT-RAM cells, LUT6 sites incl. the read mux, memory_libmap's cost) of a ``words`` x ``width`` LUT-RAM.

    Simple dual-port (a write and a read address): RAM32M (32 x 6) or RAM64M (64 x 3), 4 sites each.
    Single-port (one address): RAM32M as 32 x 8, RAM64M as 64 x 4, RAM128X1S (2 sites), RAM256X1S (4 sites).
    Deeper memories repeat the cell along the depth and mux the reads: about one LUT per bit per three extra
    cells.  memory_libmap's cost is 8 per cell plus, in the calibration, one per bit per extra cell of depth.
    """
    shapes = ((32, 8, 4), (64, 4, 4), (128, 1, 2), (256, 1, 4)) if single_port else ((32, 6, 4), (64, 3, 4))
    best = (math.inf, math.inf, math.inf)
    for depth, w, sites in shapes:
        deep = math.ceil(words / depth)
        cells = deep * math.ceil(width / w)
        mux = width * math.ceil((deep - 1) / 3)
        cost = _LUTRAM_COST * cells + width * (deep - 1)
        if cost < best[2]:
            best = (float(cells), float(cells * sites + mux), cost)
    return best


def ram(name: str, words: int, width: int, *, registered_read: bool, single_port: bool = False) -> Cost:
    """A written memory of ``words`` x ``width`` bits as yosys' memory_libmap maps it (see the module docstring).

    ``registered_read``: the read data goes straight into a register (``q <= mem[a]``), so block RAM may hold
    it (and absorbs that register; a memory deeper than one block needs a LUT read mux, one LUT per bit per
    extra piece); otherwise only LUT-RAM or flip-flops can.  The cost includes the output
    register of a registered read when the memory is not block RAM.  ``single_port``: read and write share
    one address.
    """
    words, width = int(words), int(width)
    if words <= 0 or width <= 0:
        return Cost()
    bits = words * width
    _, sites, lut_cost = _lutram(words, width, single_port)
    out_ff = width if registered_read else 0
    options = [(float(bits), Memory(name, "ff", words, width, lut=0.0, ff=float(bits + out_ff))),
               (lut_cost, Memory(name, "lutram", words, width, lut=sites, ff=float(out_ff)))]  # fmt: skip
    if registered_read:
        blocks, pieces = bram_layout(words, width)
        bcost = sum(_RAMB36_COST if b == 1.0 else _RAMB18_COST for b in _split(blocks))
        mux = float(width * (pieces - 1))
        options.append((bcost, Memory(name, "bram", words, width, lut=mux, bram36=blocks)))
    _, mem = min(options, key=lambda o: o[0])
    return Cost(lut=mem.lut, ff=mem.ff, bram36=mem.bram36, memory=(mem,))


def _split(blocks: float) -> list[float]:
    """A BRAM36 count as its blocks: 1.0 per RAMB36, 0.5 for a RAMB18."""
    whole = int(blocks)
    return [1.0] * whole + ([0.5] if blocks - whole else [])


def dsp_per_multiplier(a_bits: int, b_bits: int) -> int:
    """DSP48E1 slices of one signed ``a_bits`` x ``b_bits`` multiply under yosys' mul2dsp: 0 when it stays in
    LUTs (an operand below 2 bits, or ``a_bits + b_bits`` below 10: in the calibration 5 x 4 and 5 x 3 stay in
    LUTs, 5 x 5 takes a DSP), else one per 25 x 18 piece."""
    a, b = max(a_bits, b_bits), min(a_bits, b_bits)
    if b < 2 or a + b < 10:
        return 0
    return math.ceil((a - 1) / 24) * math.ceil((b - 1) / 17)


def multipliers(count: int, a_bits: int, b_bits: int) -> Cost:
    """``count`` signed ``a_bits`` x ``b_bits`` multipliers: DSP slices (see :func:`dsp_per_multiplier`), or, when
    yosys keeps them in logic, about one LUT per partial-product bit (a x b)."""
    per = dsp_per_multiplier(a_bits, b_bits)
    if per:
        return Cost(dsp=float(count * per))
    return logic(lut=count * a_bits * b_bits)


#: fitted to yosys over scripts/calibrate_cost.py's dsp2 configurations: LUTs and flip-flops per bit of a packed
#: pair's split (the S-bit correction adder; the low and high product registers, and the M register, which yosys
#: keeps in flip-flops when the product feeds the split)
_SPLIT_LUT, _SPLIT_FF = 1.09, 3.1
#: fitted to yosys over the lut configurations: LUTs per adder bit of accel_mul.v's LUT multiplier (the digit
#: sums with their partial-product selection, and the sum of the digits) less a constant per multiplier (ABC
#: folds a small multiplier's digits into fewer LUTs), flip-flops per register bit
_LUTMUL_LUT, _LUTMUL_LUT0, _LUTMUL_FF = 1.23, 10.0, 1.05


def packed_split(pairs: int, shift: int) -> Cost:
    """The logic of ``pairs`` packed DSP48E1 pairs beyond their multiplies (accel_mul.v STYLE 1): per pair an
    S-bit adder (the high product plus the low product's sign) and the registers of both products.  (An odd PE's
    unpacked channel takes two stages too: the DSP48E1's M and P registers, no logic.)"""
    bits = pairs * shift
    return logic(lut=_SPLIT_LUT * bits, ff=_SPLIT_FF * bits)


def lut_multipliers(count: int, x_bits: int, w_bits: int) -> Cost:
    """``count`` LUT multipliers of an ``x_bits`` activation by a ``w_bits`` weight (accel_mul.v STYLE 2): ceil(W/2)
    digit sums of x and 2x (x_bits + 3 bits each, registered), then their shifted sum (a chain of adders of the
    product's width, registered); LUTs in proportion to those adder bits (at least half of them), flip-flops to
    the register bits."""
    digits = (w_bits + 1) // 2
    product = x_bits + w_bits + 2
    adder_bits = digits * (x_bits + 3) + (digits - 1) * product
    reg_bits = digits * (x_bits + 3) + product
    per = max(_LUTMUL_LUT * adder_bits - _LUTMUL_LUT0, 0.5 * adder_bits)
    return logic(lut=count * per, ff=_LUTMUL_FF * count * reg_bits)
