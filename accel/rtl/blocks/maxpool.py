"""accel_maxpool: max pooling with window = stride; border padding (TensorFlow 'same') never wins."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks._common import check_frame, check_pair, check_type, pool_core_cost
from accel.rtl.blocks.base import Block, Child, Port
from accel.rtl.blocks.cost import Cost


@dataclass(frozen=True)
class MaxPool(Block):
    """One ``accel_maxpool``: input ``(height, width, channels)`` of ``dtype``, ``lanes`` per beat.

    Only non-overlapping windows (``stride == pool``) are supported: each input pixel then belongs to at
    most one window and a row buffer of partial maxima suffices.  ``pads`` is (top, bottom, left, right)
    and each must be smaller than the window, as TensorFlow's 'same' padding is for stride == pool.
    """

    name: str
    height: int
    width: int
    channels: int
    lanes: int
    dtype: FixedType
    pool: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    module = "accel_maxpool"
    resource_class = "pool"
    children = (Child("core", "accel_pool_core"),)
    sources = ("accel_skid", "accel_pool_core", "accel_maxpool")

    @property
    def out_shape(self) -> tuple[int, int, int]:
        pt, pb, pl, pr = self.pads
        ho = (self.height + pt + pb - self.pool[0]) // self.stride[0] + 1
        wo = (self.width + pl + pr - self.pool[1]) // self.stride[1] + 1
        return ho, wo, self.channels

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_type(self.name, "element type", self.dtype)
        ph, pw = check_pair(self.name, "pool", self.pool)
        check_pair(self.name, "stride", self.stride)
        if tuple(self.stride) != tuple(self.pool):
            raise AccelError(
                f"{self.name}: max pooling with pool {self.pool} and stride {self.stride} overlaps windows; "
                "the RTL pooling block supports stride equal to the pool size only."
            )
        if len(self.pads) != 4 or any(not isinstance(p, int) or p < 0 for p in self.pads):
            raise AccelError(f"{self.name}: pads {self.pads!r} must be four non-negative integers (t, b, l, r).")
        pt, pb, pl, pr = self.pads
        if max(pt, pb) >= ph or max(pl, pr) >= pw:
            raise AccelError(
                f"{self.name}: padding {self.pads} is not smaller than the pool {self.pool}; "
                "supported is padding below the window size on every side."
            )
        if self.height + pt + pb < ph or self.width + pl + pr < pw:
            raise AccelError(f"{self.name}: pool {self.pool} is larger than the padded input.")

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes, self.dtype.width, self.dtype),),
                (Port("m_axis", self.out_shape, self.lanes, self.dtype.width, self.dtype),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        ho, wo, _ = self.out_shape
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "DATA_W": self.dtype.width, "SIGNED": int(self.dtype.signed),
            "PH": self.pool[0], "PW": self.pool[1], "PT": self.pads[0], "PL": self.pads[2], "HO": ho, "WO": wo,
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """One input beat per cycle: the input side is the bottleneck."""
        return self.height * self.width * self.channels // self.lanes

    def cost(self) -> Cost:
        """The pool core (a maximum over DATA_W+1 bits per lane) and nothing else."""
        self.validate()
        ho, wo, _ = self.out_shape
        return pool_core_cost(self.height, self.width, self.channels, self.lanes, self.pool,
                              (self.pads[0], self.pads[2]), (ho, wo), self.dtype.width + 1)  # fmt: skip
