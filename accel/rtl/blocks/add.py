"""accel_add: element-wise sum of two streams, each aligned to the finest fixed-point grid (residual join)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks._common import check_frame, check_type
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic, skid


@dataclass(frozen=True)
class Add(Block):
    """One ``accel_add``: ``a + b`` of two ``(height, width, channels)`` streams with ``lanes`` per beat.

    The output type is accel's add type (``FixedType.covering`` of the worst-case sum on the finer grid),
    so the hardware sum is exact and cannot overflow.  More operands: chain blocks; then ``out`` may give a
    narrower output type that the caller knows holds every sum (a partial sum typed by the range of the
    original operands it adds, which is tighter than the range of its input types).
    """

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    a_type: FixedType
    b_type: FixedType
    out: FixedType | None = None

    module = "accel_add"
    resource_class = "join"
    starved = "any_input"
    sources = ("accel_skid", "accel_add")

    @property
    def frac(self) -> int:
        return max(self.a_type.frac, self.b_type.frac)

    @property
    def shifts(self) -> tuple[int, int]:
        return self.frac - self.a_type.frac, self.frac - self.b_type.frac

    @property
    def widest_type(self) -> FixedType:
        """Same rule as the ``add`` op's type inference (accel/ops/add.py): holds any sum of the input types."""
        sa, sb = self.shifts
        lo = (self.a_type.min_raw << sa) + (self.b_type.min_raw << sb)
        hi = (self.a_type.max_raw << sa) + (self.b_type.max_raw << sb)
        return FixedType.covering(lo, hi, self.frac, signed=self.a_type.signed or self.b_type.signed)

    @property
    def out_type(self) -> FixedType:
        return self.out if self.out is not None else self.widest_type

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_type(self.name, "input 0 type", self.a_type)
        check_type(self.name, "input 1 type", self.b_type)
        check_type(self.name, "output type", self.out_type)
        wide = self.widest_type
        if self.out is not None and (self.out.frac != wide.frac or self.out.signed != wide.signed
                                     or self.out.width > wide.width):  # fmt: skip
            raise AccelError(f"{self.name}: output type {self.out.hls} is not a narrowing of {wide.hls} on the "
                             "same grid; supported are types the caller knows to hold every sum.")  # fmt: skip

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s0_axis", shape, self.lanes, self.a_type.width, self.a_type),
                 Port("s1_axis", shape, self.lanes, self.b_type.width, self.b_type)),
                (Port("m_axis", shape, self.lanes, self.out_type.width, self.out_type),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        sa, sb = self.shifts
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "A_W": self.a_type.width, "A_SIGNED": int(self.a_type.signed), "A_SHIFT": sa,
            "B_W": self.b_type.width, "B_SIGNED": int(self.b_type.signed), "B_SHIFT": sb,
            "OUT_W": self.out_type.width,
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat of each input per cycle."""
        return self.height * self.width * self.channels // self.lanes

    def cost(self) -> Cost:
        """Per lane an adder of the aligned operands (a carry chain: fewer LUTs than bits, fitted 0.75 per output
        bit); the output register and the beat counter."""
        nw = clog2(self.expected_cycles_per_frame() + 1)
        data = self.lanes * self.out_type.width
        return logic(lut=0.75 * data + nw + 6, ff=data + nw + 2) + skid(data)
