"""A sweep's table (``results.jsonl``, ``results.csv``, ``results.parquet`` when pyarrow is installed) and its
Pareto chart (``pareto.png``).

Why the columns are split: the table is sorted by the jobs' specs, never by when they finished, so a sweep that was
killed and resumed writes the same rows as one that ran straight through.  What legitimately differs between two
runs (wall-clock timings, which attempt finished the job, on which worker) is kept in the ``run_*`` columns
(:data:`RUN_COLUMNS`), which such a comparison leaves out; every other column is a function of the job's spec and
accel's sources.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from accel.sweep.jobs import write_atomically

RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
PARETO_PNG = "pareto.png"
#: columns a function of the job (spec, outcome, measured cycles and estimates)
COLUMNS = ("model", "search", "target_ii", "budget", "folding", "seed", "simulator", "samples", "part", "status",
           "mismatches", "problems", "ii_cycles", "expected_ii_cycles", "latency_cycles", "LUT", "FF", "DSP", "BRAM",
           "fmax_mhz", "inferences_per_s", "cost_LUT", "cost_FF", "cost_DSP", "cost_BRAM", "error", "key")  # fmt: skip
#: columns that differ from run to run (left out when comparing a resumed sweep with an uninterrupted one)
RUN_COLUMNS = ("run_build_s", "run_compile_s", "run_sim_s", "run_synth_s", "run_total_s", "run_attempt", "run_worker")


def row_of(record: dict[str, Any]) -> dict[str, Any]:
    """One table row of a job's record."""
    spec = record["spec"]
    search = spec["search"]
    ii = record.get("ii_cycles") or record.get("expected_ii_cycles")
    fmax = record.get("fmax_mhz")
    row = {
        "model": spec["model"]["name"],
        "search": next(iter(search), "default"),
        "target_ii": search.get("target_ii"),
        "budget": search.get("budget"),
        "folding": (search.get("folding") or {}).get("file"),
        "seed": spec["seed"],
        "simulator": spec["simulator"],
        "samples": spec["samples"],
        "part": spec["part"],
        "status": record["status"],
        "mismatches": record.get("mismatches"),
        "problems": "; ".join(record.get("problems") or []) or None,
        "ii_cycles": record.get("ii_cycles"),
        "expected_ii_cycles": record.get("expected_ii_cycles"),
        "latency_cycles": record.get("latency_cycles"),
        **{r: record.get(r) for r in ("LUT", "FF", "DSP", "BRAM")},
        "fmax_mhz": fmax,
        "inferences_per_s": round(fmax * 1e6 / ii, 1) if fmax and ii else None,
        **{f"cost_{r}": record.get(f"cost_{r}") for r in ("LUT", "FF", "DSP", "BRAM")},
        "error": record.get("error"),
        "key": record["key"],
    }
    run = record.get("run", {})
    row.update({c: run.get(c.removeprefix("run_")) for c in RUN_COLUMNS})
    return row


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Spec order: model, the default build first, then each axis by value (None sorts first), the key last."""
    def val(v: Any) -> tuple[bool, Any]:
        return (v is not None, v if v is not None else 0)

    return (row["model"], row["search"] != "default", row["search"], val(row["target_ii"]), val(row["budget"]),
            row["folding"] or "", row["seed"], row["simulator"], row["samples"], row["part"], row["key"])  # fmt: skip


def table(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``records``, sorted by their specs (deterministic whatever order the jobs finished in)."""
    return sorted((row_of(r) for r in records), key=_order)


def write_table(out: Path, records: list[dict[str, Any]]) -> dict[str, str]:
    """Write the table in every format available; the paths written, by format."""
    rows = table(records)
    out = Path(out)
    written = {"jsonl": str(out / RESULTS_JSONL), "csv": str(out / RESULTS_CSV)}
    write_atomically(out / RESULTS_JSONL, "".join(json.dumps(r, sort_keys=False) + "\n" for r in rows))
    tmp = out / f".{RESULTS_CSV}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*COLUMNS, *RUN_COLUMNS])
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out / RESULTS_CSV)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # Parquet is optional (docs/sweep.md): JSON lines and CSV always exist
        return written
    pq.write_table(pa.Table.from_pylist(rows), out / RESULTS_PARQUET)
    written["parquet"] = str(out / RESULTS_PARQUET)
    return written


def read_table(out: Path) -> list[dict[str, Any]]:
    path = Path(out) / RESULTS_JSONL
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats in both coordinates (lower is better in each), by rising first one."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(set(points)):
        if not front or y < front[-1][1]:
            front.append((x, y))
    return front


def write_pareto(out: Path, rows: list[dict[str, Any]]) -> Path | None:
    """Draw II against DSP and against LUT, the Pareto front of each model, the default build marked; the PNG's
    path (None when no job is exact with an II).  The resources are yosys's when every such job has them, else
    the cost model's (``synth: false``), as the axis labels say."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    usable = [r for r in rows if r["status"] == "ok" and r["ii_cycles"]]
    if not usable:
        return None
    yosys = all(r["DSP"] is not None and r["LUT"] is not None for r in usable)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, resource in zip(axes, ("DSP", "LUT"), strict=True):
        column = resource if yosys else f"cost_{resource}"
        for i, model in enumerate(sorted({r["model"] for r in usable})):
            mine = [r for r in usable if r["model"] == model and r[column] is not None]
            colour = f"C{i}"
            ax.scatter([r["ii_cycles"] for r in mine], [r[column] for r in mine], color=colour, alpha=0.5, s=20)
            front = pareto_front([(r["ii_cycles"], r[column]) for r in mine])
            ax.step([p[0] for p in front], [p[1] for p in front], where="post", color=colour, label=f"{model} front")
            for r in mine:
                if r["search"] == "default":
                    ax.scatter([r["ii_cycles"]], [r[column]], marker="*", s=220, color=colour, edgecolor="black",
                               zorder=3, label=f"{model} default build")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("II (cycles per inference, measured in co-simulation)")
        ax.set_ylabel(f"{resource} ({'yosys synth_xilinx' if yosys else 'cost model, before synthesis'})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("accel sweep: Pareto front, II against resources")
    fig.tight_layout()
    path = Path(out) / PARETO_PNG
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
