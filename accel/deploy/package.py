"""``accel package DIR``: the folder (and tarball) to copy to a Pynq board.

Why a bundle: the board runs Python with PYNQ but not TensorFlow, hls4ml or the rest of accel.  The bundle
carries the bitstream pair PYNQ loads (``<name>.bit`` + ``<name>.hwh``), a minimal importable ``accel``
package made of the *real* driver files (driver, stream packer, manifest, fixed-point types: copied, never
rewritten, so the board packs bytes exactly as the tested code does), the model metadata (the build
manifest: shapes, types, packing), self-test vectors computed by the NumPy reference, and
``run_on_board.py`` which checks the hardware against those vectors exactly and then benchmarks it.

Layout of ``build_dir/pynq_bundle/`` (and ``pynq_bundle.tar.gz`` beside it)::

    README.md                  what is here, how to run it, what is missing
    bundle.json                file names, self-test facts and the board summary (read by run_on_board.py)
    <name>.bit, <name>.hwh     when board/output/ has them (see README otherwise)
    <name>.json                model metadata = the build's build.json, unchanged (the driver checks it)
    selftest_input.npy         raw int64 (N, H, W, C) inputs
    selftest_expected.npy      raw int64 (N, H, W, C) reference outputs
    run_on_board.py            self-test (exact) + benchmark; --transport sim|reference for this machine
    accel/__init__.py, accel/fixed.py, accel/parts.py, accel/deploy/{__init__,driver,dma,stream,manifest}.py
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

import accel
from accel import AccelError
from accel.deploy.board import BOARD_DIR, TEMPLATE_DIR
from accel.deploy.manifest import MANIFEST, BuildManifest, load_build
from accel.resources import zoo

BUNDLE = "pynq_bundle"
#: the driver's files and what they import, copied as they are (paths relative to the accel package)
DRIVER_FILES = ("__init__.py", "fixed.py", "parts.py", "deploy/__init__.py", "deploy/driver.py", "deploy/dma.py",
                "deploy/stream.py", "deploy/manifest.py")  # fmt: skip


def _zoo_graph(manifest: BuildManifest) -> Any:
    """The graph of a zoo model's build, converted with the frontend options the build records."""
    from accel.frontend import to_graph

    models = zoo()
    model = manifest.model
    if model not in models.names():
        return None
    return to_graph(models.build(model), model, input_type=manifest.input_type or None,
                    softmax=manifest.softmax or None)  # fmt: skip


def backend_vectors(build_dir: Path, manifest: BuildManifest) -> tuple[np.ndarray, np.ndarray] | None:
    """The reference vectors a backend already wrote as DMA byte images (HLS: tb_data/axis_in.bin, axis_out.bin).

    Why: a model built from an .h5 file is not in the zoo, so package() cannot rebuild its graph; the HLS
    writer's testbench vectors were computed by the same reference, in the same byte format.
    """
    from accel.deploy.stream import from_bytes, unpack

    files = [build_dir / "tb_data" / n for n in ("axis_in.bin", "axis_out.bin")]
    if not all(f.is_file() for f in files):
        return None
    out = []
    for spec, f in zip((manifest.input, manifest.output), files, strict=True):
        beats = from_bytes(f.read_bytes(), spec.dtype, spec.lanes)
        frames = len(beats) // spec.beats_per_frame
        out.append(unpack(beats, (frames, *spec.shape), spec.dtype, spec.lanes))
    return out[0], out[1]


def selftest_vectors(graph: Any, manifest: BuildManifest, frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded in-range raw inputs (both range ends included) and the reference's raw outputs for them."""
    from accel.reference import execute

    si, so = manifest.input, manifest.output
    x_spec, y_spec = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    ti, to = si.dtype, so.dtype
    if tuple(x_spec.shape) != si.shape or x_spec.dtype != ti:
        raise AccelError(
            f"graph {graph.name} takes {x_spec.shape} {x_spec.dtype.hls}, but the build's input stream is "
            f"{si.shape} {ti.hls}; package the build with the graph it was made from."
        )
    if int(np.prod(y_spec.shape)) != int(np.prod(so.shape)) or y_spec.dtype != to:
        raise AccelError(
            f"graph {graph.name} gives {y_spec.shape} {y_spec.dtype.hls}, but the build's output stream is "
            f"{so.shape} {to.hls}; package the build with the graph it was made from."
        )
    rng = np.random.default_rng(seed)
    x = rng.integers(ti.min_raw, ti.max_raw + 1, size=(frames, *si.shape), dtype=np.int64)
    x[0].flat[0], x[0].flat[-1] = ti.min_raw, ti.max_raw
    y = execute(graph, x).outputs[graph.outputs[0]].reshape((frames, *so.shape))
    return x, y


def check_build_files(build_dir: Path, manifest: BuildManifest) -> None:
    """Every file the manifest lists must be there: a bundle of a build whose Verilog or ROM images were deleted
    would carry a manifest the bitstream flow cannot honour (it was written without complaint)."""
    missing = [f for f in manifest.files if not (build_dir / f).is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise AccelError(f"build {build_dir} is incomplete: {shown} listed in its {MANIFEST} "
                         f"{'is' if len(missing) == 1 else 'are'} missing; build it again with accel build.")


def package(build_dir: Path, out: Path | None = None, *, graph: Any = None, frames: int = 8, seed: int = 0) -> Path:
    """Write the bundle folder (``out`` or ``build_dir/pynq_bundle``) and ``<folder>.tar.gz``; returns the folder.

    ``graph`` is the accel Graph the build was made from; by default it is rebuilt from the zoo by the
    manifest's model name.
    """
    build_dir = Path(build_dir)
    manifest = load_build(build_dir)
    check_build_files(build_dir, manifest)
    board_json = build_dir / BOARD_DIR / "board.json"
    board = json.loads(board_json.read_text()) if board_json.is_file() else None
    name = Path(board["bitstream"]).stem if board else "".join(c if c.isalnum() or c == "_" else "_"
                                                                for c in manifest.model)  # fmt: skip
    if graph is None:
        graph = _zoo_graph(manifest)
    if graph is not None:
        x, y = selftest_vectors(graph, manifest, frames, seed)
    else:
        vectors = backend_vectors(build_dir, manifest)
        if vectors is None:
            raise AccelError(
                f"model '{manifest.model}' is not in the zoo and {build_dir} holds no reference vectors "
                "(tb_data/axis_in.bin), so the self-test cannot be made; pass graph= to package()."
            )
        x, y = vectors
        frames = len(x)

    dest = Path(out) if out is not None else build_dir / BUNDLE
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "accel" / "deploy").mkdir(parents=True)
    src_pkg = Path(accel.__file__).resolve().parent
    for rel in DRIVER_FILES:
        shutil.copyfile(src_pkg / rel, dest / "accel" / rel)
    shutil.copyfile(TEMPLATE_DIR / "run_on_board.py", dest / "run_on_board.py")
    (dest / "run_on_board.py").chmod(0o755)
    np.save(dest / "selftest_input.npy", x)
    np.save(dest / "selftest_expected.npy", y)
    shutil.copyfile(build_dir / MANIFEST, dest / f"{name}.json")  # the checked manifest, byte for byte

    found = {}
    for ext in ("bit", "hwh"):
        src = build_dir / BOARD_DIR / "output" / f"{name}.{ext}"
        if src.is_file():
            shutil.copyfile(src, dest / src.name)
            found[ext] = src.name
    bundle = {
        "model": manifest.model,
        "backend": manifest.backend,
        "bitstream": found.get("bit"),
        "hwh": found.get("hwh"),
        "bitstream_name": f"{name}.bit",
        "metadata": f"{name}.json",
        "selftest": {"input": "selftest_input.npy", "expected": "selftest_expected.npy", "frames": frames,
                     "seed": seed, "output": "raw integers of the output type, compared exactly"},
        "board": board,
        "accel_version": accel.__version__,
    }
    (dest / "bundle.json").write_text(json.dumps(bundle, indent=1) + "\n")
    (dest / "README.md").write_text(_readme(manifest, bundle, board, build_dir))

    tar_path = dest.with_name(dest.name + ".tar.gz")
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(dest, arcname=dest.name)
    return dest


def _readme(manifest: BuildManifest, bundle: dict[str, Any], board: dict[str, Any] | None, build_dir: Path) -> str:
    si, so = manifest.input, manifest.output
    model, backend = manifest.model, manifest.backend
    if bundle["bitstream"] and bundle["hwh"]:
        bit = f"`{bundle['bitstream']}` and `{bundle['hwh']}` (load together by PYNQ's Overlay)."
    else:
        tools = "Vivado and Vitis HLS" if backend == "hls" else "Vivado"
        how = (f"run `{build_dir}/{board['command']}` (needs {tools} on PATH) and package again" if board else
               f"run `accel build {model} --board pynq-z2 --backend {backend} -o DIR`, then "
               "`DIR/board/build_bitstream.sh`, then `accel package DIR`")
        bit = (f"**absent**: this bundle has no `{bundle['bitstream_name']}`/`.hwh` yet. To build them, {how}. "
               "The self-test can still run here with `--transport sim` or `--transport reference`.")
    fclk = f"{board['fclk0_mhz']:.6g} MHz" if board else "see the build"
    return f"""# {model} on a Pynq-Z2 ({backend} backend)

Bitstream: {bit}

## Run on the board
Copy this folder to the board (e.g. `scp -r {BUNDLE} xilinx@pynq:`), then as root on the board (PYNQ 2.7+):

    python3 run_on_board.py              # exact self-test ({bundle['selftest']['frames']} frames), then benchmark
    python3 run_on_board.py --benchmark 0

Exit status 0 means every output equals the NumPy reference bit for bit.

## Use from Python

    from accel.deploy.driver import Accelerator
    acc = Accelerator("{bundle['bitstream_name']}")        # metadata from {bundle['metadata']}
    y = acc.predict(x)   # x: floats on the input grid, or raw integers -> raw integers

## The accelerator
- input  `{si.name}`: {si.shape} {si.type}, {si.lanes} lanes, {si.tdata_bits}-bit TDATA,
  {si.beats_per_frame} beats = {si.bytes_per_frame} bytes per frame
- output `{so.name}`: {so.shape} {so.type}, {so.lanes} lanes, {so.tdata_bits}-bit TDATA,
  {so.beats_per_frame} beats = {so.bytes_per_frame} bytes per frame
- clock: FCLK0 {fclk}; AXI DMA `axi_dma_0` in simple mode, one send and one receive per batch
- packing: `accel/deploy/stream.py` (the same code the testbenches use); full facts in `{bundle['metadata']}`

## Check on a development machine (no board)
    python run_on_board.py --transport sim --build BUILD_DIR        # RTL co-simulation (rtl builds)
    python run_on_board.py --transport reference --build BUILD_DIR  # NumPy reference (zoo models)
"""
