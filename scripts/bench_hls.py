"""HLS backend numbers per zoo model, all measured in one run on this machine.

For each model: conversion time (:func:`accel.hls.project.build_hls_project`: hls4ml conversion, project
write, test vectors), g++ compile time of the C simulation (hls4ml firmware + ``accel_top`` wrapper +
testbench, from scratch), C-simulation throughput (frames / time spent inside ``accel_top`` calls, which
includes AXI-Stream packing and, on the first frame, hls4ml loading its weights from text), and the NumPy
reference's throughput (:func:`accel.reference.execute` on the same frames, best of 3 runs), and their
ratio.  The C simulation is also checked: every output byte and TLAST must equal the reference's.
Usage: ``.venv/bin/python scripts/bench_hls.py [--models digits,pointwise_head] [--samples 200]
[--io stream|parallel] [--opt -O1] [--keep DIR] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accel import AccelError  # noqa: E402
from accel.hls.project import build_hls_project, compile_csim, csim_project  # noqa: E402
from accel.hls.verify import CSIM_OPT  # noqa: E402
from scripts.bench_table import text_table  # noqa: E402

COLUMNS = [
    ("model", "model", "{}"),
    ("io", "io", "{}"),
    ("samples", "frames", "{}"),
    ("convert_s", "convert s", "{:.2f}"),
    ("compile_s", "g++ s", "{:.2f}"),
    ("csim_fps", "csim inf/s", "{:.1f}"),
    ("ref_fps", "numpy inf/s", "{:.1f}"),
    ("ratio", "csim/numpy", "{:.3f}"),
    ("exact", "exact", "{}"),
]


def bench_model(name: str, samples: int, io_type: str, opt: str, work: Path) -> dict:
    """Build, compile and run one zoo model; time the reference on the same frames."""
    import models
    from accel.frontend import to_graph
    from accel.reference import execute
    from accel.verify import random_inputs

    model = models.build(name)
    graph = to_graph(model)
    out = work / f"{name}_{io_type}"
    t0 = time.perf_counter()
    build_hls_project(model, graph, out, io_type=io_type, tb_samples=samples, seed=0)
    convert_s = time.perf_counter() - t0
    compile_s = compile_csim(out, opt, force=True)
    result = csim_project(out, opt)
    raw = random_inputs(graph, samples, 0)
    ref_s = float("inf")
    for _ in range(3):
        t1 = time.perf_counter()
        execute(graph, raw)
        ref_s = min(ref_s, time.perf_counter() - t1)
    csim_fps = result["frames"] / result["loop_seconds"] if result["loop_seconds"] > 0 else float("inf")
    ref_fps = samples / ref_s
    return {
        "model": name, "io": io_type.removeprefix("io_"), "samples": result["frames"], "convert_s": convert_s,
        "compile_s": compile_s, "csim_fps": csim_fps, "ref_fps": ref_fps, "ratio": csim_fps / ref_fps,
        "exact": "yes" if result["ok"] else f"NO ({result['errors']} errors)", "opt": opt,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    import models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="", help="comma-separated zoo models (default: all)")
    ap.add_argument("--samples", type=int, default=200, help="frames per model (default 200)")
    ap.add_argument("--io", choices=("stream", "parallel"), default="stream", help="hls4ml io type (default stream)")
    ap.add_argument("--opt", default=CSIM_OPT, help=f"g++ optimisation of the C simulation (default {CSIM_OPT})")
    ap.add_argument("--keep", type=Path, help="write the build directories here instead of a temporary directory")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of the table")
    args = ap.parse_args(argv)
    names = [n for n in args.models.split(",") if n] or models.names()
    rows = []
    with tempfile.TemporaryDirectory(prefix="accel_bench_hls_") as tmp:
        work = args.keep or Path(tmp)
        for name in names:
            try:
                rows.append(bench_model(name, args.samples, f"io_{args.io}", args.opt, work))
            except AccelError as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                return 1
            if not args.json:
                print(f"... {name} done", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"C simulation: g++ {args.opt}; throughput = frames / time inside accel_top; numpy = best of 3")
        print(text_table(rows, COLUMNS))
    return 0 if all(r["exact"] == "yes" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
