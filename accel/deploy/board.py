"""Board flow: from an ``accel build`` directory (either backend) to a Vivado project, bitstream and ``.hwh``.

Why one writer: the HLS and RTL backends differ only in facts the manifest already states (IP VLNV and
repository, port names, reset polarity, the command that makes the IP).  So the Tcl lives as real files in
``hls_templates/pynq/`` (the same for every build), and this module writes only the data they read:
``board/settings.tcl``.  Written into ``build_dir/board/``:

* ``settings.tcl``       model/board facts as Tcl variables (from ``build.json`` and the board table)
* ``<board>_ps7.tcl``    the board's PS7 preset (DDR, MIO, crystal), explicit so no board files are needed
* ``block_design.tcl``   PS7 + AXI DMA (simple mode) + accelerator + resets + interconnects, wrapper; an AXI GPIO
                         input on the accelerator's sticky ``tlast_err`` output when it has one (RTL builds)
* ``build.tcl``          synthesis, implementation, bitstream; copies ``<name>.bit``/``.hwh`` and reports to output/
* ``build_bitstream.sh`` the backend's IP step (``ip.make``), then both Vivado steps
* ``board.json``         what was chosen (part, FCLK0 actually reachable, DMA widths) for reports and the bundle

The DMA is in simple mode without the realignment engine.  MM2S ends a transfer with TLAST, S2MM ends one at
TLAST, and the accelerators pass TLAST through per frame (:mod:`accel.deploy.stream`), so the driver moves a batch
in one send and one receive with aligned starts (the rules and the choice: :mod:`accel.deploy.dma`).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.deploy.dma import DMA_LENGTH_BITS, DMA_STREAM_WIDTHS, TLAST_GPIO, dma_mm_width, dma_stream_width
from accel.deploy.manifest import MANIFEST, BuildManifest, StreamSpec, load_build
from accel.parts import DEFAULT_PART, IO_PLL_HZ, ps7_fclk
from accel.resources import templates_dir

TEMPLATE_DIR = templates_dir() / "pynq"
BOARD_DIR = "board"
BD_NAME = "accel_bd"
PROJECT = "accel_board"


@dataclass(frozen=True)
class Board:
    """A supported board: its part and the PS7 preset file in hls_templates/pynq/."""

    name: str
    part: str
    ps7_preset: str
    hp0_data_width: int = 64


#: IP steps run by one of these are scripts that check their own tools
SHELLS = ("bash", "sh")
BOARDS = {"pynq-z2": Board("pynq-z2", DEFAULT_PART, "pynq_z2_ps7.tcl")}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def fclk_mhz(clock_ns: float) -> tuple[float, int, int]:
    """The fastest FCLK0 not faster than ``1000/clock_ns`` MHz that the IO PLL dividers reach: (MHz, d0, d1).

    Why: the PS cannot make every frequency; rounding down keeps the accelerator within the period its
    backend was built for.  :func:`accel.parts.ps7_fclk` is the one computation (it also gives whole Hz).
    """
    f = ps7_fclk(clock_ns)
    return IO_PLL_HZ / (f.divisor0 * f.divisor1) / 1e6, f.divisor0, f.divisor1


def clock_note(clock_ns: float, fclk_hz: int) -> str:
    """One sentence for board.json, settings.tcl and the board README: the FCLK0 made, and why it differs if it does."""
    asked = 1e3 / clock_ns
    made = f"FCLK0 = {fclk_hz} Hz ({fclk_hz / 1e6:.6g} MHz, period {1e9 / fclk_hz:.6g} ns)"
    if abs(fclk_hz - 1e9 / clock_ns) < 0.5:
        return f"{made}, exactly the requested {clock_ns:g} ns."
    return (f"{made}: the requested {clock_ns:g} ns ({asked:.6g} MHz) is not a frequency the PS7's IO PLL "
            "dividers make, so the next slower one is used; the accelerator IP's FREQ_HZ states the same.")


def _tcl_word(value: Any, what: str) -> str:
    text = str(value)
    if any(c in text for c in "{}\\\n\r"):
        raise AccelError(f"{what} '{text}' contains braces, backslashes or newlines; Tcl settings cannot hold them.")
    return "{" + text + "}"


def _dma_width(spec: StreamSpec, side: str, path: Path) -> int:
    """The DMA's stream width for a stream of ``tdata_bits``: equal when the DMA accepts it, else the next wider one.

    Why: an AXI DMA stream is 8, 16, 32, ... 1024 bits, while a backend may choose e.g. 3 lanes of 8 bits
    (24 bits).  Then an AXI4-Stream data width converter sits between DMA and accelerator; it repacks the
    byte stream without gaps, so the DMA's byte image is still :func:`accel.deploy.stream.to_bytes`' image.
    """
    bits = spec.tdata_bits  # whole bytes by construction
    if bits > DMA_STREAM_WIDTHS[-1]:
        raise AccelError(
            f"{path}: the {side} stream is {bits} bits wide ({spec.lanes} lanes of {spec.type}); the board "
            f"flow supports streams of whole bytes up to {DMA_STREAM_WIDTHS[-1]} bits."
        )
    if spec.bytes_per_frame >= 1 << DMA_LENGTH_BITS:
        raise AccelError(
            f"{path}: one {side} frame is {spec.bytes_per_frame} bytes, more than one AXI DMA transfer "
            f"(2^{DMA_LENGTH_BITS} - 1 bytes); only smaller frames are supported."
        )
    return dma_stream_width(bits)


def make_command(manifest: BuildManifest) -> str:
    """The backend's IP step (``ip.make``): one shell command line."""
    return manifest.ip.make


def write_board_flow(build_dir: Path, *, board: str = "pynq-z2", clock_ns: float | None = None) -> dict[str, Any]:
    """Write ``build_dir/board/`` (see module doc) for ``board``; returns the board summary (also board.json)."""
    build_dir = Path(build_dir)
    if board not in BOARDS:
        raise AccelError(f"board '{board}' is not supported; supported boards: {', '.join(BOARDS)}.")
    spec = BOARDS[board]
    manifest = load_build(build_dir)
    mpath = build_dir / MANIFEST
    if manifest.part != spec.part:
        raise AccelError(
            f"{mpath}: the {manifest.backend} project targets {manifest.part}, but {board} carries {spec.part}; "
            f"rebuild with part {spec.part}."
        )
    period = float(manifest.clock_ns if clock_ns is None else clock_ns)
    if clock_ns is not None and clock_ns < manifest.clock_ns:
        raise AccelError(
            f"clock period {clock_ns} ns is shorter than the {manifest.clock_ns} ns the {manifest.backend} "
            "project was built for; only equal or longer periods are supported."
        )
    fclk = ps7_fclk(period)
    d0, d1 = fclk.divisor0, fclk.divisor1
    mhz = IO_PLL_HZ / (d0 * d1) / 1e6
    note = clock_note(period, fclk.hz)
    ports = manifest.ports
    for key in ("clock", "reset", "s_axis", "m_axis") + (("tlast_err",) if ports.tlast_err else ()):
        if not _NAME.match(getattr(ports, key)):
            raise AccelError(f"{mpath}: port name ports.{key} = '{getattr(ports, key)}' is not a plain HDL identifier.")
    in_bits, out_bits = manifest.input.tdata_bits, manifest.output.tdata_bits
    in_dma, out_dma = _dma_width(manifest.input, "input", mpath), _dma_width(manifest.output, "output", mpath)
    ip = manifest.ip
    make = make_command(manifest)
    output_name = re.sub(r"[^A-Za-z0-9_]", "_", manifest.model) or "accel"

    settings = {
        "accel_model": manifest.model,
        "accel_backend": manifest.backend,
        "accel_board": board,
        "accel_part": spec.part,
        "accel_ps7_preset_file": spec.ps7_preset,
        "accel_project": PROJECT,
        "accel_bd_name": BD_NAME,
        "accel_output_name": output_name,
        "accel_fclk_hz": fclk.hz,
        "accel_fclk_mhz": f"{mhz:.6f}",
        "accel_fclk_divisor0": d0,
        "accel_fclk_divisor1": d1,
        "accel_hp0_data_width": spec.hp0_data_width,
        "accel_ip_vlnv": ip.vlnv,
        "accel_ip_repo": ip.repo,
        "accel_ip_make": make,
        "accel_port_clock": ports.clock,
        "accel_port_reset": ports.reset,
        "accel_reset_active_low": int(ports.reset_active_low),
        "accel_port_s_axis": ports.s_axis,
        "accel_port_m_axis": ports.m_axis,
        "accel_port_tlast_err": ports.tlast_err,  # "" when the top has none (HLS): no GPIO
        "accel_tlast_gpio": TLAST_GPIO,
        "accel_in_tdata_bits": in_bits,
        "accel_out_tdata_bits": out_bits,
        "accel_dma_mm2s_tdata_bits": in_dma,
        "accel_dma_s2mm_tdata_bits": out_dma,
        "accel_in_convert": int(in_dma != in_bits),
        "accel_out_convert": int(out_dma != out_bits),
        "accel_dma_mm2s_mm_width": dma_mm_width(in_dma),
        "accel_dma_s2mm_mm_width": dma_mm_width(out_dma),
        "accel_dma_length_bits": DMA_LENGTH_BITS,
    }
    out = build_dir / BOARD_DIR
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# accel board settings for {manifest.model} ({manifest.backend} backend) on {board}.",
             "# Written by accel.deploy.board from ../build.json; the .tcl files next to it read only these,",
             "# and so do the IP steps (../build_hls.tcl, ../vivado/package_ip.tcl) for the clock's FREQ_HZ.",
             f"# {note}", ""]
    lines += [f"set {k} {_tcl_word(v, k)}" for k, v in settings.items()]
    (out / "settings.tcl").write_text("\n".join(lines) + "\n")
    for name in ("block_design.tcl", "build.tcl", spec.ps7_preset):
        shutil.copyfile(TEMPLATE_DIR / name, out / name)
    script = out / "build_bitstream.sh"
    script.write_text(_shell_script(make, output_name))
    script.chmod(0o755)

    summary = {
        "board": board,
        "part": spec.part,
        "clock_ns": period,
        "fclk0_mhz": mhz,
        "fclk0_hz": fclk.hz,
        "fclk0_dividers": [d0, d1],
        "clock_note": note,
        "dma": {"mode": "simple", "length_bits": DMA_LENGTH_BITS, "mm2s_tdata_bits": in_dma,
                "s2mm_tdata_bits": out_dma, "mm2s_mm_bits": dma_mm_width(in_dma), "s2mm_mm_bits": dma_mm_width(out_dma),
                "realignment_engine": False,
                "transfer": "a batch per transfer pair: its input in one MM2S transfer (TLAST on the last beat), "
                            "its output in one S2MM transfer (TLAST passed through to the batch's last beat)"},
        "width_converters": {"input": [in_dma, in_bits] if in_dma != in_bits else None,
                             "output": [out_bits, out_dma] if out_dma != out_bits else None},
        "overlay": {"dma": "axi_dma_0", "accelerator": "accel_0",
                    "tlast_err_gpio": TLAST_GPIO if ports.tlast_err else None},
        "bitstream": f"{BOARD_DIR}/output/{output_name}.bit",
        "hwh": f"{BOARD_DIR}/output/{output_name}.hwh",
        "files": [f"{BOARD_DIR}/{n}" for n in
                  ("settings.tcl", spec.ps7_preset, "block_design.tcl", "build.tcl", "build_bitstream.sh")],
        "command": f"{BOARD_DIR}/build_bitstream.sh",
        "script": f"{BOARD_DIR}/build_bitstream.sh",
    }
    (out / "board.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def _shell_script(make: str, output_name: str) -> str:
    """build_bitstream.sh: the same script for both backends; only the IP step's command line differs.

    An IP step that is a shell script (the HLS backend's ``bash run_hls.sh``) checks its own tools: it picks
    ``vitis-run`` or ``vitis_hls`` by what is on PATH, and names both when neither is.
    """
    tools = []
    for tool in (shlex.split(make)[0], "vivado"):
        if tool not in tools and tool not in SHELLS:
            tools.append(tool)
    checks = "\n".join(f"need {shlex.quote(t)}" for t in tools)
    return f"""#!/usr/bin/env bash
# accel: build the Pynq bitstream of this build directory (IP step, block design, bitstream).
# Needs the Xilinx tools on PATH (source <Xilinx install>/settings64.sh first).  ACCEL_VIVADO_JOBS sets parallelism.
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
build="$(cd "$here/.." && pwd)"
need() {{
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "build_bitstream.sh: $1 is not on PATH; source the Xilinx settings64.sh that provides it and rerun." >&2
    exit 127
  fi
}}
{checks}
echo {shlex.quote("[1/3] IP: " + make)}
(cd "$build" && {make})
echo "[2/3] block design"
(cd "$here" && vivado -mode batch -nojournal -nolog -source block_design.tcl)
echo "[3/3] synthesis, implementation, bitstream"
(cd "$here" && vivado -mode batch -nojournal -nolog -source build.tcl)
echo "accel: $here/output/{output_name}.bit and {output_name}.hwh are ready"
"""
