"""The clock check of an RTL build (accel.rtl.blocks.delay): the slowest instance's bound against --clock-ns."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from accel.rtl.blocks.delay import DEFAULT_NS, DELAY_NS, AccelTimingWarning, bound_ns, clock_check
from accel.rtl.network import build_rtl
from accel.steps import load_model


def _digits_build(out: Path, clock_ns: float) -> tuple[dict, list[warnings.WarningMessage]]:
    _, graph = load_model("digits")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = build_rtl(graph, out, clock_ns=clock_ns)
    return manifest, [w for w in caught if issubclass(w.category, AccelTimingWarning)]


def test_a_clock_faster_than_the_bound_warns_and_is_recorded(tmp_path: Path) -> None:
    manifest, caught = _digits_build(tmp_path / "fast", 4.0)
    modules = {i["module"] for e in manifest["layers"] for i in e["instances"]}
    slowest = max(DELAY_NS[m] for m in modules)  # every module of digits is calibrated
    check = manifest["clock_check"]
    assert check["critical_ns"] == slowest and check["meets_clock"] is False and check["clock_ns"] == 4.0
    assert check["module"] in modules and DELAY_NS[check["module"]] == slowest
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "4 ns" in text and check["instance"] in text and "\n" not in text


def test_the_default_clock_meets_every_zoo_bound(tmp_path: Path) -> None:
    manifest, caught = _digits_build(tmp_path / "default", 10.0)
    assert manifest["clock_check"]["meets_clock"] is True and not caught
    assert max(DELAY_NS.values()) < 10.0  # no library block needs more than the default 10 ns


def test_an_uncalibrated_module_takes_the_largest_bound() -> None:
    assert bound_ns("accel_new_block") == DEFAULT_NS == max(DELAY_NS.values())
    check = clock_check([("u_a", "accel_fifo"), ("u_b", "accel_new_block")], 10.0, warn=False)
    assert check is not None and (check.instance, check.critical_ns) == ("u_b", DEFAULT_NS)
    assert clock_check([], 10.0) is None


def test_cli_prints_the_warning_as_one_line(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "accel.cli", "build", "digits", "--backend", "rtl", "-o", str(tmp_path / "b"),
           "--clock-ns", "4"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("accel: warning: the requested clock of 4 ns"), proc.stderr
    assert "does NOT meet the 250 MHz clock" in proc.stdout


@pytest.mark.parametrize("module", sorted(DELAY_NS))
def test_every_bound_is_a_library_module(module: str) -> None:
    assert (Path(__file__).parents[1] / "accel" / "rtl" / "lib" / f"{module}.v").is_file()
