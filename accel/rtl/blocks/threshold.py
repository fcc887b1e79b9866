"""accel_threshold: per element, ``levels[number of thresholds <= x]`` (accel's ``threshold`` op), one table for
every element or one per channel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, clog2, logic, rom_luts, skid
from accel.rtl.params import check_divides, check_positive, check_width, mem_hex, pack_lanes


@dataclass(frozen=True, eq=False)
class Threshold(Block):
    """One ``accel_threshold`` instance: ``src`` -> ``dst`` on a ``(h, w, c)`` stream with ``lanes`` lanes.

    ``thresholds`` are non-decreasing raw values of ``src``; ``levels`` (one more) raw values of ``dst``: 1-D (one
    table) or 2-D with one row per channel (``(c, T)`` and ``(c, T + 1)``; the module's GROUPS = c / lanes).
    Both go into ``$readmemh`` images (:meth:`write_files`): a word per value, or per-channel a word per group."""

    name: str
    src: FixedType
    dst: FixedType
    thresholds: np.ndarray
    levels: np.ndarray
    shape: tuple[int, int, int]
    lanes: int = 1

    module = "accel_threshold"
    sources = ("accel_skid", "accel_threshold")
    resource_class = "requant"
    #: a two-stage pipeline behind a skid, as accel_requant: it takes a beat on every cycle its output can
    progress = "take"

    def validate(self) -> None:
        # it may read a conv's exact accumulator (a batch norm folded into it), as accel_requant does
        check_width(self.name, "input width", self.src.width, self.src.signed, max_width=62)
        check_width(self.name, "output width", self.dst.width, self.dst.signed)
        for what, v in zip(("height", "width", "channels"), self.shape, strict=True):
            check_positive(self.name, what, v)
        check_divides(self.name, "lanes", self.lanes, "channels", self.shape[2])
        thr, lvl = np.asarray(self.thresholds), np.asarray(self.levels)
        if thr.ndim == 2 and thr.shape[0] != self.shape[2]:
            raise AccelError(f"{self.name}: per-channel thresholds need one row per channel ({self.shape[2]}), got "
                             f"{thr.shape[0]}.")  # fmt: skip
        if thr.ndim not in (1, 2) or lvl.shape != (*thr.shape[:-1], thr.shape[-1] + 1) or thr.shape[-1] < 1 or \
                np.any(np.diff(thr, axis=-1) < 0):  # fmt: skip
            raise AccelError(f"{self.name}: needs non-decreasing thresholds and one level more than thresholds (one "
                             "table, or one row per channel).")  # fmt: skip

    @property
    def per_channel(self) -> bool:
        """One table per channel (2-D tables)."""
        return np.ndim(self.thresholds) == 2

    @property
    def n_thr(self) -> int:
        return int(np.shape(self.thresholds)[-1])

    @property
    def groups(self) -> int:
        """The module's GROUPS: beats per pixel with per-channel tables, 0 with one table."""
        return self.shape[2] // self.lanes if self.per_channel else 0

    @property
    def beats_per_frame(self) -> int:
        h, w, c = self.shape
        return h * w * c // self.lanes

    def ports(self) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
        return ((Port("s_axis", self.shape, self.lanes, self.src.width, self.src),),
                (Port("m_axis", self.shape, self.lanes, self.dst.width, self.dst),))

    def _files(self, directory: Path | None) -> tuple[Path, Path]:
        d = Path(directory) if directory is not None else Path(".")
        return d / f"{self.name}_thresholds.mem", d / f"{self.name}_levels.mem"

    def verilog_parameters(self, directory: Path | None = None) -> dict:
        self.validate()
        thr, lvl = self._files(directory)
        return {
            "IN_WIDTH": self.src.width, "IN_SIGNED": int(self.src.signed), "OUT_WIDTH": self.dst.width,
            "N_THR": self.n_thr, "LANES": self.lanes, "BEATS": self.beats_per_frame, "GROUPS": self.groups,
            "THR_FILE": str(thr), "LVL_FILE": str(lvl),
        }  # fmt: skip

    def write_files(self, directory: Path) -> list[Path]:
        """The thresholds and levels, one two's-complement word per line; per-channel tables one wide word per
        group of ``lanes`` channels (lane l's value k at bits ``[(l*K + k)*width +: width]``, K values per table)."""
        self.validate()
        Path(directory).mkdir(parents=True, exist_ok=True)
        thr, lvl = self._files(directory)
        thr.write_text(self._image(np.asarray(self.thresholds), self.src.width))
        lvl.write_text(self._image(np.asarray(self.levels), self.dst.width))
        return [thr, lvl]

    def _image(self, table: np.ndarray, width: int) -> str:
        if table.ndim == 1:
            return mem_hex([int(v) for v in table], width)
        rows = table.reshape(self.groups, -1)  # channel-major: group g holds channels g*lanes .. g*lanes+lanes-1
        return mem_hex([pack_lanes([int(v) for v in row], width) for row in rows], rows.shape[1] * width)

    def expected_cycles_per_frame(self) -> int:
        """One beat per cycle."""
        return self.beats_per_frame

    def cost(self) -> Cost:
        """One table: per lane, the comparators against constant, increasing thresholds and the count (yosys shares
        much of their logic: about 3 LUTs per threshold, whatever the input width), the level lookup (about 2.5
        LUTs per output bit); flip-flops for the count and twice the output width (yosys keeps the looked-up level
        besides the output register), the beat counter.  Fitted to scripts/calibrate_cost.py's thr_*
        configurations (power-of-two and sign levels; 1 to 61 thresholds, 9 to 24 input bits, 1 to 4 lanes): LUT
        0.80-1.04 of yosys, FF 0.99-1.15.  Per-channel tables: :meth:`_per_channel_cost`."""
        if self.per_channel:
            return self._per_channel_cost()
        n = self.n_thr
        per_lane = 3 * n + 2.5 * self.dst.width
        bw = clog2(self.beats_per_frame)
        return (logic(lut=per_lane * self.lanes + bw + 5,
                      ff=self.lanes * (clog2(n + 1) + 2 * self.dst.width) + bw + 4)
                + skid(self.lanes * self.dst.width))  # fmt: skip

    def _per_channel_cost(self) -> Cost:
        """Per-channel tables (GROUPS = channels / lanes).  Several groups: the thresholds and levels of the next
        beat's group are register rows loaded from ROMs of GROUPS wide words (:func:`rom_luts` per bit), each
        comparator reads registers (about one LUT per input bit, the carry chain's), and stage 1 registers each
        lane's levels with its count; one group: constants per lane, but arbitrary ones (a batch norm's), about
        half a LUT per input bit.  The output selects the level among thresholds + 1 (about 2.5 LUTs per output
        bit, as one table), plus the count, the counters and the output register as for one table.  Calibrated
        with scripts/calibrate_cost.py's thr_bn_* configurations (docs/hardware.md, "Fit check")."""
        n, w, lanes, groups = self.n_thr, self.src.width, self.lanes, self.groups
        out = self.dst.width
        bw = clog2(self.beats_per_frame)
        several = groups > 1
        thr_bits = lanes * n * w if several else 0
        lvl_bits = lanes * (n + 1) * out if several else 0
        compare = lanes * n * (w if several else w / 2) + lanes * n
        lut = compare + rom_luts(groups, thr_bits + lvl_bits) + lanes * 2.5 * out + bw + 2 * clog2(groups) + 5
        ff = thr_bits + 2 * lvl_bits + clog2(groups) + lanes * (clog2(n + 1) + 2 * out) + bw + 4
        return logic(lut=lut, ff=ff) + skid(lanes * out)
