"""``accel verify ... --junit FILE``: the JUnit XML report CI systems read.

Why these tests: the report is read by other people's tools (Jenkins, GitLab, GitHub test-report
actions), not by accel, so its shape is checked explicitly against the common JUnit format (the
elements and attributes those readers rely on), and end to end a clean RTL build must give one passing
case while a build with a planted fault gives one failing case that names the diverging layer.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from accel import AccelError
from accel.cli import main
from accel.junit import check_junit_path, error_case, junit_xml, write_junit
from tests.test_verify_build_dir import flip_fc_weight

PASSING: dict[str, Any] = {
    "model": "digits", "against": "rtl", "samples": 5, "mismatches": 0, "mismatched_values": 0,
    "first_divergence": None, "elapsed_s": 3.5, "problems": [], "build_dir": "build/digits_rtl",
}  # fmt: skip
FAILING: dict[str, Any] = {
    **PASSING, "samples": 20, "mismatches": 1, "mismatched_values": 3, "elapsed_s": 12.25,
    "first_divergence": {"layer": "fc", "node": "fc", "instance": "u_fc_mvu", "index": [11, 0, 0, 2],
                         "expected": -6.28125, "got": -6.171875},
}  # fmt: skip


def assert_junit_schema(root: ET.Element) -> None:
    """The common JUnit XML structure, as explicit assertions (no schema file, no network).

    ``<testsuites>`` holds ``<testsuite name tests failures errors skipped time>`` elements, which hold
    ``<testcase classname name time>``; a case holds at most one of ``<failure>``, ``<error>``,
    ``<skipped>`` (failure and error with ``message`` and ``type``) and optionally ``<system-out>`` /
    ``<system-err>``; the counts on each suite and on the root are those of the cases below them.
    """
    assert root.tag == "testsuites"
    counts = ("tests", "failures", "errors", "skipped")
    suites = list(root)
    assert suites and all(s.tag == "testsuite" for s in suites)
    totals = dict.fromkeys(counts, 0)
    for suite in suites:
        assert set(suite.attrib) >= {"name", *counts, "time"}, suite.attrib
        assert suite.get("name")
        float(suite.get("time"))
        cases = list(suite)
        assert all(c.tag in ("testcase", "properties", "system-out", "system-err") for c in cases)
        cases = [c for c in cases if c.tag == "testcase"]
        found = dict.fromkeys(counts, 0)
        found["tests"] = len(cases)
        for case in cases:
            assert set(case.attrib) >= {"classname", "name", "time"}, case.attrib
            assert case.get("classname") and case.get("name")
            assert float(case.get("time")) >= 0
            children = [c.tag for c in case]
            assert set(children) <= {"failure", "error", "skipped", "system-out", "system-err"}, children
            verdicts = [c for c in case if c.tag in ("failure", "error", "skipped")]
            assert len(verdicts) <= 1, children
            for v in verdicts:
                if v.tag != "skipped":
                    assert v.get("message") and v.get("type"), v.attrib
                found[{"failure": "failures", "error": "errors", "skipped": "skipped"}[v.tag]] += 1
        for key in counts:
            assert int(suite.get(key)) == found[key], (key, suite.attrib, found)
            totals[key] += found[key]
    for key in counts:
        if key in root.attrib:
            assert int(root.get(key)) == totals[key], (key, root.attrib, totals)


def _read(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_passing_result_is_one_passing_case(tmp_path: Path) -> None:
    path = write_junit(tmp_path / "r.xml", [PASSING])
    root = _read(path)
    assert_junit_schema(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "0", "0", "0")
    (case,) = root.iter("testcase")
    assert case.get("classname") == "accel.verify.digits" and case.get("name") == "rtl"
    assert case.get("time") == "3.500"
    assert case.find("failure") is None and case.find("error") is None
    assert '"mismatches": 0' in case.findtext("system-out")


def test_failing_result_names_layer_index_and_values(tmp_path: Path) -> None:
    root = _read(write_junit(tmp_path / "r.xml", [FAILING]))
    assert_junit_schema(root)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "1", "0")
    assert suite.get("time") == "12.250"
    failure = root.find("testsuite/testcase/failure")
    message = failure.get("message")
    assert failure.get("type") == "mismatch"
    assert "first diverging layer: fc" in message and "[11, 0, 0, 2]" in message
    assert "expected -6.28125 got -6.171875" in message
    assert "\n" not in message and message.endswith(".")
    assert "first divergence instance: u_fc_mvu" in failure.text and "mismatched values: 3" in failure.text


def test_stream_fault_without_a_layer_is_named_by_its_problem() -> None:
    problem = "frame 3 has TLAST on beat 5, expected on beat 10"
    result = {**FAILING, "problems": [problem],
              "first_divergence": {"layer": None, "node": "logits_q", "index": None, "expected": None,
                                   "got": None, "stream": problem}}  # fmt: skip
    root = junit_xml([result]).getroot()
    assert_junit_schema(root)
    message = root.find("testsuite/testcase/failure").get("message")
    assert "output stream fault at node logits_q: frame 3 has TLAST on beat 5" in message
    assert "None" not in message


def test_error_case_and_several_results() -> None:
    err = error_case("nothere", "rtl", AccelError("'nothere' is neither a zoo model\n nor an existing file."))
    root = junit_xml([PASSING, FAILING, err]).getroot()
    assert_junit_schema(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    error = root.find("testsuite/testcase[@classname='accel.verify.nothere']/error")
    assert error.get("type") == "AccelError"
    assert error.get("message") == "'nothere' is neither a zoo model nor an existing file."


def test_schema_check_rejects_what_readers_would_not_read() -> None:
    """The schema assertions themselves catch a wrong root, a missing attribute and wrong counts."""
    bad_root = ET.fromstring('<testsuite name="x" tests="0" failures="0" errors="0" skipped="0" time="0"/>')
    no_classname = ET.fromstring('<testsuites><testsuite name="x" tests="1" failures="0" errors="0" skipped="0" '
                                 'time="0"><testcase name="a" time="0"/></testsuite></testsuites>')  # fmt: skip
    wrong_count = ET.fromstring('<testsuites><testsuite name="x" tests="1" failures="0" errors="0" skipped="0" '
                                'time="0"><testcase classname="c" name="a" time="0"><failure message="m" '
                                'type="t"/></testcase></testsuite></testsuites>')  # fmt: skip
    for root in (bad_root, no_classname, wrong_count):
        with pytest.raises(AssertionError):
            assert_junit_schema(root)


def test_path_refusals(tmp_path: Path) -> None:
    with pytest.raises(AccelError, match=r"--junit .* the directory .*nodir does not exist"):
        check_junit_path(tmp_path / "nodir" / "r.xml")
    with pytest.raises(AccelError, match="is a directory"):
        check_junit_path(tmp_path)


def test_write_is_atomic_and_replaces(tmp_path: Path) -> None:
    """An existing report is replaced whole, and no temporary file is left beside it."""
    path = tmp_path / "r.xml"
    path.write_text("old, not XML")
    write_junit(path, [FAILING])
    assert _read(path).get("failures") == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xml"]


def test_cli_error_still_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run that fails on bad input writes an <error> case, then prints the one-line error (exit 2)."""
    path = tmp_path / "r.xml"
    assert main(["verify", "nothere", "--against", "rtl", "--junit", str(path)]) == 2
    assert "accel: error: 'nothere' is neither a zoo model" in capsys.readouterr().err
    root = _read(path)
    assert_junit_schema(root)
    case = root.find("testsuite/testcase")
    assert case.get("classname") == "accel.verify.nothere" and case.get("name") == "rtl"
    assert "neither a zoo model" in case.find("error").get("message")


def test_cli_refuses_a_report_path_without_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "digits", "--junit", str(tmp_path / "nodir" / "r.xml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("accel: error: --junit ") and "does not exist" in err and len(err.splitlines()) == 1


def _plant_weight_fault(build: Path, dest: Path) -> Path:
    """A copy of ``build`` with one dense-layer weight's lowest bit flipped in its ROM image, exactly as
    tests/test_verify_build_dir.py::test_rtl_build_dir_planted_weight_is_found plants it."""
    shutil.copytree(build, dest, ignore=shutil.ignore_patterns("sim"))
    flip_fc_weight(dest)
    return dest


@pytest.mark.rtl
def test_rtl_build_dir_report_passes_then_fails_on_a_planted_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's done-when: a clean digits RTL build gives one passing case; a planted weight fault one
    failing case naming the layer (20 samples, as the neighbouring test: 5 do not reach that one weight bit)."""
    build = tmp_path / "digits_rtl"
    assert main(["build", "digits", "--backend", "rtl", "-o", str(build)]) == 0
    good = tmp_path / "r.xml"
    assert main(["verify", str(build), "--against", "rtl", "--samples", "5", "--junit", str(good)]) == 0
    root = _read(good)
    assert_junit_schema(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    (case,) = root.iter("testcase")
    assert (case.get("classname"), case.get("name"), len(case.findall("failure"))) == ("accel.verify.digits", "rtl", 0)

    faulty = _plant_weight_fault(build, tmp_path / "faulty")
    bad = tmp_path / "reports" / "bad.xml"
    bad.parent.mkdir()
    assert main(["verify", str(faulty), "--against", "rtl", "--samples", "20", "--junit", str(bad)]) == 1
    capsys.readouterr()
    root = _read(bad)
    assert_junit_schema(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "1", "0")
    failure = root.find("testsuite/testcase/failure")
    assert "first diverging layer: fc (node fc)" in failure.get("message")
    assert "first divergence instance: u_fc_mvu" in failure.text
