#!/usr/bin/env python3
"""Self-test and benchmark of the accel accelerator in this bundle (copied as is by ``accel package``).

On the board (default ``--transport pynq``) it imports the bundled minimal ``accel`` package next to this
file, loads the bitstream with PYNQ, checks the outputs for the bundled inputs against the reference's
outputs exactly, and benchmarks.  On a development machine with accel installed, ``--transport sim``
(RTL co-simulation of ``--build DIR``) or ``--transport reference`` (NumPy reference of the zoo model) runs
the very same self-test through the same driver and byte path.
Exit status: 0 self-test passed, 1 outputs differ, 2 the test could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Python puts this script's folder first on sys.path, so the bundled minimal `accel` (driver only) would shadow
# an installed accel; it is meant for the board only (inserted again in main() for --transport pynq).
if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
    del sys.path[0]


def make_transport(kind: str, build: str | None, meta: dict):
    """None for the board (the driver builds the PYNQ transport); a stand-in for sim/reference."""
    if kind == "pynq":
        return None
    if not build:
        raise SystemExit(f"run_on_board.py: --transport {kind} needs --build DIR (the accel build directory).")
    if kind == "sim":
        from accel.rtl.sim_transport import SimTransport

        return SimTransport(build)
    from accel.deploy.driver import load_metadata
    from accel.frontend import to_graph
    from accel.resources import zoo
    from accel.rtl.sim_transport import ReferenceTransport

    manifest = load_metadata(HERE, meta)
    return ReferenceTransport(to_graph(zoo().build(manifest.model), manifest.model), manifest)


def main(argv: list[str] | None = None, transport=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transport", choices=("pynq", "sim", "reference"), default="pynq")
    p.add_argument("--build", help="accel build directory (for --transport sim/reference)")
    p.add_argument("--benchmark", type=int, default=1000, metavar="N", help="frames to benchmark (0: skip)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds before a transfer counts as hung")
    args = p.parse_args(argv)
    via = args.transport if transport is None else type(transport).__name__
    if args.transport == "pynq" and transport is None:
        sys.path.insert(0, str(HERE))  # the bundled driver package, not an installed one
    import numpy as np

    from accel import AccelError
    from accel.deploy.driver import Accelerator

    bundle = json.loads((HERE / "bundle.json").read_text())
    meta = json.loads((HERE / bundle["metadata"]).read_text())
    bit = HERE / (bundle["bitstream"] or bundle["bitstream_name"])
    try:
        if transport is None:
            transport = make_transport(args.transport, args.build, meta)
        if transport is None and not bit.is_file():
            print(f"run_on_board.py: {bit.name} is not in this bundle; see README.md for how to build it.")
            return 2
        acc = Accelerator(bit, transport=transport, metadata=meta, timeout_s=args.timeout)
        x = np.load(HERE / bundle["selftest"]["input"])
        want = np.load(HERE / bundle["selftest"]["expected"])
        got = acc.predict(x)
        differs = np.any(got.reshape(len(x), -1) != want.reshape(len(x), -1), axis=1)
        bad = int(np.sum(differs))
        print(f"self-test {meta['model']} via {via}: {len(x) - bad}/{len(x)} frames exact")
        if bad:
            first = int(np.flatnonzero(differs)[0])
            g16, w16 = got[first].ravel()[:16].tolist(), want[first].ravel()[:16].tolist()
            print(f"  frame {first}: got {g16}, expected {w16}")
            return 1
        if args.benchmark > 0:
            b = acc.benchmark(n=args.benchmark)
            stages = ", ".join(f"{k} {v:.1f} us" for k, v in b["per_frame_us"].items())
            print(f"benchmark: {b['frames']} frames in {b['seconds']:.3f} s = {b['frames_per_s']:.1f} inferences/s "
                  f"(per frame: {stages})")
            if b.get("host_cycles_per_frame") is not None:  # a simulated transport: host time apart from the device's
                ii = f" against an II of {b['ii_cycles']:,} cycles" if b.get("ii_cycles") else ""
                print(f"host: {b['host_cycles_per_frame']:,.0f} cycles per frame at {b['clock_ns']:g} ns, of which "
                      f"{b['dma_host_cycles_per_frame']:,.0f} drive the DMA while frames stream{ii}")
        acc.close()
        return 0
    except AccelError as exc:
        print(f"run_on_board.py: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
