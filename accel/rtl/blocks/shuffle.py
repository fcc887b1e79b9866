"""accel_shuffle: ShuffleNet channel shuffle within each pixel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel.rtl.blocks._common import check_frame
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic
from accel.rtl.params import check_divides, check_width


@dataclass(frozen=True)
class ChannelShuffle(Block):
    """One ``accel_shuffle``: channel ``g*(C/groups) + i`` moves to ``i*groups + g``; elements only move."""

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    data_width: int
    groups: int

    module = "accel_shuffle"
    resource_class = "reorder"
    sources = ("accel_shuffle",)

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_width(self.name, "element width", self.data_width)
        check_divides(self.name, "shuffle groups", self.groups, "channels", self.channels)

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes, self.data_width),),
                (Port("m_axis", shape, self.lanes, self.data_width),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "DATA_W": self.data_width, "GROUPS": self.groups,
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle (two pixel buffers alternate)."""
        return self.height * self.width * self.channels // self.lanes

    def cost(self) -> Cost:
        """Two whole-pixel registers (C elements each, flip-flops); the output beat is a mux over the 2*C/P beats
        of both (about 0.37 LUT per input bit, fitted) plus the per-beat write enables."""
        cb = self.channels // self.lanes
        bits = 2 * clog2(cb + 1) + clog2(self.expected_cycles_per_frame() + 1)
        mux = 0.37 * self.lanes * self.data_width * 2 * cb
        return logic(lut=mux + 4.75 * cb + 20, ff=2 * self.channels * self.data_width + bits + 4)
