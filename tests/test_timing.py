"""accel.rtl.timing: the delay model on hand-made netlists, the estimate on synthesised MAC chains, the report.

The hand-made netlists have the shape yosys ``write_json`` gives (a top module with ports, cells with
parameters, port directions and connections as net-bit numbers); their expected delays are written out
from the model's constants by hand, so a changed constant or a changed rule fails here.  The yosys tests are
few and small: two MAC chains and the smallest generated network.
"""

from __future__ import annotations

import json
import math
import shutil
from typing import Any

import pytest

from accel.rtl import timing
from accel.rtl.timing import analyse, route_ns

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (make system)")

OUT_PINS = {"Q", "O", "CO", "P", "PCOUT"}


def cell(ctype: str, params: dict[str, Any] | None = None, **pins: list[int | str]) -> dict[str, Any]:
    """A netlist cell as yosys writes it; integer parameters as 32-digit binary strings, as yosys does."""
    return {
        "type": ctype,
        "parameters": {k: (format(v, "032b") if isinstance(v, int) else v) for k, v in (params or {}).items()},
        "port_directions": {p: "output" if p in OUT_PINS else "input" for p in pins},
        "connections": pins,
    }


def netlist(cells: dict[str, dict], ports: dict[str, tuple[str, list[int]]], names: dict[str, list[int]]) -> dict:
    """A one-module yosys JSON netlist (the top) around ``cells``."""
    return {"modules": {"top": {
        "attributes": {"top": format(1, "032b")},
        "ports": {n: {"direction": d, "bits": b} for n, (d, b) in ports.items()},
        "cells": cells,
        "netnames": {n: {"hide_name": 0, "bits": b} for n, b in names.items()},
    }}}  # fmt: skip


def ff(d: int, q: int, clk: int = 2) -> dict:
    return cell("FDRE", C=[clk], CE=["1"], R=["0"], D=[d], Q=[q])


def test_three_luts_between_two_flip_flops() -> None:
    """FF -> LUT1 -> LUT2 -> LUT3 -> FF, every net of fanout 1."""
    cells = {
        "ff1": ff(3, 10),
        "l1": cell("LUT1", {"INIT": 1}, I0=[10], O=[11]),
        "l2": cell("LUT2", {"INIT": 6}, I0=[11], I1=[3], O=[12]),
        "l3": cell("LUT3", {"INIT": 128}, I0=[12], I1=["0"], I2=["1"], O=[13]),
        "ff2": ff(13, 14),
    }
    net = netlist(cells, {"clk": ("input", [2]), "d": ("input", [3]), "y": ("output", [14])},
                  {"q1": [10], "q2": [14], "d": [3]})  # fmt: skip
    t = analyse(net)
    # T_CKO 0.518, then per LUT: a fanout-1 route 0.50 + T_ILO 0.124; the LUT3 -> FF net (fanout 1) is packed
    # into one slice (no route); then T_SETUP_D 0.05
    expected = 0.518 + (0.50 + 0.124) + (0.50 + 0.124) + (0.50 + 0.124) + 0.0 + 0.05
    assert t["critical_ns"] == round(expected, 3) == 2.44
    assert t["fmax_mhz"] == round(1000.0 / expected, 3)
    assert t["logic_levels"] == 3 and t["path"] == "FDRE > LUT1 > LUT2 > LUT3 > FDRE"
    assert (t["from"], t["to"]) == ("q1", "q2") and t["routing_ns"] == 1.5
    # port d: its net feeds ff1 and l2 (fanout 2): route 0.50 + 0.12 * log2(2), then ff1's setup, or l2 + l3
    assert t["input_to_reg_ns"] == round(0.62 + 0.124 + 0.50 + 0.124 + 0.0 + 0.05, 3)
    assert t["reg_to_output_ns"] == 0.518 and t["input_to_output_ns"] is None
    assert t["loop_nodes"] == 0 and t["unknown_cells"] == [] and t["model"] == timing.TIMING_MODEL


def test_routing_allowance_grows_with_fanout() -> None:
    assert route_ns(1) == 0.50 and route_ns(2) == 0.62 and route_ns(16) == 0.50 + 4 * 0.12
    # one FF driving 8 LUTs, each into its own FF: the first net is the slow one
    cells = {"src": ff(3, 10)}
    for k in range(8):
        cells[f"l{k}"] = cell("LUT1", I0=[10], O=[20 + k])
        cells[f"f{k}"] = ff(20 + k, 40 + k)
    t = analyse(netlist(cells, {"clk": ("input", [2]), "d": ("input", [3])}, {}))
    assert t["critical_ns"] == round(0.518 + (0.50 + 0.12 * math.log2(8)) + 0.124 + 0.05, 3)


def test_carry_chain_uses_dedicated_wires() -> None:
    """FF -> LUT -> CARRY4 S[0] ... CO[3] -> CARRY4 CI ... O[3] -> FF: only the FF -> LUT net is routed."""
    c0 = cell("CARRY4", CI=["0"], CYINIT=["0"], DI=["0", "0", "0", "0"], S=[11, "1", "1", "1"],
              O=[30, 31, 32, 33], CO=[34, 35, 36, 37])  # fmt: skip
    c1 = cell("CARRY4", CI=[37], CYINIT=["0"], DI=["0", "0", "0", "0"], S=["1", "1", "1", "1"],
              O=[40, 41, 42, 43], CO=[44, 45, 46, 47])  # fmt: skip
    cells = {"f0": ff(3, 10), "l": cell("LUT1", I0=[10], O=[11]), "c0": c0, "c1": c1, "f1": ff(43, 50)}
    t = analyse(netlist(cells, {"clk": ("input", [2]), "d": ("input", [3])}, {"a": [10], "s": [50]}))
    # T_CKO + route + T_ILO + (LUT -> S: no route) + S -> CO3 0.528 + (CO3 -> CI: no route) + CI -> O3 0.313
    # + (O3 -> FF D, fanout 1: packed) + T_SETUP_D
    assert t["critical_ns"] == round(0.518 + 0.50 + 0.124 + 0.528 + 0.313 + 0.05, 3)
    assert t["path"] == "FDRE > LUT1 > CARRY4 x2 > FDRE" and t["logic_levels"] == 3


def _dsp(regs: dict[str, int], a: int, p: int) -> dict:
    params = {"AREG": regs.get("AREG", 0), "BREG": regs.get("BREG", 0), "CREG": 0, "MREG": regs.get("MREG", 0),
              "PREG": regs.get("PREG", 0), "USE_MULT": "MULTIPLY", "USE_PATTERN_DETECT": "NO_PATDET"}  # fmt: skip
    return cell("DSP48E1", params, CLK=[2], A=[a], B=["1"], P=[p])


def test_dsp_timing_follows_its_register_parameters() -> None:
    """Unregistered, a DSP48E1 is a combinational arc A -> P; fully registered, its own internal paths bound it."""
    ports = {"clk": ("input", [2]), "d": ("input", [3])}
    comb = analyse(netlist({"f0": ff(3, 10), "m": _dsp({}, 10, 11), "f1": ff(11, 12)}, ports, {}))
    # T_CKO + route + A -> P with the multiplier 2.823 + route (a DSP output is not packed with an FF) + setup
    assert comb["critical_ns"] == round(0.518 + 0.50 + 2.823 + 0.50 + 0.05, 3)
    assert comb["path"] == "FDRE > DSP48E1 > FDRE" and comb["logic_levels"] == 1
    piped = analyse(netlist({"f0": ff(3, 10), "m": _dsp({"AREG": 1, "BREG": 1, "MREG": 1, "PREG": 1}, 10, 11),
                             "f1": ff(11, 12)}, ports, {}))  # fmt: skip
    # largest of: FF -> AREG (0.518 + 0.50 + 0.254), PREG -> FF (0.329 + 0.50 + 0.05), A/B register -> MREG
    # (0.329 + 1.416), MREG -> PREG (1.671)
    assert piped["critical_ns"] == round(0.329 + 1.416, 3) and piped["path"] == "DSP48E1 (internal registers)"
    no_mreg = analyse(netlist({"f0": ff(3, 10), "m": _dsp({"AREG": 1, "BREG": 1, "PREG": 1}, 10, 11),
                               "f1": ff(11, 12)}, ports, {}))  # fmt: skip
    assert no_mreg["critical_ns"] == round(0.329 + 2.739, 3)  # A register -> multiplier -> PREG
    assert comb["fmax_mhz"] < no_mreg["fmax_mhz"] < piped["fmax_mhz"]


def test_combinational_loop_is_counted_not_followed() -> None:
    """A LUT feeding itself has no longest path: its nodes are counted, every other path is still timed."""
    cells = {"f0": ff(3, 10), "loop": cell("LUT2", I0=[10], I1=[11], O=[11]), "f1": ff(11, 12),
             "f2": ff(3, 20), "l": cell("LUT1", I0=[20], O=[21]), "f3": ff(21, 22)}  # fmt: skip
    t = analyse(netlist(cells, {"clk": ("input", [2]), "d": ("input", [3])}, {}))
    assert t["loop_nodes"] == 1 and t["critical_ns"] == round(0.518 + 0.50 + 0.124 + 0.05, 3)


def _mac(name: str, products: int, pipelined: bool) -> str:
    """``products`` 8-bit x 8-bit multiplies summed into one register, inputs registered; with ``pipelined``
    a register after each multiply."""
    ins = ", ".join([f"a{i}" for i in range(products)] + [f"b{i}" for i in range(products)])
    regs = ", ".join([f"ra{i}" for i in range(products)] + [f"rb{i}" for i in range(products)])
    body = [f"    ra{i} <= a{i}; rb{i} <= b{i};" for i in range(products)]
    if pipelined:
        body += [f"    p{i} <= ra{i} * rb{i};" for i in range(products)]
    terms = [f"p{i}" for i in range(products)] if pipelined else [f"ra{i} * rb{i}" for i in range(products)]
    prods = f"  reg [15:0] {', '.join(f'p{i}' for i in range(products))};\n" if pipelined else ""
    return (f"module {name} (input wire clk, input wire [7:0] {ins}, output reg [18:0] y);\n  reg [7:0] {regs};\n"
            f"{prods}  always @(posedge clk) begin\n" + "\n".join(body) + f"\n    y <= {' + '.join(terms)};\n"
            "  end\nendmodule\n")  # fmt: skip


@pytest.mark.slow
@needs_yosys
def test_unpipelined_mac_chain_is_slow_and_pipelining_speeds_it_up(tmp_path) -> None:
    """Eight products summed in one cycle: yosys packs the sum into the DSP48E1 post-adder cascade (about
    1.26 ns per add), so the chain is over 10 ns, below 100 MHz; a register after each multiply removes the
    multiplier from the path.  (Four products are ~6.6 ns, 150 MHz: a real 7-series -1 DSP cascade is fast.)"""
    from accel.rtl.synth import SynthJob, synthesize_timed

    est = {}
    for name, pipelined in (("mac_comb", False), ("mac_pipe", True)):
        src = tmp_path / f"{name}.v"
        src.write_text(_mac(name, 8, pipelined))
        cells, est[name] = synthesize_timed(SynthJob(name, {}, (src,), tmp_path), tmp_path / "work")
        assert cells.get("DSP48E1", 0) > 0 and not list((tmp_path / "work").glob("*.json"))  # netlist removed
    comb, pipe = est["mac_comb"], est["mac_pipe"]
    assert comb["fmax_mhz"] < 100.0 and "DSP48E1" in comb["path"]
    assert pipe["fmax_mhz"] > comb["fmax_mhz"]


@pytest.mark.slow
@needs_yosys
def test_report_json_gives_fmax_per_layer_and_for_the_design(tmp_path, capsys) -> None:
    """`accel report DIR --json` of the smallest generated network: every layer row has a positive Fmax, the
    design's is the slowest row's; estimate_fmax reads the same figure from the cache alone; a cache entry
    without timing (an older accel's) is synthesised again to get it."""
    from accel.cli import main
    from accel.report import estimate_fmax
    from accel.rtl.network import build_rtl
    from tests.test_report import _tiny_graph

    build_rtl(_tiny_graph(), tmp_path)
    assert estimate_fmax(tmp_path) is None  # no cache yet
    assert main(["report", str(tmp_path), "--json", "--jobs", "1"]) == 0
    rep = json.loads(capsys.readouterr().out)
    rows = rep["layers"]
    assert rows and all(r["fmax_mhz"] > 0 and r["critical_ns"] > 0 and r["logic_levels"] >= 0 for r in rows)
    cross = rep["timing"]["cross_instance"]  # the design: its slowest instance or a path between instances
    assert rep["totals"]["fmax_mhz"] == min([r["fmax_mhz"] for r in rows] + ([cross["fmax_mhz"]] if cross else []))
    for r in rows:  # a row is its slowest instance
        fmax = [i["timing"]["fmax_mhz"] for i in r["instances"] if i["timing"]["fmax_mhz"]]
        assert r["fmax_mhz"] == min(fmax)
        assert r["fmax_mhz"] == round(1000.0 / r["critical_ns"], 3)  # Fmax comes from the reported delay
    assert rep["timing"]["fmax_mhz"] == rep["totals"]["fmax_mhz"]
    assert rep["timing"]["meets_clock"] == (rep["totals"]["fmax_mhz"] >= rep["clock_mhz"])
    assert estimate_fmax(tmp_path) == rep["totals"]["fmax_mhz"]
    # an older cache (the MVU's entry without "timing"): until a report synthesises that instance again,
    # estimate_fmax cannot say; the others come from the cache
    cache = tmp_path / "synth_cache.json"
    data = json.loads(cache.read_text())
    old = [e for e in data["entries"].values() if e["module"] == "accel_mvu"]
    assert len(old) == 1
    del old[0]["timing"]
    cache.write_text(json.dumps(data))
    assert estimate_fmax(tmp_path) is None
    assert main(["report", str(tmp_path), "--json", "--jobs", "1"]) == 0
    again = json.loads(capsys.readouterr().out)
    n = again["synthesis"]["instances"]
    assert (again["synthesis"]["synthesised"], again["synthesis"]["cached"]) == (1, n - 1)
    assert again["totals"]["fmax_mhz"] == rep["totals"]["fmax_mhz"] == estimate_fmax(tmp_path)


def test_run_jobs_reruns_only_entries_without_a_current_estimate(tmp_path, monkeypatch) -> None:
    """The cache upgrade rule without yosys: synthesize_timed stubbed, one entry current, one old, one failed."""
    from accel.rtl import synth

    monkeypatch.setattr(synth, "yosys_exe", lambda: "yosys")
    monkeypatch.setattr(synth, "yosys_version", lambda exe=None: "Yosys T")
    ran: list[str] = []

    def fake(job, work_dir, *, exe=None, timeout=None):
        ran.append(job.module)
        return {"LUT4": 1}, {"model": timing.TIMING_MODEL, "fmax_mhz": 200.0}

    monkeypatch.setattr(synth, "synthesize_timed", fake)
    src = tmp_path / "m.v"
    src.write_text("module m; endmodule\n")
    jobs = [synth.SynthJob(m, {}, (src,), tmp_path) for m in ("cur", "old", "bad")]
    cache = synth.SynthCache.load(tmp_path / "c.json")
    keys = [j.key("Yosys T") for j in jobs]
    cache.put(keys[0], {"module": "cur", "tool": "Yosys T", "cells": {}, "resources": {},
                        "timing": {"model": timing.TIMING_MODEL, "fmax_mhz": 300.0}})  # fmt: skip
    cache.put(keys[1], {"module": "old", "cells": {}, "resources": {}})  # as an older accel wrote it
    cache.put(keys[2], {"module": "bad", "error": "ERROR: x"})
    out = synth.run_jobs(jobs, tmp_path / "w", cache=cache)
    assert ran == [] and [e["cached"] for e in out] == [True, True, True]  # timing not asked for: nothing runs
    out = synth.run_jobs(jobs, tmp_path / "w", cache=cache, timing=True)
    assert ran == ["old"] and [e["cached"] for e in out] == [True, False, True]
    assert out[1]["timing"]["fmax_mhz"] == 200.0 and out[1]["tool"] == "Yosys T"
    assert synth.SynthCache.load(tmp_path / "c.json").tools() == ["Yosys T"]


def test_netlist_without_a_single_top_is_refused() -> None:
    with pytest.raises(ValueError, match="candidate top modules"):
        analyse({"modules": {}})


def test_real_netlist_parameters_are_read_like_yosys_writes_them() -> None:
    """yosys writes integer parameters as binary strings (sometimes short: PREG "1") and strings as text."""
    assert timing._value("1") == 1 and timing._value(format(5, "032b")) == 5
    assert timing._value("MULTIPLY") == "MULTIPLY" and timing._value("NO_PATDET ") == "NO_PATDET"
