"""accel_pad: zero padding as a block of its own, for the pads that cannot be folded into a reader's window."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.rtl.blocks._common import check_frame
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, counter, logic, skid
from accel.rtl.params import check_width


@dataclass(frozen=True)
class Pad(Block):
    """One ``accel_pad``: ``(h, w, c)`` -> ``(pt + h + pb, pl + w + pr, c)`` with zeros on the border.

    Used when a ``pad`` node cannot be folded into the window of its reader (several readers, a reader without a
    window, padding that reaches the reader's kernel, a signed max pool that pads itself as well).
    """

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    data_width: int
    pads: tuple[int, int, int, int]

    module = "accel_pad"
    resource_class = "reorder"
    sources = ("accel_skid", "accel_pad")

    @property
    def out_shape(self) -> tuple[int, int, int]:
        pt, pb, pl, pr = self.pads
        return self.height + pt + pb, self.width + pl + pr, self.channels

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_width(self.name, "element width", self.data_width)
        if len(self.pads) != 4 or any(not isinstance(p, int) or p < 0 for p in self.pads):
            raise AccelError(f"{self.name}: pads {self.pads} must be four whole numbers >= 0 (top, bottom, left, "
                             "right).")  # fmt: skip

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes, self.data_width),),
                (Port("m_axis", self.out_shape, self.lanes, self.data_width),))  # fmt: skip

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        pt, pb, pl, pr = self.pads
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes, "DATA_W": self.data_width,
            "PT": pt, "PB": pb, "PL": pl, "PR": pr,
        }  # fmt: skip

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One output beat per cycle, border beats made without waiting for the input."""
        ho, wo, c = self.out_shape
        return ho * wo * c // self.lanes

    def cost(self) -> Cost:
        """The beat, column and row counters with their inside flags and compares, the zero select, the skid."""
        ho, wo, c = self.out_shape
        bits = self.lanes * self.data_width
        counters = counter(c // self.lanes) + counter(wo) + counter(ho)
        compares = logic(lut=2.0 * (wo.bit_length() + ho.bit_length()) / 3 + 7, ff=5)
        return counters + compares + logic(lut=bits, ff=bits) + skid(bits)
