"""accel.report: per-layer table, yosys estimates per instance (cached), totals vs the part, chart, refusals.

Most tests use a small build directory assembled here from the block descriptions (accel.rtl.blocks) and a
hand-written build.json, so the report is tested on its own contract (the typed accel.deploy.manifest and
accel.deploy.measured), independent of the network generator; one test runs on a generated build.  The part
the report judges against is tested in tests/test_manifest.py.
Resource counts are not compared with numbers copied from yosys: the checks are structural (a multiplier
array maps to DSPs or LUTs, totals are the sums of the rows, percentages are against the capacity).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.manifest import load_build, stream_spec, write_manifest
from accel.deploy.measured import MEASURED, Measured, MeasuredLayer, read_measured, write_measured
from accel.fixed import FixedType, Overflow, Rounding
from accel.report import RESOURCES, make_report, print_report
from accel.rtl import LIB_DIR
from accel.rtl.blocks.fifo import Fifo
from accel.rtl.blocks.mvu import Mvu
from accel.rtl.blocks.requant import Requant
from accel.rtl.synth import SynthJob, library_sources

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (make system)")

S8 = FixedType(True, 8, 3)
ACC = FixedType(True, 20, 8)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _manifest(layers: list[dict], sources: list[str]) -> dict:
    """An RTL build manifest (schema 2) as JSON around ``layers``, synthesised from ``sources``."""
    return {
        "schema": 2, "backend": "rtl", "model": "hand", "part": "xc7z020clg400-1", "clock_ns": 8.0,
        "top": "accel_top", "input": stream_spec("x", (2, 2, 8), S8, 2).to_json(),
        "output": stream_spec("q0", (2, 2, 4), S8, 2).to_json(),
        "ports": {"clock": "clk", "reset": "rst", "reset_active_low": False, "s_axis": "s_axis", "m_axis": "m_axis"},
        "ip": {"vlnv": "accel:user:accel_top:1.0", "repo": "ip", "make": "make ip"}, "files": [],
        "rtl_sources": sources, "filelist": "rtl/filelist.f", "rom_files": [], "rom_paths": "", "folding": {},
        "multipliers": sum(la["multipliers"] for la in layers), "layers": layers,
        "expected_ii_cycles": max((la["expected_cycles"] for la in layers), default=0),
    }  # fmt: skip


def hand_build(directory: Path) -> dict:
    """A two-layer build: a 8->4 pointwise MVU (PE 2 x SIMD 2) and a requantiser + FIFO; returns its manifest."""
    rtl = directory / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    for p in LIB_DIR.glob("accel_*.v"):
        shutil.copy(p, rtl)
    rng = np.random.default_rng(3)
    mvu = Mvu("pw0", rng.integers(-128, 128, (8, 4)), rng.integers(-50, 50, 4), S8, FixedType(True, 8, 1), ACC,
              0, 0, 4, simd=2, pe=2)  # fmt: skip
    mvu.write_files(rtl)
    rq = Requant("q0", ACC, S8, Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, True, (2, 2, 4), 2)
    fifo = Fifo("f0", 4, 16, 8)
    layers = [
        {"node": "pw0", "op": "conv2d", "macs": 4 * 8 * 4, "parameters": 8 * 4 + 4, "pe": 2, "simd": 2,
         "multipliers": 4, "expected_cycles": mvu.expected_cycles_per_frame(),
         "instances": [{"instance": "u_pw0", "module": "accel_mvu", "parameters": mvu.verilog_parameters(Path("."))}]},
        {"node": "q0", "op": "quantize", "macs": 0, "parameters": 0, "pe": None, "simd": None, "multipliers": 0,
         "expected_cycles": rq.expected_cycles_per_frame(),
         "instances": [{"instance": "u_q0", "module": "accel_requant", "parameters": rq.verilog_parameters()},
                       {"instance": "u_f0", "module": "accel_fifo", "parameters": fifo.verilog_parameters()}]},
    ]  # fmt: skip
    manifest = _manifest(layers, sorted(f"rtl/{p.name}" for p in rtl.glob("accel_*.v")))
    write_manifest(directory, manifest)
    return manifest


@pytest.mark.slow
@needs_yosys
def test_report_on_a_synthesised_build(tmp_path, capsys) -> None:
    """One test (not a fixture shared by several) so `pytest -n 2` runs yosys on the hand build once."""
    d = tmp_path / "build"
    hand_build(d)
    t0 = time.monotonic()
    first = make_report(d, chart=d / "chart.png")
    t1 = time.monotonic()
    second = make_report(d)
    t2 = time.monotonic()
    synthesised = (d, first, t1 - t0, second, t2 - t1)
    _check_rows_follow_the_manifest(synthesised)
    _check_resources_are_positive_where_hardware_exists(synthesised)
    _check_totals_percentages_and_verdict(synthesised)
    _check_chart_is_a_png(synthesised)
    _check_second_report_is_served_from_the_cache(synthesised)
    _check_print_report(synthesised, capsys)
    # a changed instance (a deeper FIFO) is the only one synthesised again
    manifest = json.loads((d / "build.json").read_text())
    manifest["layers"][1]["instances"][1]["parameters"]["DEPTH"] = 8
    write_manifest(d, manifest)
    third = make_report(d)
    assert (third["synthesis"]["synthesised"], third["synthesis"]["cached"]) == (1, 2)
    assert [i["cached"] for row in third["layers"] for i in row["instances"]] == [True, True, False]


def _check_rows_follow_the_manifest(synthesised) -> None:
    d, rep, _, _, _ = synthesised
    manifest = json.loads((d / "build.json").read_text())
    assert [r["node"] for r in rep["layers"]] == [la["node"] for la in manifest["layers"]]
    for row, la in zip(rep["layers"], manifest["layers"], strict=True):
        assert (row["macs"], row["parameters"], row["pe"], row["simd"], row["expected_cycles"]) == (
            la["macs"], la["parameters"], la["pe"], la["simd"], la["expected_cycles"])  # fmt: skip
        assert row["measured_cycles"] is None  # no measured.json yet
        assert [i["instance"] for i in row["instances"]] == [i["instance"] for i in la["instances"]]
    assert not rep["synthesis"]["failed"]


def _check_resources_are_positive_where_hardware_exists(synthesised) -> None:
    _, rep, _, _, _ = synthesised
    mvu, q = rep["layers"]
    # 4 parallel 8x8 multipliers with accumulators: DSPs or LUTs, and registers
    assert mvu["DSP"] > 0 or mvu["LUT"] >= 4 * 8
    assert mvu["LUT"] > 0 and mvu["FF"] > 0
    assert q["LUT"] > 0 and q["FF"] > 0 and q["DSP"] == 0
    for row in rep["layers"]:  # a row is the sum of its instances
        for r in RESOURCES:
            assert row[r] == sum(i[r] for i in row["instances"])
            assert row[r] >= 0


def _check_totals_percentages_and_verdict(synthesised) -> None:
    _, rep, _, _, _ = synthesised
    t = rep["totals"]
    assert t["macs"] == 128 and t["parameters"] == 36
    capacity = {"LUT": 53200, "FF": 106400, "DSP": 220, "BRAM": 140}  # xc7z020clg400-1, the hand build's part
    assert rep["capacity"] == {"part": "xc7z020clg400-1", "device": "xc7z020", **capacity}
    for r in RESOURCES:
        assert t[r] == sum(row[r] for row in rep["layers"])
        assert rep["utilisation_percent"][r] == 100.0 * t[r] / capacity[r]
    assert rep["fits"] is True and rep["verdict"].startswith("fits the xc7z020")
    json.dumps(rep)  # --json ready


def _check_chart_is_a_png(synthesised) -> None:
    d, rep, _, _, _ = synthesised
    assert rep["chart"] == str(d / "chart.png")
    data = (d / "chart.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000


def _check_second_report_is_served_from_the_cache(synthesised) -> None:
    d, first, t_first, second, t_second = synthesised
    assert first["synthesis"]["synthesised"] == 3 and first["synthesis"]["cached"] == 0
    assert second["synthesis"]["synthesised"] == 0 and second["synthesis"]["cached"] == 3
    assert (d / "synth_cache.json").is_file()
    assert all(a[k] == b[k] for a, b in zip(first["layers"], second["layers"], strict=True) for k in RESOURCES)
    assert t_second < 5.0 < t_first or t_second < t_first / 4, (t_first, t_second)


def _check_print_report(synthesised, capsys) -> None:
    _, rep, _, _, _ = synthesised
    print_report(rep)
    out = capsys.readouterr().out
    for word in ("pw0", "q0", "u_pw0" if rep["synthesis"]["failed"] else "total", "xc7z020", "53,200", "verdict: fits"):
        assert word in out


def test_cache_key_tracks_parameters_and_rom_contents(tmp_path) -> None:
    """A changed parameter or ROM image is synthesised again; the same job reuses the cached result."""
    hand_build(tmp_path)
    layer = json.loads((tmp_path / "build.json").read_text())["layers"][0]
    params = layer["instances"][0]["parameters"]
    srcs = library_sources(prefer=tmp_path / "rtl")
    job = SynthJob("accel_mvu", params, srcs, tmp_path / "rtl")
    key = job.key("yosys X")
    assert set(job.param_files()) == {"WEIGHT_FILE", "BIAS_FILE"}
    assert SynthJob("accel_mvu", dict(params), srcs, tmp_path / "rtl").key("yosys X") == key
    assert SynthJob("accel_mvu", {**params, "PIXELS": 8}, srcs, tmp_path / "rtl").key("yosys X") != key
    assert job.key("yosys Y") != key
    bias = tmp_path / "rtl" / params["BIAS_FILE"]
    bias.write_text(bias.read_text().replace("0", "1", 1))
    assert job.key("yosys X") != key


def test_measured_cycles_and_performance(tmp_path) -> None:
    """measured.json (accel.deploy.measured) fills the measured column, latency, II and MACs per cycle."""
    hand_build(tmp_path)
    measured = Measured(model="hand", simulator="icarus", frames=5, latency_cycles=50, ii_cycles=20,
                        expected_ii_cycles=8,
                        layers=(MeasuredLayer("pw0", 8, 9, {"u_pw0": 9}), MeasuredLayer("q0", 4, None, {})))
    assert write_measured(tmp_path, measured) == tmp_path / MEASURED
    assert read_measured(tmp_path) == measured and json.loads((tmp_path / MEASURED).read_text())["schema"] == 1
    rep = make_report(tmp_path, synth=False)
    assert [r["measured_cycles"] for r in rep["layers"]] == [9, None]
    p = rep["performance"]
    assert (p["ii_cycles"], p["latency_cycles"], p["ii_basis"]) == (20, 50, "measured")
    # the build's clock is 8 ns: an II of 20 cycles is 160 ns (6,250,000 inferences/s), a latency of 50 cycles
    # 400 ns.  Every operand the report divides is exact in binary floating point (1000 / 8 ns = 125.0 MHz) and
    # IEEE division rounds the exact quotient once, so each figure is exactly its fraction rounded to a float
    assert p["macs_per_cycle"] == float(Fraction(128, 20))
    assert p["inferences_per_s"] == float(Fraction(10**9, 8 * 20)) == 6_250_000
    assert p["ii_us"] == float(Fraction(20 * 8, 1000))
    assert p["latency_us"] == float(Fraction(50 * 8, 1000))
    assert rep["totals"]["LUT"] is None and rep["fits"] is None and "synthesis" in rep and rep["chart"] is None
    assert p["frames"] == 5


def test_measured_json_without_schema_is_read_and_a_malformed_one_refused(tmp_path) -> None:
    """A file as accel.rtl.cosim wrote it before the schema field is the same layout; anything else is one
    sentence naming the file (the report used to guess among four spellings of a layer's cycles)."""
    hand_build(tmp_path)
    old = {"model": "hand", "simulator": "verilator", "frames": 3, "latency_cycles": 40, "ii_cycles": 16,
           "expected_ii_cycles": 8, "layers": [{"node": "pw0", "expected_cycles": 8, "measured_cycles": 16,
                                                "instances": {"u_pw0": 16}}]}  # fmt: skip
    (tmp_path / MEASURED).write_text(json.dumps(old))
    assert read_measured(tmp_path).to_json() == {"schema": 1, **old}
    assert [r["measured_cycles"] for r in make_report(tmp_path, synth=False)["layers"]] == [16, None]
    bad_rows = [dict(old["layers"][0], cycles_per_frame=16)]  # one of the spellings the report used to accept
    for data, message in ((dict(old, layers=bad_rows), r"layers\[0\] has the unknown key cycles_per_frame"),
                          (dict(old, ii_cycles=16.5), r"ii_cycles is 16\.5, not a whole number of cycles"),
                          (dict(old, schema=2), r"schema 2 is not supported, this accel reads measured\.json")):
        (tmp_path / MEASURED).write_text(json.dumps(data))
        with pytest.raises(AccelError, match=rf"^{re.escape(str(tmp_path / MEASURED))}: .*{message}") as exc:
            make_report(tmp_path, synth=False)
        assert "\n" not in str(exc.value) and str(exc.value).endswith("(accel verify MODEL --against rtl).")
    (tmp_path / MEASURED).write_text("{")
    with pytest.raises(AccelError, match="cannot be read as JSON"):
        read_measured(tmp_path)


def test_without_synthesis_or_measurements(tmp_path, capsys) -> None:
    hand_build(tmp_path)
    rep = make_report(tmp_path, synth=False, chart=tmp_path / "c.png")
    assert rep["performance"]["ii_basis"] == "expected" and rep["performance"]["ii_cycles"] is None
    assert rep["performance"]["expected_ii_cycles"] == 4 * (8 // 2) * (4 // 2)  # MVU: pixels x SF x NF
    assert rep["performance"]["macs_per_cycle"] == 128 / 32
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)
    assert not (tmp_path / "synth_cache.json").exists()
    print_report(rep)
    out = capsys.readouterr().out
    assert "pw0" in out and "not estimated" in out and "LUT" not in out


@needs_yosys
def test_a_failing_instance_is_reported_not_raised(tmp_path) -> None:
    """An instance yosys rejects shows up in its row and in the summary; the totals become a lower bound."""
    hand_build(tmp_path)
    (tmp_path / "rtl" / "accel_broken.v").write_text("module accel_broken (input wire clk);\n  assign = ;\nendmodule\n")
    manifest = json.loads((tmp_path / "build.json").read_text())
    manifest["layers"] = [{"node": "bad", "op": "add", "macs": 0, "parameters": 0, "pe": None, "simd": None,
                           "multipliers": 0, "expected_cycles": 1,
                           "instances": [{"instance": "u_bad", "module": "accel_broken", "parameters": {}}]}]
    manifest["rtl_sources"].append("rtl/accel_broken.v")
    write_manifest(tmp_path, manifest)
    rep = make_report(tmp_path)
    (fail,) = rep["synthesis"]["failed"]
    assert (fail["node"], fail["instance"], fail["module"]) == ("bad", "u_bad", "accel_broken")
    assert "ERROR" in fail["error"]
    assert rep["layers"][0]["failed_instances"] == ["u_bad"]
    assert rep["fits"] is None and rep["verdict"].startswith("unknown")


def test_refuses_a_directory_that_is_not_a_build(tmp_path) -> None:
    with pytest.raises(AccelError, match="not an accel build directory"):
        make_report(tmp_path)


def test_refuses_an_hls_build_and_names_the_csynth_report(tmp_path) -> None:
    m = {k: v for k, v in _manifest([], []).items() if k in ("schema", "model", "part", "clock_ns", "top", "input",
                                                             "output", "ports", "ip", "files")}  # fmt: skip
    m["backend"] = "hls"
    m["ip"]["repo"] = "vitis_prj/solution1/impl/ip"  # as accel.hls.project writes it
    m["hls"] = {"io_type": "io_stream", "strategy": "Latency", "reuse_factor": 1, "project": "accel_hand",
                "hls4ml_dir": "hls4ml", "tb_samples": 16, "seed": 0, "csim": "g++ ..."}
    write_manifest(tmp_path, m)
    with pytest.raises(AccelError, match=r"HLS build.*Vitis HLS") as exc:
        make_report(tmp_path)
    assert str(tmp_path / "vitis_prj/solution1/syn/report/accel_top_csynth.rpt") in str(exc.value)
    assert "\n" not in str(exc.value)


def test_refuses_an_rtl_manifest_without_layers(tmp_path) -> None:
    write_manifest(tmp_path, _manifest([], []))
    with pytest.raises(AccelError, match=r"build\.json has no layers; rebuild the directory with `accel build"):
        make_report(tmp_path)
    m = _manifest([], [])
    del m["layers"]
    (tmp_path / "build.json").write_text(json.dumps(m))
    with pytest.raises(AccelError, match=r"build\.json lacks layers; a schema-2 build manifest needs it"):
        make_report(tmp_path)


def test_synthesis_sources_are_the_manifests(tmp_path) -> None:
    """Sources come from rtl_sources, not from whatever lies in rtl/: a listed file that is gone, or a module no
    listed file defines, is refused before yosys runs."""
    m = hand_build(tmp_path)
    m["rtl_sources"] = [s for s in m["rtl_sources"] if s != "rtl/accel_requant.v"]
    write_manifest(tmp_path, m)  # accel_requant.v is still in rtl/, but the manifest does not list it
    with pytest.raises(AccelError, match=r"no file of rtl_sources defines module\(s\) accel_requant"):
        make_report(tmp_path)
    m["rtl_sources"].append("rtl/accel_gone.v")
    write_manifest(tmp_path, m)
    with pytest.raises(AccelError, match=r"lists rtl/accel_gone\.v among rtl_sources, but it does not exist"):
        make_report(tmp_path)


def test_cli_report_json_and_refusal(tmp_path, capsys) -> None:
    """`accel report DIR --json --no-synth` prints the report object; a non-build exits 2 with one line."""
    from accel.cli import main

    hand_build(tmp_path / "b")
    assert main(["report", str(tmp_path / "b"), "--json", "--no-synth", "--chart", str(tmp_path / "c.png")]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [r["node"] for r in rep["layers"]] == ["pw0", "q0"] and rep["totals"]["macs"] == 128
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("accel: error:") and "not an accel build directory" in err and "\n" not in err


def _tiny_graph():
    """input 4x4x8 -> 1x1 conv to 4 channels -> requantise: the generator's smallest useful network."""
    import accel.ops  # noqa: F401  (registers the ops)
    from accel.ir import GraphBuilder

    rng = np.random.default_rng(5)
    b = GraphBuilder("tiny")
    x = b.input("inp", (4, 4, 8), S8)
    w4, b8 = FixedType(True, 4, 1), FixedType(True, 8, 3)
    pw = b.add("pw", "conv2d", [x], {"kernel": (1, 1)},
               {"weight": rng.integers(-8, 8, (1, 1, 8, 4)), "bias": rng.integers(-128, 128, (4,))},
               {"weight": w4, "bias": b8})  # fmt: skip
    q = b.add("q", "quantize", [pw], {"out_type": S8, "relu": True})
    return b.build([q])


def test_report_of_a_generated_build_follows_the_graph(tmp_path, capsys) -> None:
    """On build_rtl's output the rows are the graph's nodes with the graph's own MACs and parameter counts, and a
    folded layer's multiplier style as the folding file fixed it (the table's ``mult`` column)."""
    from accel.rtl.network import build_rtl

    graph = _tiny_graph()
    build_rtl(graph, tmp_path, folding={"pw": {"mult_style": "lut"}})
    manifest = load_build(tmp_path)
    rep = make_report(tmp_path, synth=False)
    assert [r["node"] for r in rep["layers"]] == [la.node for la in manifest.rtl.layers] == ["pw", "q"]
    assert [r["mult_style"] for r in rep["layers"]] == ["lut", None]
    print_report(rep)
    row = next(line for line in capsys.readouterr().out.splitlines() if "│ pw " in line)
    assert "│  lut │" in row
    by_node = {n.name: n for n in graph.nodes}
    for row in rep["layers"]:
        assert row["macs"] == graph.macs(by_node[row["node"]])
        assert row["parameters"] == graph.parameter_count(by_node[row["node"]])
    assert rep["totals"]["macs"] == 4 * 4 * 8 * 4
    assert rep["performance"]["expected_ii_cycles"] == manifest.rtl.expected_ii_cycles
    modules = {i["module"] for r in rep["layers"] for i in r["instances"]}
    assert {"accel_mvu", "accel_requant"} <= modules
