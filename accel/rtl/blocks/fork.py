"""accel_fork: broadcast of one stream to several consumers (a tensor read by more than one node)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, logic, skid
from accel.rtl.params import check_positive


@dataclass(frozen=True)
class Fork(Block):
    """One ``accel_fork``: a ``width``-bit stream offered to ``outputs`` consumers; ``beats_per_frame`` for cycles."""

    name: str
    width: int
    outputs: int
    beats_per_frame: int = 1
    lanes: int = 1  # elements per beat (``width`` = lanes * element width); only describes the ports

    module = "accel_fork"
    tlast_unwatched = ("s_axis",)  # TLAST passes through unchanged
    resource_class = "buffer"
    vector_output = True
    sources = ("accel_skid", "accel_fork")

    def validate(self) -> None:
        check_positive(self.name, "fork width", self.width)
        check_positive(self.name, "beats per frame", self.beats_per_frame)
        if not isinstance(self.outputs, int) or self.outputs < 2:
            raise AccelError(f"{self.name}: a fork needs 2 or more outputs, got {self.outputs!r}.")

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        """One input, ``outputs`` copies (the m_axis_* vectors), ``lanes`` elements per beat."""
        shape = (1, 1, self.beats_per_frame * self.lanes)
        elem = self.width // self.lanes
        return ((Port("s_axis", shape, self.lanes, elem),),
                tuple(Port("m_axis", shape, self.lanes, elem) for _ in range(self.outputs)))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {"WIDTH": self.width, "N": self.outputs}

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle when every consumer is ready (the beat waits in one register stage)."""
        return self.beats_per_frame

    def cost(self) -> Cost:
        """One "taken" flag per consumer and the handshake logic; the beat's register and its spare
        (accel_skid, TLAST included)."""
        return logic(lut=3 * self.outputs + 1, ff=self.outputs + self.width + 1) + skid(self.width)
