"""accel_fork: broadcast of one stream to several consumers (a tensor read by more than one node)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.rtl.params import check_positive


@dataclass(frozen=True)
class Fork:
    """One ``accel_fork``: a ``width``-bit stream offered to ``outputs`` consumers; ``beats_per_frame`` for cycles."""

    name: str
    width: int
    outputs: int
    beats_per_frame: int = 1

    module = "accel_fork"
    sources = ("accel_fork",)

    def validate(self) -> None:
        check_positive(self.name, "fork width", self.width)
        check_positive(self.name, "beats per frame", self.beats_per_frame)
        if not isinstance(self.outputs, int) or self.outputs < 2:
            raise AccelError(f"{self.name}: a fork needs 2 or more outputs, got {self.outputs!r}.")

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {"WIDTH": self.width, "N": self.outputs}

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle when every consumer is ready (the fork stores nothing)."""
        return self.beats_per_frame
