"""The JUnit XML report of ``accel verify`` results, for the user's own CI.

Why a module of its own: CI systems (Jenkins, GitLab, GitHub test-report actions) do not read accel's
JSON, but they all read the common JUnit XML format, and show a failing case's message next to the
build.  ``accel verify ... --junit FILE`` writes that file, so a bit-exactness check of a model or a
build directory shows up in CI as a test case that passes or fails with the first diverging layer named.

The format written is the common subset those readers agree on::

    <testsuites name="accel verify" tests= failures= errors= skipped= time=>
      <testsuite name="accel.verify" tests= failures= errors= skipped= time= timestamp=>
        <testcase classname="accel.verify.<model>" name="<against>" time=>
          <failure message="<one sentence>" type="mismatch">details</failure>   (outputs differ)
          <error message="<one sentence>" type="AccelError">details</error>     (verify could not run)
          <system-out>the result as JSON</system-out>
        </testcase>
      </testsuite>
    </testsuites>

One test case per model and path (``against``): a result with no mismatch passes, one with
mismatches fails, and a run that raised an :class:`accel.AccelError` is an error case (so CI shows the
reason even when nothing was compared).  Two refusals write no report, as there is nothing to write
it with: a command line argparse rejects, and a ``--junit`` path whose folder does not exist (checked
before the run).  The file is written atomically (a temporary file beside it, then a rename), so a CI
job never picks up half a report.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.steps import describe_verify

__all__ = ["check_junit_path", "error_case", "junit_xml", "write_junit"]

#: the ``name`` of the one test suite; test cases are ``accel.verify.<model>`` / ``<against>``
SUITE_NAME = "accel.verify"


def check_junit_path(path: Path, option: str = "--junit") -> None:
    """Refuse, before anything runs, a report path that cannot be written (its folder missing, or a folder).

    Why up front: a verification against RTL takes minutes; finding out afterwards that the report has
    nowhere to go wastes them.  Parent folders are not created, like accel's other output options, so a
    typo in a CI script fails loudly instead of writing the report somewhere nobody looks.
    """
    if path.is_dir():
        raise AccelError(f"{option} {path} is a directory; give the path of the XML file to write.")
    if not path.parent.is_dir():
        raise AccelError(f"{option} {path}: the directory {path.parent} does not exist; create it first.")


def error_case(model: str, against: str, exc: BaseException) -> dict[str, Any]:
    """A stand-in result for a verification that raised: becomes an ``<error>`` case in the report.

    Why: a CI job whose verify step fails on bad input should still find a report that says why,
    instead of a missing file (which most readers treat as "no tests", i.e. silently green).
    """
    return {"model": model, "against": against, "error": " ".join(str(exc).split()),
            "error_type": type(exc).__name__}  # fmt: skip


def _seconds(result: dict[str, Any]) -> float:
    """The case's wall time: the verifier's own ``elapsed_s`` (it covers compile and simulation)."""
    try:
        return float(result.get("elapsed_s") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def failure_message(result: dict[str, Any]) -> str:
    """One sentence for a failing case: the first diverging layer, tensor index and both values.

    :func:`accel.steps.describe_verify` already says that when a layer is named; a stream fault (wrong
    beat count or TLAST, no layer to blame) is named by its problem instead.
    """
    d = result.get("first_divergence") or {}
    if d.get("layer") is None and (d.get("stream") or result.get("problems")):
        problem = d.get("stream") or result["problems"][0]
        return (f"{result['model']}: {result['samples']} random samples against {result['against']}: "
                f"{result['mismatches']} samples differ; output stream fault at node {d.get('node')}: "
                f"{str(problem).rstrip('.')}.")  # fmt: skip
    return describe_verify(result)


def _details(result: dict[str, Any]) -> str:
    """The failure's body: the first divergence field by field and the stream problems, for a human."""
    lines = [f"model: {result.get('model')}", f"against: {result.get('against')}",
             f"samples: {result.get('samples')}", f"mismatched samples: {result.get('mismatches')}",
             f"mismatched values: {result.get('mismatched_values')}"]  # fmt: skip
    if result.get("build_dir"):
        lines.append(f"build directory: {result['build_dir']}")
    d = result.get("first_divergence") or {}
    for key in ("layer", "node", "instance", "index", "expected", "got", "stream"):
        if key in d:
            lines.append(f"first divergence {key}: {d[key]}")
    rounded = result.get("float32_rounded") or {}
    if rounded.get("values"):
        lines.append(f"float32-rounded values (within float32's error bound, not mismatches): {rounded['values']} "
                     f"in {rounded['samples']} samples, at most {rounded['max_error_over_bound']} of the bound")
    for problem in result.get("problems") or []:
        lines.append(f"problem: {problem}")
    return "\n".join(lines) + "\n"


def junit_xml(results: list[dict[str, Any]]) -> ET.ElementTree:
    """The JUnit document of verify results (:func:`accel.steps.verify` / ``verify_build_dir`` dicts, or
    :func:`error_case` dicts): one ``<testcase>`` per result, counts on the suite and the root."""
    root = ET.Element("testsuites", name="accel verify")
    suite = ET.SubElement(root, "testsuite", name=SUITE_NAME)
    failures = errors = 0
    total = 0.0
    for result in results:
        seconds = _seconds(result)
        total += seconds
        case = ET.SubElement(suite, "testcase", classname=f"accel.verify.{result.get('model')}",
                             name=str(result.get("against")), time=f"{seconds:.3f}")  # fmt: skip
        if "error" in result:
            errors += 1
            node = ET.SubElement(case, "error", message=result["error"], type=result.get("error_type", "AccelError"))
            node.text = result["error"] + "\n"
            continue
        if result.get("mismatches"):
            failures += 1
            node = ET.SubElement(case, "failure", message=failure_message(result), type="mismatch")
            node.text = _details(result)
        ET.SubElement(case, "system-out").text = json.dumps(result, default=str)
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors), "skipped": "0",
              "time": f"{total:.3f}"}  # fmt: skip
    suite.attrib.update(counts, timestamp=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    root.attrib.update(counts)
    return ET.ElementTree(root)


def write_junit(path: Path, results: list[dict[str, Any]]) -> Path:
    """Write the JUnit report of ``results`` to ``path`` atomically (a temporary file beside it, renamed).

    Why atomic: CI collects the file after the step, possibly after a timeout killed it; a rename means
    the reader sees the old report or the whole new one, never a truncated XML it cannot parse.
    """
    path = Path(path)
    check_junit_path(path)
    tree = junit_xml(results)
    ET.indent(tree, space="  ")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            tree.write(f, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
