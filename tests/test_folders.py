"""Output folders (accel.folders): nothing left in the temporary folder, one run per folder, builds that land whole
and never mix into another model's or backend's folder; with --json, stdout carries only the JSON document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accel import AccelError
from accel.cli import main
from accel.deploy.manifest import load_build
from accel.folders import locked, staged_build, work_folder

ROOT = Path(__file__).resolve().parent.parent


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("accel: error: "), err
    return err[0]


def test_work_folder_without_a_folder_removes_its_temporary_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with work_folder(None, "accel_x_") as folder:
        (folder / "deep").mkdir()
        (folder / "deep" / "f").write_text("x")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), work_folder(None, "accel_x_") as folder:
        (folder / "f").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_locked_folder_refuses_a_second_run(tmp_path: Path, capsys) -> None:
    with locked(tmp_path / "out"):
        with pytest.raises(AccelError, match="in use by another accel run"), locked(tmp_path / "out"):
            pass
        capsys.readouterr()
        assert main(["build", "digits", "--backend", "rtl", "-o", str(tmp_path / "out")]) == 2
        line = _one_error_line(capsys)
        assert f"-o {tmp_path / 'out'} is in use by another accel run" in line, line
    with locked(tmp_path / "out"):  # released when the block ended
        pass
    assert list((tmp_path / "out").iterdir()) == []  # the lock leaves no file


def test_a_second_process_is_refused_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    """flock is per open file description: a separate process (as a second `accel verify`) sees the lock."""
    out = tmp_path / "out"
    code = ("import sys; from accel.folders import locked; from accel import AccelError\n"
            "try:\n    with locked(__import__('pathlib').Path(sys.argv[1])): pass\n"
            "except AccelError as e: print(e); sys.exit(3)\n")  # fmt: skip
    with locked(out):
        r = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 3 and "in use by another accel run" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def _staged(folder: Path, model: str = "m", backend: str = "rtl", force: bool = False, files=("build.json",)):
    """Build a stand-in: a manifest-like file and one more, through staged_build."""
    with staged_build(folder, model, backend, force=force) as stage:
        for name in files:
            (stage / name).write_text(name)
        return stage


def test_a_failed_build_leaves_the_previous_one_and_no_staging_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["build", "digits", "--backend", "rtl", "-o", str(out)]) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    class Boom(Exception):
        pass

    with pytest.raises(Boom), staged_build(out, "digits", "rtl") as stage:
        (stage / "rtl").mkdir()
        (stage / "rtl" / "half.v").write_text("module half")
        raise Boom
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the staging folder is gone


def test_errors_inside_a_staged_build_name_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(AccelError) as info, staged_build(out, "m", "rtl") as stage:
        raise AccelError(f"the C simulation of {stage} did not finish.")
    assert str(info.value) == f"the C simulation of {out} did not finish."


def test_build_into_another_backends_or_models_folder_needs_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["build", "digits", "--backend", "rtl", "-o", str(out)]) == 0
    rtl_files = sorted(p.name for p in out.iterdir())
    assert main(["build", "digits", "--backend", "rtl", "-o", str(out), "--json"]) == 0  # same model and backend
    assert sorted(p.name for p in out.iterdir()) == rtl_files
    capsys.readouterr()
    assert main(["build", "digits", "--backend", "hls", "-o", str(out)]) == 2
    line = _one_error_line(capsys)
    assert f"-o {out} holds the rtl build of digits" in line and "--force" in line, line
    assert main(["build", "ds_cnn_kws", "--backend", "rtl", "-o", str(out)]) == 2
    line = _one_error_line(capsys)
    assert f"-o {out} holds the rtl build of digits" in line, line
    assert load_build(out).backend == "rtl"  # untouched by the refusals
    assert main(["build", "digits", "--backend", "hls", "-o", str(out), "--force"]) == 0
    manifest = load_build(out)
    assert manifest.backend == "hls"
    assert not (out / "rtl").exists(), "the RTL build's files must be cleared, not mixed with the HLS build"
    assert set(manifest.files) | {"build.json"} >= {p.name for p in out.iterdir() if p.is_file()}


def test_a_folder_with_other_files_is_refused_and_force_clears_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    capsys.readouterr()
    assert main(["build", "digits", "--backend", "rtl", "-o", str(out)]) == 2
    assert "is not empty and holds no accel build" in _one_error_line(capsys)
    assert (out / "thesis.tex").read_text() == "mine"
    _staged(out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["build.json"]


def test_force_never_clears_the_current_or_home_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "mine.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AccelError, match="holds the current folder or is the home folder"):
        _staged(Path("."), force=True)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "keep").write_text("x")
    monkeypatch.chdir(sub)
    with pytest.raises(AccelError, match="holds the current folder"):
        _staged(tmp_path, force=True)
    assert (tmp_path / "mine.txt").exists() and (sub / "keep").exists()


def test_json_stdout_holds_only_the_json_document(tmp_path: Path) -> None:
    """Writes to descriptor 1 below Python (as the C simulation's library and compilers do) and Python prints
    from libraries (as hls4ml's) go to stderr while the command runs; stdout parses as JSON."""
    code = ("import os, sys\nfrom accel import cli\nnames = cli.zoo_names\n"
            "def noisy():\n    sys.stdout.flush(); os.system('echo noise-from-descriptor-1')\n"
            "    print('noise-from-python')\n    return names()\n"
            "cli.zoo_names = noisy\nsys.exit(cli.main(['zoo', '--json']))\n")  # fmt: skip
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "digits" in json.loads(r.stdout)
    assert "noise-from-descriptor-1" in r.stderr and "noise-from-python" in r.stderr


@pytest.mark.slow
def test_verify_without_output_dir_leaves_nothing_in_the_temporary_folder(tmp_path: Path) -> None:
    """Both co-simulating verifiers and a failing one, in real processes with TMPDIR set to an empty folder."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    for against in ("rtl", "hls"):
        r = subprocess.run([sys.executable, "-m", "accel.cli", "verify", "digits", "--against", against, "--samples",
                            "2", "--json"], capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
        assert r.returncode == 0, r.stderr
        result = json.loads(r.stdout)  # with --json, stdout is the JSON document alone (C simulation included)
        assert result["mismatches"] == 0
        assert [p.name for p in tmp.iterdir()] == [], f"left behind by --against {against}"
