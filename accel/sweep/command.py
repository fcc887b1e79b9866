"""``accel sweep``'s body: load the spec, run the missing jobs, write the table (and with ``--report`` the Pareto
chart), summarise.  The CLI only parses the options and prints what this returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accel.sweep.results import COLUMNS, table, write_pareto, write_table
from accel.sweep.run import RETRIES, run_sweep
from accel.sweep.spec import load_spec

#: the summary's counts of jobs by status
STATUS_COUNTS = (("exact", "ok"), ("mismatches", "mismatch"), ("errors", "error"))


def sweep(spec: str, *, output: str | None = None, scheduler: str | None = None, workers: int | None = None,
          retries: int = RETRIES, report: bool = False, progress: bool = True) -> dict[str, Any]:  # fmt: skip
    """Run the sweep ``spec``; the JSON-ready summary `accel sweep --json` prints (``ok``: every job exact)."""
    loaded = load_spec(spec, output)
    run = run_sweep(loaded, scheduler=scheduler, workers=workers, retries=retries, progress=progress)
    out = loaded.output
    written = write_table(out, run.records)
    rows = table(run.records)
    if report:
        chart = write_pareto(out, rows)
        written["pareto"] = str(chart) if chart else None
    counts = {name: sum(1 for r in rows if r["status"] == s) for name, s in STATUS_COUNTS}
    return {
        "spec": str(loaded.path), "output": str(out), "jobs": len(loaded.jobs), "ran": run.ran,
        "reused": run.reused, **counts, "failed": run.failed, "elapsed_s": run.elapsed_s, "written": written,
        "ok": not run.failed and counts["mismatches"] == 0 and len(rows) == len(loaded.jobs), "rows": rows,
    }  # fmt: skip


def describe(summary: dict[str, Any]) -> str:
    """The table as text and a closing line, for the terminal."""
    from rich.console import Console
    from rich.table import Table

    shown = ("search", "target_ii", "budget", "folding", "seed", "simulator", "samples", "status", "ii_cycles",
             "latency_cycles", "LUT", "FF", "DSP", "BRAM", "fmax_mhz", "mismatches")  # fmt: skip
    assert set(shown) <= set(COLUMNS)
    grid = Table(title=f"accel sweep {Path(summary['spec']).name}")
    for col in ("model", *shown, "run_total_s"):
        grid.add_column(col, justify="left" if col in ("model", "search", "status", "simulator") else "right")
    for row in summary["rows"]:
        grid.add_row(*("" if row[c] is None else f"{row[c]:,}" if isinstance(row[c], int) else str(row[c])
                       for c in ("model", *shown, "run_total_s")))  # fmt: skip
    console = Console(record=True, width=250)
    with console.capture() as cap:
        console.print(grid)
    lines = [cap.get().rstrip()]
    for row in summary["rows"]:
        if row["error"]:
            lines.append(f"{row['model']} {row['search']} {row['target_ii'] or row['budget'] or ''}: {row['error']}")
    for f in summary["failed"]:
        lines.append(f"job {f['key']} failed after its retries: {f['error']}")
    chart = summary["written"].get("pareto")
    lines.append(f"{summary['jobs']} jobs ({summary['ran']} run now, {summary['reused']} finished before): "
                 f"{summary['exact']} exact, {summary['mismatches']} with mismatches, {summary['errors']} refused "
                 f"by the flow, {len(summary['failed'])} failed; table in {summary['written']['csv']}"
                 + (f", Pareto chart in {chart}" if chart else "") + f" ({summary['elapsed_s']:.0f} s).")
    return "\n".join(lines)
