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


def row_spans(h: int, kh: int, sh: int, pt: int, pb: int) -> list[tuple[int, int, int]]:
    """Per output row y of a frame, as accel_window.v schedules it: (rd, hi, nb) = the first input row it reads
    (``max(0, y*SH - PT)``), the rows below which it waits for (its window's rows, and at least up to the next
    row's first one; all ``H`` for the last row) and the rows released at its last beat (the next row's rd;
    ``H`` for the last row)."""
    ho = (h + pt + pb - kh) // sh + 1
    spans = []
    for y in range(ho):
        base = y * sh - pt
        nb = h if y == ho - 1 else max(0, base + sh)
        spans.append((max(0, base), max(nb, min(h, base + kh)) if y < ho - 1 else h, nb))
    return spans


def line_rows(h: int, kh: int, sh: int, pt: int, pb: int) -> int:
    """Rows of accel_window's line buffer (its ``NR``, the same rule as the Verilog's ``f_rows``): room for every
    row the next output row waits for, counted from the first row the current output row still holds, plus the
    row being written.

    With fewer rows (the least that works is ``KH + SH``) the writer stops while the reader still holds rows
    the next output row does not need, and the reader then waits for rows the writer could have written: the
    frame takes more than ``max(input beats, output beats)`` and, in a network, the layers around a window
    wait on it.  With these rows the writer can always run one output row ahead of the reader (across the
    frame boundary too: the last output row holds its rows down to the frame's end while the next frame's
    first rows arrive), so a window with a free-running input and output takes ``max(input beats, output
    beats)`` cycles per frame for all but a handful of odd shapes (7 of 4,687 random ones, where
    :func:`frame_ends` gives the few cycles more; checked against rtl_tests.common.window_schedule over random
    shapes and against co-simulation).  Cost: about one row more than ``KH + SH`` for a same-padded
    stride-1 window, a few rows more for valid windows that leave rows unused at the bottom.
    """
    spans = row_spans(h, kh, sh, pt, pb)
    ahead = [spans[y + 1][1] - rd if y + 1 < len(spans) else h + spans[0][1] - rd for y, (rd, _, _) in enumerate(spans)]
    return max(kh + sh, max(ahead) + 1)


def frame_ends(shape: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int],
               pads: tuple[int, int, int, int], lanes: int, frames: int, rows: int) -> list[int]:
    """The edge at which each of ``frames`` back-to-back frames' last window beat issues, with an input that is
    always valid and an output that is always ready (edge 0: the first input beat), row by row as
    accel_window.v's handshakes make it:

    * the writer takes one beat per cycle, ``W*C/P`` per input row, and may start global input row g only once
      fewer than ``rows`` complete rows are held (its ready changes at row ends), i.e. at the edge after the
      reader's release that brings the released total to ``g - rows + 1``;
    * output row y issues its ``WO*KH*KW*C/P`` beats back to back, from the edge after the writer completed
      the rows it waits for (:func:`row_spans`) and not before the previous row's last beat, and releases its
      rows at its last beat (seen by the writer at the next edge).
    """
    h, w, c = shape
    kh, kw = kernel
    sh, sw = stride
    pt, pb, pl, pr = pads
    cg = c // lanes
    spans = row_spans(h, kh, sh, pt, pb)
    row_in = w * cg
    row_out = ((w + pl + pr - kw) // sw + 1) * kh * kw * cg
    written: list[int] = []  # edge of the last beat of each global input row
    released: list[tuple[int, int]] = []  # (rows released in total, first edge the writer sees it) per output row
    seen = 0  # index into released of the first release the writer has not yet needed

    def complete(g: int) -> int:
        nonlocal seen
        while len(written) <= g:
            n = len(written)
            start = written[-1] + 1 if written else 0
            if n >= rows:  # wait for the release that leaves fewer than `rows` rows held
                while released[seen][0] < n - rows + 1:
                    seen += 1
                start = max(start, released[seen][1])
            written.append(start + row_in - 1)
        return written[g]

    ends, last = [], -1
    for f in range(frames):
        for _, hi, nb in spans:
            last = max(last + 1, complete(f * h + hi - 1) + 1) + row_out - 1
            released.append((f * h + nb, last + 1))
        ends.append(last)
    return ends


#: frames :meth:`Window.expected_cycles_per_frame` runs :func:`frame_ends` for before reading the interval
FRAMES_TO_STEADY = 8


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

    @property
    def rows(self) -> int:
        """Rows of the line buffer (:func:`line_rows`)."""
        return line_rows(self.shape[0], self.kernel[0], self.stride[0], self.pads[0], self.pads[1])

    def write_files(self, directory: Path) -> list[Path]:
        """No graph-dependent constants."""
        return []

    def expected_cycles_per_frame(self) -> int:
        """Steady-state cycles per frame with back-to-back frames, from :func:`frame_ends` (the interval between
        the last two of eight frames: the schedule is periodic from the second or third frame on).  With the
        line buffer's :func:`line_rows` this is ``max(input beats, output beats)`` for nearly every shape; the
        schedule also covers the few where it is not."""
        ends = frame_ends(self.shape, self.kernel, self.stride, self.pads, self.lanes, FRAMES_TO_STEADY, self.rows)
        return ends[-1] - ends[-2]

    def cost(self) -> Cost:
        """The line buffer (:attr:`rows` rows of W*C/P beats, registered read: LUT-RAM or block RAM) and the control:
        about fifteen counters/row registers of IW bits (loop counters, row/column of the beat, the incremental
        row bookkeeping and its per-row constants, looked up in a table on the output row) and six address
        registers of clog2(depth) bits (writer, read address, kernel-row/window/next-row starts); constants
        fitted to yosys over scripts/calibrate_cost.py's window configurations."""
        h, w, c = self.shape
        kh, kw = self.kernel
        sh, sw = self.stride
        cg = c // self.lanes
        nr = self.rows
        depth = nr * w * cg
        big = h + w + sum(self.pads) + kh + kw + sh + sw + nr + cg + 4
        iw = (big - 1).bit_length() + 2  # the Verilog's $clog2(BIG) + 2
        line = ram("line buffer", depth, self.lanes * self.width, registered_read=True)
        return line + logic(lut=9 * iw + 8 * clog2(depth) + 55, ff=20 * iw + 5 * clog2(depth) - 57)
