"""The cocotb side of the network co-simulation: runs inside the simulator (``test_module`` of the runner).

It starts the clock, applies reset, hands the run configuration (``cfg.json`` in the run directory) to the
generated harness (:mod:`accel.rtl.harness`), waits for the harness' ``done`` (every expected output beat
received) or the timeout, keeps the sink open for :data:`~accel.rtl.harness.TAIL_CYCLES` more cycles so
that a duplicated beat is seen, and writes ``result.json``.  Python and the simulator exchange nothing but
files in the run directory.

This module imports nothing of accel (the tail length comes in cfg.json): the simulator's embedded Python
imports it at every run, and accel.rtl.harness would pull in the manifest and NumPy, seconds of start-up.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

try:  # cocotb is a dev dependency; without it only the simulator-side test is unavailable
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles, First, RisingEdge, Timer

    @cocotb.test()
    async def network_test(dut) -> None:
        """Clock, reset, configuration from cfg.json; wait for done or timeout; tail cycles; result.json."""
        run_dir = Path(os.environ["ACCEL_COSIM_DIR"])
        cfg = json.loads((run_dir / "cfg.json").read_text())
        for key in ("n_in", "per_in", "n_out", "clean_in", "clean_out", "valid_thr", "ready_thr", "seed"):
            getattr(dut, key).value = int(cfg[key])
        dut.trace_on.value = int(cfg["trace"])
        dut.tlast_end.value = int(cfg.get("in_tlast", "frame") == "end")
        dut.bursty.value = int(cfg.get("bursty", 0))
        dut.extra_last.value = int(cfg.get("extra_tlast", 0))
        dut.finish.value = 0
        dut.rst.value = 1
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        await ClockCycles(dut.clk, 4)
        dut.rst.value = 0
        t0 = time.perf_counter()
        if int(dut.done.value) != 1:
            await First(RisingEdge(dut.done), Timer(10 * int(cfg["timeout_cycles"]), unit="ns"))
        completed = int(dut.done.value) == 1
        await Timer(10 * int(cfg["tail_cycles"]), unit="ns")
        dut.finish.value = 1
        await ClockCycles(dut.clk, 2)
        dut.finish.value = 0
        await ClockCycles(dut.clk, 1)
        (run_dir / "result.json").write_text(
            json.dumps({"completed": completed, "wall_s": round(time.perf_counter() - t0, 3)}) + "\n"
        )

except ImportError:  # pragma: no cover
    pass
