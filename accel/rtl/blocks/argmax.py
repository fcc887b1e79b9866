"""accel_argmax: the index of each pixel's largest channel, (H, W, C) -> (H, W, 1), one element per cycle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks._common import check_frame, check_type
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, counter, logic, skid


@dataclass(frozen=True)
class ArgMax(Block):
    """One ``accel_argmax``: each pixel's ``channels`` elements (``lanes`` per beat) scanned one per cycle; the
    index of the first largest as ``out_type`` (an unsigned integer of ``max(1, ceil(log2 channels))`` bits)."""

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    in_type: FixedType
    out_type: FixedType

    module = "accel_argmax"
    resource_class = "pool"
    sources = ("accel_skid", "accel_argmax")

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        # it reads logits, often a conv's exact accumulator (wider than 32 bits with float-scaled weights)
        check_type(self.name, "input type", self.in_type, max_width=62)
        t = self.out_type
        if t.signed or t.frac != 0 or (1 << t.width) < self.channels:
            raise AccelError(f"{self.name}: output type {t.hls} cannot hold a channel index below {self.channels}; "
                             "it must be an unsigned integer type (ap_ufixed<k,k>) of enough bits.")  # fmt: skip

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.height, self.width, 1

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes, self.in_type.width, self.in_type),),
                (Port("m_axis", self.out_shape, 1, self.out_type.width, self.out_type),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes, "DATA_W": self.in_type.width,
            "SIGNED": int(self.in_type.signed), "IDX_W": self.out_type.width,
        }  # fmt: skip

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One element per cycle, whatever the lanes: a beat of P elements takes P cycles."""
        return self.height * self.width * self.channels

    def cost(self) -> Cost:
        """The beat's shift register (a load-or-shift select per bit), the running maximum and its index, one
        compare of DATA_W + 1 bits, the lane, index and pixel counters, and the output skid.  Against yosys
        (synth_xilinx): LUT and FF within 20 % on 10 logits of 16 bits (1 and 2 lanes), 4x4x64 u8 (8 lanes) and
        1,000 logits of 24 bits (4 lanes); a 5-lane, 13-bit case maps to 254 LUTs against 105 estimated (not
        understood; the block is small beside any layer)."""
        d, k = self.in_type.width, self.out_type.width
        regs = self.lanes * d + (d + 1) + k
        counters = counter(self.lanes + 1) + counter(self.channels) + counter(self.height * self.width + 1)
        return logic(lut=self.lanes * d + 1.5 * (d + 1) + k + 4, ff=regs + 1) + counters + skid(k) + logic(ff=k + 2)
