"""``accel package``: bundle contents, the bundled driver imports on its own, run_on_board.py self-test passes
exactly against a stand-in transport and fails when the outputs differ."""

from __future__ import annotations

import dataclasses
import filecmp
import importlib.util
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import accel
from accel.deploy.board import write_board_flow
from accel.deploy.manifest import IpInfo, Ports, load_build, stream_spec, write_manifest
from accel.deploy.package import DRIVER_FILES, package
from accel.reference import execute
from accel.rtl.sim_transport import ReferenceTransport
from tests.test_board_flow import BACKENDS
from tests.test_driver import small_graph, tiny_manifest


def tiny_build(tmp: Path, *, board: bool = True) -> tuple[Path, object]:
    g, m = small_graph()
    d = tmp / "build"
    d.mkdir()
    m = dataclasses.replace(m, ports=Ports(**BACKENDS["rtl"]["ports"]), ip=IpInfo(**BACKENDS["rtl"]["ip"]))
    write_manifest(d, m)
    if board:
        write_board_flow(d)
    return d, g


def load_runner(bundle: Path):
    spec = importlib.util.spec_from_file_location("run_on_board_under_test", bundle / "run_on_board.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bundle_contents_without_bitstream(tmp_path: Path) -> None:
    d, g = tiny_build(tmp_path)
    b = package(d, graph=g)
    assert b == d / "pynq_bundle"
    names = sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    assert names == sorted(["README.md", "bundle.json", "tiny.json", "run_on_board.py", "selftest_input.npy",
                            "selftest_expected.npy", *(f"accel/{r}" for r in DRIVER_FILES)])  # fmt: skip
    src = Path(accel.__file__).parent
    for rel in DRIVER_FILES:  # real files, not rewrites
        assert filecmp.cmp(src / rel, b / "accel" / rel, shallow=False), rel
    x, y = np.load(b / "selftest_input.npy"), np.load(b / "selftest_expected.npy")
    assert x.dtype == np.int64 and x.shape == (8, 4, 4, 2)
    assert np.array_equal(y, execute(g, x).outputs["s"])
    assert (b / "tiny.json").read_text() == (d / "build.json").read_text()  # the build's manifest, unchanged
    assert json.loads((b / "bundle.json").read_text())["board"]["fclk0_mhz"] == 100
    readme = (b / "README.md").read_text()
    assert "**absent**" in readme and "board/build_bitstream.sh" in readme
    with tarfile.open(d / "pynq_bundle.tar.gz") as tar:
        assert "pynq_bundle/run_on_board.py" in tar.getnames()
    assert json.loads((b / "bundle.json").read_text())["bitstream"] is None


def test_bundle_with_bitstream(tmp_path: Path) -> None:
    d, g = tiny_build(tmp_path)
    out = d / "board" / "output"
    out.mkdir()
    (out / "tiny.bit").write_bytes(b"BIT")
    (out / "tiny.hwh").write_text("<hwh/>")
    b = package(d, tmp_path / "elsewhere" / "bundle", graph=g)
    assert (b / "tiny.bit").read_bytes() == b"BIT" and (b / "tiny.hwh").is_file()
    assert (tmp_path / "elsewhere" / "bundle.tar.gz").is_file()
    assert "absent" not in (b / "README.md").read_text()


def test_run_on_board_self_test_passes_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    d, g = tiny_build(tmp_path)
    b = package(d, graph=g)
    m = load_build(d)
    runner = load_runner(b)
    assert runner.main(["--benchmark", "5"], transport=ReferenceTransport(g, m)) == 0
    out = capsys.readouterr().out
    assert "8/8 frames exact" in out and "inferences/s" in out

    class Corrupt(ReferenceTransport):
        def transfer(self, data, receive_bytes, frames, timeout_s):
            out = bytearray(super().transfer(data, receive_bytes, frames, timeout_s))
            out[-1] ^= 1  # one bit of the last frame
            return bytes(out)

    assert runner.main(["--benchmark", "0"], transport=Corrupt(g, m)) == 1
    assert "7/8 frames exact" in capsys.readouterr().out


def test_bundled_driver_imports_alone(tmp_path: Path) -> None:
    """With the bundle first on sys.path and no pynq, the bundled accel is used and says pynq is missing."""
    d, g = tiny_build(tmp_path)
    b = package(d, graph=g)
    (b / "tiny.bit").write_bytes(b"BIT")
    (b / "bundle.json").write_text(json.dumps(dict(json.loads((b / "bundle.json").read_text()), bitstream="tiny.bit")))
    code = ("import sys; sys.modules['pynq'] = None\n"
            "import runpy, accel\n"
            f"assert accel.__file__.startswith({str(b)!r}), accel.__file__\n"
            f"sys.argv = ['run_on_board.py']\n"
            f"runpy.run_path({str(b / 'run_on_board.py')!r}, run_name='__main__')\n")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=b, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "the pynq package is not installed" in proc.stdout


@pytest.mark.slow
def test_run_on_board_reference_transport_digits(tmp_path: Path) -> None:
    """A digits build (its manifest as a backend writes it), packaged with the zoo graph, self-tested by the
    bundle's own script in a fresh process through the NumPy reference."""
    import models
    from accel.frontend import to_graph

    g = to_graph(models.build("digits"), "digits")
    xs, ys = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    d = tmp_path / "digits"
    d.mkdir()
    m = tiny_manifest("digits", stream_spec("input", xs.shape, xs.dtype, 1), stream_spec("output", ys.shape,
                                                                                          ys.dtype, 1))
    write_manifest(d, m)
    write_board_flow(d)
    b = package(d)  # graph from the zoo by the manifest's model name
    proc = subprocess.run([sys.executable, str(b / "run_on_board.py"), "--transport", "reference", "--build", str(d),
                           "--benchmark", "16"], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test digits via reference: 8/8 frames exact" in proc.stdout


@pytest.mark.slow
@pytest.mark.rtl
def test_run_on_board_sim_transport_digits_rtl(tmp_path: Path) -> None:
    """The bundle of a real digits RTL build self-tests in a fresh process against the RTL co-simulation."""
    import models
    from accel.frontend import to_graph
    from accel.rtl.network import build_rtl

    g = to_graph(models.build("digits"), "digits")
    d = tmp_path / "digits_rtl"
    build_rtl(g, d)
    write_board_flow(d)
    b = package(d, graph=g)
    cmd = [sys.executable, str(b / "run_on_board.py"), "--transport", "sim", "--build", str(d), "--benchmark", "2",
           "--timeout", "600"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test digits via sim: 8/8 frames exact" in proc.stdout and "inferences/s" in proc.stdout


def test_vectors_from_backend_when_model_not_in_zoo(tmp_path: Path) -> None:
    """A model outside the zoo: the self-test comes from the backend's reference byte images (HLS tb_data)."""
    from accel.deploy.stream import pack, to_bytes
    from accel.fixed import FixedType

    d, g = tiny_build(tmp_path)
    m = load_build(d)
    x = np.arange(3 * 32).reshape(3, 4, 4, 2) % 200 - 100
    y = execute(g, x).outputs["s"]
    (d / "tb_data").mkdir()
    for spec, raw, name in ((m.input, x, "axis_in.bin"), (m.output, y, "axis_out.bin")):
        t = FixedType.parse(spec.type)  # the packing is built from the type string here, not from spec.dtype
        (d / "tb_data" / name).write_bytes(to_bytes(pack(raw, t, spec.lanes), t, spec.lanes))
    b = package(d)  # model "tiny" is not in the zoo
    assert np.array_equal(np.load(b / "selftest_input.npy"), x)
    assert np.array_equal(np.load(b / "selftest_expected.npy"), y)
    (d / "tb_data" / "axis_out.bin").unlink()
    with pytest.raises(accel.AccelError, match="not in the zoo and .* holds no reference vectors"):
        package(d)


def test_a_build_with_deleted_files_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """The Verilog top and a ROM image of a real build deleted: one sentence naming them, no bundle written."""
    import models
    from accel import AccelError
    from accel.frontend import to_graph
    from accel.rtl.network import build_rtl

    g = to_graph(models.build("digits"), "digits")
    d = tmp_path / "digits_rtl"
    m = build_rtl(g, d)
    rom = m["rom_files"][0]
    (d / "rtl" / "accel_top.v").unlink()
    (d / rom).unlink()
    with pytest.raises(AccelError, match=rf"^build {d} is incomplete: .*rtl/accel_top.v.*{rom}|^build {d} is "
                                         rf"incomplete: .*{rom}.*rtl/accel_top.v"):  # fmt: skip
        package(d, graph=g)
    assert not (d / "pynq_bundle").exists() and not (d / "pynq_bundle.tar.gz").exists()
