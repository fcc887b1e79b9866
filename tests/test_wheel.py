"""A wheel of accel that works where it is installed (issue 17, item 5).

Why: the code used to find ``hls_templates/`` and the zoo ``models/`` by counting parent directories, which
holds only in a checkout; a wheel carried neither the templates nor a zoo inside ``accel`` (it installed a
top-level ``models`` instead).  The tests here build the wheel from a copy of the sources, check what it
carries against the source folders, install it into a fresh virtualenv outside the source tree and run the
user's commands there: ``accel build digits --board pynq-z2`` with both backends, ``accel package`` on both,
and an RTL co-simulation of the installed build.

The fresh virtualenv gets the wheel with ``--no-deps``; TensorFlow, hls4ml and the simulators' Python packages
come from this interpreter's site-packages through a ``.pth`` line (installing them again takes minutes).  A
directory named in a ``.pth`` file is added to ``sys.path`` without running its own ``.pth`` files, so an
editable install of accel there (its import finder) cannot leak in; the test checks that ``accel`` is imported
from the new virtualenv and that no ``models`` package is importable there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: what the wheel is built from (pyproject.toml names them: packages, package-dir, readme)
SOURCES = ("pyproject.toml", "README.md", "accel", "models", "hls_templates")
#: the repository folders a wheel installs inside the package, and where
MAPPED = {"models": "accel/zoo", "hls_templates": "accel/hls_templates"}
#: source files that are not package contents
JUNK = ("__pycache__", "*.pyc")

pytestmark = pytest.mark.slow


def source_files(folder: Path) -> set[str]:
    """Every file under ``folder`` (relative, POSIX), without bytecode caches."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}  # fmt: skip


def _build_args() -> list[str]:
    """``--no-build-isolation`` when this interpreter can build the wheel itself (no download needed).

    pyproject.toml's build requirements are setuptools (at a floor) and wheel; a venv of Python 3.11 has both.
    Without them pip builds in an isolated environment fetched from the package index.
    """
    floor = (ROOT / "pyproject.toml").read_text().split('"setuptools>=', 1)[1].split('"', 1)[0]
    try:
        have = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return []
    major = lambda v: int(v.split(".")[0])  # noqa: E731
    return ["--no-build-isolation"] if find_spec("wheel") and major(have) >= major(floor) else []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (the checkout gets no build/ or .egg-info)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(*JUNK))
        else:
            src.mkdir(exist_ok=True)
            shutil.copyfile(ROOT / name, src / name)
    dist = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *_build_args(), "-w", str(dist), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = dist.glob("accel-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtualenv outside the source tree with the wheel installed and the dependencies visible."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    assert not env_dir.is_relative_to(ROOT)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    # the wheel first: pip then sees no other accel (it would refuse to touch one outside the new env anyway)
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
               "--quiet", str(wheel)]  # fmt: skip
    proc = subprocess.run(install, capture_output=True, text=True, check=False, env=_env(env_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(site) / "_accel_test_deps.pth").write_text("".join(f"{d}\n" for d in deps))
    return env_dir


def _env(env_dir: Path) -> dict[str, str]:
    """The environment of a command in the new virtualenv: its bin first, nothing pointing at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}  # fmt: skip
    path = env.get("PATH", "").split(os.pathsep)
    if sys.prefix != sys.base_prefix:  # this interpreter's venv: its bin (and its accel script) stay out
        path = [p for p in path if p and not Path(p).resolve().is_relative_to(Path(sys.prefix).resolve())]
    env["PATH"] = os.pathsep.join([str(env_dir / "bin"), *path])
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``accel ARGS`` (the new virtualenv's script) in ``cwd``; a failure shows its output."""
    proc = subprocess.run([str(env_dir / "bin" / "accel"), *args], capture_output=True, text=True, check=False,
                          cwd=cwd, env=_env(env_dir))  # fmt: skip
    assert proc.returncode == 0, f"accel {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_wheel_carries_the_package_templates_and_zoo_and_nothing_else(wheel: Path) -> None:
    names = {n for n in zipfile.ZipFile(wheel).namelist() if not n.endswith("/")}
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"accel", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, tops  # no models/
    in_wheel = {n.removeprefix("accel/") for n in names if n.startswith("accel/")}
    mapped = {dest.removeprefix("accel/"): folder for folder, dest in MAPPED.items()}
    for dest, folder in mapped.items():
        expected = source_files(ROOT / folder)
        assert expected, folder
        got = {n.removeprefix(f"{dest}/") for n in in_wheel if n.startswith(f"{dest}/")}
        assert got == expected, f"{folder}/ in the wheel: missing {expected - got}, extra {got - expected}"
    rest = {n for n in in_wheel if n.split("/", 1)[0] not in mapped}
    expected = source_files(ROOT / "accel")  # every module, subpackage and Verilog file of accel/
    assert rest == expected, f"accel/ in the wheel: missing {expected - rest}, extra {rest - expected}"
    assert {"hls_templates/pynq/block_design.tcl", "hls_templates/csim/ap_axi_sdata.h",
            "zoo/digits_weights.npz", "rtl/lib/accel_mvu.v"} <= in_wheel  # fmt: skip


def test_installed_wheel_builds_and_packages_digits(venv: Path, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import json, accel, importlib.util as u; from accel.resources import templates_dir, zoo; "
         "print(json.dumps([accel.__file__, str(templates_dir()), zoo().__name__, zoo().__file__, "
         "u.find_spec('models') is not None]))"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=_env(venv),
    ).stdout  # fmt: skip
    init, templates, zoo_name, zoo_file, has_models = json.loads(where)
    site = Path(init).resolve().parent.parent
    assert site.is_relative_to(venv.resolve()), f"accel was imported from {init}, not from the new virtualenv"
    assert Path(templates) == site / "accel" / "hls_templates"
    assert (zoo_name, Path(zoo_file)) == ("accel.zoo", site / "accel" / "zoo" / "__init__.py")
    assert not has_models, "a top-level `models` package is importable in the new virtualenv"

    hls = json.loads(_run(venv, tmp_path, "build", "digits", "--board", "pynq-z2", "--backend", "hls",
                          "-o", "hls", "--json").stdout)  # fmt: skip
    assert hls["csim"]["ok"] and hls["csim"]["errors"] == 0, hls["csim"]
    rtl = json.loads(_run(venv, tmp_path, "build", "digits", "--board", "pynq-z2", "--backend", "rtl",
                          "-o", "rtl", "--json").stdout)  # fmt: skip
    for build in (hls, rtl):
        out = tmp_path / build["backend"]
        missing = [f for f in build["manifest"]["files"] if not (out / f).is_file()]
        assert not missing, f"{out}: files in build.json but not written: {missing}"
        for name in ("block_design.tcl", "build.tcl", "pynq_z2_ps7.tcl", "build_bitstream.sh"):
            assert (out / "board" / name).is_file(), f"{out}/board/{name}"
        _run(venv, tmp_path, "package", build["backend"])
        bundle = out / "pynq_bundle"
        assert {"run_on_board.py", "bundle.json", "selftest_input.npy", "selftest_expected.npy"} <= {
            p.name for p in bundle.iterdir()
        }
        verbatim = {"board/pynq_z2_ps7.tcl": "pynq/pynq_z2_ps7.tcl",
                    "pynq_bundle/run_on_board.py": "pynq/run_on_board.py"}  # fmt: skip
        for got, template in verbatim.items():
            assert (out / got).read_bytes() == (ROOT / "hls_templates" / template).read_bytes(), got
    # the HLS build's kernel header and C-simulation header come from the installed templates, as they are
    for got, template in {"hls4ml/firmware/nnet_utils/nnet_accel_pool.h": "nnet_accel_pool.h",
                          "csim/include/ap_axi_sdata.h": "csim/ap_axi_sdata.h"}.items():  # fmt: skip
        assert (tmp_path / "hls" / got).read_bytes() == (ROOT / "hls_templates" / template).read_bytes(), got
    # the co-simulation imports accel's testbench from the installed package (cocotb runs in a subprocess)
    cosim = json.loads(_run(venv, tmp_path, "verify", "rtl", "--against", "rtl", "--samples", "4", "--json").stdout)
    assert (cosim["samples"], cosim["mismatches"], cosim["mismatched_values"]) == (4, 0, 0), cosim
    print(f"installed wheel: build hls + rtl, package both, co-simulate: {time.perf_counter() - t0:.1f} s")
