"""accel_upsample: nearest-neighbour upsampling by integer factors, or zero insertion (``zero``).

Why one block for both: zero insertion (the first step of a transposed convolution) streams the same
replay of each buffered input row as nearest upsampling, with every repeat but the first replaced by zeros
and no zeros after a row's last pixel or a frame's last row; the Verilog's ``ZERO`` parameter switches the
data mux and the two row/frame ends, everything else is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel.rtl.blocks._common import check_frame, check_pair
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, logic, ram
from accel.rtl.params import check_width


@dataclass(frozen=True)
class Upsample(Block):
    """One ``accel_upsample``: ``(h, w, c)`` -> ``(h*fh, w*fw, c)``, each pixel repeated, or with ``zero``
    ``((h-1)*fh+1, (w-1)*fw+1, c)``, zeros between the pixels; elements only copied (or zeroed)."""

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    data_width: int
    factor: tuple[int, int]
    zero: bool = False

    module = "accel_upsample"
    resource_class = "reorder"
    sources = ("accel_upsample",)

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_width(self.name, "element width", self.data_width)
        check_pair(self.name, "upsampling factor", self.factor)

    def out_hw(self) -> tuple[int, int]:
        """The output frame's (rows, cols)."""
        fh, fw = self.factor
        if self.zero:
            return (self.height - 1) * fh + 1, (self.width - 1) * fw + 1
        return self.height * fh, self.width * fw

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        out = (*self.out_hw(), self.channels)
        return ((Port("s_axis", shape, self.lanes, self.data_width),),
                (Port("m_axis", out, self.lanes, self.data_width),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "DATA_W": self.data_width, "FH": self.factor[0], "FW": self.factor[1], "ZERO": int(self.zero),
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One output beat per cycle; rows are read in while the previous row is replayed (a replay is never
        shorter than the row's input, so the output never waits for the input once it runs)."""
        ho, wo = self.out_hw()
        return ho * wo * self.channels // self.lanes

    def cost(self) -> Cost:
        """Two row banks of W*C/P beats read combinationally (LUT-RAM) and the address / repeat counters; zero
        insertion adds the zeroing of the output data (one LUT per output bit, an AND with the repeat counters'
        zero test; yosys on scripts/calibrate_cost.py's two zi_ configurations: 127 and 330 LUT, model 130.5 and
        324.5)."""
        fh, fw = self.factor
        rb = self.width * self.channels // self.lanes
        aw = (2 * rb).bit_length()  # $clog2(2*RB + 1)
        bits = 2 * aw + sum(n.bit_length() for n in (self.channels // self.lanes, self.width, self.height, fh, fw))
        banks = ram("row banks", 2 * rb, self.lanes * self.data_width, registered_read=False)
        zeroing = logic(lut=self.lanes * self.data_width + 2) if self.zero else logic()
        return banks + logic(lut=7.5 * aw, ff=bits + 5) + zeroing
