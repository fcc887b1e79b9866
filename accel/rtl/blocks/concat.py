"""accel_concat: channel concatenation of two streams in their union type (Inception, SqueezeNet)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel.fixed import FixedType, union
from accel.rtl.blocks._common import check_frame, check_type
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic, skid


@dataclass(frozen=True)
class Concat(Block):
    """One ``accel_concat``: ``(h, w, c0)`` and ``(h, w, c1)`` -> ``(h, w, c0 + c1)``, ``lanes`` per beat.

    Each operand is aligned (left shift) to the union type of both, exactly as the ``concat`` op.
    N operands: chain N-1 blocks, the first block's output feeding the next block's input 0.
    """

    name: str
    height: int
    width: int
    c0: int
    c1: int
    lanes: int
    a_type: FixedType
    b_type: FixedType

    module = "accel_concat"
    resource_class = "join"
    starved = "selected_input"
    sources = ("accel_skid", "accel_concat")

    @property
    def out_type(self) -> FixedType:
        return union(self.a_type, self.b_type)

    @property
    def shifts(self) -> tuple[int, int]:
        f = self.out_type.frac
        return f - self.a_type.frac, f - self.b_type.frac

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.c0, self.lanes)
        check_frame(self.name, self.height, self.width, self.c1, self.lanes)
        check_type(self.name, "input 0 type", self.a_type)
        check_type(self.name, "input 1 type", self.b_type)
        check_type(self.name, "output type", self.out_type)

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        h, w = self.height, self.width
        return ((Port("s0_axis", (h, w, self.c0), self.lanes, self.a_type.width, self.a_type),
                 Port("s1_axis", (h, w, self.c1), self.lanes, self.b_type.width, self.b_type)),
                (Port("m_axis", (h, w, self.c0 + self.c1), self.lanes, self.out_type.width, self.out_type),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        sa, sb = self.shifts
        return {
            "H": self.height, "W": self.width, "C0": self.c0, "C1": self.c1, "P": self.lanes,
            "A_W": self.a_type.width, "A_SIGNED": int(self.a_type.signed), "A_SHIFT": sa,
            "B_W": self.b_type.width, "B_SIGNED": int(self.b_type.signed), "B_SHIFT": sb,
            "OUT_W": self.out_type.width,
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One output beat per cycle."""
        return self.height * self.width * (self.c0 + self.c1) // self.lanes

    def cost(self) -> Cost:
        """Per lane a 2:1 mux of the aligned operands into the output register; beat and pixel counters."""
        bits = clog2(self.expected_cycles_per_frame() // (self.height * self.width) + 1)
        bits += clog2(self.height * self.width + 1)
        data = self.lanes * self.out_type.width
        return logic(lut=data + bits + 2, ff=data + bits + 2) + skid(data)
