"""The block design's part of the offline Tcl check (:mod:`accel.deploy.tclcheck`): the recorded Vivado calls of
``block_design.tcl`` against the build manifest.

Why a module of its own: what a correct block design is (the accelerator cell and exactly the pins the manifest
names, the reset's polarity, the DMA's mode and stream widths, the width converters, the AXI GPIO on the
accelerator's ``tlast_err``) is one list of rules, apart from running Tcl with stubbed tools.
"""

from __future__ import annotations

from typing import Any

from accel.deploy.board import DMA_STREAM_WIDTHS
from accel.deploy.dma import TLAST_GPIO
from accel.deploy.manifest import BuildManifest

#: a :class:`accel.deploy.tclcheck.TclRun` (the recorded calls of one Tcl run); not imported: tclcheck imports this
TclRun = Any


def cells_of(run: TclRun) -> dict[str, str]:
    cells = {}
    for c in run.named("create_bd_cell"):
        vlnv = c.args[c.args.index("-vlnv") + 1] if "-vlnv" in c.args else ""
        cells[c.args[-1]] = vlnv
    return cells


def dict_of(run: TclRun, cell: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in run.named("@dict"):
        if c.args[0].strip("/") == cell:
            out.update(zip(c.args[1::2], c.args[2::2], strict=True))
    return out


def check_block_design(run: TclRun, manifest: BuildManifest, problems: list[str]) -> None:
    where = run.script.name
    ports = manifest.ports
    cells = cells_of(run)
    accel = [name for name, vlnv in cells.items() if vlnv == manifest.ip.vlnv]
    if len(accel) != 1:
        problems.append(f"{where}: expected one cell of the manifest's IP {manifest.ip.vlnv}, found {accel}")
        return
    acc = accel[0]
    used: dict[str, set[str]] = {"intf": set(), "net": set()}
    reset_nets = []
    for c in run.calls:
        if c.name not in ("connect_bd_intf_net", "connect_bd_net"):
            continue
        kind = "intf" if c.name == "connect_bd_intf_net" else "net"
        named = ("-net", "-intf_net")
        pins = [a for i, a in enumerate(c.args) if not a.startswith("-") and (i == 0 or c.args[i - 1] not in named)]
        for p in pins:
            if p.startswith(acc + "/"):
                used[kind].add(p[len(acc) + 1:])
                if kind == "net" and p[len(acc) + 1:] == ports.reset:
                    reset_nets.append(pins)
    want = {"intf": {ports.s_axis, ports.m_axis}, "net": {ports.clock, ports.reset} | ({ports.tlast_err} - {""})}
    for kind in ("intf", "net"):
        if used[kind] != want[kind]:
            problems.append(
                f"{where}: the accelerator {acc} is connected on {kind} pins {sorted(used[kind])}, but the manifest's "
                f"ports are {sorted(want[kind])}"
            )
    if ports.tlast_err:
        _check_tlast_gpio(run, acc, ports.tlast_err, cells, problems)
    source = "peripheral_aresetn" if ports.reset_active_low else "peripheral_reset"
    for pins in reset_nets:
        drivers = [p for p in pins if p.endswith("/peripheral_aresetn") or p.endswith("/peripheral_reset")]
        if not drivers or not all(d.endswith("/" + source) for d in drivers):
            problems.append(
                f"{where}: the accelerator reset {ports.reset} is driven by {drivers}; its polarity "
                f"(reset_active_low={ports.reset_active_low}) needs {source}"
            )
    dmas = [name for name, vlnv in cells.items() if vlnv.startswith("xilinx.com:ip:axi_dma:")]
    if len(dmas) != 1:
        problems.append(f"{where}: expected one AXI DMA cell, found {dmas}")
        return
    dma = dmas[0]
    d = dict_of(run, dma)
    if str(d.get("CONFIG.c_include_sg")) != "0":
        sg = d.get("CONFIG.c_include_sg")
        problems.append(f"{where}: the DMA must be in simple mode (CONFIG.c_include_sg 0), got {sg}")
    links = {}
    for c in run.named("connect_bd_intf_net"):
        links[c.args[-2]] = c.args[-1]
    # input: DMA MM2S -> [width converter] -> accelerator s_axis; output: accelerator m_axis -> [...] -> DMA S2MM
    for spec, key, start, end in (
        ("input", "CONFIG.c_m_axis_mm2s_tdata_width", f"{dma}/M_AXIS_MM2S", f"{acc}/{ports.s_axis}"),
        ("output", "CONFIG.c_s_axis_s2mm_tdata_width", f"{acc}/{ports.m_axis}", f"{dma}/S_AXIS_S2MM"),
    ):
        bits = (manifest.input if spec == "input" else manifest.output).tdata_bits
        dma_bits = str(d.get(key))
        if dma_bits not in {str(w) for w in DMA_STREAM_WIDTHS}:
            problems.append(f"{where}: DMA {key} is {dma_bits}; an AXI DMA stream is one of {DMA_STREAM_WIDTHS} bits")
        hop = links.get(start)
        if hop == end:
            if dma_bits != str(bits):
                problems.append(f"{where}: DMA {key} is {dma_bits}, but the {spec} stream's tdata_bits is {bits}")
            continue
        cell = (hop or "").split("/")[0]
        if not cells.get(cell, "").startswith("xilinx.com:ip:axis_dwidth_converter:") or links.get(
            f"{cell}/M_AXIS") != end or hop != f"{cell}/S_AXIS":
            problems.append(f"{where}: stream {start} -> {end} is not connected (directly or through one converter)")
            continue
        cv = dict_of(run, cell)
        s_bytes, m_bytes = cv.get("CONFIG.S_TDATA_NUM_BYTES"), cv.get("CONFIG.M_TDATA_NUM_BYTES")
        want = (int(dma_bits) // 8, bits // 8) if spec == "input" else (bits // 8, int(dma_bits) // 8)
        if (str(s_bytes), str(m_bytes)) != tuple(map(str, want)):
            problems.append(f"{where}: width converter {cell} is {s_bytes} -> {m_bytes} bytes, but the {spec} stream "
                            f"needs {want[0]} -> {want[1]} (tdata_bits {bits}, DMA {dma_bits})")  # fmt: skip


def _check_tlast_gpio(run: TclRun, acc: str, port: str, cells: dict[str, str], problems: list[str]) -> None:
    """The accelerator's sticky ``tlast_err`` must reach the driver: an all-input AXI GPIO named
    :data:`~accel.deploy.dma.TLAST_GPIO` whose ``gpio_io_i`` is on the same net, clocked, reset and on an AXI master."""
    where = run.script.name
    if not cells.get(TLAST_GPIO, "").startswith("xilinx.com:ip:axi_gpio:"):
        problems.append(f"{where}: the accelerator's {port} output needs an AXI GPIO cell {TLAST_GPIO} (the driver "
                        f"reads it), found {cells.get(TLAST_GPIO) or 'none'}")  # fmt: skip
        return
    d = dict_of(run, TLAST_GPIO)
    if str(d.get("CONFIG.C_ALL_INPUTS")) != "1" or str(d.get("CONFIG.C_GPIO_WIDTH")) != "1":
        problems.append(f"{where}: {TLAST_GPIO} must be one input bit (C_ALL_INPUTS 1, C_GPIO_WIDTH 1), got "
                        f"{d.get('CONFIG.C_ALL_INPUTS')}, {d.get('CONFIG.C_GPIO_WIDTH')}")  # fmt: skip
    nets = [c.args for c in run.named("connect_bd_net")]
    intf = [c.args for c in run.named("connect_bd_intf_net")]
    for pin, what, found in ((f"{TLAST_GPIO}/gpio_io_i", f"{acc}/{port}", nets),
                             (f"{TLAST_GPIO}/s_axi_aclk", "ps7/FCLK_CLK0", nets),
                             (f"{TLAST_GPIO}/s_axi_aresetn", "rst_fclk0/peripheral_aresetn", nets),
                             (f"{TLAST_GPIO}/S_AXI", "smc_ctrl/M", intf)):  # fmt: skip
        if not any(pin in args and any(a.startswith(what) for a in args) for args in found):
            problems.append(f"{where}: {pin} is not connected to {what}")
