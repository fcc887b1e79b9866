"""accel_gap: global average pooling (H, W, C) -> (1, 1, C), round(sum / (H*W)) exactly into the output type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks._common import check_frame, check_type, pool_core_cost
from accel.rtl.blocks.average_plan import AveragePlan, average_queue_cost, plan_average
from accel.rtl.blocks.avgpool import AvgPool
from accel.rtl.blocks.base import Block, Child, Port
from accel.rtl.blocks.cost import Cost


@dataclass(frozen=True)
class GlobalAvgPool(Block):
    """One ``accel_gap``: the average over all ``height*width`` pixels of each channel, exact for any count."""

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    in_type: FixedType
    out_type: FixedType
    rounding: Rounding = Rounding.ROUND_HALF_EVEN
    overflow: Overflow = Overflow.SATURATE
    relu: bool = False

    module = "accel_gap"
    resource_class = "pool"
    children = (Child("pool", "accel_avgpool"), Child("pool.core", "accel_pool_core"))
    sources = (*AvgPool.sources, "accel_gap")

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return 1, 1, self.channels

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_type(self.name, "input type", self.in_type)
        check_type(self.name, "output type", self.out_type, max_width=30)

    def plan(self) -> AveragePlan:
        self.validate()
        return plan_average(self.name, self.height * self.width, self.in_type, self.out_type,
                            self.rounding, self.overflow, self.relu)

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes, self.in_type.width, self.in_type),),
                (Port("m_axis", self.out_shape, self.lanes, self.out_type.width, self.out_type),))

    def verilog_parameters(self) -> dict[str, int]:
        plan = self.plan()
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "DATA_W": self.in_type.width, "SIGNED": int(self.in_type.signed),
            **plan.verilog_parameters(),
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One input beat per cycle (the C/P output beats overlap the next frame's input)."""
        return self.height * self.width * self.channels // self.lanes

    def cost(self) -> Cost:
        """A pool core summing the whole frame per channel (as accel_avgpool's), one exact divider per lane, the
        result queue."""
        plan = self.plan()
        core = pool_core_cost(self.height, self.width, self.channels, self.lanes, (self.height, self.width), (0, 0),
                              (1, 1), plan.sum_w, summing=True)  # fmt: skip
        return core + plan.cost(self.lanes) + average_queue_cost(self.lanes, self.out_type.width)
