"""accel_maxpool_win: max pooling with overlapping windows (e.g. ResNet's 3x3/2 'same' after a ReLU)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel.fixed import FixedType
from accel.rtl.blocks._common import check_frame, check_pair, check_type, pool_core_cost
from accel.rtl.blocks.base import Block, Child, Port
from accel.rtl.blocks.cost import Cost, logic, skid
from accel.rtl.blocks.window import Window


@dataclass(frozen=True)
class MaxPoolWindowed(Block):
    """One ``accel_maxpool_win``: part 1's ``accel_window`` feeding a per-window maximum.

    The pool's own padding never wins (as in ``kernels.maxpool``): ``accel_window`` pads unsigned types with
    zeros, their smallest value, and signed types with their most negative value (``PAD_MIN``), unless
    ``zero_pads`` says the padding *is* zeros that may win (a ``ZeroPadding2D`` folded into the pool:
    TensorFlow pads with real zeros there).  Non-overlapping pooling is cheaper with
    :class:`accel.rtl.blocks.maxpool.MaxPool`.
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
    zero_pads: bool = False  # the padding is real zeros (a folded pad node), which may win

    module = "accel_maxpool_win"
    resource_class = "pool"
    children = (Child("window", "accel_window"), Child("pool", "accel_maxpool"), Child("pool.core", "accel_pool_core"))
    sources = ("accel_window", "accel_skid", "accel_pool_core", "accel_maxpool", "accel_maxpool_win")

    @property
    def window(self) -> Window:
        return Window(self.name, (self.height, self.width, self.channels), self.pool, self.stride, self.pads,
                      self.lanes, self.dtype.width)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        ho, wo, _ = self.window.out_shape
        return ho, wo, self.channels

    def validate(self) -> None:
        check_frame(self.name, self.height, self.width, self.channels, self.lanes)
        check_type(self.name, "element type", self.dtype)
        check_pair(self.name, "pool", self.pool)
        check_pair(self.name, "stride", self.stride)
        self.window.validate()

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        shape = (self.height, self.width, self.channels)
        return ((Port("s_axis", shape, self.lanes, self.dtype.width, self.dtype),),
                (Port("m_axis", self.out_shape, self.lanes, self.dtype.width, self.dtype),))

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        pt, pb, pl, pr = self.pads
        return {
            "H": self.height, "W": self.width, "C": self.channels, "P": self.lanes,
            "DATA_W": self.dtype.width, "SIGNED": int(self.dtype.signed),
            "KH": self.pool[0], "KW": self.pool[1], "SH": self.stride[0], "SW": self.stride[1],
            "PT": pt, "PB": pb, "PL": pl, "PR": pr, "ZERO_PADS": int(self.zero_pads),
        }

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """The window generator is the bottleneck."""
        return self.window.expected_cycles_per_frame()

    def cost(self) -> Cost:
        """The window generator, a register stage with its spare (accel_skid), then a pool core taking the
        maximum of each window's KH*KW beats."""
        ho, wo, _ = self.out_shape
        kk = self.pool[0] * self.pool[1]
        stage = self.lanes * self.dtype.width
        return (self.window.cost() + logic(ff=stage + 2) + skid(stage)
                + pool_core_cost(ho * wo, kk, self.channels, self.lanes, (1, kk), (0, 0), (ho * wo, 1),
                                 self.dtype.width + 1))  # fmt: skip
