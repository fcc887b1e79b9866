"""accel.rtl.design_timing: per-instance port arcs chained along a network's wires, and what the report makes of it.

The arcs are written by hand here (no yosys): every expected delay is the sum of the figures a path is made of,
spelled out in the test, so a check says which path was expected and why it is the longest.  The report-level
test stubs synthesis (``accel.rtl.synth.run_jobs``) with hand-made timing entries on the hand build of
tests/test_report.py, with port records that name their wires.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accel.deploy.manifest import PortRecord, write_manifest
from accel.report import estimate_fmax, make_report, print_report
from accel.rtl.design_timing import CombinationalLoop, CrossPath, PortWire, cross_instance
from tests.test_report import S8, hand_build


def chain(*instances: str, first: str = "in", last: str = "out") -> list[PortWire]:
    """A straight pipeline: ``first`` -> instances[0] -> ... -> instances[-1] -> ``last`` (one wire between each
    pair, named after its driver); ``first`` / ``last`` are the network's own streams (no instance at one end)."""
    wires = [first] + [f"{i}_out" for i in instances[:-1]] + [last]
    ports = []
    for k, inst in enumerate(instances):
        ports.append(PortWire(inst, "s_axis", wires[k], False))
        ports.append(PortWire(inst, "m_axis", wires[k + 1], True))
    return ports


def arcs(reg_to: dict[str, float] | None = None, to_reg: dict[str, float] | None = None,
         through: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:  # fmt: skip
    """One instance's ``timing["ports"]``."""
    return {"reg_to": reg_to or {}, "to_reg": to_reg or {}, "through": through or {}}


# -- cross_instance on hand-made arcs -------------------------------------------------------------------------
def test_two_instances_forward_path() -> None:
    """a's registered outputs into b's input logic: the longest data-side sum wins; the network's own streams
    (a's s_axis on "in", b's m_axis on "out") have no instance at their other end and are not timed."""
    a_tdata, a_tvalid, a_tlast = 1.2, 0.9, 0.518
    b_tdata, b_tvalid, b_tlast = 2.5, 1.0, 0.3
    timing = {
        # a's s_axis_tdata to_reg and b's m_axis_tdata reg_to are large but face the DMA side: left out
        "a": arcs(reg_to={"m_axis_tdata": a_tdata, "m_axis_tvalid": a_tvalid, "m_axis_tlast": a_tlast},
                  to_reg={"s_axis_tdata": 9.0}),
        "b": arcs(reg_to={"m_axis_tdata": 8.0},
                  to_reg={"s_axis_tdata": b_tdata, "s_axis_tvalid": b_tvalid, "s_axis_tlast": b_tlast}),
    }  # fmt: skip
    path = cross_instance(chain("a", "b"), timing)
    expected = max(a_tdata + b_tdata, a_tvalid + b_tvalid, a_tlast + b_tlast)
    assert expected == a_tdata + b_tdata
    assert path == CrossPath(round(expected, 3), ("a.m_axis_tdata", "b.s_axis_tdata"))
    assert path.fmax_mhz == pytest.approx(1000.0 / expected)
    js = path.to_json()
    assert js["path"] == "a.m_axis_tdata > b.s_axis_tdata" and js["instances"] == 2
    assert (js["from"], js["to"], js["critical_ns"]) == ("a.m_axis_tdata", "b.s_axis_tdata", round(expected, 3))


def test_tready_back_through_a_block() -> None:
    """a -> b -> c: c's registered s_axis_tready goes back to b's m_axis_tready, through b's logic to b's
    s_axis_tready (a ``through`` arc) and into a's register behind m_axis_tready; it beats every forward path
    and the path that ends in b itself."""
    c_ready_q = 0.6  # c: register -> s_axis_tready
    b_ready_through = 0.9  # b: m_axis_tready -> s_axis_tready, combinational
    b_ready_setup = 0.8  # b: m_axis_tready -> its own registers
    a_ready_setup = 1.4  # a: m_axis_tready -> register
    fwd = 0.518 + 1.0  # every forward hop: a register's output into 1.0 ns of input logic
    timing = {
        "a": arcs(reg_to={"m_axis_tdata": 0.518}, to_reg={"m_axis_tready": a_ready_setup}),
        "b": arcs(reg_to={"m_axis_tdata": 0.518}, to_reg={"s_axis_tdata": 1.0, "m_axis_tready": b_ready_setup},
                  through={"m_axis_tready": {"s_axis_tready": b_ready_through}}),
        "c": arcs(reg_to={"s_axis_tready": c_ready_q}, to_reg={"s_axis_tdata": 1.0}),
    }  # fmt: skip
    path = cross_instance(chain("a", "b", "c"), timing)
    back = c_ready_q + b_ready_through + a_ready_setup  # the wires add nothing: routing is in the receiver's figure
    assert back > max(fwd, c_ready_q + b_ready_setup)
    assert path is not None and path.critical_ns == round(back, 3)
    assert path.nodes == ("c.s_axis_tready", "b.m_axis_tready", "b.s_axis_tready", "a.m_axis_tready")
    assert path.to_json()["instances"] == 3


def test_fork_drives_two_consumers() -> None:
    """A fork's vector m_axis is one port on two wires: each consumer's data input is reached from it, and either
    consumer's s_axis_tready reaches the fork's single m_axis_tready node (figures per port, over its bits)."""
    f_q = 0.7  # fork: register -> m_axis_tdata (all lanes)
    c1_in, c2_in = 2.0, 0.9  # consumers: s_axis_tdata -> register
    c1_ready, c2_ready = 0.5, 1.1  # consumers: register -> s_axis_tready
    f_ready = 2.0  # fork: m_axis_tready -> register
    ports = [PortWire("f", "s_axis", "in", False), PortWire("f", "m_axis", "w1", True),
             PortWire("f", "m_axis", "w2", True), PortWire("c1", "s_axis", "w1", False),
             PortWire("c2", "s_axis", "w2", False)]  # fmt: skip
    timing = {
        "f": arcs(reg_to={"m_axis_tdata": f_q}, to_reg={"m_axis_tready": f_ready}),
        "c1": arcs(reg_to={"s_axis_tready": c1_ready}, to_reg={"s_axis_tdata": c1_in}),
        "c2": arcs(reg_to={"s_axis_tready": c2_ready}, to_reg={"s_axis_tdata": c2_in}),
    }
    candidates = {
        ("f.m_axis_tdata", "c1.s_axis_tdata"): f_q + c1_in,
        ("f.m_axis_tdata", "c2.s_axis_tdata"): f_q + c2_in,
        ("c1.s_axis_tready", "f.m_axis_tready"): c1_ready + f_ready,
        ("c2.s_axis_tready", "f.m_axis_tready"): c2_ready + f_ready,
    }
    nodes, ns = max(candidates.items(), key=lambda kv: kv[1])
    assert nodes == ("c2.s_axis_tready", "f.m_axis_tready")
    assert cross_instance(ports, timing) == CrossPath(round(ns, 3), nodes)
    # without c2's estimate, the longest of c1's two paths
    timing["c2"] = None
    nodes, ns = max(((k, v) for k, v in candidates.items() if not any(n.startswith("c2.") for n in k)),
                    key=lambda kv: kv[1])  # fmt: skip
    assert nodes == ("f.m_axis_tdata", "c1.s_axis_tdata")
    assert cross_instance(ports, timing) == CrossPath(round(ns, 3), nodes)


@pytest.mark.parametrize("absent", ["none", "missing"])
def test_a_wire_whose_driver_is_not_estimated_is_left_out(absent: str) -> None:
    """a (failed synthesis: timing None, or no entry at all) -> b -> c: b's large input figure and its ready
    towards a would make the longest path if a were timed; only b -> c remains."""
    b_q, c_in = 0.518, 1.7
    timing: dict[str, Any] = {
        "b": arcs(reg_to={"m_axis_tdata": b_q, "s_axis_tready": 3.0}, to_reg={"s_axis_tdata": 9.0}),
        "c": arcs(to_reg={"s_axis_tdata": c_in}),
    }
    if absent == "none":
        timing["a"] = None
    path = cross_instance(chain("a", "b", "c"), timing)
    assert path == CrossPath(round(b_q + c_in, 3), ("b.m_axis_tdata", "c.s_axis_tdata"))


def test_a_loop_across_instances_is_an_error() -> None:
    """b's s_axis_tready follows its s_axis_tvalid, and a's m_axis_tvalid follows its m_axis_tready: valid and
    ready chase each other around the wire between them (AXI4-Stream forbids valid waiting for ready)."""
    timing = {
        "a": arcs(reg_to={"m_axis_tdata": 0.5}, through={"m_axis_tready": {"m_axis_tvalid": 0.4}}),
        "b": arcs(to_reg={"s_axis_tdata": 1.0}, through={"s_axis_tvalid": {"s_axis_tready": 0.3}}),
    }
    with pytest.raises(CombinationalLoop, match="combinational loop"):
        cross_instance(chain("a", "b"), timing)


def test_nothing_crossing_gives_none() -> None:
    """One instance between the network's own streams, or two instances on wires that do not meet, or a wire
    with both ends but no registered figure on either side: no path crosses an instance boundary."""
    one = arcs(reg_to={"m_axis_tdata": 0.5, "s_axis_tready": 0.5}, to_reg={"s_axis_tdata": 1.0, "m_axis_tready": 1.0})
    assert cross_instance(chain("a"), {"a": one}) is None
    apart = chain("a", first="in", last="x") + chain("b", first="y", last="out")
    assert cross_instance(apart, {"a": one, "b": one}) is None
    assert cross_instance(chain("a", "b"), {"a": arcs(), "b": arcs()}) is None
    assert cross_instance([], {}) is None


# -- the report ----------------------------------------------------------------------------------------------
#: the hand build's instances in row order (tests/test_report.hand_build), a straight pipeline
PIPELINE = ("u_pw0", "u_q0", "u_f0")


def wired_build(directory: Path) -> None:
    """tests/test_report's hand build with port records naming their accel_top wires: in -> u_pw0 -> u_q0 ->
    u_f0 -> out (the stream's shape and type do not matter to timing)."""
    manifest = hand_build(directory)
    wires = ["in"] + [f"{i}_out" for i in PIPELINE[:-1]] + ["out"]
    insts = [inst for layer in manifest["layers"] for inst in layer["instances"]]
    assert tuple(i["instance"] for i in insts) == PIPELINE
    for k, inst in enumerate(insts):
        inst["inputs"] = [PortRecord("s_axis", None, (2, 2, 8), S8.hls, 2, wire=wires[k]).to_json()]
        inst["outputs"] = [PortRecord("m_axis", None, (2, 2, 8), S8.hls, 2, wire=wires[k + 1]).to_json()]
    write_manifest(directory, manifest)


def stub_synthesis(monkeypatch: pytest.MonkeyPatch, timings: dict[str, dict[str, Any]]) -> None:
    """``run_jobs`` answers every instance with ``timings[label]`` (no yosys) and caches it like yosys' entry,
    so both the report and estimate_fmax (the cache alone) see it."""
    from accel.rtl import synth

    tool = "Yosys T"
    monkeypatch.setattr(synth, "yosys_exe", lambda: "yosys")
    monkeypatch.setattr(synth, "yosys_version", lambda exe=None: tool)

    def fake_run_jobs(jobs: list[Any], work_dir: Path, *, cache: Any = None, **_: Any) -> list[dict]:
        out = []
        for j in jobs:
            entry = {"module": j.module, "tool": tool, "cells": {}, "timing": timings[j.label], "memories": [],
                     "resources": {"LUT": 10, "FF": 10, "DSP": 0, "BRAM": 0}}  # fmt: skip
            if cache is not None:
                cache.put(j.key(tool), entry)
            out.append({**entry, "cached": False})
        return out

    monkeypatch.setattr(synth, "run_jobs", fake_run_jobs)


def instance_timing(critical_ns: float, ports: dict[str, Any]) -> dict[str, Any]:
    """An instance's timing entry as accel.rtl.timing writes it (the fields the report reads)."""
    from accel.rtl.timing import TIMING_MODEL

    return {"model": TIMING_MODEL, "critical_ns": critical_ns, "fmax_mhz": round(1000.0 / critical_ns, 3),
            "logic_levels": 3, "path": "FDRE > LUT6 > FDRE", "ports": ports}  # fmt: skip


@pytest.mark.parametrize("q0_input_ns", [3.5, 1.0, "loop"])
def test_report_fmax_is_the_lower_of_instance_and_cross_instance(tmp_path, monkeypatch, capsys,
                                                                 q0_input_ns: float | str) -> None:  # fmt: skip
    """u_pw0's registered output into u_q0's input logic (q0_input_ns) against the instances' own paths: the
    design's Fmax is the lower, ``limited_by`` says which; the rows keep their own figures; a loop is reported
    as a problem and leaves the instance figure."""
    wired_build(tmp_path)
    critical = {"u_pw0": 4.0, "u_q0": 3.0, "u_f0": 2.5}  # instance-internal register-to-register paths
    pw0_q, q0_ready_q, pw0_ready_in, f0_in = 1.5, 0.6, 1.2, 1.1
    q0 = arcs(reg_to={"m_axis_tdata": 0.518, "s_axis_tready": q0_ready_q},
              to_reg={"s_axis_tdata": 1.0 if q0_input_ns == "loop" else q0_input_ns})  # fmt: skip
    if q0_input_ns == "loop":  # u_q0's ready follows its valid, u_pw0's valid follows its ready
        q0["through"] = {"s_axis_tvalid": {"s_axis_tready": 0.3}}
    ports = {
        "u_pw0": arcs(reg_to={"m_axis_tdata": pw0_q}, to_reg={"m_axis_tready": pw0_ready_in},
                      through={"m_axis_tready": {"m_axis_tvalid": 0.4}} if q0_input_ns == "loop" else None),
        "u_q0": q0,
        "u_f0": arcs(reg_to={"s_axis_tready": 0.518}, to_reg={"s_axis_tdata": f0_in}),
    }  # fmt: skip
    stub_synthesis(monkeypatch, {k: instance_timing(critical[k], ports[k]) for k in PIPELINE})
    rep = make_report(tmp_path)

    instance_fmax = 1000.0 / max(critical.values())
    rows = [round(1000.0 / critical["u_pw0"], 3), round(1000.0 / max(critical["u_q0"], critical["u_f0"]), 3)]
    assert [r["fmax_mhz"] for r in rep["layers"]] == rows  # a row: its slowest instance's own figure
    tm = rep["timing"]
    assert tm["instance"] == "u_pw0" and tm["instance_fmax_mhz"] == pytest.approx(instance_fmax, abs=1e-3)
    print_report(rep)
    out = capsys.readouterr().out
    if q0_input_ns == "loop":
        assert "combinational loop" in tm["cross_instance"]["error"]
        assert tm["limited_by"] == "instance" and rep["totals"]["fmax_mhz"] == pytest.approx(instance_fmax, abs=1e-3)
        assert "across instances: PROBLEM:" in out
        assert estimate_fmax(tmp_path) is None  # a loop has no clock figure
        return
    # every path across a wire of the pipeline, from the arcs above (u_f0's ready meets no setup in u_q0)
    candidates = {
        "u_pw0.m_axis_tdata > u_q0.s_axis_tdata": pw0_q + q0_input_ns,
        "u_q0.s_axis_tready > u_pw0.m_axis_tready": q0_ready_q + pw0_ready_in,
        "u_q0.m_axis_tdata > u_f0.s_axis_tdata": 0.518 + f0_in,
    }
    cross_path, cross_ns = max(candidates.items(), key=lambda kv: kv[1])
    cross_fmax = 1000.0 / cross_ns
    design = min(instance_fmax, cross_fmax)
    assert tm["cross_instance"]["path"] == cross_path
    assert tm["cross_instance"]["critical_ns"] == pytest.approx(cross_ns)
    assert tm["cross_instance"]["fmax_mhz"] == pytest.approx(cross_fmax, rel=1e-3)
    assert rep["totals"]["fmax_mhz"] == pytest.approx(design, rel=1e-3) and tm["fmax_mhz"] == rep["totals"]["fmax_mhz"]
    assert tm["limited_by"] == ("cross_instance" if cross_fmax < instance_fmax else "instance")
    assert tm["limited_by"] == ("cross_instance" if q0_input_ns == 3.5 else "instance")  # 1.5 + 3.5 ns > 4.0 ns
    assert tm["critical_ns"] == pytest.approx(max(cross_ns, max(critical.values())))
    assert tm["meets_clock"] == (design >= rep["clock_mhz"])
    assert estimate_fmax(tmp_path) == pytest.approx(design, rel=1e-3)
    across = [line for line in out.splitlines() if "across instances:" in line]
    assert len(across) == 1 and f"{cross_ns:.2f} ns" in across[0] and len(across[0]) <= 80
    assert json.loads(json.dumps(rep, default=str))["timing"]["cross_instance"]["to"] == tm["cross_instance"]["to"]
