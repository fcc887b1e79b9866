"""The clock check of an RTL build: each block's longest register-to-register path, bounded without yosys.

Why: ``accel build --clock-ns N`` should say at once when the design cannot meet the requested clock, but the
timing estimate proper (:mod:`accel.rtl.timing`: yosys ``synth_xilinx`` per instance, then delays of the
mapped cells) takes minutes on a large design and runs in ``accel report``.  Every library block is pipelined
so that its critical path is a few cells whose kinds do not change with its parameters (a LUT-RAM read, an
adder's carry chain, a DSP48E1's input stage); what changes is the length of a carry chain or the depth of a
LUT-RAM mux, within a narrow range.  So each module has one bound here: the longest path the timing estimate
found for it over the calibration set of ``scripts/calibrate_cost.py`` and the zoo's default builds, rounded
up with a margin of about 5 % (``scripts/calibrate_cost.py`` prints bound against estimate per
configuration; ``tests/test_fit_check.py`` checks that the bound holds on a sample).  The design's bound is
its slowest instance's.  It bounds the per-instance estimate only; paths between instances are in
``accel report`` (:mod:`accel.rtl.design_timing`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: what the check is, recorded in build.json
METHOD = ("per-module bound on the longest register-to-register path inside an instance (accel/rtl/blocks/"
          "delay.py), from accel report's timing estimate over scripts/calibrate_cost.py's configurations and the "
          "zoo, plus about 5 %; paths between instances and Vivado's placement are not in it")  # fmt: skip

#: ns, xc7 -1 speed grade, timing model xc7-1/3: worst estimate observed (calibration set and zoo) -> bound
DELAY_NS: dict[str, float] = {
    "accel_add": 3.6,  # 3.37 (add_8x8x16_l4)
    "accel_concat": 3.8,  # 3.63 (cat_8x8x16+16_l4)
    "accel_fork": 2.4,  # 2.29 (zoo, 4 consumers)
    "accel_fifo": 5.1,  # 4.83 (zoo, 1,584 x 10: LUT6 > MUXF7 > LUT6 > MUXF7 > CARRY4 x3)
    "accel_requant": 4.2,  # 3.97 (zoo, 19 -> 8 bits, 8 lanes)
    "accel_window": 4.7,  # 4.43 (win_56x56x64_3x3_p4)
    "accel_mvu": 5.0,  # 4.71 (RAMB18E1 > DSP48E1, the weight word into the multiplier's A/B register)
    "accel_dwu": 5.8,  # 5.52 (dwu_c128_pe1: accumulator LUT-RAM read, add, write)
    "accel_width": 4.9,  # 4.65 (wd_25x5x64_8to2)
    "accel_shuffle": 6.2,  # 5.87 (shuf_8x8x64_g4_l1)
    "accel_upsample": 5.5,  # 5.19 (up_16x16x32_2x2_l1)
    "accel_maxpool": 6.7,  # 6.35 (mp_32x32x32_2x2_l1: a 512-word row buffer)
    "accel_maxpool_win": 7.0,  # 6.61 (mpw_8x8x16_3x3s2_l4)
    "accel_avgpool": 8.0,  # 7.62 (ap_16x16x32_2x2_l1)
    "accel_avgpool_win": 6.3,  # 5.92 (apw_9x9x16_3x3s2_l4)
    "accel_gap": 8.9,  # 8.41 (gap_8x8x128_l1: a 128-word row buffer)
}
#: a module the table does not know (a block added without calibrating it): the largest bound, said so
DEFAULT_NS = max(DELAY_NS.values())


class AccelTimingWarning(UserWarning):
    """The design's pre-synthesis clock bound misses the clock the build was asked for."""


def bound_ns(module: str) -> float:
    """The bound of one library module (:data:`DEFAULT_NS` for a module not calibrated)."""
    return DELAY_NS.get(module, DEFAULT_NS)


@dataclass(frozen=True)
class ClockCheck:
    """The slowest instance's bound against the requested clock."""

    clock_ns: float
    critical_ns: float
    instance: str
    module: str

    @property
    def fmax_mhz(self) -> float:
        return 1000.0 / self.critical_ns

    @property
    def meets(self) -> bool:
        return self.critical_ns <= self.clock_ns

    def to_json(self) -> dict[str, Any]:
        return {"method": METHOD, "clock_ns": self.clock_ns, "critical_ns": self.critical_ns,
                "fmax_mhz": round(self.fmax_mhz, 1), "instance": self.instance, "module": self.module,
                "meets_clock": self.meets}  # fmt: skip

    def warning(self) -> str:
        return (f"the requested clock of {self.clock_ns:g} ns ({1000.0 / self.clock_ns:.0f} MHz) is faster than the "
                f"design's estimated {self.fmax_mhz:.0f} MHz: instance {self.instance} ({self.module}) may need "
                f"{self.critical_ns:.1f} ns (a pre-synthesis bound; `accel report DIR` gives the yosys-based "
                "estimate); build with a longer --clock-ns or fold that layer differently.")  # fmt: skip


def clock_check(instances: Iterable[tuple[str, str]], clock_ns: float, *, warn: bool = True) -> ClockCheck | None:
    """The slowest of ``(instance, module)`` against ``clock_ns``; warns (:class:`AccelTimingWarning`) on a miss.
    None for a design without instances."""
    worst = max(((bound_ns(m), i, m) for i, m in instances), default=None)
    if worst is None:
        return None
    check = ClockCheck(float(clock_ns), worst[0], worst[1], worst[2])
    if warn and not check.meets:
        warnings.warn(check.warning(), AccelTimingWarning, stacklevel=3)
    return check
