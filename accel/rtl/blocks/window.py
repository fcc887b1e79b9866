"""accel_window: sliding-window generator (line buffer), the im2col in hardware.

Output stream: ``(Ho, Wo, kh*kw*C)`` with the input's lanes P, elements of each window in
``(ky, kx, c)`` order = ``accel.kernels.windows(x).reshape(N, Ho, Wo, kh*kw*C)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel import AccelError
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic, ram
from accel.rtl.params import check_divides, check_nonnegative, check_positive, check_width


@dataclass(frozen=True)
class Window(Block):
    """One ``accel_window`` instance on a ``(h, w, c)`` input with ``lanes`` channels per beat."""

    name: str
    shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    lanes: int
    width: int  # element width in bits

    module = "accel_window"
    resource_class = "window"

    def validate(self) -> None:
        h, w, c = self.shape
        for what, v in (("height", h), ("width", w), ("channels", c), ("kernel height", self.kernel[0]),
                        ("kernel width", self.kernel[1]), ("vertical stride", self.stride[0]),
                        ("horizontal stride", self.stride[1])):
            check_positive(self.name, what, v)
        for what, v in zip(("top pad", "bottom pad", "left pad", "right pad"), self.pads, strict=True):
            check_nonnegative(self.name, what, v)
        check_divides(self.name, "lanes", self.lanes, "channels", c)
        check_width(self.name, "element width", self.width)
        kh, kw = self.kernel
        pt, pb, pl, pr = self.pads
        if max(pt, pb) >= kh or max(pl, pr) >= kw:
            raise AccelError(
                f"{self.name}: pads {self.pads} are not all smaller than the kernel {self.kernel}; "
                "supported paddings are below the kernel size (same/valid)."
            )
        if h + pt + pb < kh or w + pl + pr < kw:
            raise AccelError(f"{self.name}: kernel {self.kernel} is larger than the padded input {self.shape[:2]}.")

    @property
    def out_shape(self) -> tuple[int, int, int]:
        h, w, c = self.shape
        kh, kw = self.kernel
        pt, pb, pl, pr = self.pads
        return (h + pt + pb - kh) // self.stride[0] + 1, (w + pl + pr - kw) // self.stride[1] + 1, kh * kw * c

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        return ((Port("s_axis", self.shape, self.lanes, self.width),),
                (Port("m_axis", self.out_shape, self.lanes, self.width),))

    def verilog_parameters(self) -> dict:
        self.validate()
        h, w, c = self.shape
        pt, pb, pl, pr = self.pads
        return {"KH": self.kernel[0], "KW": self.kernel[1], "SH": self.stride[0], "SW": self.stride[1],
                "PT": pt, "PB": pb, "PL": pl, "PR": pr, "H": h, "W": w, "C": c, "P": self.lanes, "DW": self.width}

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """Steady-state cycles per frame with back-to-back frames.

        Writer and reader each move one beat per cycle concurrently, so a frame takes the larger of
        the input and output beat counts, plus the frame-boundary bubble: the line buffer holds
        ``kh + sh`` rows, of which the last output row of frame f still holds ``held`` rows, so only
        ``kh + sh - held`` rows of frame f+1 can be written before it ends; the first output row of
        frame f+1 needs ``need0`` rows, and the missing rows are written while the reader waits.
        """
        h, w, c = self.shape
        kh, _ = self.kernel
        sh = self.stride[0]
        pt = self.pads[0]
        ho, wo, cw = self.out_shape
        cg = c // self.lanes
        in_beats, out_beats = h * w * cg, ho * wo * cw // self.lanes
        held = h - max(0, (ho - 1) * sh - pt)
        need0 = h if ho == 1 else max(min(h, kh - pt), max(0, sh - pt))
        stall_rows = max(0, need0 - (kh + sh - held))
        return max(in_beats, out_beats + stall_rows * w * cg)

    def cost(self) -> Cost:
        """The line buffer (KH+SH rows of W*C/P beats, registered read: LUT-RAM or block RAM) and the control:
        about fifteen counters/row registers of IW bits (loop counters, row/column of the beat, the incremental
        row bookkeeping and its per-row constants, looked up in a table on the output row) and six address
        registers of clog2(depth) bits (writer, read address, kernel-row/window/next-row starts); constants
        fitted to yosys over scripts/calibrate_cost.py's window configurations."""
        h, w, c = self.shape
        kh, kw = self.kernel
        sh, sw = self.stride
        cg = c // self.lanes
        nr = kh + sh
        depth = nr * w * cg
        big = h + w + sum(self.pads) + kh + kw + sh + sw + nr + cg + 4
        iw = (big - 1).bit_length() + 2  # the Verilog's $clog2(BIG) + 2
        line = ram("line buffer", depth, self.lanes * self.width, registered_read=True)
        return line + logic(lut=9 * iw + 8 * clog2(depth) + 55, ff=20 * iw + 5 * clog2(depth) - 57)
