"""Running a sweep's jobs on Dask: a local cluster by default, or an existing one (``--scheduler tcp://HOST:PORT``).

Why Dask (``dask.distributed``): the same jobs run on one laptop (a :class:`LocalCluster` of one single-threaded
worker process per core, since every job is CPU-bound in yosys and the simulator) and on a cluster of many
machines, with a scheduler that already reschedules the tasks of a lost worker.  Only jobs without a record are
submitted, so re-running a killed sweep resumes it; ``retries`` lets a job that raised (not an AccelError, which
is a result) run again.  On a cluster the workers must see the output folder at the same path (a shared
filesystem) and have accel installed (docs/sweep.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.sweep.jobs import read_record, run_job
from accel.sweep.spec import Sweep

#: how often a job that raised is tried again (a lost worker's task is rescheduled by Dask in any case)
RETRIES = 2


@dataclass
class SweepRun:
    """What a sweep run did: the records of every job (finished before or now), the jobs that failed, timings."""

    records: list[dict[str, Any]]
    ran: int
    reused: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0


@contextmanager
def dask_client(scheduler: str | None, workers: int | None, scratch: Path | None = None) -> Iterator[Any]:
    """A Dask client: of the cluster at ``scheduler``, or of a local cluster of ``workers`` processes (default:
    one per core) with one thread each and no memory limit (a co-simulation's memory is the simulator's)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise AccelError("accel sweep needs dask.distributed; install it with pip install 'dask[distributed]'.") \
            from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise AccelError(f"--scheduler {scheduler} does not answer ({exc}); start it with `dask scheduler` "
                             "and give its tcp://HOST:PORT.") from None  # fmt: skip
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    # the workers' scratch space inside the sweep's folder (``scratch``), not left in the system's temporary folder
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=0, dashboard_address=":0",
                      local_directory=str(scratch) if scratch is not None else None) as cluster, \
            Client(cluster) as client:  # fmt: skip
        yield client


JobFn = Callable[[dict[str, Any], str], dict[str, Any]]


def run_sweep(sweep: Sweep, *, scheduler: str | None = None, workers: int | None = None, retries: int = RETRIES,
              progress: bool = True, job_fn: JobFn = run_job) -> SweepRun:
    """Run every job of ``sweep`` that has no record yet; the records of all of them.

    ``job_fn`` is :func:`accel.sweep.jobs.run_job` (tests give a wrapper that kills its worker mid-job).
    """
    t0 = time.perf_counter()
    out = sweep.output.resolve()
    out.mkdir(parents=True, exist_ok=True)
    done = {job["key"]: read_record(out, job["key"]) for job in sweep.jobs}
    todo = [job for job in sweep.jobs if done[job["key"]] is None]
    records = {k: r for k, r in done.items() if r is not None}
    failed: list[dict[str, Any]] = []
    if todo:
        from dask.distributed import as_completed

        with dask_client(scheduler, workers, out / ".dask") as client, \
                _progress(progress, len(sweep.jobs), len(records)) as tick:  # fmt: skip
            futures = {client.submit(job_fn, job, str(out), key=f"accel-sweep-{job['key']}", retries=retries,
                                     pure=False): job for job in todo}  # fmt: skip
            for future in as_completed(futures):
                job = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # noqa: BLE001 (any worker failure is reported with its job)
                    failed.append({"key": job["key"], "spec": job, "error": f"{type(exc).__name__}: {exc}"})
                else:
                    records[job["key"]] = record
                tick(job, records.get(job["key"]))
    ordered = [records[j["key"]] for j in sweep.jobs if j["key"] in records]
    return SweepRun(ordered, len(todo), len(sweep.jobs) - len(todo), failed, round(time.perf_counter() - t0, 3))


@contextmanager
def _progress(enabled: bool, total: int, finished: int) -> Iterator[Callable[[dict[str, Any], Any], None]]:
    """A rich progress bar over the whole sweep on stderr (nothing when disabled, e.g. with --json)."""
    if not enabled:
        yield lambda job, record: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True)) as bar:  # fmt: skip
        task = bar.add_task("", total=total, completed=finished)

        def tick(job: dict[str, Any], record: Any) -> None:
            status = record["status"] if record else "failed"
            search = ", ".join(f"{k} {v}" for k, v in job["search"].items() if k != "folding") or "default"
            bar.update(task, advance=1, description=f"{job['model']['name']} {search}: {status}")

        yield tick
