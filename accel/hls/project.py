"""``accel build MODEL --backend hls``: an hls4ml firmware project inside an AXI4-Stream top, with its proof.

A build directory holds everything a Vitis HLS user needs, and everything accel needs to check it
without Xilinx tools:

* ``hls4ml/``: the hls4ml project of :func:`accel.hls.convert` (exact types from the Graph);
* ``accel_top.{h,cpp}``: the AXI4-Stream wrapper rendered from ``hls_templates/``.  It implements the
  stream contract of :mod:`accel.deploy.stream` (the one packer), so the same byte images drive the
  RTL backend, the PYNQ driver and this wrapper;
* ``tb_data/``: random frames and the NumPy reference's outputs as DMA byte images (for the wrapper's
  testbench) and as hls4ml's float text (for hls4ml's own testbench);
* ``accel_top_test.cpp``: the wrapper testbench, which checks every output byte and TLAST exactly;
* ``build_hls.tcl``, ``run_hls.sh`` and ``README.md``: the vendor steps (csim, synthesis, co-simulation, IP
  export), run by ``vitis-run --mode hls --tcl`` (Vitis 2024.2 and newer) or ``vitis_hls -f`` (older), whichever
  ``run_hls.sh`` finds on PATH;
* ``build.json``: the manifest (:mod:`accel.deploy.manifest`) the board flow reads.

:func:`csim_project` compiles the wrapper testbench with g++ against hls4ml's bundled ``ap_types``
and runs it: the C simulation of exactly the C++ that Vitis HLS would synthesise.

Reproducible: two builds of the same model with the same options are byte-identical wherever they are
written.  hls4ml's writer puts two things in that would differ: a random ``Stamp`` (it names the shared
library of hls4ml's own ``compile()``, which this build does not run) and the absolute or cwd-relative
``OutputDir``; :func:`_reproducible` replaces them by a digest of the firmware and the path relative to the
build directory.  The g++ command uses the ``ap_types`` copy inside ``hls4ml/firmware/``, not the installed
hls4ml's path.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.deploy.manifest import (
    BuildManifest,
    HlsFacts,
    IpInfo,
    Ports,
    StreamSpec,
    load_build,
    stream_spec,
    write_manifest,
)
from accel.deploy.stream import pack, testbench_frame_last, tlast_flags, to_bytes
from accel.fixed import FixedType
from accel.ir import Graph
from accel.parts import DEFAULT_PART, check_target

from .extensions import TEMPLATE_DIR
from .verify import CSIM_OPT

TOP = "accel_top"
#: hls4ml's backend for the project: ``Vitis`` (Vitis HLS); ``Vivado`` targets the discontinued Vivado HLS
HLS4ML_BACKEND = "Vitis"
#: the IP step (build.json ``ip.make``): run_hls.sh picks ``vitis-run --mode hls --tcl`` or ``vitis_hls -f``
IP_MAKE = "bash run_hls.sh"
#: hls4ml's project inside the build directory
HLS4ML_DIR = "hls4ml"
VITIS_PROJECT = "accel_top_prj"
IP_REPO = f"{VITIS_PROJECT}/solution1/impl/ip"
VLNV = "xilinx.com:hls:accel_top:1.0"
#: the HLS top's ports: it has no sticky TLAST-error output (accel.rtl.tlast checks accel's own RTL only)
PORTS = {"clock": "ap_clk", "reset": "ap_rst_n", "reset_active_low": True, "s_axis": "s_axis", "m_axis": "m_axis",
         "tlast_err": ""}
#: widest beat (bits, before byte padding) the lane choice aims for: a whole pixel when it fits
MAX_BEAT_BITS = 64
CSIM_DIR = "csim"
CSIM_BINARY = f"{CSIM_DIR}/accel_top_test"
#: the wrapper testbench's vector files inside tb_data/
TB_IN, TB_OUT, TB_LAST = "axis_in.bin", "axis_out.bin", "axis_out_last.bin"
TB_IN_LAST = "axis_in_last.bin"
TB_GOT, TB_GOT_LAST = "axis_out_csim.bin", "axis_out_csim_last.bin"


def choose_lanes(channels: int, width: int, max_bits: int = MAX_BEAT_BITS) -> int:
    """Elements per beat: all channels of a pixel when they fit ``max_bits``, else the largest divisor of C that does.

    A divisor of C keeps one pixel per beat (the stream contract); one lane is the floor even when
    a single element is wider than ``max_bits``.
    """
    return max((d for d in range(1, channels + 1) if channels % d == 0 and d * width <= max_bits), default=1)


def _reproducible(hls_dir: Path) -> None:
    """Make hls4ml's written project independent of where and when it was written (see the module doc).

    The stamp becomes the first 8 hex digits of the SHA-256 of the firmware sources (so a different model or
    option still gets a different library name, which is what hls4ml's stamp is for).
    """
    config = hls_dir / "hls4ml_config.yml"
    text = config.read_text()
    stamp = re.search(r"^Stamp: (\S+)$", text, re.M)
    out = re.search(r"^OutputDir: .*$", text, re.M)
    if stamp is None or out is None:
        raise RuntimeError(f"hls4ml's {config} has no Stamp or OutputDir line; hls4ml's writer changed")
    digest = hashlib.sha256()
    for path in sorted((hls_dir / "firmware").rglob("*")):
        if path.is_file() and path.suffix in (".h", ".cpp", ".txt"):
            digest.update(path.relative_to(hls_dir).as_posix().encode() + b"\0" + path.read_bytes())
    new = digest.hexdigest()[:8]
    text = text[: out.start()] + f"OutputDir: {HLS4ML_DIR}" + text[out.end():]
    config.write_text(text.replace(f"Stamp: {stamp[1]}", f"Stamp: {new}"))
    for path in sorted(hls_dir.glob("*")):
        if path.is_file() and path.suffix in (".sh", ".tcl") and stamp[1] in path.read_text():
            path.write_text(path.read_text().replace(stamp[1], new))


def _render(template: str, values: dict[str, Any]) -> str:
    """``hls_templates/<template>`` with every ``@KEY@`` replaced; a placeholder left over is a bug here."""
    text = (TEMPLATE_DIR / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    left = sorted(set(re.findall(r"@([A-Z_]+)@", text)))
    if left:
        raise RuntimeError(f"hls_templates/{template}: placeholders {left} were not filled")
    return text


def _float_lines(raw: np.ndarray, dtype: FixedType) -> str:
    """hls4ml's testbench text: one frame per line, the exact float values separated by spaces."""
    values = dtype.to_float(raw.reshape(raw.shape[0], -1))
    return "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in values)


def _single_io(graph: Graph) -> tuple[str, str]:
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise AccelError(
            f"graph {graph.name} has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
            "the AXI4-Stream top supports exactly one input and one output."
        )
    return graph.inputs[0], graph.outputs[0]


def _check_args(part: str, clock_ns: float, tb_samples: int) -> None:
    check_target(part, clock_ns)
    if int(tb_samples) < 1:
        raise AccelError(f"{tb_samples} testbench samples requested; at least 1 is needed.")


def _template_values(graph: Graph, project: str, io_type: str, specs: dict[str, StreamSpec]) -> dict[str, Any]:
    values: dict[str, Any] = {"MODEL": graph.name, "PROJECT": project, "IO_STREAM": int(io_type == "io_stream")}
    for side, spec in specs.items():
        values.update({
            f"{side}_NAME": spec.name, f"{side}_SHAPE": "x".join(str(s) for s in spec.shape),
            f"{side}_TYPE": spec.type, f"{side}_W": spec.dtype.width, f"{side}_LANES": spec.lanes,
            f"{side}_ELEMENTS": int(np.prod(spec.shape)), f"{side}_BEATS": spec.beats_per_frame,
            f"{side}_BYTES": spec.beat_bytes, f"{side}_TDATA": spec.tdata_bits,
        })  # fmt: skip
    return values


def write_tlast(tb: Path, ins: StreamSpec, outs: StreamSpec, frames: int) -> np.ndarray:
    """tb_data's TLAST files: the input pattern the testbench drives and the output it must see (the
    pass-through rule of :mod:`accel.deploy.stream`); returns the expected output flags."""
    frame_last = testbench_frame_last(frames)
    (tb / TB_IN_LAST).write_bytes(tlast_flags(frame_last, ins.beats_per_frame).tobytes())
    last = tlast_flags(frame_last, outs.beats_per_frame)
    (tb / TB_LAST).write_bytes(last.tobytes())
    return last


def _write_vectors(out_dir: Path, graph: Graph, specs: dict[str, StreamSpec], samples: int, seed: int) -> None:
    """tb_data/: byte images + TLAST flags for the wrapper testbench, float text for hls4ml's testbench."""
    from accel.reference import execute
    from accel.verify import random_inputs

    raw_in = random_inputs(graph, samples, seed)
    raw_out = execute(graph, raw_in).outputs[graph.outputs[0]]
    tb = out_dir / "tb_data"
    tb.mkdir(parents=True, exist_ok=True)
    images = {}
    for side, raw, fname in (("IN", raw_in, TB_IN), ("OUT", raw_out, TB_OUT)):
        spec = specs[side]
        images[side] = to_bytes(pack(raw, spec.dtype, spec.lanes), spec.dtype, spec.lanes)
        (tb / fname).write_bytes(images[side])
    write_tlast(tb, specs["IN"], specs["OUT"], samples)
    hls_tb = out_dir / "hls4ml" / "tb_data"
    hls_tb.mkdir(parents=True, exist_ok=True)
    for name, raw, side in (("tb_input_features.dat", raw_in, "IN"), ("tb_output_predictions.dat", raw_out, "OUT")):
        text = _float_lines(raw, specs[side].dtype)
        (tb / name).write_text(text)
        (hls_tb / name).write_text(text)


def _gxx_command(out_dir: Path, project: str, opt: str = CSIM_OPT) -> list[str]:
    """The g++ command line of the wrapper C simulation, relative to ``out_dir`` (also printed in README)."""
    return [
        "g++", opt, "-std=c++14", "-w", f"-I{CSIM_DIR}/include", f"-I{HLS4ML_DIR}/firmware/ap_types", "-I.",
        f"-I{HLS4ML_DIR}/firmware",
        '-DWEIGHTS_DIR="hls4ml/firmware/weights"',
        "accel_top.cpp", "accel_top_test.cpp", f"hls4ml/firmware/{project}.cpp", "-o", CSIM_BINARY,
    ]  # fmt: skip


def build_hls_project(
    model: Any,
    graph: Graph,
    out_dir: Path,
    *,
    part: str = DEFAULT_PART,
    clock_ns: float = 10.0,
    io_type: str = "io_stream",
    strategy: str = "Latency",
    reuse_factor: int = 1,
    tb_samples: int = 16,
    seed: int = 0,
    source: str = "",
    source_sha256: str = "",
    input_type: str = "",
    softmax: str = "",
) -> dict[str, Any]:
    """Write the hls4ml project, the AXI4-Stream wrapper, test vectors, Tcl, README and build.json.

    ``model`` is the QKeras model ``graph`` came from (may be None: the Graph is the authority); ``source``,
    ``source_sha256``, ``input_type`` and ``softmax`` record how (see :class:`BuildManifest`).
    Nothing is compiled here; :func:`csim_project` runs the C simulation.  Returns the manifest as its JSON
    dict (what build.json holds): accel/cli.py and accel/demo.py still index it; :func:`load_build` gives the
    typed :class:`BuildManifest`.
    """
    from .convert import _io, _project, convert

    _check_args(part, clock_ns, tb_samples)
    io_type = _io(io_type)
    in_name, out_name = _single_io(graph)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    project = _project(graph.name)

    specs: dict[str, StreamSpec] = {}
    for side, tensor in (("IN", in_name), ("OUT", out_name)):
        t = graph.tensors[tensor]
        lanes = choose_lanes(t.shape[-1], t.dtype.width)
        specs[side] = stream_spec(tensor, t.shape, t.dtype, lanes)

    hls_dir = out_dir / HLS4ML_DIR
    if hls_dir.exists():
        shutil.rmtree(hls_dir)  # a stale firmware/ from another model would otherwise be compiled in
    hmodel = convert(model, graph, io_type=io_type, strategy=strategy, reuse_factor=reuse_factor,
                     output_dir=hls_dir, project_name=project, part=part, clock_period=clock_ns,
                     backend=HLS4ML_BACKEND)  # fmt: skip
    hmodel.write()
    _reproducible(hls_dir)
    _write_vectors(out_dir, graph, specs, int(tb_samples), int(seed))

    values = _template_values(graph, project, io_type, specs)
    values.update({
        "PART": part, "CLOCK_NS": f"{float(clock_ns):g}", "PRJ": VITIS_PROJECT, "IP_REPO": IP_REPO, "VLNV": VLNV,
        "IO_TYPE": io_type, "STRATEGY": strategy, "REUSE": int(reuse_factor), "SAMPLES": int(tb_samples),
        "SEED": int(seed), "GXX": " ".join(shlex.quote(a) for a in _gxx_command(out_dir, project)),
    })  # fmt: skip
    for template, target in (("accel_top.h.tmpl", "accel_top.h"), ("accel_top.cpp.tmpl", "accel_top.cpp"),
                             ("accel_top_test.cpp.tmpl", "accel_top_test.cpp"),
                             ("build_hls.tcl.tmpl", "build_hls.tcl"), ("run_hls.sh.tmpl", "run_hls.sh"),
                             ("README.md.tmpl", "README.md")):  # fmt: skip
        (out_dir / target).write_text(_render(template, values))
    (out_dir / "run_hls.sh").chmod(0o755)
    include = out_dir / CSIM_DIR / "include"
    include.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATE_DIR / "csim" / "ap_axi_sdata.h", include / "ap_axi_sdata.h")

    written = sorted(rel for rel in (p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
                     if _ours(rel))  # fmt: skip
    manifest = BuildManifest(
        backend="hls", model=graph.name, part=part, clock_ns=float(clock_ns), top=TOP, input=specs["IN"],
        output=specs["OUT"], ports=Ports(**PORTS), ip=IpInfo(VLNV, IP_REPO, IP_MAKE),
        files=tuple(written), source=source, source_sha256=source_sha256, input_type=input_type, softmax=softmax,
        hls=HlsFacts(io_type=io_type, strategy=strategy, reuse_factor=int(reuse_factor), project=project,
                     hls4ml_dir=HLS4ML_DIR, tb_samples=int(tb_samples), seed=int(seed),
                     csim=" ".join(shlex.quote(a) for a in _gxx_command(out_dir, project))),
    )  # fmt: skip
    write_manifest(out_dir, manifest)
    return manifest.to_json()


def _ours(rel: str) -> bool:
    """Whether a path in a build directory was written by :func:`build_hls_project` (not by a C simulation)."""
    if rel == "build.json" or rel.rsplit("/", 1)[-1] in (TB_GOT, TB_GOT_LAST):
        return False
    return not rel.startswith(f"{CSIM_DIR}/") or rel.startswith(f"{CSIM_DIR}/include/")


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def compile_csim(out_dir: Path, opt: str = CSIM_OPT, force: bool = False) -> float:
    """g++-compile the wrapper testbench of a build directory; seconds spent (0 when everything is up to date).

    The three translation units are compiled to objects in ``csim/`` separately, each only when a
    file it depends on changed: hls4ml's firmware (the slow one) is not recompiled when only the
    wrapper or its testbench changed.  The result equals :func:`_gxx_command`'s single command.
    """
    out_dir = Path(out_dir)
    manifest = load_build(out_dir)
    if manifest.hls is None:
        raise AccelError(f"{out_dir} is a {manifest.backend} build; the HLS C simulation needs an hls build.")
    project = manifest.hls.project
    firmware = out_dir / "hls4ml" / "firmware"
    wrapper = [out_dir / f for f in ("accel_top.cpp", "accel_top.h", "accel_top_test.cpp")]
    missing = [p for p in [*wrapper, firmware / f"{project}.cpp", firmware / "ap_types" / "ap_fixed.h"]
               if not p.is_file()]  # fmt: skip
    if missing:
        raise AccelError(f"{out_dir} lacks {missing[0].relative_to(out_dir)}; rebuild it with `accel build MODEL "
                         "--backend hls`.")  # fmt: skip
    if shutil.which("g++") is None:
        raise AccelError("g++ is not installed; the HLS C simulation needs it (e.g. apt-get install g++).")
    fw_files = [p for p in firmware.rglob("*") if p.is_file() and p.suffix in (".h", ".cpp", ".hpp")]
    header_deps = [out_dir / "accel_top.h", *fw_files]
    full = _gxx_command(out_dir, project, opt)
    flags = full[: full.index("accel_top.cpp")]
    units = [("accel_top.cpp", "accel_top.o"), ("accel_top_test.cpp", "accel_top_test.o"),
             (f"hls4ml/firmware/{project}.cpp", "model.o")]  # fmt: skip
    (out_dir / CSIM_DIR).mkdir(exist_ok=True)
    spent = 0.0
    relink = force or not (out_dir / CSIM_BINARY).is_file()
    for src, obj in units:
        obj_path = out_dir / CSIM_DIR / obj
        deps = [out_dir / src, *(fw_files if obj == "model.o" else header_deps)]
        if force or not obj_path.is_file() or _newest(deps) > obj_path.stat().st_mtime:
            spent += _gxx(out_dir, [*flags, "-c", src, "-o", f"{CSIM_DIR}/{obj}"], src)
            relink = True
    if relink:
        objs = [f"{CSIM_DIR}/{obj}" for _, obj in units]
        spent += _gxx(out_dir, ["g++", *objs, "-o", CSIM_BINARY], "the C simulation binary")
    return spent


def _gxx(out_dir: Path, cmd: list[str], what: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=out_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.splitlines()
        errors = [ln for ln in lines if "error" in ln.lower()] or lines[-1:]
        first = errors[0].strip() if errors else f"exit status {proc.returncode}"
        raise AccelError(f"g++ could not compile {what} in {out_dir}: {first}")
    return time.perf_counter() - t0


_SUMMARY = re.compile(r"frames=(\d+) beats_checked=(\d+) errors=(\d+) loop_seconds=([0-9.]+)")


def csim_project(out_dir: Path, opt: str = CSIM_OPT, timeout: float = 3600.0) -> dict[str, Any]:
    """Compile (if needed) and run the wrapper testbench of an hls build directory.

    Returns ``ok`` (every output byte, TLAST, TKEEP and beat count equal to the reference's byte
    image), ``frames``, ``beats_checked``, ``errors``, ``seconds`` (compile + run wall time),
    ``compile_seconds``, ``run_seconds`` and ``loop_seconds`` (time inside ``accel_top`` calls only),
    and the testbench's ``log`` lines.  AccelError when g++ fails or the testbench cannot run.
    """
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    compile_s = compile_csim(out_dir, opt)
    t1 = time.perf_counter()
    env = dict(os.environ)
    try:
        proc = subprocess.run([str((out_dir / CSIM_BINARY).resolve())], cwd=out_dir, capture_output=True, text=True,
                              timeout=timeout, env=env)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AccelError(f"the C simulation of {out_dir} did not finish in {timeout:g} s.") from None
    run_s = time.perf_counter() - t1
    log = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    m = _SUMMARY.search(proc.stdout)
    if m is None:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise AccelError(f"the C simulation of {out_dir} stopped without a summary: {tail[0].strip()}")
    frames, beats, errors, loop_s = int(m[1]), int(m[2]), int(m[3]), float(m[4])
    return {
        "ok": proc.returncode == 0 and errors == 0 and frames > 0,
        "frames": frames,
        "beats_checked": beats,
        "errors": errors,
        "seconds": round(time.perf_counter() - t0, 3),
        "compile_seconds": round(compile_s, 3),
        "run_seconds": round(run_s, 3),
        "loop_seconds": loop_s,
        "log": log[-12:],
    }
