"""accel.rtl.network / accel.rtl.folding: generation for every zoo model, lint of the generated top, the
default folding (ds_cnn_kws: the fastest within 85% of the xc7z020; the optimiser itself: tests/test_folding.py),
overrides and refusals, the build.json keys, and Icarus smoke simulations compared bit-exactly with the reference.

The full cocotb network testbench (gaps, backpressure, many frames) lives in rtl_tests/network/; the
smoke simulation here is a plain Verilog testbench so it needs only iverilog.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import rtl_lint  # noqa: E402

import models  # noqa: E402
from accel import AccelError  # noqa: E402
from accel.deploy.manifest import load_build  # noqa: E402
from accel.deploy.stream import pack, unpack  # noqa: E402
from accel.fixed import FixedType, Overflow, Rounding  # noqa: E402
from accel.ir import Graph, GraphBuilder  # noqa: E402
from accel.reference.executor import execute  # noqa: E402
from accel.rtl.network import build_rtl, choose_folding  # noqa: E402

ZOO = models.names()
_GRAPHS: dict[str, Graph] = {}


def zoo_graph(name: str) -> Graph:
    """Load once per process: building the Keras model is the slow part."""
    if name not in _GRAPHS:
        from accel.frontend import load_graph

        _GRAPHS[name] = load_graph(models.build(name, seed=0))[1]
    return _GRAPHS[name]


def lint(rtl: Path) -> str:
    """verilator --lint-only -Wall over the generated file list; returns the diagnostics (empty when clean)."""
    exe, env = rtl_lint.lint_env()  # the system verilator, whatever an earlier co-simulation put on PATH
    proc = subprocess.run([exe or "verilator", "--lint-only", "-Wall", "--top-module", "accel_top", "-f",
                           "filelist.f"], cwd=rtl, capture_output=True, text=True, check=False, env=env)  # fmt: skip
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 or text, "verilator failed without a message"
    return text if proc.returncode or "%Warning" in text or "%Error" in text else ""


# ------------------------------------------------------------------------------------------------------
# Icarus smoke simulation: a plain testbench streaming F frames, optional seeded gaps and backpressure

TB = """`timescale 1ns / 1ps
module tb;
reg clk = 0, rst = 1;
always #5 clk = ~clk;
reg [{IB}-1:0] mem [0:{NIN}-1];
reg [31:0] i = 0, nout = 0, cyc = 0, seed = {SEED};
reg gap = 0, hold = 0;
wire s_tready, m_tvalid, m_tlast;
wire [{OB}-1:0] m_tdata;
wire s_tvalid = !rst && i < {NIN} && !gap;
integer fd;
accel_top dut(.clk(clk), .rst(rst), .s_axis_tdata(mem[i]), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
  .s_axis_tlast(((i + 1) % {BPF}) == 0), .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(!hold),
  .m_axis_tlast(m_tlast));
initial begin $readmemh("in.hex", mem); fd = $fopen("out.txt", "w"); repeat (3) @(posedge clk); rst <= 0; end
always @(posedge clk) if (!rst) begin
  cyc <= cyc + 1;
  if (s_tvalid && s_tready) i <= i + 1;
  if (!s_tvalid || s_tready) gap <= {STALL} && ($random(seed) % 3 == 0);
  hold <= {STALL} && ($random(seed) % 4 == 0);
  if (m_tvalid && !hold) begin $fwrite(fd, "%h %0d %0d\\n", m_tdata, m_tlast, cyc); nout <= nout + 1; end
  if (nout == {NOUT} || cyc > {MAXC}) begin $fclose(fd); $finish; end
end
endmodule
"""


def simulate(graph: Graph, out: Path, frames: int = 2, stall: bool = False, folding=None) -> tuple[dict, list[int]]:
    """Build, stream ``frames`` random frames through accel_top in Icarus, compare with the reference.

    Returns (manifest, cycle of each frame's TLAST beat).
    """
    m = build_rtl(graph, out, folding=folding)
    tin = graph.tensors[graph.inputs[0]]
    tout = graph.tensors[graph.outputs[0]]
    rng = np.random.default_rng(1)
    x = rng.integers(tin.dtype.min_raw, tin.dtype.max_raw + 1, (frames, *tin.shape))
    ref = execute(graph, x).outputs[graph.outputs[0]]
    ins, outs = m["input"], m["output"]
    beats = pack(x, tin.dtype, ins["lanes"])
    rtl = out / "rtl"
    (rtl / "in.hex").write_text("".join(f"{b:x}\n" for b in beats))
    nout = frames * outs["beats_per_frame"]
    (rtl / "tb.v").write_text(TB.format(
        IB=ins["tdata_bits"], OB=outs["tdata_bits"], NIN=len(beats), NOUT=nout, BPF=ins["beats_per_frame"],
        MAXC=(frames + 2) * m["expected_ii_cycles"] * (3 if stall else 2) + 20000, SEED=7, STALL=int(stall)))
    subprocess.run(["iverilog", "-g2005", "-o", "sim.vvp", "-s", "tb", "-f", "filelist.f", "tb.v"], cwd=rtl,
                   check=True, capture_output=True)
    subprocess.run(["vvp", "-n", "sim.vvp"], cwd=rtl, check=True, capture_output=True)
    rows = [line.split() for line in (rtl / "out.txt").read_text().splitlines()]
    assert len(rows) == nout, f"{len(rows)} output beats, expected {nout} (lost beats or a deadlock)"
    got = unpack([int(r[0], 16) for r in rows], (frames, *tout.shape), tout.dtype, outs["lanes"])
    assert np.array_equal(got, ref)
    lasts = [k for k, r in enumerate(rows) if r[1] == "1"]
    assert lasts == [(f + 1) * outs["beats_per_frame"] - 1 for f in range(frames)]
    return m, [int(rows[k][2]) for k in lasts]


needs_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog is not installed (make system)")
needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None,
                                     reason="verilator is not installed (make system)")


# ------------------------------------------------------------------------------------------------------
# generation + lint + manifest, every zoo model


@needs_verilator
@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_generates_lint_clean_rtl_and_manifest(name: str, tmp_path: Path) -> None:
    g = zoo_graph(name)
    m = build_rtl(g, tmp_path)
    assert lint(tmp_path / "rtl") == ""
    back = load_build(tmp_path).to_json()
    assert back == json.loads(json.dumps(m))
    assert m["backend"] == "rtl" and m["top"] == "accel_top" and m["part"] == "xc7z020clg400-1"
    assert m["ports"] == {"clock": "clk", "reset": "rst", "reset_active_low": False, "s_axis": "s_axis",
                          "m_axis": "m_axis", "tlast_err": "tlast_err"}
    assert m["ip"]["vlnv"] == "accel:accel:accel_top:1.0" and m["ip"]["repo"] == "ip"
    for f in m["files"]:
        assert (tmp_path / f).is_file(), f
    top = (tmp_path / "rtl" / "accel_top.v").read_text()
    # port widths are the byte-padded stream widths
    for port, spec in (("s_axis_tdata", m["input"]), ("m_axis_tdata", m["output"])):
        assert spec["tdata_bits"] % 8 == 0
        assert re.search(rf"\[{spec['tdata_bits'] - 1}:0\] {port}\b", top)
    assert m["input"]["shape"] == list(g.tensors[g.inputs[0]].shape)
    assert m["output"]["shape"] == list(g.tensors[g.outputs[0]].shape)
    # one layer entry per node, every instance in the top exactly once, ROMs referenced by bare names
    assert [e["node"] for e in m["layers"]] == [n.name for n in g.nodes]
    names = [i["instance"] for e in m["layers"] for i in e["instances"]]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(re.findall(r"^    \) (u_\w+) \(", top, re.M))
    for e in m["layers"]:
        node = g.node(e["node"])
        assert e["op"] == node.op and e["macs"] == g.macs(node) and e["parameters"] == g.parameter_count(node)
        for inst in e["instances"]:
            assert inst["instance"].startswith(f"u_{e['node']}_") or inst["instance"] == f"u_{g.inputs[0]}_fork"
            assert (tmp_path / "rtl" / f"{inst['module']}.v").is_file()
            for v in inst["parameters"].values():
                if isinstance(v, str):
                    assert "/" not in v and (tmp_path / "rtl" / v).is_file()
    assert m["expected_ii_cycles"] == max(e["expected_cycles"] for e in m["layers"])
    assert set(m["folding"]) == {n.name for n in g.nodes if n.op in ("conv2d", "depthwise_conv2d")}
    # every compute layer's cycles are at least its MACs over its multipliers (one MAC per multiplier-cycle)
    for e in m["layers"]:
        if e["op"] in ("conv2d", "depthwise_conv2d"):
            assert e["expected_cycles"] * e["multipliers"] >= e["macs"]
    filelist = (tmp_path / "rtl" / "filelist.f").read_text().split()
    assert filelist[-1] == "accel_top.v" and all((tmp_path / "rtl" / f).is_file() for f in filelist)
    tcl = (tmp_path / "vivado" / "package_ip.tcl").read_text()
    for needle in ("ipx::package_project", "-vendor accel", "-library accel", "accel_top", "1.0",
                   "-busif s_axis -clock clk", "-busif m_axis -clock clk", "ACTIVE_HIGH", "xc7z020clg400-1"):
        assert needle in tcl


# ------------------------------------------------------------------------------------------------------
# folding


def test_ds_cnn_default_folding_is_faster_and_fits_the_budget(tmp_path: Path) -> None:
    g = zoo_graph("ds_cnn_kws")
    m = build_rtl(g, tmp_path)
    assert m["expected_ii_cycles"] < 40_000  # the previous default's II
    assert m["expected_ii_cycles"] == m["folding_search"]["expected_ii_cycles"]
    assert m["folding_search"]["mode"] == "fastest" and m["folding_search"]["budget"] == 0.85
    cap = m["fit"]["capacity"]
    assert all(m["fit"]["total"][k] <= 0.85 * cap[k] for k in ("lut", "ff", "dsp", "bram36"))
    by = {e["node"]: e for e in m["layers"]}
    # pointwise / dense / conv layers: cycles = MACs / (PE*SIMD) exactly (no window bottleneck here)
    for name in ("conv1_bn", "pw1_bn", "pw2_bn", "pw3_bn", "pw4_bn", "fc"):
        e = by[name]
        assert e["expected_cycles"] == e["macs"] // (e["pe"] * e["simd"])
    # depthwise: one KxK tap of PE channels per cycle
    for name in ("dw1", "dw2", "dw3", "dw4"):
        e = by[name]
        assert e["expected_cycles"] == e["macs"] // e["pe"]


def test_overrides_dict_json_yaml(tmp_path: Path) -> None:
    g = zoo_graph("ds_cnn_kws")
    spec = {"pw1_bn": {"pe": 8, "simd": 2}, "dw1": {"pe": 4}}
    j = tmp_path / "f.json"
    j.write_text(json.dumps(spec))
    y = tmp_path / "f.yaml"
    y.write_text("pw1_bn: {pe: 8, simd: 2}\ndw1:\n  pe: 4\n")
    free = choose_folding(g, spec).fold
    for s in (spec, j, str(y)):
        fold = choose_folding(g, s).fold
        assert (fold["pw1_bn"].pe, fold["pw1_bn"].simd) == (8, 2)
        assert (fold["dw1"].pe, fold["dw1"].simd) == (4, None)
        assert fold == free  # the others follow the optimiser, whatever the file's format
    m = build_rtl(g, tmp_path / "b", folding=j)
    assert m["folding"]["pw1_bn"] == {"pe": 8, "simd": 2, "ram_style": "auto", "mult_style": fold["pw1_bn"].mult_style}
    by = {e["node"]: e for e in m["layers"]}
    assert by["pw1_bn"]["expected_cycles"] == 512_000 // 16 and by["dw1"]["expected_cycles"] == 72_000 // 4


@pytest.mark.parametrize("spec,needle", [
    ({"nope": {"pe": 2}}, "node 'nope' is not in graph"),
    ({"conv1_relu": {"pe": 2}}, "conv1_relu (quantize) has no PE/SIMD"),
    ({"dw1": {"pe": 2, "simd": 2}}, "dw1 (depthwise_conv2d) has no SIMD"),
    ({"pw1_bn": {"pe": 3}}, "PE=3 does not divide its 64 output channels; supported PE values are 1, 2, 4"),
    ({"conv1_bn": {"simd": 2}}, "SIMD=2 does not divide its 1 input channels"),
    ({"pw1_bn": {"pe": 0}}, "PE=0; it must be a positive integer"),
    ({"pw1_bn": {"pe": "4"}}, "it must be a positive integer"),
    ({"pw1_bn": {"lanes": 4}}, "unknown keys ['lanes']"),
    ({"pw1_bn": 4}, "it must be {\"pe\": P, \"simd\": S}"),
    ({"pw1_bn": {"ram_style": "ultra"}}, "ram_style='ultra'; supported values are auto, block, lut"),
])
def test_infeasible_folding_is_refused(spec: dict, needle: str, tmp_path: Path) -> None:
    g = zoo_graph("ds_cnn_kws")
    with pytest.raises(AccelError) as exc:
        build_rtl(g, tmp_path, folding=spec)
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg


def test_ram_style_puts_weight_roms_where_asked(tmp_path: Path) -> None:
    """ds_cnn_kws: by size (auto), every weight ROM holds at least BLOCK_ROM_BITS (pw: 64 x 64 x 8 = 32,768 bits,
    dw: 3 x 3 x 64 x 8 = 4,608, fc: 64 x 12 x 8 = 6,144, conv1: 10 x 4 x 64 x 8 = 20,480), every bias ROM less
    (at most 64 x 19 = 1,216 bits); "lut" and "block" override one layer, and a ram_style alone keeps PE/SIMD."""
    g = zoo_graph("ds_cnn_kws")
    fold = choose_folding(g, {"pw1_bn": {"ram_style": "lut"}, "dw1": {"ram_style": "block"}}).fold
    assert fold["pw1_bn"].pe * fold["pw1_bn"].simd > 1  # a ram_style alone leaves PE/SIMD to the optimiser
    m = build_rtl(g, tmp_path / "b", folding={"pw1_bn": {"ram_style": "lut"}, "dw1": {"ram_style": "block"}})
    units = {i["instance"]: i for e in m["layers"] for i in e["instances"] if i["module"] in ("accel_mvu", "accel_dwu")}
    assert len(units) == 10
    for name, inst in units.items():
        weights = 0 if name == "u_pw1_bn_mvu" else 1
        biases = 1 if name == "u_dw1_dwu" else 0
        assert (inst["parameters"]["WEIGHT_BRAM"], inst["parameters"]["BIAS_BRAM"]) == (weights, biases), name
        kinds = {mem["name"]: mem["kind"] for mem in inst["memory"]}
        assert kinds["weights"] == ("lut-rom" if name == "u_pw1_bn_mvu" else "bram"), name


def test_bad_folding_files_are_refused(tmp_path: Path) -> None:
    g = zoo_graph("digits")
    with pytest.raises(AccelError, match="does not exist"):
        choose_folding(g, tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{pe: ")
    with pytest.raises(AccelError, match="cannot be parsed"):
        choose_folding(g, bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(AccelError, match="must map node names"):
        choose_folding(g, lst)


# ------------------------------------------------------------------------------------------------------
# unsupported graphs and a synthetic graph exercising every remaining mapping


S6 = FixedType(True, 6, 2)
U6 = FixedType(False, 6, 2)
W4 = FixedType(True, 4, 1)
B8 = FixedType(True, 8, 3)


def _conv(b: GraphBuilder, rng, name, x, kernel, cin_g, cout, **attrs) -> str:
    w = rng.integers(W4.min_raw, W4.max_raw + 1, (*kernel, cin_g, cout))
    bias = rng.integers(B8.min_raw, B8.max_raw + 1, (cout,))
    return b.add(name, "conv2d", [x], {"kernel": kernel, **attrs}, {"weight": w, "bias": bias},
                 {"weight": W4, "bias": B8})


def _quant(b: GraphBuilder, name, x, t, relu=False) -> str:
    return b.add(name, "quantize", [x], {"out_type": t, "rounding": Rounding.ROUND_HALF_EVEN,
                                         "overflow": Overflow.SATURATE, "relu": relu})


def mixed_graph() -> Graph:
    """pad folded into a grouped 3x3 conv, upsample, avgpool, overlapping padded maxpool, a 3-way concat,
    channel shuffle, add(x, x), strided depthwise with multiplier 2, flatten and a dense layer."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("mixed")
    x = b.input("x", (6, 6, 4), S6)
    p = b.add("p", "pad", [x], {"pads": (1, 1, 1, 1)})
    c1 = _conv(b, rng, "c1", p, (3, 3), 2, 4, groups=2)
    q1 = _quant(b, "q1", c1, U6, relu=True)
    up = b.add("up", "upsample", [q1], {"factor": (2, 1)})
    av = b.add("av", "avgpool", [up], {"pool": (2, 1), "stride": (2, 1), "out_type": U6})
    mp = b.add("mp", "maxpool", [q1], {"pool": (3, 3), "stride": (1, 1), "pads": (1, 1, 1, 1)})
    cat = b.add("cat", "concat", [q1, mp, av])
    sh = b.add("sh", "channel_shuffle", [cat], {"groups": 3})
    a = b.add("a", "add", [sh, sh])
    w = rng.integers(W4.min_raw, W4.max_raw + 1, (3, 3, 12, 2))
    bias = rng.integers(B8.min_raw, B8.max_raw + 1, (24,))
    dw = b.add("dw", "depthwise_conv2d", [a], {"kernel": (3, 3), "stride": (2, 2), "pads": (0, 1, 0, 1)},
               {"weight": w, "bias": bias}, {"weight": W4, "bias": B8})
    dq = _quant(b, "dq", dw, S6)
    fl = b.add("fl", "reshape", [dq], {"shape": (1, 1, 3 * 3 * 24)})
    fc = _conv(b, rng, "fc", fl, (1, 1), 216, 5)
    out = _quant(b, "out", fc, FixedType(True, 8, 4))
    return b.build([out])


def test_two_outputs_are_refused(tmp_path: Path) -> None:
    b = GraphBuilder("two")
    x = b.input("x", (4, 4, 2), S6)
    q = _quant(b, "q", x, S6)
    r = _quant(b, "r", x, S6)
    with pytest.raises(AccelError, match="supports one input and one output stream"):
        build_rtl(b.build([q, r]), tmp_path)


@needs_iverilog
@needs_verilator
def test_mixed_graph_is_bit_exact_with_stalls(tmp_path: Path) -> None:
    g = mixed_graph()
    fold = {"dw": {"pe": 4}, "fc": {"pe": 5, "simd": 6}, "c1": {"pe": 2, "simd": 2}}
    m, _ = simulate(g, tmp_path, frames=3, stall=True, folding=fold)
    assert lint(tmp_path / "rtl") == ""
    names = {i["instance"] for e in m["layers"] for i in e["instances"]}
    assert {"u_c1_window", "u_sh_fork", "u_a_add", "u_cat_concat", "u_cat_concat1", "u_fc_in0_width",
            "u_mp_maxpool", "u_av_avgpool", "u_up_upsample", "u_dw_dwu"} <= names
    assert not any(n.startswith("u_p_") for n in names)  # the pad is folded into c1's window


@needs_iverilog
def test_digits_bit_exact_and_measured_ii_equals_expected(tmp_path: Path) -> None:
    m, ends = simulate(zoo_graph("digits"), tmp_path, frames=3)
    assert np.diff(ends).tolist() == [m["expected_ii_cycles"]] * 2


@needs_iverilog
@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v2_block", "inception_module"])
def test_join_models_bit_exact_with_stalls(name: str, tmp_path: Path) -> None:
    simulate(zoo_graph(name), tmp_path, frames=3, stall=True)


# ------------------------------------------------------------------------------------------------------
# through the CLI (accel build MODEL --backend rtl -o DIR [--folding FILE] [--part P] [--clock-ns N])


def test_cli_build_rtl_with_folding_file(tmp_path: Path, capsys) -> None:
    from accel.cli import main

    spec = tmp_path / "fold.yaml"
    spec.write_text("pw1: {pe: 4, simd: 2}\ndw2: {pe: 8}\n")
    out = tmp_path / "b"
    assert main(["build", "digits", "--backend", "rtl", "-o", str(out), "--folding", str(spec),
                 "--part", "xc7z010clg400-1", "--clock-ns", "8"]) == 0
    m = load_build(out).to_json()
    pw1, dw2 = m["folding"]["pw1"], m["folding"]["dw2"]
    assert (pw1["pe"], pw1["simd"], pw1["ram_style"]) == (4, 2, "auto") and pw1["mult_style"] in ("dsp", "dsp2", "lut")
    assert (dw2["pe"], dw2["simd"], dw2["ram_style"]) == (8, None, "auto") and dw2["mult_style"] in ("dsp", "lut")
    assert m["part"] == "xc7z010clg400-1" and m["clock_ns"] == 8.0
    assert "xc7z010clg400-1" in (out / "vivado" / "package_ip.tcl").read_text()
    assert "125000000" in (out / "vivado" / "package_ip.tcl").read_text()  # FREQ_HZ of an 8 ns clock


def test_cli_refuses_infeasible_folding_in_one_line(tmp_path: Path, capsys) -> None:
    from accel.cli import main

    spec = tmp_path / "fold.json"
    spec.write_text(json.dumps({"pw1": {"pe": 3}}))
    code = main(["build", "digits", "--backend", "rtl", "-o", str(tmp_path / "b"), "--folding", str(spec)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "PE=3 does not divide its 16 output channels" in err and len(err.splitlines()) == 1


FORK_TB = """`timescale 1ns / 1ps
module tb;
localparam N = 3, W = 8, BEATS = 200;
reg clk = 0, rst = 1;
always #5 clk = ~clk;
reg [W-1:0] data = 0; reg valid = 0; reg [31:0] seed = 11, cyc = 0;
reg [N-1:0] ready = 0;
wire s_ready; wire [N*W-1:0] m_data; wire [N-1:0] m_valid, m_last;
integer fd, k;
accel_fork #(.WIDTH(W), .N(N)) dut(.clk(clk), .rst(rst), .s_axis_tdata(data), .s_axis_tvalid(valid),
  .s_axis_tready(s_ready), .s_axis_tlast(data[2:0] == 3'd7), .m_axis_tdata(m_data), .m_axis_tvalid(m_valid),
  .m_axis_tready(ready), .m_axis_tlast(m_last));
initial begin fd = $fopen("out.txt", "w"); repeat (3) @(posedge clk); rst <= 0; end
always @(posedge clk) if (!rst) begin
  cyc <= cyc + 1;
  for (k = 0; k < N; k = k + 1)
    if (m_valid[k] && ready[k]) $fwrite(fd, "%0d %0d %0d\\n", k, m_data[k*W +: W], m_last[k]);
  if (valid && s_ready) begin data <= data + 1; valid <= (data + 1 < BEATS) && ($random(seed) % 3 != 0); end
  else if (!valid) valid <= (data < BEATS) && ($random(seed) % 3 != 0);
  ready <= $random(seed);
  if (cyc > 5000) begin $fclose(fd); $finish; end
end
endmodule
"""


@needs_iverilog
def test_fork_delivers_every_beat_once_to_every_output(tmp_path: Path) -> None:
    """Random input gaps and independent random readiness per output: each output sees 0..199 once, in order."""
    from accel.rtl import lib_file
    from accel.rtl.blocks.fork import Fork

    (tmp_path / "tb.v").write_text(FORK_TB)
    sources = [str(lib_file(m)) for m in Fork.sources]  # accel_skid, then accel_fork
    subprocess.run(["iverilog", "-g2005", "-o", "sim.vvp", "-s", "tb", *sources, "tb.v"],
                   cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True)
    rows = [tuple(map(int, line.split())) for line in (tmp_path / "out.txt").read_text().splitlines()]
    for k in range(3):
        seen = [(d, last) for kk, d, last in rows if kk == k]
        assert seen == [(d, int(d % 8 == 7)) for d in range(200)]


