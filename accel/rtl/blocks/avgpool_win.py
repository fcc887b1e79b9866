"""accel_avgpool_win: average pooling with overlapping windows (stride smaller than the pool), exact."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks._common import check_frame, check_pair, check_type, pool_core_cost
from accel.rtl.blocks.average_plan import AveragePlan, average_queue_cost, plan_average
from accel.rtl.blocks.avgpool import AvgPool
from accel.rtl.blocks.base import Block, Child, Port
from accel.rtl.blocks.cost import Cost, logic, skid
from accel.rtl.blocks.window import Window


@dataclass(frozen=True)
class AvgPoolWindowed(Block):
    """One ``accel_avgpool_win``: part 1's ``accel_window`` (no padding) feeding an exact window average.

    Use it when ``stride != pool``; :class:`accel.rtl.blocks.avgpool.AvgPool` is the cheaper block when the
    windows do not overlap.
    """

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    in_type: FixedType
    out_type: FixedType
    pool: tuple[int, int]
    stride: tuple[int, int]
    rounding: Rounding = Rounding.ROUND_HALF_EVEN
    overflow: Overflow = Overflow.SATURATE
    relu: bool = False

    module = "accel_avgpool_win"
    resource_class = "pool"
    children = (Child("window", "accel_window"), Child("pool", "accel_avgpool"), Child("pool.core", "accel_pool_core"))
    sources = ("accel_window", *AvgPool.sources, "accel_avgpool_win")

    @property
    def window(self) -> Window:
        return Window(self.name, (self.height, self.width, self.channels), self.pool, self.stride, (0, 0, 0, 0),
                      self.lanes, self.in_type.width)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        ho, wo, _ = self.window.out_shape
        return ho, wo, self.channels

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_type(self.name, "input type", self.in_type)
        check_type(self.name, "output type", self.out_type, max_width=30)
        ph, pw = check_pair(self.name, "pool", self.pool)
        check_pair(self.name, "stride", self.stride)
        if ph > self.height or pw > self.width:
            raise AccelError(f"{self.name}: pool {self.pool} is larger than the input {self.height}x{self.width}.")
        self.window.validate()

    def plan(self) -> AveragePlan:
        self.validate()
        return plan_average(self.name, self.pool[0] * self.pool[1], self.in_type, self.out_type,
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
            "KH": self.pool[0], "KW": self.pool[1], "SH": self.stride[0], "SW": self.stride[1],
            **plan.verilog_parameters(),
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """The window generator is the bottleneck (one window beat per cycle into the averager)."""
        return self.window.expected_cycles_per_frame()

    def cost(self) -> Cost:
        """The window generator, a register stage, a pool core summing each window's KH*KW beats, the dividers,
        the result queue."""
        plan = self.plan()
        ho, wo, _ = self.out_shape
        kk = self.pool[0] * self.pool[1]
        core = pool_core_cost(ho * wo, kk, self.channels, self.lanes, (1, kk), (0, 0), (ho * wo, 1), plan.sum_w,
                              summing=True)
        stage = self.lanes * self.in_type.width  # the register stage after the window and its spare (accel_skid)
        return (self.window.cost() + logic(ff=stage + 2) + skid(stage) + core + plan.cost(self.lanes)
                + average_queue_cost(self.lanes, self.out_type.width))
