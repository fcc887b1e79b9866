"""What each memory became after synthesis (accel.rtl.memories, accel report's per-instance ``memories``).

The parser is tested on log lines as yosys 0.23 ``synth_xilinx`` writes them (copied from real runs of the
library's accel_mvu, accel_fifo and accel_gap) and on a hand-made netlist; one yosys test synthesises a small build
whose memories' sizes decide the outcome, with the expected mapping and primitive counts worked out from those
sizes and yosys' memory_libmap costs in the comments; and the cache upgrade rule is tested with yosys stubbed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from accel.deploy.manifest import write_manifest
from accel.fixed import FixedType
from accel.report import make_report, print_report
from accel.rtl import LIB_DIR
from accel.rtl.blocks.fifo import Fifo
from accel.rtl.blocks.mvu import Mvu
from accel.rtl.memories import MEMORY_MODEL, count_primitives, parse_log
from tests.test_report import ACC, S8, _manifest

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (make system)")

#: excerpts of yosys 0.23 logs: the MEMORY_LIBMAP pass of an accel_mvu, its MEMORY_MAP pass, and noise between
LOG = """\
14.28. Executing OPT_CLEAN pass (remove unused cells and wires).
Finding unused cells or wires in module \\accel_mvu..

14.29. Executing MEMORY_LIBMAP pass (mapping memories to cells).
using FF mapping for memory accel_mvu.brom
mapping memory accel_mvu.ibuf via $__XILINX_LUTRAM_SDP_
Extracted addr FF from read port 0 of accel_mvu.ibuf: $\\ibuf$rdreg[0]
mapping memory accel_mvu.qmem via $__XILINX_LUTRAM_SDP_
Extracted data FF from read port 0 of accel_mvu.qmem: $\\qmem$rdreg[0]
mapping memory accel_mvu.wrom via $__XILINX_BLOCKRAM_SDP_
using FF mapping for memory accel_mvu.flags
<suppressed ~3698 debug messages>

14.33. Executing MEMORY_MAP pass (converting memories to logic and flip-flops).
Mapping memory \\brom in module \\accel_mvu:
  created 8 $dff cells and 0 static cells of width 88.
Extracted data FF from read port 0 of accel_mvu.brom: $\\brom$rdreg[0]
  read interface: 1 $dff and 7 $mux cells.
  write interface: 0 write mux blocks.
Mapping memory \\flags in module \\accel_mvu:
  created 2 $dff cells and 0 static cells of width 3.
Extracted data FF from read port 0 of accel_mvu.flags: $\\flags$rdreg[0]
  read interface: 1 $dff and 1 $mux cells.
  write interface: 2 write mux blocks.

14.34. Executing OPT pass (performing simple optimizations).
"""


def test_parse_log_classifies_every_memory_libmap_line() -> None:
    """Block RAM and LUT-RAM by the cell memory_libmap maps to; FF mapping is logic for a ROM (no write mux
    blocks in MEMORY_MAP) and registers for a writable memory; names lose the module prefix."""
    assert parse_log(LOG.splitlines(keepends=True), "accel_mvu") == [
        {"name": "brom", "became": "logic"},
        {"name": "ibuf", "became": "LUT-RAM"},
        {"name": "qmem", "became": "LUT-RAM"},
        {"name": "wrom", "became": "block RAM"},
        {"name": "flags", "became": "registers"},
    ]
    # a memory of a flattened sub-instance keeps its hierarchical name, as its cells do
    flat = ["mapping memory accel_gap.pool.core.rowbuf via $__XILINX_LUTRAM_SDP_\n"]
    assert parse_log(flat, "accel_gap") == [{"name": "pool.core.rowbuf", "became": "LUT-RAM"}]
    assert parse_log(LOG.splitlines(), "accel_dwu") == []  # another module's lines are not this one's
    assert parse_log([], "accel_mvu") == []  # a design without memories (or all constant-folded)


def test_count_primitives_by_cell_name_prefix() -> None:
    """memory_libmap names the cells ``<memory>.<i>.<j>``; a longer name sharing a prefix keeps its own cells,
    and cells yosys named itself (``$auto$...``) belong to no memory."""
    cells = {
        "rom.0.0": "RAMB18E1", "rom.1.0": "RAMB36E1", "rom2.0.0": "RAMB18E1",
        "lr.0.0.genblk1.genblk1[0].genblk1.slice": "RAM64X1S", "lr.0.1.genblk1.genblk1[0].genblk1.slice": "RAM64X1S",
        "pool.core.rowbuf.0.0": "RAM32M", "$auto$ff.cc:266:slice$2065": "FDRE", "romx": "LUT2",
    }  # fmt: skip
    net = {"modules": {"top": {"cells": {n: {"type": t} for n, t in cells.items()}}}}
    mems = [{"name": n, "became": b} for n, b in (("rom", "block RAM"), ("rom2", "block RAM"), ("lr", "LUT-RAM"),
                                                    ("pool.core.rowbuf", "LUT-RAM"), ("w", "logic"))]  # fmt: skip
    got = {m["name"]: m["primitives"] for m in count_primitives(mems, net, "top")}
    assert got == {"rom": {"RAMB18E1": 1, "RAMB36E1": 1}, "rom2": {"RAMB18E1": 1}, "lr": {"RAM64X1S": 2},
                   "pool.core.rowbuf": {"RAM32M": 1}, "w": {}}  # fmt: skip


def memory_build(directory: Path) -> None:
    """One layer: a 64 -> 32 dense MVU (SIMD 4, PE 1, 8-bit weights, 20-bit accumulator) and a 2-deep FIFO."""
    rtl = directory / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    for p in LIB_DIR.glob("accel_*.v"):
        shutil.copy(p, rtl)
    rng = np.random.default_rng(7)
    mvu = Mvu("fc", rng.integers(-128, 128, (64, 32)), rng.integers(-50, 50, 32), S8, FixedType(True, 8, 1), ACC,
              0, 0, 1, simd=4, pe=1)  # fmt: skip
    mvu.write_files(rtl)
    fifo = Fifo("f0", 2, 2, 1)
    instances = [
        {"instance": "u_fc", "module": "accel_mvu", "parameters": mvu.verilog_parameters(Path("."))},
        {"instance": "u_f0", "module": "accel_fifo", "parameters": fifo.verilog_parameters()},
    ]
    layer = {"node": "fc", "op": "dense", "macs": 64 * 32, "parameters": 64 * 32 + 32, "pe": 1, "simd": 4,
             "multipliers": 4, "expected_cycles": mvu.expected_cycles_per_frame(), "instances": instances}  # fmt: skip
    layers = [layer]
    write_manifest(directory, _manifest(layers, sorted(f"rtl/{p.name}" for p in rtl.glob("accel_*.v"))))


#: What yosys 0.23 makes of memory_build's memories, from their sizes.  memory_libmap picks the cheapest of its
#: options: logic costs 1 per RAM bit and 1/64 per ROM bit (synth_xilinx's -logic-cost-rom), a RAMB18E1 129, a
#: RAMB36E1 257, a LUT-RAM cell about 8.
EXPECTED = {
    "u_fc": {
        # weights: NF*SF = 32*16 = 512 words of PE*SIMD*8 = 32 bits, 16,384 bits >= BLOCK_ROM_BITS, so accel_rom's
        # block-RAM branch (rom_style "block"; by memory_libmap's costs too: as logic 16,384/64 = 256, while one
        # RAMB18E1 holds 512 x 36 simple dual-port for 129): one RAMB18E1 (a RAMB36 costs 257)
        "wrom.bram.mem": ("block RAM", {"RAMB18E1": 1}),
        # biases: NF = 32 words of 20 bits, 640 bits < BLOCK_ROM_BITS (accel_rom's other branch), as logic
        # 640/64 = 10 < 129: a ROM left to FF mapping, whose constant words fold into LUTs, no primitives of its own
        "brom.any.mem": ("logic", {}),
        # input buffer: SF = 16 words of SIMD*8 = 32 bits, written and read at two addresses; a RAM32M is 32 x 6
        # simple dual-port: ceil(32 / 6) = 6 of them (8 each, against 512 as flip-flops)
        "ibuf": ("LUT-RAM", {"RAM32M": 6}),
        # output queue: QDEPTH = 5 + clog2(SIMD) = 7 words of PE*20 + 1 (tlast) = 21 bits: ceil(21 / 6) = 4 RAM32M
        "outq.q.mem": ("LUT-RAM", {"RAM32M": 4}),
    },
    # the FIFO's memory: 2 words of WIDTH + 1 = 3 bits.  Observed, not derived: yosys 0.23 keeps a memory this small
    # in flip-flops (FF mapping); derived: it has a write port (MEMORY_MAP's write mux blocks), so registers
    "u_f0": {"mem": ("registers", {})},
}


@pytest.mark.slow
@needs_yosys
def test_report_lists_what_each_memory_became(tmp_path, capsys) -> None:
    """The weight ROM in block RAM, the buffers in LUT-RAM, the bias ROM in logic, a tiny FIFO in registers; the
    text report lists them in 80 columns; an older cache entry without memories is synthesised again."""
    from accel.cli import main

    d = tmp_path / "build"
    memory_build(d)
    rep = make_report(d)
    got = {i["instance"]: {m["name"]: (m["became"], m["primitives"]) for m in i["memories"]}
           for row in rep["layers"] for i in row["instances"]}  # fmt: skip
    assert got == EXPECTED
    u_fc = rep["layers"][0]["instances"][0]
    assert u_fc["BRAM"] == 0.5  # the one RAMB18E1 is all the block RAM the instance has
    assert not [p.name for p in (d / "synth").iterdir() if p.suffix in (".log", ".json")]  # temporaries deleted

    print_report(rep)
    out = capsys.readouterr().out.splitlines()
    start = next(k for k, line in enumerate(out) if line.startswith("memories after synthesis"))
    section = out[start : start + 9]
    assert section[1].split() == ["instance", "memory", "became", "primitives"]
    rows = [" ".join(line.split()) for line in section[2:7]]  # one per memory, the instance named on its first
    assert sorted(r.removeprefix("u_fc ") for r in rows[:4]) == [
        "brom.any.mem logic", "ibuf LUT-RAM 6 RAM32M", "outq.q.mem LUT-RAM 4 RAM32M",
        "wrom.bram.mem block RAM 1 RAMB18E1"]  # fmt: skip
    assert rows[0].startswith("u_fc ") and rows[4] == "u_f0 mem registers"
    assert all(len(line.rstrip()) <= 80 for line in section)
    assert section[7].strip().startswith("logic:") and section[8].strip().startswith("registers:")

    # a cache entry as an accel before this listing wrote it: synthesised again, the same answer
    cache = d / "synth_cache.json"
    data = json.loads(cache.read_text())
    (old,) = [e for e in data["entries"].values() if e["module"] == "accel_mvu"]
    del old["memories"], old["memory_model"]
    cache.write_text(json.dumps(data))
    assert main(["report", str(d), "--json", "--jobs", "1"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["synthesis"]["synthesised"], again["synthesis"]["cached"]) == (1, 1)
    assert [i["memories"] for row in again["layers"] for i in row["instances"]] == [
        i["memories"] for row in rep["layers"] for i in row["instances"]
    ]
    entries = json.loads(cache.read_text())["entries"].values()
    assert all(e["memory_model"] == MEMORY_MODEL for e in entries)


def test_run_jobs_reruns_only_entries_without_current_memories(tmp_path, monkeypatch) -> None:
    """The cache upgrade rule without yosys: memories are asked for by the report only; an entry without them, or
    read with another MEMORY_MODEL, is synthesised again, a current one or a failure is not."""
    from accel.rtl import synth
    from accel.rtl.timing import TIMING_MODEL

    monkeypatch.setattr(synth, "yosys_exe", lambda: "yosys")
    monkeypatch.setattr(synth, "yosys_version", lambda exe=None: "Yosys T")
    ran: list[str] = []
    mems = [{"name": "wrom", "became": "block RAM", "primitives": {"RAMB18E1": 1}}]

    def fake(job, work_dir, *, exe=None, timeout=None):
        ran.append(job.module)
        return synth.Synthesis({"RAMB18E1": 1}, {"model": TIMING_MODEL, "fmax_mhz": 200.0}, mems)

    monkeypatch.setattr(synth, "synthesize_mapped", fake)
    src = tmp_path / "m.v"
    src.write_text("module m; endmodule\n")
    jobs = [synth.SynthJob(m, {}, (src,), tmp_path) for m in ("cur", "old", "other", "bad")]
    cache = synth.SynthCache.load(tmp_path / "c.json")
    keys = [j.key("Yosys T") for j in jobs]
    timing = {"model": TIMING_MODEL, "fmax_mhz": 300.0}
    cache.put(keys[0], {"module": "cur", "tool": "Yosys T", "cells": {}, "resources": {}, "timing": timing,
                        "memories": [], "memory_model": MEMORY_MODEL})  # fmt: skip
    cache.put(keys[1], {"module": "old", "tool": "Yosys T", "cells": {}, "resources": {}, "timing": timing})
    cache.put(keys[2], {"module": "other", "tool": "Yosys T", "cells": {}, "resources": {}, "timing": timing,
                        "memories": [], "memory_model": "memory_libmap/0"})  # fmt: skip
    cache.put(keys[3], {"module": "bad", "error": "ERROR: x"})
    out = synth.run_jobs(jobs, tmp_path / "w", cache=cache, timing=True)
    assert ran == [] and all(e["cached"] for e in out)  # memories not asked for: nothing runs
    out = synth.run_jobs(jobs, tmp_path / "w", cache=cache, timing=True, memories=True)
    assert ran == ["old", "other"] and [e["cached"] for e in out] == [True, False, False, True]
    assert out[1]["memories"] == mems and out[1]["memory_model"] == MEMORY_MODEL
    assert out[0]["memories"] == [] and "memories" not in out[3]
