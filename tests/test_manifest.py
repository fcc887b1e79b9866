"""The typed build manifest (schema 2), the table of parts, and the report judging a build against its own part.

Why these tests: build.json is the contract between the backends and everything downstream (board flow, bundle,
driver, co-simulation, report).  It must round-trip exactly, refuse a file of another layout or with a missing
or mistyped key in one sentence naming the file and the key, and carry the part the report then judges against.
The report tests use a real generated build (accel.rtl.network.build_rtl) and a stand-in yosys whose cell counts
are chosen here, so the verdict is checked against numbers known exactly, without minutes of synthesis.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.manifest import (
    SCHEMA_VERSION,
    BuildManifest,
    ChildRecord,
    InstanceRecord,
    IpInfo,
    LayerRecord,
    PortRecord,
    Ports,
    RtlFacts,
    load_build,
    stream_spec,
    write_manifest,
)
from accel.fixed import FixedType
from accel.parts import DEFAULT_PART, PartInfo, check_target, part_info

S8 = FixedType(True, 8, 3)
U8 = FixedType(False, 8, 0)


def fork_manifest() -> BuildManifest:
    """An RTL manifest using every record: a fork with a vector output, a join, a block with a child."""
    x = PortRecord("s_axis", None, (4, 4, 8), "ap_ufixed<8,0>", 2)
    fork = InstanceRecord(
        "u_x_fork", "accel_fork", {"N": 2, "WIDTH": 16}, expected_cycles=64, resource_class="buffer",
        inputs=(x,), outputs=(PortRecord("m_axis", 0, (4, 4, 8), "ap_ufixed<8,0>", 2),
                              PortRecord("m_axis", 1, (4, 4, 8), "ap_ufixed<8,0>", 2)), vector_output=True)
    pool = InstanceRecord(
        "u_p_maxpool_win", "accel_maxpool_win", {"K": 3, "MEM": "p.mem"}, expected_cycles=64,
        resource_class="compute", inputs=(x,), outputs=(PortRecord("m_axis", None, (2, 2, 8), "ap_ufixed<8,0>", 2),),
        starved="selected_input", children=(ChildRecord("u_window", "accel_window", "input"),))
    add = InstanceRecord(
        "u_a_add", "accel_add", {"C": 8}, inputs=(PortRecord("s0_axis", None, (2, 2, 8), "ap_ufixed<8,0>", 2),
                                                  PortRecord("s1_axis", None, (2, 2, 8), "ap_ufixed<8,0>", 2)),
        starved="any_input")
    layers = (LayerRecord("p", "maxpool", 0, 0, None, None, 0, 64, (fork, pool)),
              LayerRecord("a", "add", 0, 0, None, None, 0, 16, (add,)))
    return BuildManifest(
        backend="rtl", model="forky", part="xc7z010clg400-1", clock_ns=8.0, top="accel_top",
        input=stream_spec("x", (4, 4, 8), U8, 2), output=stream_spec("a", (2, 2, 8), FixedType(False, 9, 1), 8),
        ports=Ports("clk", "rst", False, "s_axis", "m_axis"), ip=IpInfo("accel:accel:accel_top:1.0", "ip", "make ip"),
        files=("rtl/accel_top.v",),
        rtl=RtlFacts(rtl_sources=("rtl/accel_fork.v", "rtl/accel_top.v"), filelist="rtl/filelist.f",
                     rom_files=("rtl/p.mem",), rom_paths="bare names", expected_ii_cycles=64, multipliers=0,
                     folding={"c": {"pe": 2, "simd": None}}, layers=layers),
    )  # fmt: skip


# -- round trip ---------------------------------------------------------------------------------------------------
def test_round_trip_is_exact_and_readable(tmp_path: Path) -> None:
    m = fork_manifest()
    assert BuildManifest.from_json(m.to_json()) == m
    assert BuildManifest.from_json(json.loads(json.dumps(m.to_json()))) == m
    path = write_manifest(tmp_path, m)
    text = path.read_text()
    assert text.startswith('{\n "schema": 2,\n "backend": "rtl",\n') and text.endswith("}\n")  # indent=1
    assert load_build(tmp_path) == m
    assert load_build(tmp_path).to_json() == json.loads(text)
    data = json.loads(text)
    assert data["input"] == {"name": "x", "shape": [4, 4, 8], "type": "ap_ufixed<8,0>", "lanes": 2, "beat_bits": 16,
                             "beat_bytes": 2, "tdata_bits": 16, "beats_per_frame": 64, "bytes_per_frame": 128}
    out = data["output"]  # 8 lanes of 9 bits: 72 bits, 9 bytes
    assert (out["beat_bits"], out["tdata_bits"], out["beat_bytes"]) == (72, 72, 9)
    fork = data["layers"][0]["instances"][0]
    assert fork["vector_output"] is True and [o["index"] for o in fork["outputs"]] == [0, 1]
    assert fork["outputs"][1]["beats_per_frame"] == 64
    assert data["layers"][0]["instances"][1]["children"] == [{"path": "u_window", "module": "accel_window",
                                                              "starved": "input"}]
    assert "hls" not in data and data["folding"] == {"c": {"pe": 2, "simd": None}}


def test_typed_access() -> None:
    m = fork_manifest()
    assert m.schema == SCHEMA_VERSION == 2 and m.hls is None
    assert m.input.dtype == U8 and m.input.beats_per_frame == 64 and m.input.bytes_per_frame == 128
    assert m.rtl.layers[0].instances[0].outputs[1].dtype == U8
    assert m.rtl.layers[1].instances[0].starved == "any_input"
    assert stream_spec("s", (1, 1, 10), FixedType(True, 12, 5), 5).tdata_bits == 64  # 60 bits -> 8 bytes


def test_instance_fields_added_later_have_defaults(tmp_path: Path) -> None:
    """An instance as the generator wrote it before the monitoring fields existed reads with their defaults."""
    data = fork_manifest().to_json()
    data["layers"][1]["instances"] = [{"instance": "u_a_add", "module": "accel_add", "parameters": {"C": 8}}]
    inst = BuildManifest.from_json(data).rtl.layers[1].instances[0]
    assert inst == InstanceRecord("u_a_add", "accel_add", {"C": 8})
    assert (inst.expected_cycles, inst.resource_class, inst.inputs, inst.outputs, inst.starved, inst.vector_output,
            inst.children) == (None, "", (), (), "input", False, ())  # fmt: skip


def test_generated_build_round_trips(tmp_path: Path) -> None:
    """The manifest build_rtl writes (as a dict, through write_manifest) is a schema-2 manifest that round-trips."""
    from accel.rtl.network import build_rtl

    build_rtl(tiny_graph(), tmp_path, part="xc7z010clg400-1", clock_ns=8.0)
    m = load_build(tmp_path)
    assert (m.schema, m.backend, m.part, m.clock_ns, m.model) == (2, "rtl", "xc7z010clg400-1", 8.0, "tiny")
    assert BuildManifest.from_json(m.to_json()) == m
    assert [layer.node for layer in m.rtl.layers] == ["pw", "q"]
    assert all((tmp_path / s).is_file() for s in m.rtl.rtl_sources)


# -- refusals -----------------------------------------------------------------------------------------------------
def _refused(tmp_path: Path, data: dict) -> str:
    (tmp_path / "build.json").write_text(json.dumps(data))
    with pytest.raises(AccelError) as exc:
        load_build(tmp_path)
    msg = str(exc.value)
    assert msg.startswith(str(tmp_path / "build.json")) and "\n" not in msg and msg.endswith(".")
    return msg


def test_old_format_is_refused_with_the_sentence(tmp_path: Path) -> None:
    old = fork_manifest().to_json()
    del old["schema"]  # build.json as accel wrote it before the typed manifest
    path = tmp_path / "build.json"
    assert _refused(tmp_path, old) == (f"{path} was written by an older accel (schema None, this accel reads "
                                       "schema 2); rebuild it with `accel build`.")  # fmt: skip
    with pytest.raises(AccelError, match="was written by an older accel"):
        load_build(tmp_path)
    assert "written by another accel (schema 3" in _refused(tmp_path, dict(old, schema=3))


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: d["ports"].pop("reset"), "lacks ports.reset; a schema-2 build manifest needs it"),
        (lambda d: d.pop("layers"), "lacks layers; a schema-2 build manifest needs it"),
        (lambda d: d["layers"][1]["instances"][0].pop("module"), "lacks layers[1].instances[0].module"),
        (lambda d: d.update(clock_ns="10"), "clock_ns is '10', not a number"),
        (lambda d: d["input"].update(lanes=True), "input.lanes is True, not an integer"),
        (lambda d: d["layers"][0]["instances"][0]["parameters"].update(N=2.5),
         "layers[0].instances[0].parameters.N is 2.5, not an integer or a string"),
        (lambda d: d["layers"][0]["instances"][1].update(starved="never"), "starved 'never' is not a monitor kind"),
        (lambda d: d["input"].update(tdata_bits=9), "input.tdata_bits is 9, but the other fields make it 16"),
        (lambda d: d["input"].update(lanes=3), "stream x: 3 lanes do not divide 8 channels"),
        (lambda d: d["layers"][0].update(cycles=3), "layers[0].cycles is not a field of a schema-2 build manifest"),
        (lambda d: d.update(hls={}), "hls is not a field of a schema-2 build manifest"),
        (lambda d: d.update(backend="vhdl"), "backend 'vhdl' is unknown; supported: hls, rtl"),
        (lambda d: d.update(part="zynq"), "FPGA part 'zynq' is not a Xilinx part name"),
        (lambda d: d["folding"].update(c={"pe": 2}), "folding of c has ['pe']; a folding entry has pe and simd, and"),
        (lambda d: d["folding"].update(c={"pe": 2, "simd": None, "lanes": 4}), "may have ram_style and mult_style"),
        (lambda d: d["folding"].update(c={"pe": 2, "simd": None, "mult_style": []}), "folding.c.mult_style is [], not"),
        (lambda d: d.update(folding_search=[]), "folding_search is [], not a JSON object; rebuild"),
    ],
)
def test_bad_manifest_is_one_sentence_naming_the_key(tmp_path: Path, edit, message: str) -> None:
    data = fork_manifest().to_json()
    edit(data)
    assert message in _refused(tmp_path, data)


def test_write_manifest_checks_a_dict_too(tmp_path: Path) -> None:
    """The transition path (accel/rtl/network.py hands over a dict): parsed strictly, schema added, same file."""
    data = fork_manifest().to_json()
    del data["schema"]
    data["input"] = fork_manifest().input  # network.py puts stream_spec()'s StreamSpec into its dict
    write_manifest(tmp_path, data)
    assert load_build(tmp_path) == fork_manifest()
    del data["top"]
    with pytest.raises(AccelError, match=rf"^{re.escape(str(tmp_path / 'other' / 'build.json'))} lacks top;"):
        write_manifest(tmp_path / "other", data)
    assert not (tmp_path / "other" / "build.json").exists()


def test_not_a_build_and_not_json(tmp_path: Path) -> None:
    with pytest.raises(AccelError, match=r"is not an accel build directory \(no build\.json\)"):
        load_build(tmp_path)
    (tmp_path / "build.json").write_text("{")
    with pytest.raises(AccelError, match=r"build\.json cannot be read as JSON"):
        load_build(tmp_path)


# -- parts --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "part,device,family,speed,capacity",
    [
        ("xc7z020clg400-1", "xc7z020", "zynq-7000", "1", (53_200, 106_400, 220, 140)),
        ("xc7z010clg400-1", "xc7z010", "zynq-7000", "1", (17_600, 35_200, 80, 60)),
        ("xc7a35tcpg236-1", "xc7a35t", "artix-7", "1", (20_800, 41_600, 90, 50)),
        ("xczu3eg-sbva484-1-e", "xczu3eg", "zynq ultrascale+", "1", (70_560, 141_120, 360, 216)),
        ("XC7Z010CLG225-2", "xc7z010", "zynq-7000", "2", (17_600, 35_200, 80, 60)),
    ],
)
def test_part_info_of_known_parts(part: str, device: str, family: str, speed: str, capacity: tuple) -> None:
    info = part_info(part)
    assert info == PartInfo(part.lower(), device, family, speed, *capacity) and info.known


def test_part_info_of_an_unknown_part_and_a_malformed_one() -> None:
    info = part_info("xc7k70tfbg676-2")
    assert info == PartInfo("xc7k70tfbg676-2", "xc7k70t", "kintex-7", "2", None, None, None, None)
    assert not info.known
    assert part_info("xc7z030sbg485-1").device == "xc7z030"  # "s" of the package, not a single-core device
    assert part_info(DEFAULT_PART).device == "xc7z020"
    check_target("xc7k70tfbg676-2", 10.0)  # accepted for building
    for bad in ("xc7z020", "zynq", ""):
        with pytest.raises(AccelError, match=f"FPGA part '{bad}' is not a Xilinx part name; give one like "
                                             "xc7z020clg400-1"):  # fmt: skip
            part_info(bad)
    with pytest.raises(AccelError, match="positive number of ns"):
        check_target(DEFAULT_PART, 0)


# -- the report against the build's part ------------------------------------------------------------------------
def tiny_graph():
    """input 4x4x8 -> 1x1 conv to 4 channels -> requantise: a small real network for the generator."""
    import accel.ops  # noqa: F401  (registers the ops)
    from accel.ir import GraphBuilder

    rng = np.random.default_rng(5)
    b = GraphBuilder("tiny")
    x = b.input("inp", (4, 4, 8), S8)
    pw = b.add("pw", "conv2d", [x], {"kernel": (1, 1)},
               {"weight": rng.integers(-8, 8, (1, 1, 8, 4)), "bias": rng.integers(-128, 128, (4,))},
               {"weight": FixedType(True, 4, 1), "bias": S8})  # fmt: skip
    return b.build([b.add("q", "quantize", [pw], {"out_type": S8, "relu": True})])


def fake_yosys(tmp_path: Path, dsp_per_instance: int) -> Path:
    """A yosys stand-in: ``-V`` names it; a synthesis run prints a netlist of 100 LUT6, 50 FDRE and the DSPs."""
    exe = tmp_path / "fake_yosys"
    exe.write_text("#!/bin/sh\n"
                   'if [ "$1" = "-V" ]; then echo "Yosys 0.0 (accel test stand-in)"; exit 0; fi\n'
                   "printf '   Number of cells: 3\\n     LUT6 100\\n     FDRE 50\\n'\n"
                   f"printf '     DSP48E1 {dsp_per_instance}\\n'\n")
    exe.chmod(0o755)
    return exe


def test_report_judges_against_the_builds_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same design, built for three parts: its DSPs fit the xc7z020's 220 but not the xc7z010's 80, and
    an unknown part gets the totals and a sentence instead of a verdict."""
    from accel.report import make_report, print_report
    from accel.rtl.network import build_rtl

    graph = tiny_graph()
    builds = {part: tmp_path / part for part in ("xc7z020clg400-1", "xc7z010clg400-1", "xc7k70tfbg676-1")}
    for part, d in builds.items():
        build_rtl(graph, d, part=part)
    counts = {len([i for la in load_build(d).rtl.layers for i in la.instances]) for d in builds.values()}
    (n,) = counts  # the same instances whatever the part
    dsp = 80 // n + 1  # n * dsp is just over the xc7z010's 80 DSPs and well within the xc7z020's 220
    assert 80 < n * dsp <= 220
    monkeypatch.setenv("ACCEL_YOSYS", str(fake_yosys(tmp_path, dsp)))
    reps = {part: make_report(d) for part, d in builds.items()}
    for rep in reps.values():
        assert (rep["totals"]["DSP"], rep["totals"]["LUT"], rep["totals"]["FF"]) == (n * dsp, 100 * n, 50 * n)

    big = reps["xc7z020clg400-1"]
    assert big["capacity"] == {"part": "xc7z020clg400-1", "device": "xc7z020", "LUT": 53_200, "FF": 106_400,
                               "DSP": 220, "BRAM": 140}  # fmt: skip
    assert big["fits"] is True and big["verdict"] == f"fits the xc7z020 (largest use: DSP {100 * n * dsp / 220:.1f}%)"

    small = reps["xc7z010clg400-1"]
    assert small["capacity"] == {"part": "xc7z010clg400-1", "device": "xc7z010", "LUT": 17_600, "FF": 35_200,
                                 "DSP": 80, "BRAM": 60}  # fmt: skip
    assert small["utilisation_percent"]["DSP"] == 100.0 * n * dsp / 80
    assert small["fits"] is False and small["verdict"] == f"does not fit the xc7z010: DSP {100 * n * dsp / 80:.0f}%"
    assert small["synthesis"]["device"] == "xc7z010"

    other = reps["xc7k70tfbg676-1"]
    assert other["fits"] is None and other["utilisation_percent"] is None
    assert other["capacity"] == {"part": "xc7k70tfbg676-1", "device": "xc7k70t", "LUT": None, "FF": None, "DSP": None,
                                 "BRAM": None}  # fmt: skip
    assert other["verdict"] == ("capacity of part xc7k70tfbg676-1 unknown; known parts: xc7z020, xc7z010, xc7a35t, "
                                "xczu3eg")  # fmt: skip
    json.dumps(other)
    print_report(other)  # no capacity row to print, and no crash
    chart = make_report(builds["xc7k70tfbg676-1"], chart=tmp_path / "other.png")["chart"]
    assert Path(chart).read_bytes().startswith(b"\x89PNG")


def test_report_refuses_a_build_whose_manifest_is_of_another_schema(tmp_path: Path) -> None:
    from accel.report import make_report

    data = copy.deepcopy(fork_manifest().to_json())
    data["schema"] = 1
    (tmp_path / "build.json").write_text(json.dumps(data))
    with pytest.raises(AccelError, match=r"was written by an older accel \(schema 1, this accel reads schema 2\)"):
        make_report(tmp_path, synth=False)
