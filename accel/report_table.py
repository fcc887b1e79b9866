"""The text form of ``accel report``: the per-layer table, the memories, the timing lines and the verdict.

Why a module of its own: :mod:`accel.report` makes the report (JSON-ready data); this one only prints it, and
both were too long for one file.  The tables go through :func:`accel.tables.print_table`, so at 80 columns
the per-layer table becomes two (the work and cycles, then the resources and Fmax), each keyed by node, and no
number is cut to "…".
"""

from __future__ import annotations

import sys
from typing import Any

from accel.deploy.measured import MEASURED

#: the report's resource columns, in the device's units (LUT6, FF, DSP48E1, BRAM36)
RESOURCES = ("LUT", "FF", "DSP", "BRAM")


def _num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}"
    return f"{int(v):,}"


def _mhz(v: float | None) -> str:
    return "" if v is None else f"{v:.0f}"


def _primitives(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {cell}" for cell, n in counts.items())


def _print_memories(console: Any, report: dict[str, Any]) -> None:
    """What yosys made of each memory, one line per memory of the instances that have any (four narrow columns,
    the instance named once), so a reader sees where the weights went next to the totals they add up to."""
    from rich.table import Table

    rows = [(inst["instance"], m) for layer in report["layers"] for inst in layer["instances"]
            for m in inst.get("memories") or []]  # fmt: skip
    if not rows:
        return
    console.print("memories after synthesis (what yosys memory_libmap made of each):", highlight=False)
    table = Table(box=None)
    for c in ("instance", "memory", "became", "primitives"):
        table.add_column(c, overflow="fold")  # a long name folds whole onto the next line, never to "…"
    previous = None
    for instance, m in rows:
        shown = instance if instance != previous else ""
        table.add_row(shown, m["name"], m["became"], _primitives(m.get("primitives") or {}))
        previous = instance
    console.print(table)
    kinds = {m["became"] for _, m in rows}
    for kind, note in (("logic", "a ROM whose constant words folded into LUTs (counted in LUT)"),
                       ("registers", "one flip-flop per bit (counted in FF)")):  # fmt: skip
        if kind in kinds:
            console.print(f"  {kind}: {note}", highlight=False)


def _wrap_path(head: str, nodes: list[str], width: int = 80, indent: int = 4) -> list[str]:
    """``head`` then the path's nodes joined by `` > ``, broken after a ``>`` so no line exceeds ``width``
    (a node longer than a line stays whole), continuation lines indented: a path through several instances is
    too long for one terminal line, and a break inside a node name would make it unreadable."""
    lines = [head.rstrip()]
    sep = " "
    for k, node in enumerate(nodes):
        piece = node + (" >" if k < len(nodes) - 1 else "")
        if len(lines[-1]) + len(sep) + len(piece) > width and lines[-1].strip():
            lines.append(" " * indent + piece)
        else:
            lines[-1] += sep + piece
    return lines


def _timing_lines(tm: dict[str, Any], clock_mhz: float) -> list[str]:
    """The text report's timing lines: the design's Fmax and what limits it, then the path across instances
    (wrapped to 80 columns) or the combinational loop that prevents one."""
    if tm["fmax_mhz"] is None:
        lines = ["Fmax (estimate): none, no register-to-register path was found"]
    else:
        verdict = "meets" if tm["meets_clock"] else "does NOT meet"
        limit = "the path across instances" if tm["limited_by"] == "cross_instance" else "its slowest instance"
        line = f"Fmax (estimate): {tm['fmax_mhz']:.0f} MHz, {verdict} the build's {clock_mhz:.1f} MHz, limited by "
        line += limit
        if tm["instance"] is not None:
            line += (f"; slowest instance: {tm['node']} / {tm['instance']}, {tm['instance_critical_ns']:.2f} ns "
                     f"({tm['instance_fmax_mhz']:.0f} MHz), {tm['path']}")  # fmt: skip
        lines = [line + " (synthesis netlist, 7-series -1 delays + routing allowance; Vivado decides)"]
    cross = tm.get("cross_instance")
    if cross is None:
        lines.append("  across instances: no wire joins two estimated instances")
    elif "error" in cross:
        lines.append(f"  across instances: PROBLEM: {cross['error']} (a design error; not in the Fmax above)")
    else:
        head = f"  across instances: {cross['critical_ns']:.2f} ns ({cross['fmax_mhz']:.0f} MHz):"
        lines += _wrap_path(head, cross["path"].split(" > "))
    return lines


def print_report(report: dict[str, Any], console: Any = None) -> None:
    """The report as rich tables on ``console`` (default: stdout, 250 columns when it is not a terminal): one row
    per layer, totals, the part's capacity and use, then the memories, the timing and the verdict."""
    from rich.console import Console

    from accel.tables import SECTION, Column, print_table

    console = console or Console(width=None if sys.stdout.isatty() else 250)
    synth = report["synthesis"]["enabled"]
    title = f"{report['model']}: RTL build {report['build_dir']} ({report['part']}, {report['clock_mhz']:.1f} MHz)"
    cols = [Column("node"), Column("op"), *(Column(c, "right") for c in ("MACs", "params", "PE", "SIMD")),
            Column("mult", "right"), Column("exp.\ncycles", "right"), Column("meas.\ncycles", "right")]  # fmt: skip
    if synth:
        cols += [Column(c, "right") for c in ("LUT", "FF", "DSP", "BRAM36", "Fmax")]
    rows: list[list[str] | None] = []
    for r in report["layers"]:
        cells = [r["node"], r["op"], _num(r["macs"]), _num(r["parameters"]), _num(r["pe"]), _num(r["simd"]),
                 r["mult_style"] or "", _num(r["expected_cycles"]), _num(r["measured_cycles"])]  # fmt: skip
        if synth:
            res = [_num(r[k]) for k in RESOURCES]
            if r["failed_instances"]:
                res[0] = f"FAILED {', '.join(r['failed_instances'])} (+{res[0]})"
            cells += [*res, _mhz(r.get("fmax_mhz"))]
        rows.append(cells)
    t = report["totals"]
    perf = report["performance"]
    rows.append(SECTION)
    ii = perf["ii_cycles"] if perf["ii_cycles"] else None
    total = ["total", "", _num(t["macs"]), _num(t["parameters"]), "", "", "", _num(perf["expected_ii_cycles"]),
             _num(ii)]  # fmt: skip
    if synth:
        total += [*(_num(t[k]) for k in RESOURCES), _mhz(t.get("fmax_mhz"))]
        rows.append(total)
        cap = report["capacity"]
        pct = report["utilisation_percent"]
        if pct is not None:  # a part in accel's table
            # the labels in the key column, which every table of a narrow terminal repeats
            rows.append(["capacity", "", *[""] * 7, *(_num(cap[k]) for k in RESOURCES), ""])
            rows.append(["use %", "", *[""] * 7, *(f"{pct[k]:.1f}%" for k in RESOURCES), ""])
    else:
        rows.append(total)
    print_table(console, title, cols, rows)
    if synth:
        _print_memories(console, report)
        s = report["synthesis"]
        runs = f" ({s['runs']} yosys runs, one per distinct configuration)" if s.get("runs") else ""
        console.print(f"resources: yosys {s['command']} per instance ({s['tool']}); {s['synthesised']} synthesised"
                      f"{runs}, {s['cached']} from {s['cache']} in {s['elapsed_s']:.1f} s",
                      highlight=False)  # fmt: skip
        for f in s["failed"]:
            console.print(f"  failed: {f['node']} / {f['instance']} ({f['module']}): {f['error']}", highlight=False)
        tm = report.get("timing")
        if tm:
            for line in _timing_lines(tm, report["clock_mhz"]):
                console.print(line, highlight=False)
    console.print(f"verdict: {report['verdict']}", highlight=False)
    if perf["ii_basis"]:
        basis = perf["ii_basis"]
        ii_cycles = perf["ii_cycles"] if basis == "measured" else perf["expected_ii_cycles"]
        line = (f"II ({basis}): {ii_cycles:,} cycles = {perf['ii_us']:.1f} us at {report['clock_mhz']:.1f} MHz, "
                f"{perf['inferences_per_s']:,.0f} inferences/s, {perf['macs_per_cycle']:.1f} MACs/cycle")  # fmt: skip
        if perf["latency_cycles"]:
            line += f"; latency (measured): {perf['latency_cycles']:,} cycles = {perf['latency_us']:.1f} us"
        console.print(line, highlight=False)
    if not perf["measured"]:
        console.print(f"no {MEASURED}: measured cycles come from `accel verify MODEL --against rtl`.", highlight=False)
    if report.get("chart"):
        console.print(f"chart: {report['chart']}", highlight=False)
