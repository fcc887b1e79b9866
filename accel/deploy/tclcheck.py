"""Check Vivado / Vitis HLS Tcl flows without the Xilinx tools: run them in ``tclsh`` with the tools stubbed.

Why: nobody here has Vivado, yet a typo in a generated Tcl file would otherwise surface only hours into a
user's bitstream build.  Every Xilinx command is replaced by a stub that records its call (name, working
directory, arguments) and returns a plausible handle; real Tcl runs everything else, so the script must parse
and run to its end.  The recorded calls are then checked against the build manifest:

* every file the flow reads (``source``, ``add_files``, ``read_*``, ``open_project``, ``file copy``) exists,
  or an earlier step produces it (a project directory a tool created, ``make_wrapper``'s result, a copy);
* ``ip_repo_paths`` is the manifest's ``ip.repo`` (produced by the IP step, which is checked too when its
  Tcl is present);
* in a block design: the accelerator cell has the manifest's VLNV, the pins used on it are exactly the
  manifest's ``s_axis``/``m_axis`` interfaces and ``clock``/``reset`` ports, the reset comes from the
  ``proc_sys_reset`` output of the right polarity, and the AXI DMA's stream widths equal ``tdata_bits``.

:func:`check_flow` runs a build directory's ``board/build_bitstream.sh`` with fake ``vivado`` and
``vitis-run`` or ``vitis_hls`` on PATH (each HLS branch in turn), so the order and working directories of the
steps are the script's own, then checks each Tcl file it would have run, and that FCLK0, the block design's
clock pin and the IP step's clock state one frequency (:func:`check_clock`).  :func:`run_tcl` is the reusable core.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from accel import AccelError
from accel.deploy.bdcheck import cells_of, check_block_design, dict_of
from accel.deploy.board import SHELLS
from accel.deploy.manifest import BuildManifest, load_build
from accel.parts import IO_PLL_HZ

TCLSH_CANDIDATES = ("tclsh", "tclsh8.6", "tclsh9.0")
DONE = "ACCEL_TCLCHECK_DONE"

#: Xilinx commands the stubs accept (anything in the ipx:: / common:: namespaces too); any other unknown
#: command is a Tcl error, so a misspelt command fails the check.
_VENDOR = """
create_project open_project close_project current_project save_project set_property get_property
update_ip_catalog get_ipdefs get_ips upgrade_ip generate_target export_ip_user_files create_ip_run
create_bd_design open_bd_design current_bd_design close_bd_design save_bd_design validate_bd_design
create_bd_cell create_bd_intf_port create_bd_port connect_bd_intf_net connect_bd_net delete_bd_objs
get_bd_cells get_bd_intf_pins get_bd_pins get_bd_intf_ports get_bd_ports get_bd_nets get_bd_intf_nets
get_bd_addr_segs get_bd_addr_spaces assign_bd_address apply_bd_automation make_bd_intf_pins_external
make_bd_pins_external group_bd_cells startgroup endgroup make_wrapper get_files add_files import_files
read_verilog read_vhdl read_xdc read_ip read_bd update_compile_order current_fileset get_filesets reset_run
launch_runs wait_on_run get_runs open_run synth_design opt_design place_design phys_opt_design route_design
write_bitstream write_checkpoint write_hw_platform report_utilization report_timing_summary report_timing
report_power report_ip_status get_parts get_boards version set_msg_config get_cells get_ports get_pins
get_nets get_clocks create_clock create_generated_clock set_top set_part open_solution close_solution
config_export config_interface config_compile config_dataflow config_rtl csim_design csynth_design
cosim_design export_design set_directive_interface set_clock_uncertainty
"""
VENDOR_COMMANDS = frozenset(_VENDOR.split())

_PRELUDE = r"""
set ::accel_log [open $::env(ACCEL_TCLCHECK_LOG) a]
set ::accel_tool $::env(ACCEL_TCLCHECK_TOOL)
set ::accel_proj_dir ""
set ::accel_proj_name ""
array set ::accel_cells {}
proc accel_hex {s} { return [binary encode hex [encoding convertto utf-8 $s]] }
proc accel_rec {name args} {
  set fields [list [accel_hex $name] [accel_hex [pwd]]]
  foreach a $args { lappend fields [accel_hex $a] }
  puts $::accel_log [join $fields " "]
  flush $::accel_log
}
proc accel_opt {words opt {default ""}} {
  set i [lsearch -exact $words $opt]
  if {$i < 0 || $i + 1 >= [llength $words]} { return $default }
  return [lindex $words [expr {$i + 1}]]
}
proc accel_cell_of {path} {
  set p [string trimleft $path /]
  set cell [lindex [split $p /] 0]
  if {![info exists ::accel_cells($cell)] && $cell ne ""} {
    error "accel tclcheck: '$path' names the cell '$cell', which the design has not created"
  }
  return $p
}
proc accel_stub {name args} {
  accel_rec $name {*}$args
  switch -- $name {
    version { return 2023.2 }
    create_project {
      set ::accel_proj_name [lindex $args 0]
      set ::accel_proj_dir [file normalize [lindex $args 1]]
      return $::accel_proj_name
    }
    open_project {
      set target [lindex $args end]
      if {$::accel_tool eq "vivado"} {
        set ::accel_proj_dir [file dirname [file normalize $target]]
        set ::accel_proj_name [file rootname [file tail $target]]
      } else {
        set ::accel_proj_dir [file normalize $target]
        set ::accel_proj_name [file tail $target]
      }
      return $::accel_proj_name
    }
    current_project { return $::accel_proj_name }
    create_bd_design - current_bd_design { return [lindex $args end] }
    create_bd_cell {
      set cell [lindex $args end]
      set ::accel_cells($cell) [accel_opt $args -vlnv]
      return "/$cell"
    }
    get_bd_cells { return "/[accel_cell_of [lindex $args end]]" }
    get_bd_intf_pins - get_bd_pins { return [accel_cell_of [lindex $args end]] }
    create_bd_intf_port - create_bd_port - get_bd_intf_ports - get_bd_ports -
    get_runs - get_files - get_ipdefs - current_fileset { return [lindex $args end] }
    make_wrapper {
      return [file join $::accel_proj_dir $::accel_proj_name.gen sources_1 bd wrapper_hdl wrapper.v]
    }
    get_property {
      set prop [lindex $args end-1]
      set obj [lindex $args end]
      switch -- $prop {
        PROGRESS { return "100%" }
        STATUS { return "write_bitstream Complete!" }
        DIRECTORY { return [file join $::accel_proj_dir $::accel_proj_name.runs $obj] }
        STATS.WNS { return 0.125 }
        default { return "" }
      }
    }
    set_property {
      if {[lindex $args 0] eq "-dict"} {
        accel_rec @dict [lindex $args end] {*}[lindex $args 1]
      }
      return ""
    }
    default { return "" }
  }
}
rename unknown accel_real_unknown
proc unknown {name args} {
  if {[lsearch -exact $::accel_vendor $name] >= 0 || [string match ipx::* $name] || [string match common::* $name]
      || [string match config_* $name] || [string match set_directive_* $name]} {
    return [accel_stub $name {*}$args]
  }
  error "invalid command name \"$name\" (not a Tcl or known Vivado/Vitis HLS command)"
}
rename file accel_real_file
proc file {sub args} {
  switch -- $sub {
    copy - rename - delete - mkdir - link {
      accel_rec "file $sub" {*}$args
      return ""
    }
    default { return [accel_real_file $sub {*}$args] }
  }
}
rename source accel_real_source
proc source {args} {
  accel_rec source {*}$args
  return [uplevel 1 [list accel_real_source {*}$args]]
}
rename exit accel_real_exit
proc exit {{code 0}} {
  if {$code == 0} { puts $::accel_log "@done" }
  close $::accel_log
  accel_real_exit $code
}
rename cd accel_real_cd
proc cd {{dir ~}} { accel_rec cd $dir; accel_real_cd $dir }
"""


@dataclass
class Call:
    """One recorded call: command name, the working directory it ran in, its arguments."""

    name: str
    cwd: str
    args: list[str]


@dataclass
class TclRun:
    """The outcome of one stubbed tclsh run."""

    script: Path
    tool: str
    calls: list[Call]
    completed: bool
    output: str

    def named(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]


@dataclass
class FlowCheck:
    """Everything :func:`check_flow` ran and found; ``problems`` empty means the flow passed."""

    steps: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (tool, cwd, argv) from the script
    runs: list[TclRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def tclsh() -> str:
    """Path of a tclsh (the ``tcl`` Debian package); AccelError when none is installed."""
    for name in TCLSH_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise AccelError("tclsh is not installed; the Tcl checks need it (Debian/Ubuntu: apt-get install tcl).")


def run_tcl(script: Path, *, cwd: Path, tool: str = "vivado", timeout_s: float = 60.0) -> TclRun:
    """Run ``script`` in tclsh from ``cwd`` with every Vivado/Vitis HLS command stubbed; return the recorded calls."""
    script = Path(script).resolve()
    with tempfile.TemporaryDirectory(prefix="accel_tclcheck_") as tmp:
        log = Path(tmp) / "calls.log"
        log.touch()
        driver = Path(tmp) / "driver.tcl"
        vendor = " ".join(sorted(VENDOR_COMMANDS))
        driver.write_text(
            f"set ::accel_vendor {{{vendor}}}\n{_PRELUDE}\n"
            f"set ::argv0 {{{script}}}\ninfo script {{{script}}}\n"
            f"if {{[catch {{accel_real_source {{{script}}}}} msg opts]}} {{\n"
            f"  puts stderr \"$msg\\n[dict get $opts -errorinfo]\"\n  close $::accel_log\n  accel_real_exit 1\n}}\n"
            "puts $::accel_log @done\nclose $::accel_log\n"
        )
        env = dict(os.environ, ACCEL_TCLCHECK_LOG=str(log), ACCEL_TCLCHECK_TOOL=tool)
        proc = subprocess.run([tclsh(), str(driver)], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout_s)
        calls, completed = [], False
        for line in log.read_text().splitlines():
            if line == "@done":
                completed = True
                continue
            fields = [bytes.fromhex(f).decode() for f in line.split(" ")]
            calls.append(Call(fields[0], fields[1], fields[2:]))
    completed = completed and proc.returncode == 0
    return TclRun(script, tool, calls, completed, (proc.stdout + proc.stderr).strip())


# ---------------------------------------------------------------------------------------------------------------
# Checks on recorded calls
# ---------------------------------------------------------------------------------------------------------------
_OPTS_WITH_VALUE = {"-fileset", "-cflags", "-csimflags", "-of_objects", "-library", "-quiet_tag", "-objects"}


def _file_args(args: list[str]) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in _OPTS_WITH_VALUE:
            skip = True
        elif a.startswith("-"):
            continue
        else:
            out.extend(a.split())
    return out


class _Files:
    """What exists or has been produced so far in a flow (shared by its steps, in order)."""

    def __init__(self) -> None:
        self.produced: set[Path] = set()
        self.owned: set[Path] = set()  # directories a tool creates (projects): everything inside is produced

    def ok(self, path: Path) -> bool:
        path = Path(os.path.normpath(path))
        if path.exists() or path in self.produced:
            return True
        return any(path == d or d in path.parents for d in self.owned | self.produced)


def _resolve(call: Call, p: str) -> Path:
    return Path(os.path.normpath(Path(call.cwd) / p))


def check_run(run: TclRun, manifest: BuildManifest, build_dir: Path, files: _Files, problems: list[str]) -> None:
    """Check one run's calls (files in order; block-design facts when it builds one) and extend ``problems``."""
    where = run.script.name
    if not run.completed:
        last = run.output.splitlines()[-3:] if run.output else []
        problems.append(f"{where} did not run to its end under the stubbed tools: {' | '.join(last)}")
    repo = Path(os.path.normpath(build_dir / manifest.ip.repo))

    def need(call: Call, p: str, what: str) -> None:
        path = _resolve(call, p)
        if not files.ok(path):
            problems.append(f"{where}: {what} '{p}' does not exist and no earlier step produces it")

    for c in run.calls:
        if c.name == "source":
            need(c, c.args[-1], "sourced file")
        elif c.name in ("add_files", "import_files", "read_verilog", "read_vhdl", "read_xdc", "read_ip"):
            for p in _file_args(c.args):
                need(c, p, f"{c.name} file")
        elif c.name == "create_project":
            files.owned.add(_resolve(c, c.args[1]))
        elif c.name == "open_project":
            target = c.args[-1]
            if run.tool == "vivado":
                need(c, target, "project")
            else:
                files.owned.add(_resolve(c, target))
        elif c.name == "ipx::package_project" and "-root_dir" in c.args:
            files.owned.add(_resolve(c, c.args[c.args.index("-root_dir") + 1]))
        elif c.name == "set_property" and c.args and c.args[0] == "ip_repo_paths":
            for p in c.args[1].split():
                path = _resolve(c, p)
                if path != repo:
                    problems.append(f"{where}: ip_repo_paths '{p}' is not the manifest's ip.repo '{repo}'")
                elif not files.ok(path):
                    problems.append(f"{where}: IP repository '{p}' is produced by no earlier step of the flow")
        elif c.name == "file copy":
            srcs = [a for a in c.args if not a.startswith("-")]
            for p in srcs[:-1]:
                need(c, p, "copied file")
            files.produced.add(_resolve(c, srcs[-1]))
        elif c.name == "file mkdir":
            for p in c.args:
                files.produced.add(_resolve(c, p))
        elif c.name.startswith("report_") and "-file" in c.args:
            files.produced.add(_resolve(c, c.args[c.args.index("-file") + 1]))
    if run.named("create_bd_design"):
        check_block_design(run, manifest, problems)


# ---------------------------------------------------------------------------------------------------------------
# Whole flow: the shell script with fake tools, then every Tcl step it would run
# ---------------------------------------------------------------------------------------------------------------
_SHIM = """#!{python}
import json, os, sys
with open(os.environ["ACCEL_SHIM_LOG"], "a") as f:
    f.write(json.dumps([os.path.basename(sys.argv[0]), os.getcwd(), sys.argv[1:]]) + "\\n")
"""


#: the Vitis HLS commands an HLS build's run_hls.sh chooses between (by what is on PATH); check_flow fakes each
HLS_TOOLS = ("vitis-run", "vitis_hls")


def _tcl_of(tool: str, argv: list[str]) -> str | None:
    return next((argv[argv.index(f) + 1] for f in ("-source", "-f", "--tcl") if f in argv[:-1]), None)


def check_flow(build_dir: Path, *, timeout_s: float = 120.0) -> FlowCheck:
    """Run ``board/build_bitstream.sh`` with fake tools, then check every Tcl step in its order.

    An IP step that is a script picking its HLS tool by PATH (``bash run_hls.sh``) runs once per choice: only a
    fake ``vitis-run``, then only a fake ``vitis_hls``; both must pass and run the same Tcl steps.
    """
    build_dir = Path(build_dir).resolve()
    manifest = load_build(build_dir)
    script = build_dir / "board" / "build_bitstream.sh"
    if not script.is_file():
        raise AccelError(f"{build_dir} has no board/build_bitstream.sh; write it with accel.deploy.board first.")
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    if syntax.returncode:
        return FlowCheck(problems=[f"build_bitstream.sh does not parse: {syntax.stderr.strip()}"])
    first = shlex.split(manifest.ip.make)[0]
    variants = [("vivado", t) for t in HLS_TOOLS] if first in SHELLS else [tuple(dict.fromkeys((first, "vivado")))]
    checks = [_flow_once(build_dir, manifest, script, tools, timeout_s) for tools in variants]
    result = checks[0]
    for tools, other in zip(variants[1:], checks[1:], strict=True):
        result.problems += [f"with {' and '.join(tools)}: {p}" for p in other.problems]
        result.notes += other.notes
        mine, theirs = ([(Path(cwd), _tcl_of(t, argv)) for t, cwd, argv in c.steps] for c in (result, other))
        if mine != theirs:
            result.problems.append(f"with {' and '.join(tools)} the flow runs {theirs}, not {mine}")
    return result


def _flow_once(build_dir: Path, manifest: BuildManifest, script: Path, tools: tuple[str, ...],
               timeout_s: float) -> FlowCheck:  # fmt: skip
    """One run of build_bitstream.sh with exactly ``tools`` faked on PATH, and the checks of its Tcl steps."""
    result = FlowCheck(notes=[f"fake tools on PATH: {', '.join(tools)}"])
    with tempfile.TemporaryDirectory(prefix="accel_shims_") as tmp:
        bindir = Path(tmp) / "bin"
        bindir.mkdir()
        for tool in tools:
            (bindir / tool).write_text(_SHIM.format(python=sys.executable))
            (bindir / tool).chmod(0o755)
        (log := Path(tmp) / "steps.jsonl").touch()
        env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin", ACCEL_SHIM_LOG=str(log))
        proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=timeout_s)
        result.steps = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    if proc.returncode:
        result.problems.append(f"build_bitstream.sh failed with the tools present: {proc.stderr.strip()}")
    files = _Files()
    for tool, cwd, argv in result.steps:
        if (tcl := _tcl_of(tool, argv)) is None:
            result.problems.append(f"build_bitstream.sh runs {tool} {' '.join(argv)} without a Tcl script")
            continue
        if not (path := Path(cwd) / tcl).is_file():
            result.problems.append(f"build_bitstream.sh runs {tool} on {path}, which does not exist")
            continue
        run = run_tcl(path, cwd=Path(cwd), tool="vitis_hls" if tool in HLS_TOOLS else "vivado")
        result.runs.append(run)
        check_run(run, manifest, build_dir, files, result.problems)
    names = [Path(r.script).name for r in result.runs]
    result.problems += [f"build_bitstream.sh never runs {t}" for t in ("block_design.tcl", "build.tcl")
                        if t not in names]
    ip_runs = [r for r in result.runs if r.named("export_design") or r.named("ipx::package_project")]
    if not ip_runs:
        result.problems.append("no step of build_bitstream.sh exports or packages the IP (export_design/ipx::)")
    for run in ip_runs:
        result.notes.append(f"IP step checked: {run.script.name}")
        check_ip_step(run, manifest, result.problems)
    check_clock(result.runs, manifest, result.problems)
    return result


def check_clock(runs: list[TclRun], manifest: BuildManifest, problems: list[str]) -> int | None:
    """FCLK0 (IO PLL / the PS7's divisors), its FREQMHZ, the accelerator pin's and the IP's clock agree (Hz).

    Why: ``validate_bd_design`` fails when an IP's clock FREQ_HZ differs from the FCLK0 that drives it.
    """
    bd = next((r for r in runs if r.named("create_bd_design")), None)
    if bd is None:
        return None
    cells = cells_of(bd)
    ps7 = [n for n, v in cells.items() if v.startswith("xilinx.com:ip:processing_system7:")]
    d = dict_of(bd, ps7[0]) if len(ps7) == 1 else {}
    try:
        div = int(d["CONFIG.PCW_FCLK0_PERIPHERAL_DIVISOR0"]) * int(d["CONFIG.PCW_FCLK0_PERIPHERAL_DIVISOR1"])
    except (KeyError, ValueError):
        problems.append(f"{bd.script.name}: the PS7 cell does not set FCLK0's two divisors to whole numbers")
        return None
    hz = round(IO_PLL_HZ / div)
    where = bd.script.name
    if abs(float(d.get("CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ", 0)) * 1e6 - hz) > 1:
        problems.append(f"{where}: FCLK0 requested at {d.get('CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ')} MHz, but its "
                        f"divisors make {hz} Hz")  # fmt: skip
    acc = next((n for n, v in cells.items() if v == manifest.ip.vlnv), None)
    pin = [c.args[1] for c in bd.named("set_property")
           if c.args[:1] == ["CONFIG.FREQ_HZ"] and c.args[-1] == f"{acc}/{manifest.ports.clock}"]  # fmt: skip
    if [p for p in pin if p != str(hz)] or not pin:
        problems.append(f"{where}: the accelerator's clock pin FREQ_HZ is set to {pin}, FCLK0 makes {hz} Hz")
    for run in (r for r in runs if r.named("export_design") or r.named("ipx::package_project")):
        # HLS: create_clock -period (ns); ipx: the set_property right after `ipx::get_bus_parameters FREQ_HZ`
        ip_hz = [round(1e9 / float(c.args[c.args.index("-period") + 1])) for c in run.named("create_clock")]
        ip_hz += [int(c.args[1]) for b, c in zip(run.calls, run.calls[1:], strict=False)
                  if b.name == "ipx::get_bus_parameters" and b.args[:1] == ["FREQ_HZ"] and c.name == "set_property"]
        if ip_hz[-1:] != [hz]:
            problems.append(f"{run.script.name}: the IP's clock is {ip_hz[-1:]} Hz, but FCLK0 makes {hz} Hz")
    return hz


def _opt(args: list[str], name: str, default: str | None = None) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else default


def check_ip_step(run: TclRun, manifest: BuildManifest, problems: list[str]) -> None:
    """The IP step makes the IP the block design instantiates: its VLNV, and the top's port names in the sources."""
    where, ports = run.script.name, manifest.ports
    tops = [c.args[-1] for c in run.named("set_top")]
    tops += [c.args[1] for c in run.named("set_property") if len(c.args) >= 2 and c.args[0] == "top"]
    top = tops[-1] if tops else manifest.top
    if top != manifest.top:
        problems.append(f"{where}: the IP's top is {top}, but the manifest's top is {manifest.top}")
    if run.named("export_design"):
        a = run.named("export_design")[-1].args
        vlnv = f"{_opt(a, '-vendor', 'xilinx.com')}:{_opt(a, '-library', 'hls')}:{_opt(a, '-ipname', top)}:" \
               f"{_opt(a, '-version', '1.0')}"
    else:
        a = run.named("ipx::package_project")[-1].args
        core = {"vendor": _opt(a, "-vendor", "user.org"), "library": _opt(a, "-library", "user"), "name": top,
                "version": "1.0"}  # fmt: skip
        for c in run.named("set_property"):
            if len(c.args) == 3 and c.args[0] in core:
                core[c.args[0]] = c.args[1]
        vlnv = ":".join(core[k] for k in ("vendor", "library", "name", "version"))
    if vlnv != manifest.ip.vlnv:
        want = manifest.ip.vlnv
        problems.append(f"{where}: the IP step produces {vlnv}, but the block design instantiates {want}")
    sources = [_resolve(c, p) for c in run.calls if c.name in ("add_files", "read_verilog") and "-tb" not in c.args
               for p in _file_args(c.args)]  # fmt: skip
    kinds = (".v", ".sv", ".cpp")
    texts = [p.read_text(errors="replace") for p in sources if p.is_file() and p.suffix in kinds]
    defines = rf"\bmodule\s+{re.escape(top)}\b|\bvoid\s+{re.escape(top)}\s*\("
    top_text = next((t for t in texts if re.search(defines, t)), None)
    if top_text is None:
        problems.append(f"{where}: no source the IP step adds defines {top}")
        return
    if run.tool == "vitis_hls":
        wanted = [rf"INTERFACE\s+axis\s+port\s*=\s*{re.escape(p)}\b" for p in (ports.s_axis, ports.m_axis)]
        if (ports.clock, ports.reset) != ("ap_clk", "ap_rst_n"):
            problems.append(f"{where}: an HLS IP's clock/reset are ap_clk/ap_rst_n, the manifest says "
                            f"{ports.clock}/{ports.reset}")  # fmt: skip
    else:
        wanted = [rf"\b{re.escape(p)}\b" for p in (ports.clock, ports.reset)]
        wanted += [rf"\b{re.escape(p)}_t{sig}\b" for p in (ports.s_axis, ports.m_axis)
                   for sig in ("data", "valid", "ready")]  # fmt: skip
        wanted += [rf"\b{re.escape(ports.tlast_err)}\b"] if ports.tlast_err else []
    for pattern in wanted:
        if not re.search(pattern, top_text):
            problems.append(f"{where}: the source of {top} has no port matching /{pattern}/ named in the manifest")
