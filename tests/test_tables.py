"""Tables at 80 columns (accel.tables) and progress bars (accel.progress): every number whole, bars on stderr only
when asked for, and the yosys runs of a report counted once per distinct block configuration."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from accel import progress
from accel.report import make_report, print_report
from accel.steps import print_inspect_table
from accel.tables import column_groups
from tests.test_report import hand_build


def _numbers(cells: list[str]) -> list[str]:
    return [c for c in cells if re.search(r"\d", c)]


def _render(fn: Any, width: int) -> str:
    out = io.StringIO()
    fn(Console(file=out, width=width, color_system=None))
    return out.getvalue()


def _assert_whole(text: str, numbers: list[str]) -> None:
    """Every number appears whole on some line (a folded cell would split it) and nothing was cut to '…'."""
    assert "…" not in text
    words = set(re.findall(r"[^\s│┃|]+", text))
    missing = [n for n in numbers if n not in words]
    assert not missing, missing


def test_column_groups_repeat_the_key_and_keep_every_column() -> None:
    # key 10 wide: 1 + 13 = 14 used; each 20-wide column takes 23; 80 columns hold 2 more per table
    groups = column_groups([10, 20, 20, 20, 20, 20], 80)
    assert groups == [[0, 1, 2], [0, 3, 4], [0, 5]]
    assert column_groups([10, 20, 20], 200) == [[0, 1, 2]]  # wide enough: one table
    assert column_groups([10, 90], 80) == [[0, 1]]  # a column wider than the terminal still gets its table


INSPECT = {
    "model": "wide",
    "totals": {"nodes": 2, "macs": 2_664_768, "parameters": 22_604},
    "layers": [
        {"name": "input_1", "op": "input", "source": "input_1", "input_shapes": [], "output_shape": [49, 10, 1],
         "input_types": [], "weight_type": None, "bias_type": None, "output_type": "ap_fixed<8,1>", "macs": 0,
         "parameters": 0},
        {"name": "conv1_bn_depthwise", "op": "conv2d", "source": "conv1_bn_depthwise_keras_layer",
         "input_shapes": [[49, 10, 1]], "output_shape": [25, 5, 64], "input_types": ["ap_fixed<8,1>"],
         "weight_type": "ap_fixed<8,1,AP_RND_CONV,AP_SAT>", "bias_type": "ap_fixed<19,5>",
         "output_type": "ap_fixed<19,5,AP_TRN,AP_WRAP>", "macs": 1_280_000, "parameters": 2_624},
        {"name": "pw1", "op": "conv2d", "source": "pw1", "input_shapes": [[25, 5, 64]], "output_shape": [25, 5, 64],
         "input_types": ["ap_ufixed<8,0>"], "weight_type": "ap_fixed<8,1>", "bias_type": "ap_fixed<19,5>",
         "output_type": "ap_fixed<19,5>", "macs": 1_384_768, "parameters": 19_980},
    ],
}  # fmt: skip


@pytest.mark.parametrize("width", [80, 250])
def test_inspect_table_keeps_every_number_at_80_columns(width: int) -> None:
    text = _render(lambda c: print_inspect_table(INSPECT, c), width)
    assert max(len(line) for line in text.splitlines()) <= width
    _assert_whole(text, ["2,664,768", "22,604", "1,280,000", "2,624", "1,384,768", "19,980", "49x10x1", "25x5x64"])
    for t in ("ap_fixed<8,1,AP_RND_CONV,AP_SAT>", "ap_fixed<19,5,AP_TRN,AP_WRAP>", "ap_ufixed<8,0>"):
        assert t in text.replace("\n", "").replace(" ", "").replace("│", "") or t in text
    assert ("wide: 2 nodes (1/" in text) == (width == 80)  # narrow: split into tables that repeat the node column


def _fake_run_jobs(jobs: list[Any], work_dir: Path, **_: Any) -> list[dict]:
    """Every instance synthesised with large figures (no yosys), so the table has wide numbers to keep."""
    return [{"module": j.module, "tool": "Yosys T", "cells": {}, "memories": [], "cached": False,
             "timing": {"model": "t", "fmax_mhz": 163.7, "critical_ns": 6.1, "logic_levels": 9, "path": "a > b"},
             "resources": {"LUT": 12_345 + k, "FF": 67_890 + k, "DSP": 179, "BRAM": 27.5}}
            for k, j in enumerate(jobs)]  # fmt: skip


@pytest.mark.parametrize("width", [80, 120])
def test_report_table_keeps_every_number_at_80_columns(tmp_path: Path, monkeypatch, width: int) -> None:
    from accel.rtl import synth

    hand_build(tmp_path)
    monkeypatch.setattr(synth, "run_jobs", _fake_run_jobs)
    monkeypatch.setattr(synth, "yosys_exe", lambda: "yosys")
    monkeypatch.setattr(synth, "yosys_version", lambda exe=None: "Yosys T")
    rep = make_report(tmp_path)
    text = _render(lambda c: print_report(rep, c), width)
    table = text.split("memories after")[0].split("resources: yosys")[0]
    assert max(len(line) for line in table.splitlines()) <= width
    numbers = []
    for r in rep["layers"]:
        numbers += _numbers([f"{r['macs']:,}", f"{r['parameters']:,}", f"{r['expected_cycles']:,}",
                             f"{r['LUT']:,}", f"{r['FF']:,}", f"{r['DSP']:,}", f"{r['BRAM']:g}"])  # fmt: skip
    t = rep["totals"]
    numbers += [f"{t['LUT']:,}", f"{t['FF']:,}", "53,200", "106,400", "164"]
    _assert_whole(table, numbers)


def _forced() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=80), out


def test_progress_draws_on_a_terminal_and_nests(monkeypatch) -> None:
    monkeypatch.setitem(progress._STATE, "enabled", True)
    console, out = _forced()
    with progress.step("outer", total=2, console=console) as bar:
        with progress.step("inner yosys", total=3) as inner:  # joins the outer bar, no second live display
            inner.advance()
            assert len(progress._STATE["active"].tasks) == 2
        bar.advance(2)
        assert len(progress._STATE["active"].tasks) == 1
    assert progress._STATE["active"] is None
    assert "outer" in out.getvalue() and "\x1b[" in out.getvalue()


def test_progress_off_draws_nothing(monkeypatch) -> None:
    monkeypatch.setitem(progress._STATE, "enabled", False)
    console, out = _forced()
    with progress.step("outer", total=2, console=console) as bar:
        bar.advance()
        bar.describe("x")
    assert out.getvalue() == ""


def test_json_turns_the_bars_off(monkeypatch, capsys) -> None:
    from accel.cli import main

    monkeypatch.setitem(progress._STATE, "enabled", True)
    assert main(["zoo", "--json"]) == 0 and not progress.enabled()
    assert main(["zoo"]) == 0 and progress.enabled()
    capsys.readouterr()


def _fake_yosys(monkeypatch, cells) -> list:
    """Stand in for yosys: ``cells(job)`` gives a run's cells; returns the list of jobs run, in order."""
    from accel.rtl import synth

    monkeypatch.setattr(synth, "yosys_exe", lambda: "yosys")
    monkeypatch.setattr(synth, "yosys_version", lambda exe=None: "Yosys T")
    ran: list = []

    def fake(job, work_dir, *, exe=None, timeout=None):
        ran.append(job)
        return cells(job), {"model": "t", "fmax_mhz": 200.0}

    monkeypatch.setattr(synth, "synthesize_timed", fake)
    return ran


def test_run_jobs_runs_each_distinct_configuration_once(tmp_path: Path, monkeypatch) -> None:
    """Six instances of three configurations (two FIFOs alike, two ROM blocks alike): three yosys runs, told to
    ``planned`` before they start; every instance gets its configuration's entry."""
    from accel.rtl import synth

    jobs_run = _fake_yosys(monkeypatch, lambda job: {"LUT4": job.params.get("DEPTH", 1)})
    src = tmp_path / "m.v"
    src.write_text("module m; endmodule\n")
    configs = [("fifo", 8), ("fifo", 8), ("fifo", 16), ("mvu", 1), ("mvu", 1), ("fifo", 16)]
    jobs = [synth.SynthJob(m, {"DEPTH": d}, (src,), tmp_path, label=f"u{k}") for k, (m, d) in enumerate(configs)]
    told: list[tuple[int, int]] = []
    out = synth.run_jobs(jobs, tmp_path / "w", parallel=2, planned=lambda runs, distinct: told.append((runs, distinct)))
    ran = sorted((j.module, j.params.get("DEPTH", 0)) for j in jobs_run)
    assert told == [(3, 3)] and ran == [("fifo", 8), ("fifo", 16), ("mvu", 1)]
    assert [e["cells"]["LUT4"] for e in out] == [8, 8, 16, 1, 1, 16]
    assert all("seconds" in e for e in out)


def test_run_jobs_starts_the_largest_first(tmp_path: Path, monkeypatch) -> None:
    """The jobs run in falling ``size`` (the cost model's estimate), whatever their order in the build."""
    from accel.rtl import synth

    jobs_run = _fake_yosys(monkeypatch, lambda job: {"LUT4": 1})
    src = tmp_path / "m.v"
    src.write_text("module m; endmodule\n")
    sizes = {"fifo": 40.0, "mvu": 9000.0, "requant": 700.0}
    jobs = [synth.SynthJob(m, {}, (src,), tmp_path, label=m, size=n) for m, n in sizes.items()]
    synth.run_jobs(jobs, tmp_path / "w")
    assert [j.label for j in jobs_run] == ["mvu", "requant", "fifo"]


def test_shared_cache_serves_another_build_directory(tmp_path: Path, monkeypatch) -> None:
    """An entry made for one build directory is found by a report of another (same configuration): no second
    run, the entry copied into the second directory's cache; ``ACCEL_CACHE_DIR=off`` turns the sharing off."""
    from accel.rtl import synth

    jobs_run = _fake_yosys(monkeypatch, lambda job: {"LUT4": 3})
    src = tmp_path / "m.v"
    src.write_text("module m; endmodule\n")
    job = synth.SynthJob("m", {"W": 8}, (src,), tmp_path, label="u_a")
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(tmp_path / "shared"))
    shared = synth.shared_cache_dir()
    assert shared == tmp_path / "shared" / "synth"
    first = synth.run_jobs([job], tmp_path / "w", cache=synth.SynthCache.load(tmp_path / "a.json", shared))
    second_cache = synth.SynthCache.load(tmp_path / "b.json", shared)
    second = synth.run_jobs([job], tmp_path / "w", cache=second_cache)
    assert [j.label for j in jobs_run] == ["u_a"] and (first[0]["cached"], second[0]["cached"]) == (False, True)
    assert second[0]["cells"] == {"LUT4": 3} and len(synth.SynthCache.load(tmp_path / "b.json").entries) == 1
    monkeypatch.setenv("ACCEL_CACHE_DIR", "off")
    assert synth.shared_cache_dir() is None
