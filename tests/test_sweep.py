"""``accel sweep``: the spec's checks, the jobs' content addresses, the table's order, the Pareto front, and real
sweeps on a local Dask cluster of 2 workers, one of them killed mid-job (docs/sweep.md).

The killed-worker test is the issue's "Done when": the sweep completes with every job counted once, a resumed
sweep runs no finished job again, and its table equals an uninterrupted sweep's (the ``run_*`` columns, timings
and attempts, left out).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from accel import AccelError
from accel.cli import main
from accel.sweep.jobs import RECORD, attempts, job_dir, run_job
from accel.sweep.results import COLUMNS, RUN_COLUMNS, pareto_front, read_table, table, write_table
from accel.sweep.run import run_sweep
from accel.sweep.spec import load_spec

MODEL = "pointwise_head"  # the zoo's smallest RTL design: default II 2,304 cycles (docs/hardware.md)


def _spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the spec ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key", "what"),
    [
        ("models: [pointwise_head]\ntarget_ii: [0]\n", "target_ii", "whole numbers of 1 or more"),
        ("models: [pointwise_head]\ntarget_ii: [100]\nbudget: [0.5]\n", "budget", "cannot be combined"),
        ("models: [pointwise_head]\nsimulators: [modelsim]\n", "simulators", "supported: icarus, verilator"),
        ("models: [no_such_model]\n", "models", "neither a zoo model"),
        ("target_ii: [100]\n", "models", "is missing"),
        ("models: [pointwise_head]\ntarget_iis: [100]\n", "target_iis", "is not a sweep key"),
        ("models: [pointwise_head]\nbudget: [1.5]\n", "budget", "fractions in (0, 1]"),
        ("models: [pointwise_head]\nparts: [xc7z999]\n", "parts", "outside accel's table"),
        ("models: [pointwise_head]\ntarget_ii: [100, 100]\n", "target_ii", "lists a value twice"),
        ("models: [pointwise_head]\ndefault: false\n", "default", "nothing to build"),
        ("models: [pointwise_head]\nsamples: []\n", "samples", "empty list"),
    ],
)
def test_a_bad_spec_is_one_sentence_naming_the_file_and_key_with_exit_2(tmp_path: Path, capsys, text: str, key: str,
                                                                        what: str) -> None:  # fmt: skip
    spec = _spec(tmp_path, text)
    assert main(["sweep", str(spec), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("accel: error: ")
    assert str(spec) in err and f"'{key}'" in err and what in err
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_a_missing_or_malformed_spec_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["sweep", str(tmp_path / "nope.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["sweep", str(_spec(tmp_path, "models: [a\n"))]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    assert main(["sweep", str(_spec(tmp_path, "- a list\n"))]) == 2
    assert "not a mapping" in capsys.readouterr().err


def test_the_spec_expands_into_the_product_of_its_lists(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "models: [pointwise_head, digits]\ntarget_ii: [3000, 6000]\nseeds: [0, 1]\n"
                 "simulators: [icarus, verilator]\nsamples: 2\nsynth: false\n")  # fmt: skip
    sweep = load_spec(spec)
    # 2 models x (default + 2 target IIs) x 2 seeds x 2 simulators x 1 sample count x 1 part
    assert len(sweep.jobs) == 2 * 3 * 2 * 2
    assert len({j["key"] for j in sweep.jobs}) == len(sweep.jobs)
    assert sweep.output == tmp_path / "spec.sweep"
    searches = {json.dumps(j["search"], sort_keys=True) for j in sweep.jobs}
    assert searches == {"{}", '{"target_ii": 3000}', '{"target_ii": 6000}'}
    assert {j["part"] for j in sweep.jobs} == {"xc7z020clg400-1"} and {j["samples"] for j in sweep.jobs} == {2}


def test_a_job_key_follows_its_content_not_the_spec_file(tmp_path: Path) -> None:
    one = load_spec(_spec(tmp_path, "models: [pointwise_head]\ntarget_ii: [3000]\nsamples: 2\n", "a.yaml"))
    two = load_spec(_spec(tmp_path, "samples: [2]\ntarget_ii: 3000\nmodels: pointwise_head\n", "b.yaml"))
    three = load_spec(_spec(tmp_path, "models: [pointwise_head]\ntarget_ii: [3000]\nsamples: 3\n", "c.yaml"))
    assert [j["key"] for j in one.jobs] == [j["key"] for j in two.jobs]  # same jobs, spelt differently
    assert not {j["key"] for j in one.jobs} & {j["key"] for j in three.jobs}  # another sample count: other jobs


def test_an_explicit_folding_file_is_part_of_the_job(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("conv1: {pe: 2}\n")
    spec = _spec(tmp_path, "models: [pointwise_head]\nfolding: [f.yaml]\ndefault: false\n")
    before = load_spec(spec).jobs
    assert [j["search"] for j in before] == [{"folding": {"file": "f.yaml", "layers": {"conv1": {"pe": 2}}}}]
    (tmp_path / "f.yaml").write_text("conv1: {pe: 4}\n")
    assert load_spec(spec).jobs[0]["key"] != before[0]["key"]  # an edited folding is a new job
    (tmp_path / "f.yaml").write_text("[1, 2]\n")
    with pytest.raises(AccelError, match=r"'folding' names .* not a mapping"):
        load_spec(spec)


# -- the table ----------------------------------------------------------------------------------------------------
def _record(key: str, search: dict, ii: int | None, dsp: int | None, status: str = "ok") -> dict:
    spec = {"model": {"name": "m", "source": "m", "sha256": ""}, "search": search, "seed": 0, "simulator": "icarus",
            "samples": 3, "part": "xc7z020clg400-1", "synth": True}  # fmt: skip
    return {"key": key, "spec": spec, "status": status, "ii_cycles": ii, "expected_ii_cycles": ii, "mismatches": 0,
            "problems": [], "LUT": dsp and dsp * 100, "FF": 1, "DSP": dsp, "BRAM": 0.5, "fmax_mhz": 100.0,
            "run": {"total_s": random.random(), "attempt": 1, "worker": "w"}}  # fmt: skip


def test_the_table_is_in_spec_order_whatever_order_the_jobs_finished_in(tmp_path: Path) -> None:
    records = [_record("k3", {"target_ii": 20000}, 20000, 10), _record("k1", {}, 8000, 179),
               _record("k2", {"target_ii": 9000}, 9000, 150), _record("k4", {"target_ii": 100}, None, None, "error")]
    expected = ["k1", "k4", "k2", "k3"]  # the default build, then target IIs rising
    for _ in range(5):
        random.shuffle(records)
        assert [r["key"] for r in table(records)] == expected
    write_table(tmp_path, records)
    rows = read_table(tmp_path)
    assert [r["key"] for r in rows] == expected
    assert rows[1]["status"] == "error" and rows[1]["ii_cycles"] is None
    assert rows[0]["inferences_per_s"] == 12500.0  # 100 MHz / 8,000 cycles
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    assert header == [*COLUMNS, *RUN_COLUMNS]


def test_the_pareto_front_keeps_the_points_nothing_beats_in_both() -> None:
    points = [(8000, 179), (10000, 150), (12000, 160), (16000, 90), (16000, 95), (40000, 90), (80000, 20)]
    assert pareto_front(points) == [(8000, 179), (10000, 150), (16000, 90), (80000, 20)]


# -- real sweeps on a local cluster ---------------------------------------------------------------------------------
KILLED_II = 4608  # the job whose first attempt loses its worker


def _killing_job(job: dict, out: str) -> dict:
    """:func:`run_job`, except that the first attempt at the KILLED_II job kills its own worker process (SIGKILL,
    no cleanup) as soon as its build has landed, mid-job, before the co-simulation could write a record."""
    marker = Path(out) / "kill_armed"
    if job["search"].get("target_ii") == KILLED_II and not marker.exists():
        marker.write_text(str(os.getpid()))
        build_json = job_dir(Path(out), job["key"]) / "build" / "build.json"

        def kill() -> None:
            while not build_json.exists():
                time.sleep(0.02)
            if not (build_json.parent.parent / RECORD).exists():
                (Path(out) / "killed_mid_job").write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=kill, daemon=True).start()
    return run_job(job, out)


def _comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in RUN_COLUMNS} for r in rows]


@pytest.mark.slow
def test_a_killed_worker_is_retried_a_resumed_sweep_reruns_nothing_and_the_table_is_the_uninterrupted_one(
        tmp_path: Path) -> None:  # fmt: skip
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    text = f"models: [{MODEL}]\ntarget_ii: [2304, {KILLED_II}]\nsamples: 2\nsynth: false\n"
    killed = load_spec(_spec(tmp_path, text), tmp_path / "killed")
    run = run_sweep(killed, workers=2, progress=False, job_fn=_killing_job)
    out = killed.output
    assert (out / "killed_mid_job").is_file(), "the worker was not killed mid-job"
    assert not run.failed and run.ran == 3 and len(run.records) == 3
    assert {r["key"] for r in run.records} == {j["key"] for j in killed.jobs}  # every job counted once
    assert all(r["status"] == "ok" and r["mismatches"] == 0 for r in run.records), run.records
    counts = {j["search"].get("target_ii"): attempts(out, j["key"]) for j in killed.jobs}
    assert counts == {None: 1, 2304: 1, KILLED_II: 2}
    retried = next(r for r in run.records if r["spec"]["search"].get("target_ii") == KILLED_II)
    assert retried["run"]["attempt"] == 2
    write_table(out, run.records)

    again = run_sweep(killed, workers=2, progress=False)  # resumed: nothing left to run
    assert again.ran == 0 and again.reused == 3
    assert {j["search"].get("target_ii"): attempts(out, j["key"]) for j in killed.jobs} == counts

    straight = load_spec(_spec(tmp_path, text), tmp_path / "straight")
    plain = run_sweep(straight, workers=2, progress=False)
    write_table(straight.output, plain.records)
    assert _comparable(read_table(out)) == _comparable(read_table(straight.output))
    rows = read_table(out)
    assert [r["search"] for r in rows] == ["default", "target_ii", "target_ii"]
    assert rows[1]["ii_cycles"] <= 2304 and rows[2]["ii_cycles"] <= KILLED_II  # each reaches its target


def test_sweep_help_names_its_options(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(o in out for o in ("SPEC", "--output", "--scheduler", "--workers", "--retries", "--report", "--json"))


def test_the_pareto_chart_is_drawn_from_yosys_or_else_the_cost_model(tmp_path: Path) -> None:
    from accel.sweep.results import write_pareto

    records = [_record("k1", {}, 8000, 179), _record("k2", {"target_ii": 16000}, 16000, 90),
               _record("k3", {"target_ii": 100}, None, None, "error")]  # fmt: skip
    path = write_pareto(tmp_path, table(records))
    assert path == tmp_path / "pareto.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for r in records:  # synth: false: no yosys figures, the cost model's instead
        r.update(LUT=None, DSP=None, cost_LUT=1000.0, cost_DSP=10.0)
    path.unlink()
    assert write_pareto(tmp_path, table(records)) == path and path.is_file()
    assert write_pareto(tmp_path, table(records[2:])) is None  # no exact job: nothing to draw
