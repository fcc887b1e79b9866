"""``build.json``: the one manifest every ``accel build`` directory carries, whichever backend wrote it.

Why one file: the board flow (:mod:`accel.deploy.board`), the packager, the report and the PYNQ driver
must all know the same facts about a built accelerator (its top-level IP, its ports, and above all the
exact packing of its two AXI4-Stream ports) without knowing which backend produced it.  Each backend
writes the manifest with :func:`write_manifest`; every consumer reads it with :func:`read_manifest`,
which checks the keys every consumer relies on, so a missing fact fails at the reader with a sentence
naming the file instead of as a ``KeyError`` deep inside a Tcl writer.

Common keys (backends may add their own, e.g. ``layers`` for the RTL backend)::

    backend    "hls" | "rtl"
    model      graph name
    part       FPGA part, e.g. "xc7z020clg400-1"
    clock_ns   target clock period in ns
    top        top-level module / HLS function name ("accel_top")
    input      stream spec of s_axis (see stream_spec)
    output     stream spec of m_axis
    ports      {"clock", "reset", "reset_active_low", "s_axis", "m_axis"}: top-level port names
    ip         {"vlnv", "repo", "make"}: the IP the vendor step produces, where (relative to the
               build dir) it appears, and the command that produces it
    files      relative paths of every file the backend wrote
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.deploy.stream import beat_bits, beat_bytes
from accel.fixed import FixedType

MANIFEST = "build.json"
REQUIRED_KEYS = ("backend", "model", "part", "clock_ns", "top", "input", "output", "ports", "ip", "files")
PORT_KEYS = ("clock", "reset", "reset_active_low", "s_axis", "m_axis")


def check_target(part: str, clock_ns: float) -> None:
    """The FPGA part and clock period every backend records; refused before anything is written."""
    if not isinstance(part, str) or not re.fullmatch(r"x[a-z0-9]+-[a-z0-9-]+", part.strip().lower()):
        raise AccelError(f"FPGA part '{part}' is not a Xilinx part name; give one like xc7z020clg400-1.")
    try:
        ok = float(clock_ns) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise AccelError(f"clock period {clock_ns} ns is not supported; it must be a positive number of ns.")


def stream_spec(name: str, shape: tuple[int, ...], dtype: FixedType, lanes: int) -> dict[str, Any]:
    """JSON description of one top-level stream: enough to pack/unpack it with :mod:`accel.deploy.stream`.

    ``tdata_bits`` is the port's TDATA width: the beat padded to whole bytes, as an AXI DMA needs.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise AccelError(f"stream {name}: shape {shape} is not (H, W, C); top-level streams carry (H, W, C) frames.")
    if lanes < 1 or shape[-1] % lanes:
        raise AccelError(f"stream {name}: {lanes} lanes do not divide {shape[-1]} channels; lanes must divide C.")
    elements = shape[0] * shape[1] * shape[2]
    return {
        "name": name,
        "shape": list(shape),
        "type": dtype.hls,
        "lanes": int(lanes),
        "beat_bits": beat_bits(dtype, lanes),
        "beat_bytes": beat_bytes(dtype, lanes),
        "tdata_bits": 8 * beat_bytes(dtype, lanes),
        "beats_per_frame": elements // lanes,
        "bytes_per_frame": elements // lanes * beat_bytes(dtype, lanes),
    }


def stream_type(spec: dict[str, Any]) -> FixedType:
    """The element type of a stream spec written by :func:`stream_spec`."""
    return FixedType.parse(spec["type"])


def write_manifest(directory: Path, manifest: dict[str, Any]) -> Path:
    """Check the common keys and write ``directory/build.json``."""
    _check(manifest, Path(directory) / MANIFEST)
    path = Path(directory) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def read_manifest(directory: Path) -> dict[str, Any]:
    """``directory/build.json``, checked; an AccelError names the directory when it is not a build."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise AccelError(f"{directory} is not an accel build directory (no {MANIFEST}); create one with `accel build`.")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AccelError(f"{path} cannot be read as JSON ({exc}); rebuild the directory with `accel build`.") from None
    _check(manifest, path)
    return manifest


def _check(manifest: dict[str, Any], path: Path) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    missing += [f"ports.{k}" for k in PORT_KEYS if k not in manifest.get("ports", {})]
    if missing:
        raise AccelError(f"{path} lacks {', '.join(missing)}; a build manifest needs {', '.join(REQUIRED_KEYS)}.")
    if manifest["backend"] not in ("hls", "rtl"):
        raise AccelError(f"{path}: backend '{manifest['backend']}' is unknown; supported: hls, rtl.")
