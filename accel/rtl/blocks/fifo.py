"""accel_fifo: stream FIFO (data + TLAST) between blocks; decouples and buffers skip paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic, ram
from accel.rtl.params import check_positive


@dataclass(frozen=True)
class Fifo(Block):
    """Parameters of one ``accel_fifo`` instance; ``beats_per_frame`` only feeds the cycle model."""

    name: str
    depth: int
    width: int
    beats_per_frame: int = 1
    lanes: int = 1  # elements per beat (``width`` = lanes * element width); only describes the ports

    module = "accel_fifo"
    tlast_unwatched = ("s_axis",)  # TLAST passes through unchanged
    resource_class = "buffer"

    def validate(self) -> None:
        check_positive(self.name, "FIFO depth", self.depth)
        if self.depth < 2:
            from accel import AccelError

            raise AccelError(f"{self.name}: FIFO depth {self.depth} is too small; supported depths are 2 and more.")
        check_positive(self.name, "FIFO width", self.width)
        check_positive(self.name, "beats per frame", self.beats_per_frame)

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        """Any frame passes through unchanged: ``lanes`` elements of ``width / lanes`` bits per beat."""
        shape = (1, 1, self.beats_per_frame * self.lanes)
        port = Port("s_axis", shape, self.lanes, self.width // self.lanes)
        return (port,), (Port("m_axis", shape, self.lanes, self.width // self.lanes),)

    def verilog_parameters(self) -> dict:
        self.validate()
        return {"DEPTH": self.depth, "WIDTH": self.width}

    def write_files(self, directory: Path) -> list[Path]:
        """The FIFO has no graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle in steady state."""
        return self.beats_per_frame

    def cost(self) -> Cost:
        """The queue (DEPTH words of WIDTH+1 bits with TLAST, registered read: LUT-RAM or block RAM) and two
        address counters, a fill count and their compares."""
        aw = clog2(self.depth)
        queue = ram("queue", self.depth, self.width + 1, registered_read=True)
        return queue + logic(lut=4 * aw + 8, ff=3 * aw + 2)
