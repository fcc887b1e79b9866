"""The block protocol: what every RTL block description declares about itself.

Why: the network generator (:mod:`accel.rtl.network`) must wire blocks without knowing any op, and the
co-simulation, report and package must learn everything about an instance from ``build.json`` without
reading generated Verilog.  So each block description (one frozen dataclass per library module, in
``accel/rtl/blocks/``) states:

* its **stream ports** (:meth:`Block.ports`): for each ``s*_axis`` / ``m_axis`` port the frame it carries
  ``(H, W, C)``, the lanes per beat, the element width and, where the block fixes it, the element type
  (``None``: the block passes any type of that width through, e.g. a FIFO);
* its Verilog **parameters** (:meth:`Block.verilog_parameters`) and the **files** it needs
  (:attr:`Block.sources` library modules, :meth:`Block.write_files` ROM images);
* its **cycle model** (:meth:`Block.expected_cycles_per_frame`) and **resource class**;
* its **cost** (:meth:`Block.cost`): estimated LUT / FF / DSP / BRAM36 and what each of its memories becomes, a
  closed formula of its own parameters (:mod:`accel.rtl.blocks.cost`), which the build's fit check sums;
* how to **monitor** it from outside (:attr:`Block.starved`, :attr:`Block.vector_output`) and the
  library blocks it instantiates inside itself (:attr:`Block.children`), so that the co-simulation can
  measure each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from accel.fixed import FixedType
from accel.rtl.blocks.cost import Cost

#: what "starved" (waiting for input) means when monitoring a block:
#: "input": s_axis_tready && !s_axis_tvalid; "any_input": some s*_axis_tvalid is low (joins reading all
#: inputs at once); "selected_input": the block's internal ``in_valid`` (the input it reads now) is low
STARVED_MODES = ("input", "any_input", "selected_input")
#: resource classes a block declares (what dominates its cost; used to group report rows)
RESOURCE_CLASSES = ("compute", "window", "pool", "requant", "join", "reorder", "buffer")


@dataclass(frozen=True)
class Port:
    """One AXI-Stream port of a block: the frame it carries and how it is packed."""

    name: str  # "s_axis", "s0_axis", "s1_axis", "m_axis"
    shape: tuple[int, int, int]  # (H, W, C) of one frame on this port
    lanes: int  # elements per beat
    width: int  # bits per element
    dtype: FixedType | None = None  # None: any type of ``width`` bits passes through unchanged

    @property
    def beats_per_frame(self) -> int:
        h, w, c = self.shape
        return h * w * c // self.lanes

    @property
    def bits(self) -> int:
        return self.lanes * self.width


@dataclass(frozen=True)
class Child:
    """A library block instantiated inside another one: hierarchical path below the instance, module."""

    path: str
    module: str
    starved: str = "input"


class Block:
    """Base of every block description (mixed into frozen dataclasses; subclasses set the class attributes)."""

    module: ClassVar[str]
    #: library modules the block's Verilog needs, dependencies first (default: just ``module``)
    sources: ClassVar[tuple[str, ...]] = ()
    resource_class: ClassVar[str] = "buffer"
    starved: ClassVar[str] = "input"
    #: True for a fork: ``m_axis_*`` are vectors, one stream per consumer
    vector_output: ClassVar[bool] = False
    #: an internal wire that is 1 on every cycle the block does one unit of the work its cycle model counts,
    #: for blocks that keep working while their output is held (an MVU accumulates the next output while the
    #: last one waits); the monitor then counts exactly those cycles as busy.  "" for other blocks.
    progress: ClassVar[str] = ""
    #: input ports whose TLAST the generator does not watch with ``accel_tlast_check`` (:mod:`accel.rtl.tlast`):
    #: a FIFO or fork hands TLAST on unchanged (the watch behind it sees it), ``accel_frame_last`` checks its
    #: input itself (``tlast_err_port``), where a DMA may leave frame ends unmarked.  Blocks that count beats
    #: ignore their input TLAST, so it is watched on every one of their inputs.
    tlast_unwatched: ClassVar[tuple[str, ...]] = ()
    #: the block has a sticky ``tlast_err`` output of its own (an input TLAST against its beat counter)
    tlast_err_port: ClassVar[bool] = False
    children: ClassVar[tuple[Child, ...]] = ()

    name: str

    @property
    def source_modules(self) -> tuple[str, ...]:
        return self.sources or (self.module,)

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        """(input ports, output ports)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare its ports")

    def verilog_parameters(self, directory: Path | None = None) -> dict:
        raise NotImplementedError

    def write_files(self, directory: Path) -> list[Path]:
        """Graph-dependent constants (ROM images); most blocks have none."""
        return []

    def expected_cycles_per_frame(self) -> int:
        raise NotImplementedError

    def mult_styles(self) -> tuple[str, ...]:
        """The multiplier styles (accel.rtl.blocks.cost.MULT_STYLES) this instance can be built with; () for a
        block whose products are not the folding optimiser's to choose."""
        return ()

    def cost(self) -> Cost:
        """Estimated resources of one instance (calibrated against yosys, see :mod:`accel.rtl.blocks.cost`)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare its cost")
