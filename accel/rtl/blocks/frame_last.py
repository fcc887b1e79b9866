"""accel_frame_last: the output TLAST of frame k is the input TLAST of frame k's last beat (accel_top's ports).

Why a block at the ports and not in every block: the network's blocks count beats and mark each of their frames'
last beat themselves, which is how they find frame boundaries; only accel_top's output must say what the source
asked for, so that a DMA sending a whole batch in one transfer (TLAST on the batch's last beat) gets it back as
one packet.  The generator places one instance between the ports and the network
(:func:`accel.rtl.top.top_verilog`) and counts it in the layer that produces the graph's output, whose stream it
hands to ``m_axis`` unchanged: build.json lists it there, the fit check and the report count its cost, and the
co-simulation monitors it like any instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, counter, logic, ram
from accel.rtl.params import check_positive

#: input frames whose TLAST flag can wait for their output frame before the input's last beat is held; far more
#: than a network holds in flight (the zoo's designs hold at most 3), so that the hold never paces a run
DEFAULT_DEPTH = 32


@dataclass(frozen=True)
class FrameLast(Block):
    """One ``accel_frame_last``: the input frame ``(in_shape, in_type, in_lanes)`` in ``in_bits``-bit TDATA (the
    port's, byte padded), the output frame likewise, ``depth`` TLAST flags queued at most."""

    name: str
    in_shape: tuple[int, int, int]
    in_type: FixedType
    in_lanes: int
    in_bits: int
    out_shape: tuple[int, int, int]
    out_type: FixedType
    out_lanes: int
    out_bits: int
    depth: int = DEFAULT_DEPTH

    module = "accel_frame_last"
    resource_class = "buffer"
    #: one output beat leaves per cycle the wire is high: the cycle model's unit of work
    progress = "out_fire"
    #: its input's TLAST is checked inside (TLAST on a beat that is not a frame's last sets ``tlast_err``); the
    #: network's output (``s_net_axis``) is watched like every block input
    tlast_unwatched = ("s_axis",)
    tlast_err_port = True

    @property
    def in_beats(self) -> int:
        h, w, c = self.in_shape
        return h * w * c // self.in_lanes

    @property
    def out_beats(self) -> int:
        h, w, c = self.out_shape
        return h * w * c // self.out_lanes

    def validate(self) -> None:
        for what, v in (("input lanes", self.in_lanes), ("output lanes", self.out_lanes),
                        ("input TDATA width", self.in_bits), ("output TDATA width", self.out_bits)):  # fmt: skip
            check_positive(self.name, what, v)
        check_positive(self.name, "input beats per frame", self.in_beats)
        check_positive(self.name, "output beats per frame", self.out_beats)
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 1:
            raise AccelError(f"{self.name}: TLAST flag queue depth is {self.depth!r}; it must be a positive integer.")

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        """In: the graph's input from outside (``s_axis``), the network's output (``s_net_axis``); out: the
        output to outside (``m_axis``, first: it carries the layer's tensor) and the network's input
        (``m_net_axis``)."""
        net_in = Port("s_axis", self.in_shape, self.in_lanes, self.in_type.width, self.in_type)
        net_out = Port("s_net_axis", self.out_shape, self.out_lanes, self.out_type.width, self.out_type)
        return ((net_in, net_out),
                (Port("m_axis", self.out_shape, self.out_lanes, self.out_type.width, self.out_type),
                 Port("m_net_axis", self.in_shape, self.in_lanes, self.in_type.width, self.in_type)))  # fmt: skip

    def verilog_parameters(self, directory: Path | None = None) -> dict[str, int]:
        self.validate()
        return {"IN_BEATS": self.in_beats, "DEPTH": self.depth, "IN_WIDTH": self.in_bits,
                "OUT_WIDTH": self.out_bits}  # fmt: skip

    def expected_cycles_per_frame(self) -> int:
        """One output beat per cycle (input beats pass in parallel, at the first layer's pace)."""
        return self.out_beats

    def cost(self) -> Cost:
        """The input beat counter, the ring of flags (flip-flops, or LUT-RAM when deep), its two addresses and
        fill count, the registered last-beat, empty and full flags, and the compares and holds around them
        (constants fitted to yosys on ``scripts/calibrate_cost.py``'s configurations: 40 to 60 LUTs, 25 to 38
        FFs)."""
        aw, cw = clog2(self.depth), clog2(self.depth + 1)
        flags = ram("flags", self.depth, 1, registered_read=False)
        return counter(self.in_beats) + flags + logic(lut=2 * aw + cw + 26, ff=2 * aw + cw + 7)
