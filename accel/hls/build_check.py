"""``accel verify BUILD_DIR --against hls``: an existing HLS build's AXI-Stream top, C-simulated on fresh inputs.

Why not :func:`accel.hls.verify_against_hls`: that converts the Graph again and checks hls4ml's own
``predict``, i.e. a new project.  A user who built (and perhaps synthesised) a project wants *that* project
checked as it is: its ``accel_top`` wrapper and the hls4ml firmware it includes, compiled with g++ as Vitis
HLS's C simulation would.  The wrapper testbench (``accel_top_test``) takes a vector directory; here the
vectors are ``samples`` random frames in a temporary directory (the build's own ``tb_data/`` is left alone),
and the bytes it produced are unpacked and compared with the reference by the shared loop
(:mod:`accel.compare`).  Nothing in the build directory changes except the C simulation's object files in
``csim/`` (compiled once, reused).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from accel import AccelError
from accel.compare import OutputCheck, VerifyResult, compare_outputs, load_build_for, random_inputs
from accel.deploy.stream import from_bytes, pack, to_bytes, unpack
from accel.ir import Graph
from accel.reference import execute

from .project import CSIM_BINARY, TB_GOT, TB_GOT_LAST, TB_IN, TB_OUT, compile_csim, write_tlast


def verify_hls_build(graph: Graph, build_dir: str | Path, samples: int, seed: int = 0) -> VerifyResult:
    """C-simulate the build's ``accel_top`` on ``samples`` random frames and compare every output exactly.

    A TLAST flag other than the pass-through rule gives (:mod:`accel.deploy.stream`) spoils that frame (a
    mismatch); the first differing value (or the TLAST fault) is named in ``first_divergence``.
    """
    t0 = time.perf_counter()
    build_dir = Path(build_dir)
    manifest = load_build_for(graph, build_dir, "hls", samples)
    ins, outs = manifest.input, manifest.output
    raw = random_inputs(graph, samples, seed)
    out_name = graph.outputs[0]
    ref = execute(graph, raw).outputs[out_name]
    compile_csim(build_dir)
    with tempfile.TemporaryDirectory(prefix="accel_hls_vectors_") as tmp:
        vec = Path(tmp)
        (vec / TB_IN).write_bytes(to_bytes(pack(raw, ins.dtype, ins.lanes), ins.dtype, ins.lanes))
        (vec / TB_OUT).write_bytes(to_bytes(pack(ref, outs.dtype, outs.lanes), outs.dtype, outs.lanes))
        last = write_tlast(vec, ins, outs, samples)
        proc = subprocess.run([str((build_dir / CSIM_BINARY).resolve()), str(vec)], cwd=build_dir,
                              capture_output=True, text=True)  # fmt: skip
        if not (vec / TB_GOT).is_file():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
            raise AccelError(f"the C simulation of {build_dir} wrote no output: {tail[0].strip()}")
        got_bytes = (vec / TB_GOT).read_bytes()
        got_last = np.frombuffer((vec / TB_GOT_LAST).read_bytes(), dtype=np.uint8)
    beats = from_bytes(got_bytes, outs.dtype, outs.lanes)
    got = unpack(beats, (samples, *outs.shape), outs.dtype, outs.lanes)
    node = graph.node(out_name) if out_name not in graph.inputs else None
    check = OutputCheck(out_name, node.source if node else out_name, outs.dtype, outs.shape,
                        ref.reshape(samples, -1), got.reshape(samples, -1))  # fmt: skip
    tally = compare_outputs([check], samples)
    wrong_last = np.flatnonzero(got_last.reshape(samples, -1) != last)
    if wrong_last.size:
        frames = sorted({int(i) // outs.beats_per_frame for i in wrong_last})
        tally.bad_samples[frames] = True
        if tally.first is None:
            tally.first = {"layer": None, "node": out_name, "index": None, "expected": None, "got": None,
                           "stream": f"TLAST wrong on {wrong_last.size} beats, first at output beat "
                                     f"{int(wrong_last[0])}"}  # fmt: skip
    return tally.result(graph.name, "hls", time.perf_counter() - t0)
