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
    "accel_add": 4.3,  # 4.06 (add_8x8x16_l4)
    "accel_argmax": 5.0,  # 4.71 (argmax 4x4x64 u8, 8 lanes; 4.40 for 10 logits of 16 bits)
    "accel_avgpool": 5.1,  # 4.77 (ap_9x9x16_3x3_l4)
    "accel_avgpool_win": 5.1,  # 4.77 (apw_9x9x16_3x3s2_l4)
    "accel_concat": 4.0,  # 3.73 (zoo: inception_module u_concat_concat2)
    "accel_dwu": 5.9,  # 5.56 (dwu_c64_pe8_8x8_lut: accumulator LUT-RAM read, add, write; 5.52 dwu_c128_pe1_8x8)
    "accel_fifo": 5.1,  # 4.83 (zoo: inception_module u_concat_in5_fifo, 1,584 x 10)
    "accel_fork": 4.1,  # 3.84 (zoo: inception_module u_stem_relu_fork, 4 consumers)
    "accel_frame_last": 4.1,  # 3.88 (fl_1000_d64: the queue's full flag, the push, the flags' LUT-RAM write)
    "accel_gap": 5.3,  # 5.01 (gap_8x8x128_l1)
    "accel_maxpool": 6.8,  # 6.46 (mp_32x32x32_2x2_l1: a 512-word row buffer, RAM256X1S and its mux)
    "accel_maxpool_win": 5.5,  # 5.19 (mpw_8x8x16_3x3s2_l4)
    "accel_mvu": 5.7,  # 5.35 (mvu_256x256_s16p4_8x8)
    "accel_pad": 4.0,  # 3.66 (pad_8x8x16_1203_l4)
    "accel_requant": 4.4,  # 4.14 (zoo: inception_module u_logits_q_requant)
    "accel_shuffle": 6.2,  # 5.87 (shuf_8x8x64_g4_l1)
    "accel_threshold": 6.2,  # 5.84 (thr_po2s_61_24to32_l1: 61 thresholds (a node may have 64), 24 bits)
    "accel_upsample": 5.5,  # 5.19 (up_16x16x32_2x2_l1)
    "accel_width": 4.9,  # 4.65 (zoo: ds_cnn_kws u_dw1_in0_width, 8 -> 2 lanes)
    "accel_window": 4.7,  # 4.43 (win_56x56x64_3x3_p4)
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
