"""accel.hls.project: the hls4ml firmware project inside the AXI4-Stream top ``accel_top``.

The wrapper testbench is C-simulated with g++ and must reproduce the NumPy reference's byte image
exactly.  Independently of the testbench's own comparison, the bytes it received from ``accel_top``
are unpacked here with :mod:`accel.deploy.stream` (the contract's definition) and compared with
:func:`accel.reference.execute` by ``==``.  The testbench itself is shown to fail on a corrupted
expected byte, a moved TLAST, and a wrapper whose lane order is wrong.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.manifest import BuildManifest, load_build
from accel.deploy.stream import from_bytes, unpack
from accel.fixed import FixedType
from accel.hls.project import (
    CSIM_BINARY,
    IP_REPO,
    PORTS,
    VLNV,
    build_hls_project,
    choose_lanes,
    csim_project,
)
from accel.ir import Graph, GraphBuilder
from accel.reference import execute
from accel.verify import random_inputs

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

S8 = FixedType(True, 8, 3)
W4 = FixedType(True, 4, 1)
B8 = FixedType(True, 8, 3)
O12 = FixedType(True, 12, 5)
TB_SAMPLES = 16


def lanes_graph() -> Graph:
    """(3, 2, 12) signed 8-bit input (96 bits/pixel: 6 lanes, 2 beats per pixel) -> 10 channels of 12 bits.

    The output's 12-bit lanes (5 per 64-bit beat) straddle byte boundaries, and it is signed.
    """
    rng = np.random.default_rng(3)
    b = GraphBuilder("lanes")
    x = b.input("inp", (3, 2, 12), S8)
    params = {"weight": rng.integers(-8, 8, (1, 1, 12, 10)), "bias": rng.integers(-128, 128, (10,))}
    c = b.add("pw", "conv2d", [x], {"kernel": (1, 1)}, params, {"weight": W4, "bias": B8})
    q = b.add("q", "quantize", [c], {"out_type": O12})
    return b.build([q])


def received(out_dir: Path, manifest: BuildManifest) -> tuple[np.ndarray, np.ndarray]:
    """(raw output frames, TLAST flags per beat) that accel_top produced in the last C simulation."""
    spec = manifest.output
    beats = from_bytes((out_dir / "tb_data" / "axis_out_csim.bin").read_bytes(), spec.dtype, spec.lanes)
    n = manifest.hls.tb_samples
    raw = unpack(beats, (n, *spec.shape), spec.dtype, spec.lanes)
    last = np.frombuffer((out_dir / "tb_data" / "axis_out_csim_last.bin").read_bytes(), dtype=np.uint8)
    return raw, last.reshape(n, spec.beats_per_frame)


def assert_exact(out_dir: Path, manifest: BuildManifest, graph: Graph, result: dict) -> None:
    n = manifest.hls.tb_samples
    assert result["ok"], result["log"]
    assert result["frames"] == n
    assert result["errors"] == 0
    assert result["beats_checked"] == n * manifest.output.beats_per_frame
    raw_in = random_inputs(graph, n, manifest.hls.seed)
    ref = execute(graph, raw_in).outputs[graph.outputs[0]]
    got, last = received(out_dir, manifest)
    assert np.array_equal(got, ref)
    # TLAST passed through: the testbench marks the odd input frames and the last one, so exactly those output
    # frames end with TLAST (on their last beat), the others with none
    expected_last = np.zeros_like(last)
    expected_last[1::2, -1] = 1
    expected_last[-1, -1] = 1
    assert np.array_equal(last, expected_last) and 0 < expected_last.sum() < len(expected_last)
    # the input image the testbench fed is the same frames, packed by the contract
    spec = manifest.input
    beats = from_bytes((out_dir / "tb_data" / "axis_in.bin").read_bytes(), spec.dtype, spec.lanes)
    assert np.array_equal(unpack(beats, (n, *spec.shape), spec.dtype, spec.lanes), raw_in)


def run_tb(out_dir: Path, tb_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(out_dir / CSIM_BINARY), str(tb_dir)], cwd=out_dir, capture_output=True, text=True)


# --------------------------------------------------------------------------------------------------
# fast: lane choice and refusals (no compile)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "width", "lanes"),
    [(1, 8, 1), (3, 8, 3), (10, 8, 5), (16, 4, 16), (12, 8, 6), (10, 12, 5), (7, 12, 1), (2, 70, 1), (8, 8, 8)],
)
def test_lanes_whole_pixel_if_it_fits_64_bits_else_largest_divisor(channels, width, lanes):
    assert choose_lanes(channels, width) == lanes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"part": "zynq"}, "not a Xilinx part name"),
        ({"clock_ns": 0}, "positive number of ns"),
        ({"io_type": "io_serial"}, "supported: stream, parallel"),
        ({"tb_samples": 0}, "at least 1"),
        ({"strategy": "Fast"}, "strategy 'Fast' is not supported"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message, tmp_path):
    with pytest.raises(AccelError, match=message):
        build_hls_project(None, lanes_graph(), tmp_path / "b", **kwargs)


def test_two_outputs_are_refused(tmp_path):
    b = GraphBuilder("two")
    x = b.input("inp", (2, 2, 2), S8)
    q1 = b.add("q1", "quantize", [x], {"out_type": O12})
    q2 = b.add("q2", "quantize", [x], {"out_type": S8})
    with pytest.raises(AccelError, match="exactly one input and one output"):
        build_hls_project(None, b.build([q1, q2]), tmp_path / "b")


def test_csim_needs_an_hls_build(tmp_path):
    with pytest.raises(AccelError, match="not an accel build directory"):
        csim_project(tmp_path)


# --------------------------------------------------------------------------------------------------
# digits: the "accel build digits --backend hls" case
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """digits built (io_stream) and C-simulated once: (build dir, manifest, graph, csim result)."""
    import models
    from accel.frontend import to_graph

    model = models.build("digits")
    graph = to_graph(model)
    out = tmp_path_factory.mktemp("digits_hls")
    written = build_hls_project(model, graph, out, tb_samples=TB_SAMPLES)
    manifest = load_build(out)
    assert manifest.to_json() == written  # what build_hls_project returns is what build.json holds
    return out, manifest, graph, csim_project(out)


@pytest.mark.hls
def test_digits_wrapper_csim_is_exact(digits):
    out, manifest, graph, result = digits
    assert_exact(out, manifest, graph, result)
    print(f"digits csim: compile {result['compile_seconds']} s, run {result['run_seconds']} s")


@pytest.mark.hls
def test_digits_manifest_round_trip(digits):
    out, manifest, _, _ = digits
    assert BuildManifest.from_json(manifest.to_json()) == manifest and manifest.rtl is None
    assert manifest.backend == "hls" and manifest.top == "accel_top" and manifest.model == "digits"
    assert manifest.part == "xc7z020clg400-1" and manifest.clock_ns == 10.0 and manifest.schema == 2
    assert manifest.ports.to_json() == {"clock": "ap_clk", "reset": "ap_rst_n", "reset_active_low": True,
                                        "s_axis": "s_axis", "m_axis": "m_axis", "tlast_err": ""}  # fmt: skip
    assert manifest.ports.to_json() == PORTS
    assert manifest.ip.to_json() == {"vlnv": "xilinx.com:hls:accel_top:1.0", "repo": "accel_top_prj/solution1/impl/ip",
                                     "make": "bash run_hls.sh"}  # fmt: skip
    assert (manifest.ip.vlnv, manifest.ip.repo) == (VLNV, IP_REPO)
    assert (manifest.hls.io_type, manifest.hls.tb_samples, manifest.hls.project) == ("io_stream", TB_SAMPLES,
                                                                                     "accel_digits")
    # digits: 8x8x1 ap_ufixed<8,0> in, one 8-bit lane; 10 logits of ap_fixed<8,5> out: 80 bits > 64, so 5 lanes
    i, o = manifest.input, manifest.output
    assert (i.shape, i.type, i.lanes, i.tdata_bits, i.beats_per_frame) == ((8, 8, 1), "ap_ufixed<8,0>", 1, 8, 64)
    assert (o.shape, o.type, o.lanes, o.tdata_bits, o.beats_per_frame) == ((1, 1, 10), "ap_fixed<8,5>", 5, 40, 2)
    for rel in manifest.files:
        assert (out / rel).is_file(), rel
    for rel in ("accel_top.cpp", "accel_top.h", "accel_top_test.cpp", "build_hls.tcl", "run_hls.sh", "README.md",
                "tb_data/axis_in.bin", "tb_data/axis_out.bin", "tb_data/axis_out_last.bin",
                "tb_data/tb_input_features.dat", "tb_data/tb_output_predictions.dat",
                "hls4ml/tb_data/tb_input_features.dat", "hls4ml/firmware/accel_digits.cpp"):  # fmt: skip
        assert rel in manifest.files


@pytest.mark.hls
def test_digits_hls4ml_float_vectors_are_the_reference(digits):
    """tb_input_features.dat / tb_output_predictions.dat (hls4ml's testbench format) hold the exact values."""
    out, manifest, graph, _ = digits
    raw_in = random_inputs(graph, TB_SAMPLES, 0)
    ref = execute(graph, raw_in).outputs[graph.outputs[0]]
    for name, raw, spec in (("tb_input_features.dat", raw_in, manifest.input),
                            ("tb_output_predictions.dat", ref, manifest.output)):  # fmt: skip
        values = np.loadtxt(out / "hls4ml" / "tb_data" / name, ndmin=2)
        assert values.shape == (TB_SAMPLES, int(np.prod(spec.shape)))
        scaled = values * 2.0 ** spec.dtype.frac
        assert np.array_equal(scaled, np.round(scaled))
        assert np.array_equal(scaled.astype(np.int64), raw.reshape(TB_SAMPLES, -1))


@pytest.mark.hls
@pytest.mark.parametrize("corruption", ["byte", "tlast", "beat_count"])
def test_testbench_fails_on_corrupted_expectation(digits, corruption, tmp_path):
    """The wrapper testbench is a real check: one wrong expected byte or TLAST makes it exit non-zero."""
    out, manifest, _, _ = digits
    tb = tmp_path / "tb_data"
    shutil.copytree(out / "tb_data", tb)
    ok = run_tb(out, tb)
    assert ok.returncode == 0 and "PASS" in ok.stdout, ok.stdout
    per_frame = manifest.output.beats_per_frame
    if corruption == "byte":
        data = bytearray((tb / "axis_out.bin").read_bytes())
        data[3 * manifest.output.bytes_per_frame + 7] ^= 0x10  # frame 3, beat 1, byte 2, bit 4
        (tb / "axis_out.bin").write_bytes(bytes(data))
        expect = "MISMATCH frame 3 beat 1: expected"
    elif corruption == "tlast":
        last = bytearray((tb / "axis_out_last.bin").read_bytes())
        last[5 * per_frame], last[5 * per_frame + 1] = 1, 0  # TLAST expected one beat early in frame 5
        (tb / "axis_out_last.bin").write_bytes(bytes(last))
        expect = "MISMATCH frame 5 beat 0: expected TLAST 1 got 0"
    else:  # vectors for one beat fewer per frame than the wrapper produces
        data = (tb / "axis_out.bin").read_bytes()
        (tb / "axis_out.bin").write_bytes(data[: -manifest.output.beat_bytes])
        expect = "ERROR: vector files disagree"
    bad = run_tb(out, tb)
    assert bad.returncode != 0
    assert expect in bad.stdout, bad.stdout


#: wrapper bugs the C simulation must catch: (original line, mutated line)
MUTATIONS = {
    "lanes_big_endian": (
        "beat.data.range(k * ACCEL_OUT_W + ACCEL_OUT_W - 1, k * ACCEL_OUT_W) = bits;",
        "beat.data.range((ACCEL_OUT_LANES - 1 - k) * ACCEL_OUT_W + ACCEL_OUT_W - 1, "
        "(ACCEL_OUT_LANES - 1 - k) * ACCEL_OUT_W) = bits;",
    ),
    "tlast_on_first_beat": (
        "if ((p == ACCEL_OUT_PACKS - 1) && (b == ACCEL_OUT_BEATS_PER_PACK - 1))",
        "if ((p == ACCEL_OUT_PACKS - 1) && (b == 0))",
    ),
    "tlast_on_every_frame": (
        "                last = last_q.read();",
        "                last = last_q.read() || true;",
    ),
}


@pytest.mark.hls
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_wrapper_bug_fails_csim(digits, mutation, tmp_path):
    """A wrong lane order or TLAST position in the wrapper itself makes the C simulation fail: the check is live."""
    out, _, _, _ = digits
    bad_dir = tmp_path / "bad"
    shutil.copytree(out, bad_dir)
    src = bad_dir / "accel_top.cpp"
    good, bad = MUTATIONS[mutation]
    text = src.read_text()
    assert text.count(good) == 1
    src.write_text(text.replace(good, bad))
    result = csim_project(bad_dir)
    assert not result["ok"] and result["errors"] > 0
    assert any("MISMATCH" in line for line in result["log"]), result["log"]


@pytest.mark.hls
def test_readme_and_tcl_name_the_commands(digits):
    out, _, _, _ = digits
    readme = (out / "README.md").read_text()
    for needle in ("vitis-run --mode hls --tcl build_hls.tcl", "vitis_hls -f build_hls.tcl", "./run_hls.sh",
                   "ACCEL_VIVADO_HLS=1 vivado_hls -f build_hls.tcl", "csim_design",
                   "csynth_design", "cosim_design", "export_design -format ip_catalog",
                   "accel_top_prj/solution1/impl/ip", "accel_top_prj/solution1/syn/report/accel_top_csynth.rpt",
                   "NOT installed in accel's CI",
                   "xilinx.com:hls:accel_top:1.0", "g++ -O1"):  # fmt: skip
        assert needle in readme, needle
    tcl = (out / "build_hls.tcl").read_text()
    for needle in ("open_project -reset accel_top_prj", "set_top accel_top", "add_files accel_top.cpp",
                   "add_files hls4ml/firmware/accel_digits.cpp", "add_files -tb accel_top_test.cpp",
                   "add_files -tb tb_data", "set_part {xc7z020clg400-1}", "-DACCEL_AXIS_SIDEBAND_BITS=$sideband_bits",
                   "set clock_period 10\n", "create_clock -period $clock_period ",
                   "{ csim_design }", "{ csynth_design }", "{ cosim_design }",
                   "export_design -format ip_catalog -vendor xilinx.com -library hls -version 1.0"):  # fmt: skip
        assert needle in tcl, needle
    cpp = (out / "accel_top.cpp").read_text() + (out / "accel_top.h").read_text()
    for needle in ("INTERFACE axis port = s_axis", "INTERFACE axis port = m_axis", "ap_ctrl_none port = return",
                   "#define ACCEL_AXIS_SIDEBAND_BITS 0", "static const unsigned ACCEL_OUT_TDATA = 40;"):  # fmt: skip
        assert needle in cpp, needle


@pytest.mark.hls
def test_project_uses_hls4mls_vitis_backend_and_no_absolute_path(digits):
    """hls4ml_config.yml says Backend: Vitis; nothing the build wrote names its directory or the installed hls4ml."""
    out, manifest, _, _ = digits
    config = (out / "hls4ml" / "hls4ml_config.yml").read_text()
    assert "Backend: Vitis\n" in config and "OutputDir: hls4ml\n" in config
    assert (out / "hls4ml" / "build_opt.tcl").is_file()  # written by hls4ml's Vitis writer only
    stamp = next(line.split()[1] for line in config.splitlines() if line.startswith("Stamp:"))
    assert f"LIB_STAMP={stamp}\n" in (out / "hls4ml" / "build_lib.sh").read_text()
    import hls4ml

    for rel in manifest.files:
        data = (out / rel).read_bytes()
        for path in (str(out.resolve()), str(out), str(Path(hls4ml.__file__).parent)):
            assert path.encode() not in data, (rel, path)


@pytest.mark.hls
def test_wrapper_compiles_with_one_bit_sideband(digits):
    """The Vivado HLS variant (ACCEL_AXIS_SIDEBAND_BITS=1) is still valid C++ for the same wrapper and testbench."""
    out, manifest, _, _ = digits
    cmd = manifest.hls.csim.replace("g++ ", "g++ -fsyntax-only -DACCEL_AXIS_SIDEBAND_BITS=1 ", 1)
    cmd = cmd.replace(f" hls4ml/firmware/{manifest.hls.project}.cpp", "").replace(f" -o {CSIM_BINARY}", "")
    proc = subprocess.run(cmd, shell=True, cwd=out, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


# --------------------------------------------------------------------------------------------------
# several lanes per pixel, odd widths, both io types
# --------------------------------------------------------------------------------------------------


@pytest.mark.hls
@pytest.mark.parametrize("io_type", ["io_stream", "io_parallel"])
def test_multi_lane_packing_is_exact(io_type, tmp_path):
    graph = lanes_graph()
    build_hls_project(None, graph, tmp_path, io_type=io_type, tb_samples=TB_SAMPLES, seed=5, part="xc7z020clg400-1",
                      clock_ns=5.0)  # fmt: skip
    manifest = load_build(tmp_path)
    i, o = manifest.input, manifest.output
    # 12 x 8 bits = 96 > 64: 6 lanes (48 bits, 6 bytes), 2 beats per pixel; 10 x 12 bits: 5 lanes of 60 -> 64 bits
    assert (i.lanes, i.tdata_bits, i.beats_per_frame) == (6, 48, 12)
    assert (o.lanes, o.tdata_bits, o.beats_per_frame) == (5, 64, 12)
    assert manifest.clock_ns == 5.0 and manifest.hls.io_type == io_type
    result = csim_project(tmp_path)
    assert_exact(tmp_path, manifest, graph, result)


# --------------------------------------------------------------------------------------------------
# the command: accel build digits --backend hls -o DIR
# --------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.hls
def test_cli_build_digits_hls_passes_csim(tmp_path, capsys):
    import json

    from accel.cli import main

    out = tmp_path / "digits_hls"
    argv = ["build", "digits", "--backend", "hls", "-o", str(out), "--io", "parallel", "--clock-ns", "8", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["csim"]["ok"] is True and summary["csim"]["frames"] == 16 and summary["csim"]["errors"] == 0
    manifest = load_build(out)
    assert manifest.clock_ns == 8.0 and manifest.hls.io_type == "io_parallel"
    got, last = received(out, manifest)
    assert last.shape == (16, manifest.output.beats_per_frame) and last[:, -1].tolist() == [0, 1] * 8  # odd frames
    import models
    from accel.frontend import to_graph

    graph = to_graph(models.build("digits"))
    assert np.array_equal(got, execute(graph, random_inputs(graph, 16, 0)).outputs[graph.outputs[0]])


@pytest.mark.slow
@pytest.mark.hls
def test_two_cli_builds_are_byte_identical(tmp_path, monkeypatch, capsys):
    """`accel build digits --backend hls -o A` and `-o B` write the same bytes in every file (nothing excluded).

    Both are relative to the working directory, as a user types them, so a path written into any file
    (hls4ml's OutputDir, an include path) would differ.  The C simulation's objects and binary (csim/) are
    compared too: g++ without -g writes no path or time into them.  The board flow (--board) is included.
    """
    from accel.cli import main

    monkeypatch.chdir(tmp_path)
    for name in ("A", "B"):
        assert main(["build", "digits", "--backend", "hls", "-o", name, "--board", "pynq-z2", "--clock-ns", "7"]) == 0
    capsys.readouterr()
    files = {name: sorted(p.relative_to(tmp_path / name) for p in (tmp_path / name).rglob("*") if p.is_file())
             for name in ("A", "B")}  # fmt: skip
    assert files["A"] == files["B"] and len(files["A"]) > 100
    a, b = tmp_path / "A", tmp_path / "B"
    differ = [str(rel) for rel in files["A"] if (a / rel).read_bytes() != (b / rel).read_bytes()]
    assert differ == []
    assert "Backend: Vitis\n" in (tmp_path / "A" / "hls4ml" / "hls4ml_config.yml").read_text()
    assert {"csim/accel_top_test", "board/settings.tcl", "hls4ml/build_lib.sh"} <= {str(r) for r in files["A"]}
