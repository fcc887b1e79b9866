"""One sweep job: build -> estimate -> co-simulate -> verify, a plain function of its spec dict returning a record.

Why the folder rules: a worker can die at any moment (killed, out of memory, a lost node), and Dask then runs the
job again elsewhere.  So each job works in its own content-addressed folder ``OUT/jobs/<key>``, holds the folder's
lock (:func:`accel.folders.locked`) for the whole attempt so two attempts never write it at once, and writes
``record.json`` last and atomically (a temporary file, then :func:`os.replace`).  A folder with a record is
finished and never redone; a folder without one is a dead attempt's leftovers and is cleared before the job runs
again.  Every attempt appends one line to ``OUT/attempts/<key>`` (outside the cleared folder), which is how a
resumed or retried sweep shows that it ran each job exactly once to the end.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.folders import clear_folder, locked

RECORD = "record.json"
JOBS_DIR = "jobs"
ATTEMPTS_DIR = "attempts"
#: the sweep-wide yosys cache (entries are keyed by module, parameters and file contents, so jobs can share them)
SHARED_SYNTH = "synth_cache"


def job_dir(out: Path, key: str) -> Path:
    return Path(out) / JOBS_DIR / key


def read_record(out: Path, key: str) -> dict[str, Any] | None:
    """The finished job's record, or None when the job has not finished (no record, or an unreadable one)."""
    path = job_dir(out, key) / RECORD
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def attempts(out: Path, key: str) -> int:
    """How many attempts at the job have started (lines of ``OUT/attempts/<key>``)."""
    path = Path(out) / ATTEMPTS_DIR / key
    return len(path.read_text().splitlines()) if path.is_file() else 0


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextmanager
def held(folder: Path, what: str, poll_s: float = 0.5) -> Iterator[Path]:
    """:func:`accel.folders.locked`, waiting for the lock instead of refusing: in a sweep the other holder is an
    attempt at the same job (or a job writing the shared synthesis cache), whose end is worth waiting for."""
    while True:
        stack = ExitStack()
        try:
            stack.enter_context(locked(folder, what))
        except AccelError:
            time.sleep(poll_s)
            continue
        with stack:
            yield folder
        return


@lru_cache(maxsize=4)
def _load(source: str) -> tuple[Any, Any]:
    """(Keras model, Graph) of a model source, once per worker process (TensorFlow's load is the slow part)."""
    from accel.steps import load_model

    return load_model(source)


def run_job(job: dict[str, Any], out: str) -> dict[str, Any]:
    """Run the sweep job ``job`` (an expanded spec entry, see :mod:`accel.sweep.spec`) under ``out``; its record.

    A job that already has a record returns it untouched.  An AccelError of the flow (e.g. a target II the
    budget cannot reach) is a finished job too, with ``status`` "error" and the sentence: running it again would
    give the same answer.  Any other exception propagates, leaving no record, so Dask (or the next sweep) retries.
    """
    root = Path(out)
    folder = job_dir(root, job["key"])
    with held(folder, f"sweep job folder {folder}"):
        done = read_record(root, job["key"])
        if done is not None:  # an earlier attempt finished after this one was scheduled
            return done
        clear_folder(folder)  # leftovers of an attempt that died before its record
        attempt = _start_attempt(root, job["key"])
        t0 = time.perf_counter()
        record: dict[str, Any] = {"key": job["key"], "spec": {k: v for k, v in job.items() if k != "key"}}
        try:
            record.update(_flow(job, folder, root))
            record["status"] = "ok" if record["mismatches"] == 0 and not record["problems"] else "mismatch"
        except AccelError as exc:
            shutil.rmtree(folder / "build", ignore_errors=True)
            record.update(status="error", error=" ".join(str(exc).split()))
        record["run"] = {**record.pop("timings", {}), "total_s": round(time.perf_counter() - t0, 3),
                         "attempt": attempt, "worker": f"{platform.node()}:{os.getpid()}"}  # fmt: skip
        write_atomically(folder / RECORD, json.dumps(record, indent=1, sort_keys=True))
        return record


def _start_attempt(root: Path, key: str) -> int:
    folder = root / ATTEMPTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / key, "a") as f:
        f.write(f"{time.time():.3f} {platform.node()}:{os.getpid()}\n")
    return attempts(root, key)


def _flow(job: dict[str, Any], folder: Path, root: Path) -> dict[str, Any]:
    """Build, co-simulate and (with ``synth``) estimate one design; the record's measured fields."""
    from accel.rtl.verify import verify_build
    from accel.steps import build

    model, graph = _load(job["model"]["source"])
    search = job["search"]
    build_dir = folder / "build"
    t0 = time.perf_counter()
    source = job["model"]["source"] if job["model"]["sha256"] else job["model"]["name"]
    manifest = build(model, graph, "rtl", build_dir, part=job["part"], folding=(search.get("folding") or {}).get(
        "layers"), budget=search.get("budget"), target_ii=search.get("target_ii"), source=source)["manifest"]
    t_build = time.perf_counter() - t0
    result = verify_build(graph, build_dir, job["samples"], job["seed"], simulator=job["simulator"])
    record: dict[str, Any] = {
        "ii_cycles": result.ii_cycles,
        "expected_ii_cycles": result.expected_ii_cycles,
        "latency_cycles": result.latency_cycles,
        "mismatches": result.mismatches,
        "problems": list(result.problems),
        "simulator": result.simulator,
        "folding": manifest.get("folding", {}),
        "LUT": None, "FF": None, "DSP": None, "BRAM": None, "fmax_mhz": None,
        **cost_model(manifest),
    }  # fmt: skip
    timings = {"build_s": round(t_build, 3), "compile_s": round(result.compile_s, 3),
               "sim_s": round(result.sim_s, 3), "synth_s": None}  # fmt: skip
    if job["synth"]:
        t1 = time.perf_counter()
        record.update(_estimate(build_dir, root))
        timings["synth_s"] = round(time.perf_counter() - t1, 3)
    record["timings"] = timings
    return record


def cost_model(manifest: dict[str, Any]) -> dict[str, Any]:
    """The build's own resource estimate (:mod:`accel.rtl.cost`, before synthesis, calibrated against yosys):
    every job has it, also with ``synth: false``, which skips the minutes of yosys per design."""
    total = (manifest.get("fit") or {}).get("total") or {}
    return {f"cost_{k.upper().removesuffix('36')}": round(total[k], 1) if k in total else None
            for k in ("lut", "ff", "dsp", "bram36")}


def _estimate(build_dir: Path, root: Path) -> dict[str, Any]:
    """yosys resources and estimated Fmax of the build (:func:`accel.report.make_report`), through the
    sweep-wide cache: instances another job already synthesised are not synthesised again."""
    from accel.report import SYNTH_CACHE, make_report
    from accel.rtl.synth import SynthCache

    shared = root / SHARED_SYNTH
    with held(shared, f"sweep synthesis cache {shared}"):
        known = SynthCache.load(shared / SYNTH_CACHE).entries
    cache = SynthCache.load(build_dir / SYNTH_CACHE)
    cache.entries.update({k: v for k, v in known.items() if k not in cache.entries})
    write_atomically(build_dir / SYNTH_CACHE, json.dumps({"version": 1, "entries": cache.entries}, sort_keys=True))
    report = make_report(build_dir, synth=True, jobs=1)
    mine = SynthCache.load(build_dir / SYNTH_CACHE).entries
    with held(shared, f"sweep synthesis cache {shared}"):
        merged = SynthCache.load(shared / SYNTH_CACHE).entries
        merged.update(mine)
        write_atomically(shared / SYNTH_CACHE, json.dumps({"version": 1, "entries": merged}, sort_keys=True))
    totals = report["totals"]
    return {"LUT": totals["LUT"], "FF": totals["FF"], "DSP": totals["DSP"], "BRAM": totals["BRAM"],
            "fmax_mhz": round(totals["fmax_mhz"], 3) if totals.get("fmax_mhz") else None,
            "synth_failed": len(report["synthesis"]["failed"])}  # fmt: skip
