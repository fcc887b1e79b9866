"""accel_requant: optional ReLU, then :func:`accel.fixed.quantize` per element (rounding, overflow)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic, skid
from accel.rtl.params import check_divides, check_positive, check_width

ROUNDING_CODE = {Rounding.TRUNCATE: 0, Rounding.ROUND_HALF_UP: 1, Rounding.ROUND_HALF_EVEN: 2}
OVERFLOW_CODE = {Overflow.WRAP: 0, Overflow.SATURATE: 1, Overflow.SATURATE_SYMMETRIC: 2}
#: largest |OUT_FRAC - IN_FRAC| the Verilog accepts
MAX_SHIFT = 64


@dataclass(frozen=True)
class Requant(Block):
    """One ``accel_requant`` instance: ``src`` -> ``dst`` on a ``(h, w, c)`` stream with ``lanes`` lanes."""

    name: str
    src: FixedType
    dst: FixedType
    rounding: Rounding
    overflow: Overflow
    relu: bool
    shape: tuple[int, int, int]
    lanes: int = 1

    module = "accel_requant"
    sources = ("accel_skid", "accel_requant")
    resource_class = "requant"
    #: busy on every beat taken: a pipeline of two stages behind a skid, it takes a beat on every cycle its output
    #: register can hold one, so idle and blocked cycles are its neighbours' (counted as busy, a refill after a gap
    #: made it look slower than one beat per cycle)
    progress = "take"

    def validate(self) -> None:
        check_width(self.name, "input width", self.src.width, self.src.signed, max_width=62)  # an accumulator
        check_width(self.name, "output width", self.dst.width, self.dst.signed)
        for what, v in zip(("height", "width", "channels"), self.shape, strict=True):
            check_positive(self.name, what, v)
        check_divides(self.name, "lanes", self.lanes, "channels", self.shape[2])
        if abs(self.dst.frac - self.src.frac) > MAX_SHIFT:
            raise AccelError(
                f"{self.name}: converting {self.src.hls} to {self.dst.hls} shifts by more than {MAX_SHIFT} bits, "
                "which the requantiser does not support."
            )
        if self.rounding not in ROUNDING_CODE or self.overflow not in OVERFLOW_CODE:
            raise AccelError(f"{self.name}: unsupported rounding/overflow {self.rounding}/{self.overflow}.")

    @property
    def beats_per_frame(self) -> int:
        h, w, c = self.shape
        return h * w * c // self.lanes

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        return ((Port("s_axis", self.shape, self.lanes, self.src.width, self.src),),
                (Port("m_axis", self.shape, self.lanes, self.dst.width, self.dst),))

    def verilog_parameters(self) -> dict:
        self.validate()
        return {
            "IN_WIDTH": self.src.width,
            "IN_SIGNED": int(self.src.signed),
            "IN_FRAC": self.src.frac,
            "OUT_WIDTH": self.dst.width,
            "OUT_SIGNED": int(self.dst.signed),
            "OUT_FRAC": self.dst.frac,
            "ROUNDING": ROUNDING_CODE[self.rounding],
            "OVERFLOW": OVERFLOW_CODE[self.overflow],
            "RELU": int(self.relu),
            "LANES": self.lanes,
            "BEATS": self.beats_per_frame,
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle."""
        return self.beats_per_frame

    def cost(self) -> Cost:
        """Per lane: extension to IN+|shift|+3 bits, the rounding add and the saturation compare (about 0.6 LUT
        per working bit); the stage-1 register of the value on the output grid (the bits that are not constant
        zeros or copies: the input's width less the bits a right shift drops, plus the rounding carry), the
        output register and the beat counter."""
        ww = self.src.width + abs(self.dst.frac - self.src.frac) + 3
        kept = self.src.width - max(0, self.src.frac - self.dst.frac) + 1
        bw = clog2(self.beats_per_frame)
        return (logic(lut=0.6 * ww * self.lanes + bw + 5, ff=self.lanes * (self.dst.width + kept) + bw + 4)
                + skid(self.lanes * self.dst.width))
