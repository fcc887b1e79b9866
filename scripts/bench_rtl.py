"""Benchmark of the RTL backend: build a zoo model (default ``ds_cnn_kws``), co-simulate it, estimate its resources.

Everything printed comes from one run: the RTL build with the default folding (or ``--folding``), the
cocotb co-simulation of ``--samples`` frames back to back (:func:`accel.rtl.verify.verify_against_rtl`:
bit-exact check, measured latency and II), and the yosys report (:func:`accel.report.make_report`:
per-instance ``synth_xilinx`` estimates, totals against the xc7z020).

Reference point: the best published xc7z020 result for DS-CNN keyword spotting is 0.32 ms per inference at
143 MHz, about 46,000 cycles; issue 5 asks for an II of at most 50,000 cycles with a design that fits.
Exit status 0 when the outputs are bit-exact, the II is within ``--max-ii`` and the estimate fits the xc7z020.

Usage: ``.venv/bin/python scripts/bench_rtl.py [--model NAME] [--samples 5] [--json] [--no-synth] [--jobs N]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accel import AccelError  # noqa: E402

#: best published xc7z020 DS-CNN KWS accelerator: 0.32 ms per inference at 143 MHz (compared for this model only)
PUBLISHED_MODEL = "ds_cnn_kws"
PUBLISHED = {"ms": 0.32, "mhz": 143.0}
PUBLISHED["cycles"] = PUBLISHED["ms"] * 1e-3 * PUBLISHED["mhz"] * 1e6  # 45,760
MAX_II = 50_000


def bench(model_name: str, samples: int, seed: int, out_dir: Path, *, folding: str | None, simulator: str | None,
          synth: bool, jobs: int) -> dict:  # fmt: skip
    """Build, co-simulate and report ``model_name``; returns every figure the printout shows."""
    from accel.report import make_report
    from accel.rtl.verify import verify_against_rtl
    from accel.steps import load_model

    t0 = time.perf_counter()
    model, graph = load_model(model_name)
    res = verify_against_rtl(model, graph, samples, seed, folding=folding, output_dir=out_dir, simulator=simulator)
    t_sim = time.perf_counter() - t0
    report = make_report(out_dir, synth=synth, chart=out_dir / "chart.png", jobs=jobs)
    t_rep = time.perf_counter() - t0 - t_sim
    macs = report["totals"]["macs"]
    clock_mhz = report["clock_mhz"]
    ii, lat = res.ii_cycles, res.latency_cycles
    out: dict = {
        "model": model_name,
        "samples": samples,
        "simulator": res.simulator,
        "mismatches": res.mismatches,
        "problems": res.problems,
        "ii_cycles": ii,
        "latency_cycles": lat,
        "expected_ii_cycles": res.expected_ii_cycles,
        "macs_per_inference": macs,
        "macs_per_cycle": macs / ii if ii else None,
        "clock_mhz": clock_mhz,
        "ii_us": ii / clock_mhz if ii else None,
        "latency_us": lat / clock_mhz if lat else None,
        "inferences_per_s": clock_mhz * 1e6 / ii if ii else None,
        "gmacs_per_s": macs * clock_mhz * 1e-3 / ii if ii else None,
        "resources": {k: report["totals"][k] for k in ("LUT", "FF", "DSP", "BRAM")},
        "capacity": report["capacity"],
        "utilisation_percent": report["utilisation_percent"],
        "fits": report["fits"],
        "verdict": report["verdict"],
        "synth_failed": report["synthesis"].get("failed", []),
        "published": {**PUBLISHED} if Path(model_name).stem == PUBLISHED_MODEL else None,
        "output_dir": str(out_dir),
        "chart": report["chart"],
        "seconds": {"build_and_cosim": round(t_sim, 1), "report": round(t_rep, 1)},
    }
    if ii and out["published"] is not None:
        out["published"]["cycle_ratio"] = PUBLISHED["cycles"] / ii  # > 1: fewer cycles per inference than published
        out["published"]["time_ratio"] = PUBLISHED["ms"] * 1e3 / out["ii_us"]  # > 1: faster at our clock
    out["pass"] = bool(res.mismatches == 0 and not res.problems and ii is not None and ii <= MAX_II
                       and (report["fits"] is True or not synth))  # fmt: skip
    return out


def describe(b: dict) -> str:
    """The human printout of :func:`bench`."""

    def num(v: float | None, fmt: str = ",.0f") -> str:
        return "n/a" if v is None else format(v, fmt)

    exact = b["mismatches"] == 0 and not b["problems"]
    lines = [
        f"{b['model']}: {b['samples']} frames co-simulated with {b['simulator']}: "
        + ("all outputs bit-exact" if exact else f"{b['mismatches']} frames differ {b['problems']}"),
        f"  II            {num(b['ii_cycles'])} cycles per inference (expected {num(b['expected_ii_cycles'])})",
        f"  latency       {num(b['latency_cycles'])} cycles",
        f"  MACs          {num(b['macs_per_inference'])} per inference, {num(b['macs_per_cycle'], ',.1f')} per cycle",
        f"  at {b['clock_mhz']:.1f} MHz  II {num(b['ii_us'], ',.1f')} us, latency {num(b['latency_us'], ',.1f')} us, "
        f"{num(b['inferences_per_s'])} inferences/s, {num(b['gmacs_per_s'], '.2f')} GMAC/s",
    ]
    if b["resources"]["LUT"] is not None:
        pct = b["utilisation_percent"]
        cap = b["capacity"]
        lines.append("  resources     " + ", ".join(
            f"{k} {b['resources'][k]:,g} / {cap[k]:,} ({pct[k]:.1f}%)" for k in ("LUT", "FF", "DSP", "BRAM")
        ) + f" of the {cap['device']} (yosys estimates)")  # fmt: skip
        for f in b["synth_failed"]:
            lines.append(f"  synthesis failed: {f['node']} / {f['instance']} ({f['module']}): {f['error']}")
    lines.append(f"  verdict       {b['verdict']}")
    p = b["published"]
    if p is not None and "cycle_ratio" in p:
        lines.append(
            f"  vs published  {p['cycles']:,.0f} cycles ({p['ms']} ms at {p['mhz']:.0f} MHz): "
            f"{p['cycle_ratio']:.2f}x the cycle efficiency, "
            f"{p['time_ratio']:.2f}x the speed at {b['clock_mhz']:.0f} MHz"
        )
    lines.append(f"  result        {'PASS' if b['pass'] else 'FAIL'} (bit-exact, II <= {MAX_II:,}, fits)")
    lines.append(f"  build {b['output_dir']}, chart {b['chart']}; {b['seconds']['build_and_cosim']} s build + "
                 f"co-simulation, {b['seconds']['report']} s report")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="ds_cnn_kws", help="zoo model or .h5 path (default ds_cnn_kws)")
    ap.add_argument("--samples", type=int, default=5, help="frames to co-simulate (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folding", default=None, help="JSON/YAML folding overrides (default: the balancing rule)")
    ap.add_argument("--sim", default=None, help="icarus or verilator (default: accel.rtl.simulator default)")
    ap.add_argument("-o", "--output-dir", default=None, help="build directory (default build/bench/MODEL)")
    ap.add_argument("--no-synth", action="store_true", help="skip the yosys resource estimates")
    ap.add_argument("--jobs", type=int, default=1, help="yosys runs at a time (default 1)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out_dir = Path(args.output_dir) if args.output_dir else ROOT / "build" / "bench" / Path(args.model).stem
    try:
        b = bench(args.model, args.samples, args.seed, out_dir, folding=args.folding, simulator=args.sim,
                  synth=not args.no_synth, jobs=args.jobs)  # fmt: skip
    except AccelError as exc:
        print(f"bench_rtl: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(b, indent=1) if args.json else describe(b))
    return 0 if b["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
