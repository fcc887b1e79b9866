"""accel in a user's own CI: the pytest plugin (``accel_verify``), docs/ci.md and examples/ci/.

Why these tests: the CI example is only worth something if a user can copy it and it works.  So the
example test file is run exactly as docs/ci.md shows (a fresh pytest process, the plugin found through
its ``pytest11`` entry point, a JUnit report written), docs/ci.md's test code cannot drift from
examples/ci/test_accel_model.py, the workflow file is parsed and its steps checked, and the same kind
of test must fail, with accel's report naming the layer, on a build whose weight was changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from accel.pytest_plugin import run_verify
from tests.test_verify_build_dir import _accel, flip_fc_weight

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ci.md"
EXAMPLE = ROOT / "examples" / "ci"
#: The command docs/ci.md gives, run from the root of the user's repository.
COMMAND = "pytest --junitxml=results.xml tests/test_accel_model.py"


def _code_blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, flags=re.S | re.M)


def _run_pytest(cwd: Path, command: str) -> subprocess.CompletedProcess:
    """``command`` (``pytest ...``) in ``cwd`` with this interpreter's pytest, in a fresh process."""
    args = command.split()
    assert args[0] == "pytest"
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True)


def _junit_counts(path: Path) -> tuple[int, int, int]:
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    return int(suite.get("tests")), int(suite.get("failures")), int(suite.get("errors"))


def test_workflow_file_structure() -> None:
    """The GitHub Actions workflow: Python 3.11, the open simulators, accel installed, pytest with a JUnit
    report (the docs' command), and the report uploaded and published even when the tests fail."""
    wf = yaml.safe_load((EXAMPLE / "github-workflow.yml").read_text())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers and "pull_request" in triggers
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    runs = [s.get("run", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    (py,) = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert str(py["with"]["python-version"]) == "3.11"
    (apt,) = [r for r in runs if "apt-get install" in r]
    assert {"iverilog", "verilator", "yosys"} <= set(apt.split())
    install = [r for r in runs if "pip install" in r and "$ACCEL" in r]
    assert install and wf["env"]["ACCEL"].startswith(".")
    (test,) = [r for r in runs if "-m pytest" in r]
    assert test.strip() == f"python -m {COMMAND}" and "--junitxml=results.xml" in test
    assert uses.index(next(u for u in uses if u.startswith("actions/setup-python@"))) < runs.index(test)
    publishers = ("actions/upload-artifact@", "mikepenz/action-junit-report@")
    report = [s for s in steps if s.get("uses", "").startswith(publishers)]
    assert {s["uses"].split("@")[0] for s in report} == {"actions/upload-artifact", "mikepenz/action-junit-report"}
    test_step = next(s for s in steps if s.get("run") == test)
    for step in report:  # after the tests, and even when they fail
        assert step["if"] == "always()" and steps.index(step) > steps.index(test_step)
        assert "results.xml" in (step["with"].get("path", "") + step["with"].get("report_paths", ""))


def test_doc_shows_the_example_test_and_command() -> None:
    """docs/ci.md's test file and workflow are examples/ci/'s, byte for byte, and it gives COMMAND."""
    text = DOC.read_text()
    example = (EXAMPLE / "test_accel_model.py").read_text()
    assert example in _code_blocks(text, "python")
    assert (EXAMPLE / "github-workflow.yml").read_text() in _code_blocks(text, "yaml")
    assert any(COMMAND in block.splitlines() for block in _code_blocks(text, "sh"))
    assert "examples/ci/github-workflow.yml" in text and "docs/ci.md" in (ROOT / "README.md").read_text()


@pytest.mark.rtl
@pytest.mark.slow
def test_example_runs_as_the_doc_shows(tmp_path: Path) -> None:
    """The user's repository: tests/test_accel_model.py as shown, COMMAND run in it: passes, JUnit written."""
    (tmp_path / "tests").mkdir()
    shutil.copy(EXAMPLE / "test_accel_model.py", tmp_path / "tests" / "test_accel_model.py")
    proc = _run_pytest(tmp_path, COMMAND)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert _junit_counts(tmp_path / "results.xml") == (1, 0, 0)


@pytest.fixture(scope="module")
def faulty_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RTL build of digits with one weight's lowest bit flipped in its dense layer's ROM image (as
    tests/test_verify_build_dir.py plants it)."""
    d = tmp_path_factory.mktemp("digits_rtl_faulty")
    proc = _accel("build", "digits", "--backend", "rtl", "-o", str(d))
    assert proc.returncode == 0, proc.stderr
    flip_fc_weight(d)
    return d


@pytest.mark.rtl
def test_planted_fault_fails_with_accels_report(faulty_build: Path, tmp_path: Path) -> None:
    """The same kind of test on the faulty build: fails with accel's one-line report naming the layer
    (no traceback), and the JUnit report has exactly one failure carrying that report."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_accel_model.py").write_text(
        "def test_build_exact(accel_verify):\n"
        f"    accel_verify({str(faulty_build)!r}, against=['rtl'], samples=20)\n"
    )
    proc = _run_pytest(tmp_path, COMMAND)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    line = next((x for x in out.splitlines() if "random samples against rtl:" in x), "")
    assert "samples differ" in line and "first diverging layer:" in line and "(node fc)" in line, out
    assert "Traceback" not in out and "run_verify" not in out and "pytest_plugin.py" not in out, out
    assert "1 failed" in out
    assert _junit_counts(tmp_path / "results.xml") == (1, 1, 0)
    failure = ET.parse(tmp_path / "results.xml").getroot().find(".//failure")
    assert "(node fc)" in failure.get("message"), failure.get("message")


@pytest.mark.rtl
def test_plugin_refuses_with_accels_sentence(faulty_build: Path) -> None:
    """A build directory is verified only against its own backend; an unknown target or option is named."""
    cases = [
        ({"against": "qkeras"}, "accel: error: " + str(faulty_build) + " is a build directory; it is verified"),
        ({"against": ["rtl", "fpga"]}, "verification against 'fpga' is unknown; supported: qkeras, hls, rtl."),
        ({"against": "rtl", "folding": "f.json"}, "option 'folding' does not apply"),
    ]
    for kwargs, text in cases:
        with pytest.raises(pytest.fail.Exception) as info:
            run_verify(faulty_build, samples=2, **kwargs)
        assert text in str(info.value) and not info.value.pytrace, str(info.value)


def test_fixture_returns_the_results(accel_verify) -> None:
    """The fixture itself (auto-loaded here through the entry point): a string target, the results returned."""
    (result,) = accel_verify("digits", against="qkeras", samples=5, seed=3)
    assert result["model"] == "digits" and result["against"] == "qkeras"
    assert result["samples"] == 5 and result["mismatches"] == 0
