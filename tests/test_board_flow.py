"""Pynq-Z2 board flow: generated Tcl runs to its end in tclsh with Vivado stubbed, and matches the manifest.

The fake build directories below carry exactly what each backend's manifest states (port names, reset
polarity, IP VLNV/repo/make step) plus a small IP-step Tcl of that backend's kind, so the board writer and the
checker are tested independently of the backends; when a real backend build is possible it is checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from accel import AccelError
from accel.deploy.board import fclk_mhz, write_board_flow
from accel.deploy.manifest import load_build, stream_spec, write_manifest
from accel.deploy.tclcheck import check_flow, run_tcl
from accel.fixed import FixedType

BACKENDS = {
    "hls": {
        "ports": {"clock": "ap_clk", "reset": "ap_rst_n", "reset_active_low": True, "s_axis": "s_axis",
                  "m_axis": "m_axis"},
        "ip": {"vlnv": "xilinx.com:hls:accel_top:1.0", "repo": "accel_hls/solution1/impl/ip",
               "make": "vitis_hls -f build_hls.tcl"},
        "tcl": ("build_hls.tcl", """open_project accel_hls
set_top accel_top
add_files firmware/accel_top.cpp -cflags "-std=c++14"
open_solution solution1
set_part xc7z020clg400-1
create_clock -period 10
csynth_design
export_design -format ip_catalog
exit
"""),
        "sources": {"firmware/accel_top.cpp": """void accel_top(hls::stream<in_t> &s_axis, hls::stream<out_t> &m_axis) {
#pragma HLS INTERFACE axis port = s_axis
#pragma HLS INTERFACE axis port = m_axis
}
"""},
        "facts": {"hls": {"io_type": "io_stream", "strategy": "Latency", "reuse_factor": 1, "project": "accel_digits",
                          "hls4ml_dir": "hls4ml", "tb_samples": 16, "seed": 0, "csim": "g++ ..."}},
    },
    "rtl": {
        "ports": {"clock": "clk", "reset": "rst", "reset_active_low": False, "s_axis": "s_axis",
                  "m_axis": "m_axis", "tlast_err": "tlast_err"},
        "ip": {"vlnv": "accel:accel:accel_top:1.0", "repo": "ip",
               "make": "vivado -mode batch -source vivado/package_ip.tcl"},
        "tcl": ("vivado/package_ip.tcl", """set here [file dirname [file normalize [info script]]]
create_project -in_memory -part xc7z020clg400-1
read_verilog [file join $here .. rtl accel_top.v]
ipx::package_project -root_dir [file join $here .. ip] -vendor accel -library accel -taxonomy /UserIP
set clkif [ipx::get_bus_interfaces clk -of_objects [ipx::current_core]]
set_property value 100000000 [ipx::get_bus_parameters FREQ_HZ -of_objects $clkif]
ipx::save_core [ipx::current_core]
"""),
        "sources": {"rtl/accel_top.v": """module accel_top (input wire clk, input wire rst,
  input wire [7:0] s_axis_tdata, input wire s_axis_tvalid, output wire s_axis_tready, input wire s_axis_tlast,
  output wire [7:0] m_axis_tdata, output wire m_axis_tvalid, input wire m_axis_tready, output wire m_axis_tlast,
  output wire tlast_err);
endmodule
"""},
        "facts": {"rtl_sources": ["rtl/accel_top.v"], "filelist": "rtl/filelist.f", "rom_files": [], "rom_paths": "",
                  "expected_ii_cycles": 0, "multipliers": 0, "folding": {}, "layers": []},
    },
}


def fake_build(tmp: Path, backend: str, *, in_lanes: int = 1, **override) -> Path:
    """A build directory as ``backend`` writes it (manifest + its IP-step Tcl + the sources that Tcl reads)."""
    b = BACKENDS[backend]
    d = tmp / f"build_{backend}"
    d.mkdir(parents=True, exist_ok=True)
    tcl_name, tcl = b["tcl"]
    (d / tcl_name).parent.mkdir(parents=True, exist_ok=True)
    (d / tcl_name).write_text(tcl)
    for s, text in b["sources"].items():
        (d / s).parent.mkdir(parents=True, exist_ok=True)
        (d / s).write_text(text)
    manifest = {
        "backend": backend,
        "model": "digits",
        "part": "xc7z020clg400-1",
        "clock_ns": 10.0,
        "top": "accel_top",
        "input": stream_spec("input", (8, 8, 2), FixedType(False, 8, 0), in_lanes),
        "output": stream_spec("output", (1, 1, 10), FixedType(True, 16, 6), 1),
        "ports": dict(b["ports"]),
        "ip": dict(b["ip"]),
        "files": [tcl_name, *b["sources"]],
        **b["facts"],
    }
    for k, v in override.items():
        manifest[k] = v
    write_manifest(d, manifest)
    return d


@pytest.mark.parametrize("backend", ["hls", "rtl"])
def test_flow_checks_pass(tmp_path: Path, backend: str) -> None:
    d = fake_build(tmp_path, backend)
    summary = write_board_flow(d)
    assert summary["fclk0_mhz"] == 100.0 and summary["dma"]["mm2s_tdata_bits"] == 8
    check = check_flow(d)
    assert check.ok, check.problems
    # the script's own order: IP step in the build dir, then the two Vivado steps in board/
    tools = [(t, Path(cwd), argv[-1]) for t, cwd, argv in check.steps]
    assert tools == [
        (BACKENDS[backend]["ip"]["make"].split()[0], d.resolve(), BACKENDS[backend]["tcl"][0].split("/")[-1]
         if backend == "hls" else "vivado/package_ip.tcl"),
        ("vivado", (d / "board").resolve(), "block_design.tcl"),
        ("vivado", (d / "board").resolve(), "build.tcl"),
    ]
    assert [r.completed for r in check.runs] == [True, True, True]
    bd = check.runs[1]
    reset = [c.args for c in bd.named("connect_bd_net") if f"accel_0/{BACKENDS[backend]['ports']['reset']}" in c.args]
    want = "rst_fclk0/peripheral_aresetn" if backend == "hls" else "rst_fclk0/peripheral_reset"
    assert reset == [[want, f"accel_0/{BACKENDS[backend]['ports']['reset']}"]]
    build = check.runs[2]
    copies = [Path(c.args[-1]).name for c in build.named("file copy")]
    assert copies == ["digits.bit", "digits.hwh"]


def test_dma_width_follows_manifest(tmp_path: Path) -> None:
    d = fake_build(tmp_path, "rtl", in_lanes=2)  # 2 x 8 bits -> 16-bit TDATA
    write_board_flow(d)
    check = check_flow(d)
    assert check.ok, check.problems
    kv = {}
    for c in check.runs[1].named("@dict"):
        if c.args[0] == "/axi_dma_0":
            kv.update(zip(c.args[1::2], c.args[2::2], strict=True))
    assert kv["CONFIG.c_m_axis_mm2s_tdata_width"] == "16" and kv["CONFIG.c_s_axis_s2mm_tdata_width"] == "16"


@pytest.mark.parametrize("backend", ["hls", "rtl"])
def test_width_converter_when_dma_cannot_take_the_width(tmp_path: Path, backend: str) -> None:
    """3 lanes of 8 bits (24-bit TDATA) in, 5 lanes of 8 bits (40) out: converters 4 -> 3 and 5 -> 8 bytes."""
    d = fake_build(tmp_path, backend, input=stream_spec("input", (4, 4, 3), FixedType(False, 8, 0), 3),
                   output=stream_spec("output", (1, 1, 10), FixedType(True, 8, 5), 5))
    summary = write_board_flow(d)
    assert summary["width_converters"] == {"input": [32, 24], "output": [40, 64]}
    check = check_flow(d)
    assert check.ok, check.problems
    bd = check.runs[1]
    conv = {c.args[0]: dict(zip(c.args[1::2], c.args[2::2], strict=True)) for c in bd.named("@dict")
            if c.args[0].startswith("/axis_")}
    assert conv["/axis_in_width"]["CONFIG.S_TDATA_NUM_BYTES"] == "4"
    assert conv["/axis_in_width"]["CONFIG.M_TDATA_NUM_BYTES"] == "3"
    assert conv["/axis_out_width"]["CONFIG.S_TDATA_NUM_BYTES"] == "5"
    assert conv["/axis_out_width"]["CONFIG.M_TDATA_NUM_BYTES"] == "8"
    _edit_settings(d, "accel_in_convert", "0")  # wire the 24-bit accelerator straight to a 32-bit DMA stream
    check = check_flow(d)
    assert any("c_m_axis_mm2s_tdata_width is 32, but the input stream's tdata_bits is 24" in p
               for p in check.problems), check.problems


def _edit_settings(d: Path, key: str, value: str) -> None:
    s = d / "board" / "settings.tcl"
    new = f"set {key} {{{value}}}"
    lines = [new if line.startswith(f"set {key} ") else line for line in s.read_text().splitlines()]
    s.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "key,value,expect",
    [
        ("accel_port_s_axis", "in_r", "manifest's ports"),  # port name not the IP's
        ("accel_port_reset", "ap_rst", "manifest's ports"),
        ("accel_reset_active_low", "0", "polarity"),  # hls: active-low reset wired to peripheral_reset
        ("accel_dma_mm2s_tdata_bits", "32", "tdata_bits"),  # DMA width differs from the stream
        ("accel_ip_repo", "accel_hls/impl/ip", "ip.repo"),
        ("accel_ps7_preset_file", "missing_ps7.tcl", "did not run to its end"),
    ],
)
def test_check_fails_on_mismatch(tmp_path: Path, key: str, value: str, expect: str) -> None:
    d = fake_build(tmp_path, "hls")
    write_board_flow(d)
    _edit_settings(d, key, value)
    check = check_flow(d)
    assert not check.ok
    assert any(expect in p for p in check.problems), check.problems


def test_tlast_err_reaches_an_axi_gpio(tmp_path: Path) -> None:
    """An RTL top's sticky tlast_err goes to a one-bit all-input AXI GPIO on the control interconnect, which the
    driver reads; an HLS top has none and gets none; a flow that leaves the GPIO out, or a source without the
    port, fails the check."""
    d = fake_build(tmp_path, "rtl")
    assert write_board_flow(d)["overlay"]["tlast_err_gpio"] == "axi_gpio_tlast"
    check = check_flow(d)
    assert check.ok, check.problems
    bd = check.runs[1]
    assert ["accel_0/tlast_err", "axi_gpio_tlast/gpio_io_i"] in [c.args for c in bd.named("connect_bd_net")]
    assert ["smc_ctrl/M01_AXI", "axi_gpio_tlast/S_AXI"] in [c.args for c in bd.named("connect_bd_intf_net")]
    _edit_settings(d, "accel_port_tlast_err", "")
    check = check_flow(d)
    assert any("needs an AXI GPIO cell axi_gpio_tlast" in p for p in check.problems), check.problems
    assert any("is connected on net pins ['clk', 'rst']" in p for p in check.problems), check.problems
    src = d / "rtl" / "accel_top.v"
    src.write_text(src.read_text().replace("tlast_err", "tlast_error"))
    write_board_flow(d)
    assert any(r"has no port matching /\btlast_err\b/" in p for p in check_flow(d).problems)
    h = fake_build(tmp_path, "hls")
    assert write_board_flow(h)["overlay"]["tlast_err_gpio"] is None
    check = check_flow(h)
    assert check.ok and "axi_gpio_tlast" not in {c.args[-1] for c in check.runs[1].named("create_bd_cell")}


def test_manifest_with_wrong_port_name_fails(tmp_path: Path) -> None:
    """The flow is written from a manifest, then the manifest is corrected to the IP's true port: mismatch."""
    d = fake_build(tmp_path, "rtl")
    write_board_flow(d)
    m = json.loads((d / "build.json").read_text())
    m["ports"]["m_axis"] = "m_axis_out"
    (d / "build.json").write_text(json.dumps(m))
    check = check_flow(d)
    assert any("m_axis_out" in p for p in check.problems), check.problems


def test_ip_step_must_make_the_instantiated_ip(tmp_path: Path) -> None:
    d = fake_build(tmp_path, "rtl")
    m = json.loads((d / "build.json").read_text())
    m["ip"]["vlnv"] = "accel:accel:accel_net:1.0"  # the block design would instantiate an IP nobody packages
    (d / "build.json").write_text(json.dumps(m))
    write_board_flow(d)
    check = check_flow(d)
    assert any("produces accel:accel:accel_top:1.0, but the block design instantiates accel:accel:accel_net:1.0" in p
               for p in check.problems), check.problems


@pytest.mark.parametrize(
    "backend,old,new", [("rtl", "s_axis_tdata", "in_tdata"), ("hls", "port = m_axis", "port = out")]
)
def test_ip_source_must_have_the_manifest_ports(tmp_path: Path, backend: str, old: str, new: str) -> None:
    d = fake_build(tmp_path, backend)
    write_board_flow(d)
    src = d / next(iter(BACKENDS[backend]["sources"]))
    src.write_text(src.read_text().replace(old, new))
    check = check_flow(d)
    assert any("has no port matching" in p for p in check.problems), check.problems


def test_missing_source_in_ip_step_fails(tmp_path: Path) -> None:
    d = fake_build(tmp_path, "hls")
    write_board_flow(d)
    (d / "firmware" / "accel_top.cpp").unlink()
    check = check_flow(d)
    assert any("accel_top.cpp" in p and "does not exist" in p for p in check.problems), check.problems


def test_typo_command_fails(tmp_path: Path) -> None:
    script = tmp_path / "x.tcl"
    script.write_text("create_project p ./p -part xc7z020clg400-1\nconect_bd_net a b\n")
    run = run_tcl(script, cwd=tmp_path)
    assert not run.completed and "conect_bd_net" in run.output
    script.write_text("create_bd_design d\nconnect_bd_net [get_bd_pins nocell/clk] [get_bd_pins x/y]\n")
    run = run_tcl(script, cwd=tmp_path)
    assert not run.completed and "nocell" in run.output


def test_build_script_without_vivado(tmp_path: Path) -> None:
    d = fake_build(tmp_path, "hls")
    write_board_flow(d)
    env = dict(os.environ, PATH="/usr/bin:/bin")
    proc = subprocess.run(["bash", str(d / "board" / "build_bitstream.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 127
    assert "vitis_hls is not on PATH" in proc.stderr


def test_refusals(tmp_path: Path) -> None:
    d = fake_build(tmp_path, "rtl")
    with pytest.raises(AccelError, match="board 'zcu104' is not supported; supported boards: pynq-z2"):
        write_board_flow(d, board="zcu104")
    with pytest.raises(AccelError, match="shorter than"):
        write_board_flow(d, clock_ns=5.0)
    d9 = fake_build(tmp_path / "nine", "rtl", input=stream_spec("input", (4, 4, 1), FixedType(False, 9, 0), 1))
    d9m = json.loads((d9 / "build.json").read_text())
    d9m["input"]["tdata_bits"] = 9  # a hand-edited manifest claiming a TDATA of 9 bits (its beats are 16)
    (d9 / "build.json").write_text(json.dumps(d9m))
    with pytest.raises(AccelError, match=r"build\.json: input\.tdata_bits is 9, but the other fields make it 16"):
        write_board_flow(d9)
    wide = stream_spec("input", (1, 1, 130), FixedType(False, 8, 0), 130)  # 1040-bit beats
    dw = fake_build(tmp_path / "wide", "rtl", input=wide)
    with pytest.raises(AccelError, match="is 1040 bits wide .* whole bytes up to 1024 bits"):
        write_board_flow(dw)
    dp = fake_build(tmp_path / "part", "rtl", part="xc7a35tcpg236-1")
    with pytest.raises(AccelError, match="carries xc7z020clg400-1"):
        write_board_flow(dp)


def test_fclk_rounds_down_to_reachable() -> None:
    assert fclk_mhz(10.0) == (100.0, 1, 10)
    mhz, d0, d1 = fclk_mhz(7.0)  # 142.857 MHz = 1000 / 7
    assert d0 * d1 == 7 and abs(mhz - 1000 / 7) < 1e-9
    mhz, d0, d1 = fclk_mhz(6.4)  # 156.25 MHz is not reachable: next slower is 1000/7
    assert mhz <= 1000 / 6.4 and d0 * d1 == 7
    with pytest.raises(AccelError):
        fclk_mhz(2.0)


# -- the real backends -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    import models
    from accel.frontend import to_graph

    model = models.build("digits")
    return model, to_graph(model, "digits")


@pytest.mark.slow
def test_real_rtl_build_flow(tmp_path: Path, digits) -> None:
    """accel.rtl.network's build directory (its own vivado/package_ip.tcl included) passes the flow check."""
    from accel.rtl import network

    d = tmp_path / "rtl"
    network.build_rtl(digits[1], d)
    write_board_flow(d)
    check = check_flow(d)
    assert check.ok, check.problems
    assert [r.script.name for r in check.runs] == ["package_ip.tcl", "block_design.tcl", "build.tcl"]
    assert all(r.completed for r in check.runs)
    ipx = [c for c in check.runs[0].calls if c.name == "ipx::package_project"]
    assert ipx and Path(ipx[0].args[ipx[0].args.index("-root_dir") + 1]) == (d / load_build(d).ip.repo).resolve()


@pytest.mark.slow
def test_real_hls_build_flow(tmp_path: Path, digits) -> None:
    """accel.hls.project's build directory (its own build_hls.tcl included) passes the flow check."""
    from accel.hls import project

    d = tmp_path / "hls"
    project.build_hls_project(digits[0], digits[1], d)
    summary = write_board_flow(d)
    check = check_flow(d)
    assert check.ok, check.problems
    assert [r.script.name for r in check.runs] == ["build_hls.tcl", "block_design.tcl", "build.tcl"]
    assert all(r.completed for r in check.runs), [r.output for r in check.runs]
    hls = check.runs[0]
    assert [c.args[-1] for c in hls.named("set_top")] == ["accel_top"]
    assert hls.named("export_design"), "the IP step must export the IP the block design instantiates"
    assert summary["dma"]["mm2s_tdata_bits"] in (8, 16, 32, 64)


# -- the HLS IP step picks vitis-run (Vitis 2024.2+) or vitis_hls (older) by what is on PATH ----------------------
def _hls_script_build(tmp_path: Path) -> Path:
    """A fake HLS build whose IP step is the real run_hls.sh (rendered from hls_templates/) on its build_hls.tcl."""
    d = fake_build(tmp_path, "hls", ip={**BACKENDS["hls"]["ip"], "make": "bash run_hls.sh"})
    template = Path(__file__).resolve().parents[1] / "hls_templates" / "run_hls.sh.tmpl"
    (d / "run_hls.sh").write_text(template.read_text().replace("@MODEL@", "digits"))
    return d


def test_hls_ip_step_runs_with_either_vitis_tool(tmp_path: Path) -> None:
    d = _hls_script_build(tmp_path)
    write_board_flow(d)
    check = check_flow(d)  # once with a fake vitis-run only, once with a fake vitis_hls only
    assert check.ok, check.problems
    assert [n for n in check.notes if n.startswith("fake tools")] == [
        "fake tools on PATH: vivado, vitis-run", "fake tools on PATH: vivado, vitis_hls"]
    assert check.steps[0] == ("vitis-run", str(d.resolve()), ["--mode", "hls", "--tcl", "build_hls.tcl"])
    assert [r.script.name for r in check.runs] == ["build_hls.tcl", "block_design.tcl", "build.tcl"]


@pytest.mark.parametrize(("tools", "argv"), [
    (("vitis-run", "vitis_hls"), ["--mode", "hls", "--tcl", "build_hls.tcl"]),  # both: the newer one wins
    (("vitis_hls",), ["-f", "build_hls.tcl"]),
])  # fmt: skip
def test_run_hls_prefers_vitis_run(tmp_path: Path, tools: tuple[str, ...], argv: list[str]) -> None:
    d = _hls_script_build(tmp_path)
    bindir, log = tmp_path / "bin", tmp_path / "log.txt"
    bindir.mkdir()
    for tool in tools:
        (bindir / tool).write_text(f'#!/bin/sh\necho "{tool} $* ACCEL_HLS_STEPS=$ACCEL_HLS_STEPS" >> {log}\n')
        (bindir / tool).chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin")
    env["ACCEL_HLS_STEPS"] = "csim"  # a stale value in the user's shell does not reach the tool
    for steps in (["csim", "synth"], []):
        proc = subprocess.run(["bash", str(d / "run_hls.sh"), *steps], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert log.read_text() == (f"{tools[0]} {' '.join(argv)} ACCEL_HLS_STEPS=csim synth\n"
                               f"{tools[0]} {' '.join(argv)} ACCEL_HLS_STEPS=csim synth cosim export\n")


def test_no_vitis_tool_names_both(tmp_path: Path) -> None:
    d = _hls_script_build(tmp_path)
    write_board_flow(d)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "vivado").write_text("#!/bin/sh\nexit 0\n")
    (bindir / "vivado").chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin")
    proc = subprocess.run(["bash", str(d / "board" / "build_bitstream.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 127
    assert "neither vitis-run (Vitis 2024.2 and newer) nor vitis_hls (older Vitis HLS) is on PATH" in proc.stderr
