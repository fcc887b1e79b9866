"""accel_frame_last: the output TLAST of frame k is the input TLAST of frame k's last beat (accel_top's shell).

Why a block at the top and not in every block: the network's blocks count beats and mark each of their frames'
last beat themselves, which is what they need to find frame boundaries; only accel_top's output must say what
the source asked for, so that a DMA sending a whole batch in one transfer (TLAST on the batch's last beat) gets
it back as one packet.  The generator (:func:`accel.rtl.top.top_verilog`) places one instance between the
ports and the network; it is not a layer's instance, so it is neither monitored nor in a layer's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel import AccelError
from accel.rtl.blocks.cost import Cost, clog2, counter, logic
from accel.rtl.params import check_positive

#: input frames whose TLAST flag can wait for their output frame before the input's last beat is held; more than
#: a network holds in flight, so that the hold never paces a run (it only guards against a queue overrun)
DEFAULT_DEPTH = 32
INSTANCE = "u_frame_last"


@dataclass(frozen=True)
class FrameLast:
    """One ``accel_frame_last``: ``in_beats`` beats per input frame, TDATA widths of the two ports, ``depth``
    flags queued at most."""

    name: str
    in_beats: int
    in_bits: int
    out_bits: int
    depth: int = DEFAULT_DEPTH

    module = "accel_frame_last"

    def validate(self) -> None:
        for what, v in (("input beats per frame", self.in_beats), ("input TDATA width", self.in_bits),
                        ("output TDATA width", self.out_bits)):  # fmt: skip
            check_positive(self.name, what, v)
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 1:
            raise AccelError(f"{self.name}: TLAST flag queue depth is {self.depth!r}; it must be a positive integer.")

    def verilog_parameters(self) -> dict[str, int]:
        self.validate()
        return {"IN_BEATS": self.in_beats, "DEPTH": self.depth, "IN_WIDTH": self.in_bits,
                "OUT_WIDTH": self.out_bits}  # fmt: skip

    def cost(self) -> Cost:
        """The input beat counter, the flag count, the flags (each a shift-or-load mux) and the two holds."""
        count_bits = clog2(self.depth + 1)
        return counter(self.in_beats) + logic(lut=self.depth + 2 * count_bits + 4, ff=self.depth + count_bits)
