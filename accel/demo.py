"""``accel demo``: the whole flow on the trained ``digits`` model, as a user would run it step by step.

Why a module of its own: the demo is the project's end-to-end acceptance run (``make demo`` on a fresh
machine), so every step calls the same public function the matching ``accel`` command calls, and the
closing summary states what each step proved, with its numbers, at a glance.

Steps: load + inspect; reference = QKeras; reference = hls4ml C simulation; the hls4ml/Vitis HLS
project with its AXI-Stream top (C-simulated on the reference vectors) and the RTL project, each with
the Pynq-Z2 Vivado flow; reference = RTL co-simulation of that RTL build (latency, II, measured cycles
per layer); the board bundle; the per-layer report of the RTL build.
Vendor steps (Vitis HLS, Vivado) are written, not run.

The steps come from :mod:`accel.steps`, which the CLI chains too; the demo never imports the CLI
(tests/test_layering.py), so the CLI can offer ``accel demo`` without an import cycle.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accel.progress import step as progress_step
from accel.resources import zoo
from accel.steps import (
    build,
    describe_verify,
    inspect_graph,
    load_model,
    print_inspect_table,
    verify,
    verify_build_dir,
)

MODEL = "digits"


@dataclass
class StepResult:
    """One row of the closing summary."""

    step: str
    ok: bool
    detail: str
    seconds: float


def run_demo(
    out_dir: Path,
    *,
    samples: int = 1000,
    hls_samples: int = 200,
    rtl_samples: int = 20,
    seed: int = 0,
    console: Any = None,
) -> list[StepResult]:
    """Run every step into ``out_dir``; returns the summary rows (a failed check is a row with ok=False).

    The steps are the commands' own (so the demo shows exactly what ``accel inspect`` shows); an
    AccelError from any step propagates as it would from the command.
    """
    from rich.console import Console

    console = console or Console()
    out_dir = Path(out_dir)
    rows: list[StepResult] = []

    def timed(step: str, fn: Callable[[], tuple[bool, str]]) -> None:
        t0 = time.perf_counter()
        ok, detail = fn()
        rows.append(StepResult(step, ok, detail, time.perf_counter() - t0))
        console.print(f"[{'green' if ok else 'red'}]{'ok ' if ok else 'FAIL'}[/] {step}: {detail}")

    with console.status("building digits and converting it to an accel Graph ..."):
        t0 = time.perf_counter()
        model, graph = load_model(MODEL)
        info = inspect_graph(graph)
    print_inspect_table(info, console)
    metrics = _metrics()
    acc = (f"; test accuracy float {metrics['float_test_accuracy']:.2%}, quantised "
           f"{metrics['quantized_test_accuracy']:.2%}" if metrics else "")  # fmt: skip
    rows.append(StepResult("load + inspect", True, f"{len(graph.nodes)} nodes, {info['totals']['macs']:,} MACs, "
                           f"{info['totals']['parameters']:,} parameters{acc}", time.perf_counter() - t0))  # fmt: skip

    def check(against: str, n: int, build_dir: Path | None = None, **kw: Any) -> Callable[[], tuple[bool, str]]:
        def run() -> tuple[bool, str]:
            if build_dir is not None:  # the build the demo wrote, as it is
                r = verify_build_dir(build_dir, against, n, seed)
            else:
                r = verify(model, graph, against, n, seed, **kw)
            extra = ""
            if "ii_cycles" in r:
                extra = f" latency {r['latency_cycles']:,} cycles, II {r['ii_cycles']:,} cycles/frame."
            return r["mismatches"] == 0, describe_verify(r).split(": ", 1)[1] + extra

        return run

    steps: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("reference = QKeras", check("qkeras", samples)),
        ("reference = hls4ml C simulation", check("hls", hls_samples, io="stream",
                                                  output_dir=str(out_dir / "verify_hls"))),
        ("HLS project + Pynq-Z2 flow", lambda: _build(model, graph, "hls", out_dir / "hls")),
        ("HLS build = reference", check("hls", hls_samples, build_dir=out_dir / "hls")),
        ("RTL project + Pynq-Z2 flow", lambda: _build(model, graph, "rtl", out_dir / "rtl")),
        # the RTL build as written (accel verify BUILD_DIR): its measured per-layer cycles reach the report
        ("RTL build = reference (co-simulation)", check("rtl", rtl_samples, build_dir=out_dir / "rtl")),
        ("board bundle", lambda: _package(out_dir / "rtl")),
        ("RTL report", lambda: _report(out_dir / "rtl", console)),
    ]  # fmt: skip
    # one bar for the demo; a step's own bar (the report's yosys runs) joins it as a second line
    with progress_step("demo", total=len(steps), console=console) as bar:
        for name, fn in steps:
            bar.describe(name)
            timed(name, fn)
            bar.advance()
    return rows


def _metrics() -> dict[str, Any] | None:
    path = Path(zoo().__file__).resolve().parent / "digits_metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _build(model: Any, graph: Any, backend: str, out: Path) -> tuple[bool, str]:
    summary = build(model, graph, backend, out, board="pynq-z2", source=MODEL)
    csim = summary.get("csim")
    ok = csim is None or bool(csim.get("ok"))
    detail = f"{out} ({len(summary['manifest']['files'])} files; vendor step: {summary['manifest']['ip']['make']})"
    if csim is not None:
        detail += f"; AXI-Stream top C simulation {'exact' if ok else 'FAILED'} on {csim.get('frames')} frames"
    return ok, detail


def _package(build_dir: Path) -> tuple[bool, str]:
    from accel.deploy.package import package

    path = package(build_dir)
    return True, f"{path}"


def _report(build_dir: Path, console: Any) -> tuple[bool, str]:
    from accel.report import make_report, print_report

    chart = build_dir / "report.png"
    report = make_report(build_dir, synth=True, chart=chart, jobs=os.cpu_count() or 1)
    print_report(report, console)
    totals = report["totals"]
    used = ", ".join(f"{r} {totals[r]:,}" for r in ("LUT", "FF", "DSP", "BRAM") if totals.get(r) is not None)
    return report["fits"] is not False, f"{used}; {report['verdict']}; chart {chart}"


def print_summary(rows: list[StepResult], console: Any) -> None:
    """The at-a-glance table that ends the demo."""
    from rich.table import Table

    table = Table(title="accel demo: digits", show_lines=False)
    for col in ("step", "result", "seconds", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.step, "[green]ok[/]" if r.ok else "[red]FAILED[/]", f"{r.seconds:.1f}", r.detail)
    console.print(table)
    failed = [r.step for r in rows if not r.ok]
    console.print("all steps passed." if not failed else f"failed: {', '.join(failed)}.")
