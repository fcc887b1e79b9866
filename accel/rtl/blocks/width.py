"""accel_width: stream width converter between lane counts (e.g. a DMA-wide input to a narrow layer)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from accel.rtl.blocks._common import check_frame
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, logic
from accel.rtl.params import check_divides, check_width


@dataclass(frozen=True)
class WidthConverter(Block):
    """One ``accel_width``: ``lanes_in`` elements per input beat -> ``lanes_out`` per output beat, order kept."""

    name: str
    height: int
    width: int
    channels: int
    data_width: int
    lanes_in: int
    lanes_out: int

    module = "accel_width"
    resource_class = "reorder"
    sources = ("accel_width",)

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes_in)
        check_divides(self.name, "output lanes", self.lanes_out, "channels", self.channels)
        check_width(self.name, "element width", self.data_width)

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes_in, self.data_width),),
                (Port("m_axis", shape, self.lanes_out, self.data_width),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {
            "H": self.height, "W": self.width, "C": self.channels, "DATA_W": self.data_width,
            "P_IN": self.lanes_in, "P_OUT": self.lanes_out,
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle on the side with more beats (the narrower one)."""
        return self.height * self.width * self.channels // min(self.lanes_in, self.lanes_out)

    def group(self) -> int:
        """Elements the converter moves as one group: lcm(P_IN, P_OUT) (divides C, so a group is one pixel's)."""
        return self.lanes_in // math.gcd(self.lanes_in, self.lanes_out) * self.lanes_out

    def cost(self) -> Cost:
        """Two group registers of lcm(P_IN, P_OUT) elements (gather and scatter), every bit a 2-3 input mux
        (about one LUT per group bit, fitted), the beat counters of both sides and the frame's output beat
        counter (fitted: 16 LUTs of control plus one per frame-counter bit)."""
        bits = self.group() * self.data_width
        kiw = (self.group() // self.lanes_in).bit_length()  # $clog2(KI + 1)
        kow = (self.group() // self.lanes_out).bit_length()
        nw = (self.height * self.width * self.channels // self.lanes_out).bit_length()
        return logic(lut=bits + 16 + nw, ff=2 * bits + kiw + kow + nw + 3)
