"""``accel report DIR``: per-layer work, folding, cycles and resource estimates of an RTL build, against its part.

Why: before hours in Vivado a user needs to know whether the design fits the device it was built for and how
fast it runs.  Everything comes from the build directory: ``build.json`` (the typed
:class:`~accel.deploy.manifest.BuildManifest`: the part, and the RTL facts: layers with MACs, parameters,
PE/SIMD, expected cycles, the Verilog instances of each layer, the build's own Verilog sources),
``measured.json`` when the co-simulation has run (:mod:`accel.deploy.measured`: measured cycles per layer,
latency, II), and yosys ``synth_xilinx -family xc7`` of every instance alone with its own parameters
(:mod:`accel.rtl.synth`), cached in ``DIR/synth_cache.json`` and in the cache every build directory shares
(:func:`accel.rtl.synth.shared_cache_dir`) by (module, parameters, file contents), so instances of one
configuration are synthesised once, a second report is instant and an edited layer is the only one
synthesised again.

Resource units are the device's: LUT6 (logic + LUT-RAM sites), FF, DSP and BRAM36 (a RAMB18 counts 0.5).  The
capacity they are judged against is the build's part's (:func:`accel.parts.part_info`); for a part outside
accel's table the report gives the totals and says the capacity is unknown instead of a verdict.  They are
yosys estimates of each instance alone (no cross-boundary optimisation, no Vivado place & route); an instance
yosys cannot synthesise is reported in its row and makes the totals a lower bound.

Fmax is estimated from the same netlists (:mod:`accel.rtl.timing`: longest register-to-register path with
7-series -1 cell delays and a routing allowance per net); a layer shows its slowest instance.  Vivado also times
the paths that leave one instance and end in another (a consumer's ``s_axis_tready`` through its producer's
output logic), which no instance alone contains, so the design's figure is the lower of its slowest instance and
the longest path across instance boundaries (:mod:`accel.rtl.design_timing`: each instance's port arcs chained
along the manifest's wires).  :func:`estimate_fmax` reads that figure from the cache without running yosys.

Each instance also lists what yosys made of each of its memories (:mod:`accel.rtl.memories`: block RAM, LUT-RAM,
registers or logic, with the primitives), because the build's ``memory`` figures are the cost model's prediction
and whether weights really sit in block RAM is only known after synthesis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.deploy.manifest import MANIFEST, BuildManifest, LayerRecord, load_build
from accel.deploy.measured import Measured, read_measured
from accel.parts import PartInfo, known_devices, part_info
from accel.progress import step
from accel.report_table import RESOURCES, print_report

__all__ = ["RESOURCES", "capacity_of", "estimate_fmax", "hls_report_path", "make_report", "print_report",
           "write_chart"]  # fmt: skip
SYNTH_CACHE = "synth_cache.json"
#: seconds one instance may take in yosys before its row says so
SYNTH_TIMEOUT_S = 1800.0


def capacity_of(info: PartInfo) -> dict[str, int | None]:
    """The part's capacity in the report's resource columns (None each when the device is not in the table)."""
    return {"LUT": info.lut, "FF": info.ff, "DSP": info.dsp, "BRAM": info.bram36}


def make_report(
    build_dir: Path,
    *,
    synth: bool = True,
    chart: Path | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The report of an RTL build directory as JSON-ready data (see :func:`print_report` for the table).

    ``synth``: run (or take from the cache) yosys per instance; ``chart``: write a PNG of cycles and resources
    per layer there; ``jobs``: yosys runs at a time; ``progress``: called with one line per synthesised instance.
    """
    build_dir = Path(build_dir)
    manifest = load_build(build_dir)
    if manifest.rtl is None:
        raise AccelError(
            f"{build_dir} is an HLS build; its resource and latency report comes from Vitis HLS's C synthesis "
            f"report ({hls_report_path(build_dir, manifest)}), accel report covers RTL builds (--backend rtl)."
        )
    if not manifest.rtl.layers:
        raise AccelError(
            f"{build_dir / MANIFEST} has no layers; rebuild the directory with `accel build --backend rtl`."
        )
    measured = read_measured(build_dir)
    per_layer_measured = measured.layer_cycles() if measured is not None else {}
    rows = [_layer_row(layer, per_layer_measured, manifest.rtl.folding) for layer in manifest.rtl.layers]
    info = part_info(manifest.part)

    synthesis: dict[str, Any] = {"enabled": bool(synth), "command": "synth_xilinx -family xc7", "device": info.device}
    if synth:
        synthesis.update(_synthesise(build_dir, manifest, rows, jobs, progress))
    report: dict[str, Any] = {
        "build_dir": str(build_dir),
        "model": manifest.model,
        "backend": manifest.backend,
        "part": manifest.part,
        "clock_ns": manifest.clock_ns,
        "clock_mhz": 1000.0 / manifest.clock_ns,
        "folding": manifest.rtl.folding,
        "synthesis": synthesis,
        "layers": rows,
    }
    cross = _cross_instance_json(manifest, rows) if synth else None
    report["totals"] = _totals(rows, synth, cross)
    report["timing"] = _timing(report, cross) if synth else None
    capacity = capacity_of(info)
    report["capacity"] = {"part": manifest.part, "device": info.device, **capacity}
    known = synth and info.known
    report["utilisation_percent"] = {r: 100.0 * report["totals"][r] / capacity[r] for r in RESOURCES} if known else None
    report["fits"], report["verdict"] = _verdict(report, synth, info)
    report["performance"] = _performance(manifest, measured, report["totals"]["macs"], report["clock_mhz"])
    report["chart"] = None
    if chart is not None:
        report["chart"] = str(write_chart(report, Path(chart)))
    return report


def hls_report_path(build_dir: Path, manifest: BuildManifest) -> Path:
    """Where Vitis HLS writes the C synthesis report of an HLS build: ``<solution>/syn/report/<top>_csynth.rpt``.

    The solution directory is the one whose ``impl/ip`` the manifest names as the IP repository
    (:mod:`accel.hls.project`: ``<project>/solution1/impl/ip``).
    """
    repo = Path(manifest.ip.repo)
    if repo.parts[-2:] == ("impl", "ip"):
        solution = repo.parent.parent
    else:
        solution = Path(manifest.hls.project if manifest.hls else "accel_prj") / "solution1"
    return Path(build_dir) / solution / "syn" / "report" / f"{manifest.top}_csynth.rpt"


# -- inputs ------------------------------------------------------------------------------------------------
def _layer_row(layer: LayerRecord, measured: dict[str, int | None], folding: dict[str, Any]) -> dict[str, Any]:
    return {  # mult_style: how a folded layer's products are made (dsp, dsp2, lut; "dsp" before build.json had it)
        "node": layer.node,
        "op": layer.op,
        "macs": layer.macs,
        "parameters": layer.parameters,
        "pe": layer.pe,
        "simd": layer.simd,
        "mult_style": folding[layer.node].get("mult_style", "dsp") if layer.node in folding else None,
        "expected_cycles": layer.expected_cycles,
        "measured_cycles": measured.get(layer.node),
        "instances": [
            {"instance": i.instance, "module": i.module, "parameters": dict(i.parameters)} for i in layer.instances
        ],
    }


# -- synthesis ----------------------------------------------------------------------------------------------
def _sources(build_dir: Path, manifest: BuildManifest) -> tuple[Path, ...]:
    """The Verilog every instance is synthesised from: the build's own sources as the manifest lists them, all
    but the generated top, so a change elsewhere in the network does not invalidate the cache."""
    assert manifest.rtl is not None
    paths = [build_dir / rel for rel in manifest.rtl.rtl_sources if Path(rel).stem != manifest.top]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise AccelError(
            f"{build_dir / MANIFEST} lists {missing[0].relative_to(build_dir)} among rtl_sources, but it does not "
            "exist; rebuild the directory with `accel build --backend rtl`."
        )
    return tuple(sorted(p.resolve() for p in paths))


def _instance_jobs(build_dir: Path, manifest: BuildManifest) -> list[Any]:
    """One :class:`~accel.rtl.synth.SynthJob` per instance of the manifest's layers, in row order."""
    from accel.rtl.synth import SynthJob

    assert manifest.rtl is not None
    # ROM file parameters are bare names relative to the sources' directory, where filelist.f lives
    rtl_dir = (build_dir / Path(manifest.rtl.filelist).parent).resolve()
    instances = [inst for layer in manifest.rtl.layers for inst in layer.instances]
    srcs = _sources(build_dir, manifest)
    missing = sorted({inst.module for inst in instances} - {p.stem for p in srcs})
    if missing:
        raise AccelError(
            f"{build_dir / MANIFEST}: no file of rtl_sources defines module(s) {', '.join(missing)}; rebuild the "
            "directory with `accel build --backend rtl`."
        )
    # size: the cost model's LUT + FF of the instance (0 in a build.json without it), the order yosys runs in
    return [SynthJob(inst.module, dict(inst.parameters), srcs, rtl_dir, label=inst.instance,
                     size=(inst.cost.lut + inst.cost.ff) if inst.cost is not None else 0.0)
            for inst in instances]  # fmt: skip


def _synthesise(
    build_dir: Path,
    manifest: BuildManifest,
    rows: list[dict[str, Any]],
    jobs: int,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    """yosys per instance (cached), resources and timing written into the rows; returns the synthesis summary."""
    from accel.rtl.synth import SynthCache, SynthJob, run_jobs, shared_cache_dir, yosys_exe, yosys_version

    flat = [(row, inst) for row in rows for inst in row["instances"]]
    sjobs = _instance_jobs(build_dir, manifest)

    plan = {"runs": 0, "distinct": 0}

    cache = SynthCache.load(build_dir / SYNTH_CACHE, shared=shared_cache_dir())
    t0 = time.monotonic()
    with step(f"yosys synth_xilinx: {len(sjobs)} instances", total=None) as bar:

        def planned(runs: int, distinct: int) -> None:
            plan.update(runs=runs, distinct=distinct)
            bar.total(runs)
            bar.describe(f"yosys: {runs} of {distinct} distinct configurations ({len(sjobs)} instances)")

        def tell(job: SynthJob, entry: dict) -> None:
            bar.advance()
            if progress is not None:
                what = entry.get("error") or ", ".join(f"{k} {v:g}" for k, v in entry["resources"].items())
                fmax = (entry.get("timing") or {}).get("fmax_mhz")
                progress(f"synthesised {job.label} ({job.module}): {what}"
                         + (f", Fmax ~{fmax:.0f} MHz" if fmax else ""))  # fmt: skip

        results = run_jobs(sjobs, build_dir / "synth", cache=cache, parallel=max(1, int(jobs)),
                           timeout=SYNTH_TIMEOUT_S, progress=tell, timing=True, memories=True,
                           planned=planned)  # fmt: skip
    failed = []
    for (row, inst), res in zip(flat, results, strict=True):
        if "error" in res:
            inst["error"] = res["error"]
            failed.append({"node": row["node"], "instance": inst["instance"], "module": inst["module"],
                           "error": res["error"]})  # fmt: skip
        else:
            inst.update(res["resources"])
            inst["timing"] = res.get("timing")
            inst["memories"] = res.get("memories", [])
        inst["cached"] = res["cached"]
    for row in rows:
        ok = [i for i in row["instances"] if "error" not in i]
        for r in RESOURCES:
            row[r] = sum(i[r] for i in ok)
        row["failed_instances"] = [i["instance"] for i in row["instances"] if "error" in i]
        row.update(_row_timing(row))
    exe = yosys_exe()
    return {
        "tool": yosys_version(exe),
        "cache": str(build_dir / SYNTH_CACHE),
        "shared_cache": str(cache.shared) if cache.shared is not None else None,
        "instances": len(flat),
        # instances whose entry was made now, the distinct configurations among all, and the yosys runs made
        # (identical configurations, e.g. equal FIFOs, are synthesised once and shared)
        "synthesised": sum(1 for r in results if not r["cached"]),
        "distinct": plan["distinct"],
        "runs": plan["runs"],
        "cached": sum(1 for r in results if r["cached"]),
        "failed": failed,
        "elapsed_s": time.monotonic() - t0,
    }


def _row_timing(row: dict[str, Any]) -> dict[str, Any]:
    """A layer's timing figures: those of its slowest instance (the lowest estimated Fmax)."""
    timed = [i for i in row["instances"] if (i.get("timing") or {}).get("fmax_mhz")]
    if not timed:
        return {"fmax_mhz": None, "critical_ns": None, "logic_levels": None, "critical_instance": None,
                "critical_path": None}  # fmt: skip
    slow = min(timed, key=lambda i: i["timing"]["fmax_mhz"])
    t = slow["timing"]
    return {"fmax_mhz": t["fmax_mhz"], "critical_ns": t["critical_ns"], "logic_levels": t["logic_levels"],
            "critical_instance": slow["instance"], "critical_path": t["path"]}  # fmt: skip


def _port_wires(manifest: BuildManifest) -> list[Any]:
    """Every stream port of the manifest's instances that is on an accel_top wire, as
    :class:`~accel.rtl.design_timing.PortWire`: which instances each wire connects.  A manifest written before
    ports recorded their wire has none, and then nothing is timed across instances."""
    from accel.rtl.design_timing import PortWire

    assert manifest.rtl is not None
    return [PortWire(inst.instance, p.port, p.wire, output)
            for layer in manifest.rtl.layers for inst in layer.instances
            for output, records in ((False, inst.inputs), (True, inst.outputs))
            for p in records if p.wire]  # fmt: skip


def _cross_path(manifest: BuildManifest, timings: Mapping[str, Mapping[str, Any] | None]) -> Any:
    """The longest path across instance boundaries (a :class:`~accel.rtl.design_timing.CrossPath` or None) from
    each instance's timing estimate (instance -> its ``timing``; None or without ``ports``: left out).  Raises
    :class:`~accel.rtl.design_timing.CombinationalLoop`."""
    from accel.rtl.design_timing import cross_instance

    arcs = {name: (t or {}).get("ports") for name, t in timings.items()}
    return cross_instance(_port_wires(manifest), arcs)


def _cross_instance_json(manifest: BuildManifest, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The report's ``timing.cross_instance``: the path's JSON, None when no wire joins two estimated instances,
    or ``{"error": ...}`` for a combinational loop across instances (a design error the report shows, not a
    traceback that would hide the rest of the report)."""
    from accel.rtl.design_timing import CombinationalLoop

    timings = {i["instance"]: i.get("timing") for row in rows for i in row["instances"]}
    try:
        path = _cross_path(manifest, timings)
    except CombinationalLoop as exc:
        return {"error": str(exc)}
    return path.to_json() if path is not None else None


def estimate_fmax(build_dir: Path) -> float | None:
    """The design's estimated Fmax in MHz, read from ``DIR/synth_cache.json`` alone: the lower of its slowest
    instance and its longest path across instance boundaries (when the entries carry port arcs).

    Runs no yosys (not even ``yosys -V``: the cache entries record their tool), so a build step can call it.
    None when the cache lacks a current timing estimate for some instance (run ``accel report DIR`` first), or
    when the instances close a combinational loop across their boundaries (no clock figure exists then; the
    report says where).
    """
    from accel.rtl.design_timing import CombinationalLoop
    from accel.rtl.synth import SynthCache, has_timing

    build_dir = Path(build_dir)
    manifest = load_build(build_dir)
    if manifest.rtl is None or not manifest.rtl.layers or not (build_dir / SYNTH_CACHE).is_file():
        return None
    cache = SynthCache.load(build_dir / SYNTH_CACHE)
    sjobs = _instance_jobs(build_dir, manifest)
    for tool in cache.tools():
        entries = [cache.get(j.key(tool)) for j in sjobs]
        if all(e is not None and "error" not in e and has_timing(e) for e in entries):
            fmax = [e["timing"]["fmax_mhz"] for e in entries if e is not None and e["timing"].get("fmax_mhz")]
            timings = {j.label: e["timing"] for j, e in zip(sjobs, entries, strict=True) if e is not None}
            try:
                cross = _cross_path(manifest, timings)
            except CombinationalLoop:
                return None
            if cross is not None:
                fmax.append(cross.fmax_mhz)
            return min(fmax) if fmax else None
    return None


# -- totals, verdict, performance -----------------------------------------------------------------------------
def _totals(rows: list[dict[str, Any]], synth: bool, cross: dict[str, Any] | None = None) -> dict[str, Any]:
    totals: dict[str, Any] = {"macs": sum(r["macs"] for r in rows), "parameters": sum(r["parameters"] for r in rows)}
    for r in RESOURCES:
        totals[r] = sum(row[r] for row in rows) if synth else None
    fmax = [row["fmax_mhz"] for row in rows if row.get("fmax_mhz")]
    if cross and cross.get("fmax_mhz"):
        fmax.append(cross["fmax_mhz"])
    # the design runs at the clock of its slowest path: inside its slowest instance, or across instances
    totals["fmax_mhz"] = min(fmax) if synth and fmax else None
    return totals


def _timing(report: dict[str, Any], cross: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The design's timing estimate against the clock the build was made for: the lower of its slowest instance
    (``node`` / ``instance`` / ``path``, ``instance_fmax_mhz``) and the longest path across instances
    (``cross_instance``); ``limited_by`` says which one the design's ``fmax_mhz`` / ``critical_ns`` are."""
    from accel.rtl.timing import TIMING_MODEL

    rows = [r for r in report["layers"] if r.get("fmax_mhz")]
    if not rows and not cross:
        return None
    slow = min(rows, key=lambda r: r["fmax_mhz"]) if rows else None
    inst_fmax = slow["fmax_mhz"] if slow else None
    cross_fmax = (cross or {}).get("fmax_mhz")
    across = cross_fmax is not None and (inst_fmax is None or cross_fmax < inst_fmax)
    fmax = cross_fmax if across else inst_fmax
    critical = (cross or {}).get("critical_ns") if across else (slow or {}).get("critical_ns")
    return {
        "model": TIMING_MODEL,
        "method": "longest register-to-register path of each instance's synth_xilinx netlist, 7-series -1 cell "
        "delays plus a per-net routing allowance by fanout, and the longest path across instances from their port "
        "arcs chained along the network's wires (accel.rtl.timing, accel.rtl.design_timing; docs/hardware.md, "
        "Timing estimate)",
        "fmax_mhz": fmax,
        "critical_ns": critical,
        "limited_by": "cross_instance" if across else "instance",
        "instance_fmax_mhz": inst_fmax,
        "instance_critical_ns": slow["critical_ns"] if slow else None,
        "node": slow["node"] if slow else None,
        "instance": slow["critical_instance"] if slow else None,
        "path": slow["critical_path"] if slow else None,
        "cross_instance": cross,
        "meets_clock": fmax >= report["clock_mhz"] if fmax is not None else None,
    }


def _verdict(report: dict[str, Any], synth: bool, info: PartInfo) -> tuple[bool | None, str]:
    """Whether the totals fit the part's device: True, False, or None when that cannot be said."""
    if not synth:
        return None, "resources not estimated (synthesis off)"
    if not info.known:
        return None, f"capacity of part {info.part} unknown; known parts: {', '.join(known_devices())}"
    capacity = capacity_of(info)
    pct = report["utilisation_percent"]
    over = [r for r in RESOURCES if report["totals"][r] > capacity[r]]
    failed = report["synthesis"]["failed"]
    if over:
        return False, f"does not fit the {info.device}: " + ", ".join(f"{r} {pct[r]:.0f}%" for r in over)
    if failed:
        return None, (f"unknown: {len(failed)} instance(s) failed synthesis, the totals are a lower bound "
                      f"(largest use {max(pct.values()):.0f}%)")  # fmt: skip
    worst = max(RESOURCES, key=lambda r: pct[r])
    return True, f"fits the {info.device} (largest use: {worst} {pct[worst]:.1f}%)"


def _performance(manifest: BuildManifest, measured: Measured | None, macs: int, clock_mhz: float) -> dict[str, Any]:
    """II/latency (measured when ``measured.json`` exists, else the expected II), MACs per cycle, throughput."""
    assert manifest.rtl is not None
    perf: dict[str, Any] = {"expected_ii_cycles": manifest.rtl.expected_ii_cycles, "measured": measured is not None}
    ii = lat = None
    if measured is not None:
        ii, lat = measured.ii_cycles, measured.latency_cycles
        perf["frames"] = measured.frames
    perf["ii_cycles"] = ii
    perf["latency_cycles"] = lat
    basis = ii if ii else perf["expected_ii_cycles"]
    perf["ii_basis"] = "measured" if ii else ("expected" if basis else None)
    if basis:
        perf["macs_per_cycle"] = macs / basis
        perf["inferences_per_s"] = clock_mhz * 1e6 / basis
        perf["ii_us"] = basis / clock_mhz
    else:
        perf["macs_per_cycle"] = perf["inferences_per_s"] = perf["ii_us"] = None
    perf["latency_us"] = lat / clock_mhz if lat else None
    return perf


# -- chart ---------------------------------------------------------------------------------------------------
def write_chart(report: dict[str, Any], path: Path) -> Path:
    """PNG: cycles per frame per layer (expected and measured), and resources per layer in % of the device."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = report["layers"]
    names = [r["node"] for r in rows]
    x = np.arange(len(rows))
    synth = report["synthesis"]["enabled"]
    fig, axes = plt.subplots(2 if synth else 1, 1, figsize=(max(8.0, 0.55 * len(rows) + 3), 8 if synth else 4.5),
                             squeeze=False)  # fmt: skip
    ax = axes[0][0]
    exp = [r["expected_cycles"] or 0 for r in rows]
    mea = [r["measured_cycles"] or 0 for r in rows]
    ax.bar(x - 0.2, exp, 0.4, label="expected")
    if any(mea):
        ax.bar(x + 0.2, mea, 0.4, label="measured")
    ii = report["performance"].get("ii_cycles") or report["performance"].get("expected_ii_cycles")
    if ii:
        ax.axhline(ii, color="grey", linestyle="--", linewidth=1, label=f"II {ii:,.0f}")
    if any(v > 0 for v in exp + mea):
        ax.set_yscale("log")
    ax.set_ylabel("cycles per frame")
    ax.set_title(f"{report['model']}: cycles per layer")
    ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
    ax.legend(fontsize=8)
    if synth:
        ax = axes[1][0]
        width = 0.2
        cap = report["capacity"]
        known = report["utilisation_percent"] is not None
        for k, r in enumerate(RESOURCES):
            per_row = [100.0 * row[r] / cap[r] if known else row[r] for row in rows]
            ax.bar(x + (k - 1.5) * width, per_row, width, label=r)
        ax.set_ylabel(f"% of {cap['device']}" if known else f"count (capacity of {cap['device']} unknown)")
        ax.set_title(f"resources per layer (yosys synth_xilinx estimates); verdict: {report['verdict']}", fontsize=9)
        ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
    return path
