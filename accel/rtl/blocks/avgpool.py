"""accel_avgpool: average pooling with window = stride, round(sum / (ph*pw)) exactly into the output type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.rtl.blocks._common import check_frame, check_pair, check_type, pool_core_cost
from accel.rtl.blocks.average_plan import AveragePlan, average_queue_cost, plan_average
from accel.rtl.blocks.base import Block, Child, Port
from accel.rtl.blocks.cost import Cost


@dataclass(frozen=True)
class AvgPool(Block):
    """One ``accel_avgpool``: ``(height, width, channels)`` of ``in_type`` -> ``out_type``, ``lanes`` per beat.

    Non-overlapping windows only (``stride == pool``), no padding (accel's avgpool op has none); rows and
    columns beyond the last whole window are dropped, as 'valid' pooling does.  The division by the
    window size is exact for every possible window sum (see :mod:`accel.rtl.blocks.average_plan`).
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

    module = "accel_avgpool"
    resource_class = "pool"
    children = (Child("core", "accel_pool_core"),)
    sources = ("accel_skid", "accel_pool_core", "accel_avg_div", "accel_fifo", "accel_result_queue", "accel_avgpool")

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.height // self.pool[0], self.width // self.pool[1], self.channels

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_type(self.name, "input type", self.in_type)
        check_type(self.name, "output type", self.out_type, max_width=30)
        ph, pw = check_pair(self.name, "pool", self.pool)
        check_pair(self.name, "stride", self.stride)
        if tuple(self.stride) != tuple(self.pool):
            raise AccelError(
                f"{self.name}: average pooling with pool {self.pool} and stride {self.stride} overlaps windows; "
                "the RTL pooling block supports stride equal to the pool size only."
            )
        if ph > self.height or pw > self.width:
            raise AccelError(f"{self.name}: pool {self.pool} is larger than the input {self.height}x{self.width}.")
        if not isinstance(self.rounding, Rounding) or not isinstance(self.overflow, Overflow):
            raise AccelError(f"{self.name}: rounding and overflow must be accel.fixed.Rounding / Overflow members.")

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
        ho, wo, _ = self.out_shape
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "DATA_W": self.in_type.width, "SIGNED": int(self.in_type.signed),
            "PH": self.pool[0], "PW": self.pool[1], "HO": ho, "WO": wo,
            **plan.verilog_parameters(),
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants (the divider constants are parameters)."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One input beat per cycle."""
        return self.height * self.width * self.channels // self.lanes

    def cost(self) -> Cost:
        """The pool core (window sums of SUM_W bits), one exact divider per lane and the result queue."""
        plan = self.plan()
        ho, wo, _ = self.out_shape
        core = pool_core_cost(self.height, self.width, self.channels, self.lanes, self.pool, (0, 0), (ho, wo),
                              plan.sum_w, summing=True)  # fmt: skip
        return core + plan.cost(self.lanes) + average_queue_cost(self.lanes, self.out_type.width)
