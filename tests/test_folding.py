"""The folding optimiser (accel.rtl.folding.search_folding through accel.rtl.network.choose_folding): it raises only
the bottleneck, by the smallest step over all divisors, within a budget of every resource of the part as the fit
check counts it, in its two modes; folding-file overrides (pe, simd, ram_style, mult_style) are kept; bad budgets,
targets and styles are refused with one sentence; build.json and `accel build --json` record the search.

Expected values are derived here from the layers' own cycle models (:func:`layer_cycles` over every divisor) and
from the fit check of the written build, not from the optimiser.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from accel import AccelError  # noqa: E402
from accel.cli import main  # noqa: E402
from accel.fixed import FixedType, Overflow, Rounding  # noqa: E402
from accel.ir import Graph, GraphBuilder  # noqa: E402
from accel.ops.lowering import LayerFold  # noqa: E402
from accel.parts import part_info  # noqa: E402
from accel.rtl.cost import KEYS, capacity_of  # noqa: E402
from accel.rtl.folding import divisors, fold_dims, folded_nodes, layer_cycles  # noqa: E402
from accel.rtl.network import build_rtl, choose_folding  # noqa: E402
from tests.test_rtl_network import zoo_graph  # noqa: E402

CAPACITY = capacity_of(part_info("xc7z020clg400-1"))
A8 = FixedType(True, 8, 3)
W8 = FixedType(True, 8, 1)
B12 = FixedType(True, 12, 5)
#: the folding the previous optimiser (multipliers <= 220, target 50,000 cycles, powers of two) gave ds_cnn_kws
OLD_DS_CNN = {"conv1_bn": (8, 1), "dw1": (2, None), "pw1_bn": (4, 4), "dw2": (2, None), "pw2_bn": (4, 4),
              "dw3": (2, None), "pw3_bn": (4, 4), "dw4": (2, None), "pw4_bn": (4, 4), "fc": (1, 1)}  # fmt: skip


def _quant(b: GraphBuilder, name: str, x: str) -> str:
    return b.add(name, "quantize", [x], {"out_type": A8, "rounding": Rounding.ROUND_HALF_EVEN,
                                         "overflow": Overflow.SATURATE, "relu": False})  # fmt: skip


def _conv(b: GraphBuilder, rng: np.random.Generator, name: str, x: str, cout: int) -> str:
    cin = b.spec(x).shape[2]
    w = rng.integers(W8.min_raw, W8.max_raw + 1, (1, 1, cin, cout))
    bias = rng.integers(B12.min_raw, B12.max_raw + 1, (cout,))
    return _quant(b, f"{name}_q", b.add(name, "conv2d", [x], {"kernel": (1, 1)}, {"weight": w, "bias": bias},
                                        {"weight": W8, "bias": B12}))  # fmt: skip


def two_layers() -> Graph:
    """A quantize on the input (one lane: 8*8*32 = 2,048 cycles per frame, no PE/SIMD), then layer a (32 -> 16: 32,768
    MAC cycles at PE = SIMD = 1) and layer b (16 -> 1: 1,024, under the input's 2,048 at any folding)."""
    rng = np.random.default_rng(1)
    b = GraphBuilder("two_layers")
    x = _quant(b, "q0", b.input("x", (8, 8, 32), A8))
    return b.build([_conv(b, rng, "b", _conv(b, rng, "a", x, 16), 1)])


def depthwise48() -> Graph:
    """One 3x3 depthwise layer on 48 channels (PE divides 48: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48)."""
    rng = np.random.default_rng(2)
    b = GraphBuilder("dw48")
    x = b.input("x", (6, 6, 48), A8)
    w = rng.integers(W8.min_raw, W8.max_raw + 1, (3, 3, 48, 1))
    bias = rng.integers(B12.min_raw, B12.max_raw + 1, (48,))
    y = b.add("dw", "depthwise_conv2d", [x], {"kernel": (3, 3), "pads": (1, 1, 1, 1)}, {"weight": w, "bias": bias},
              {"weight": W8, "bias": B12})  # fmt: skip
    return b.build([_quant(b, "dw_q", y)])


def _options(graph: Graph, name: str) -> dict[int, int]:
    """Every (PE x SIMD) folding of a layer -> its cycle model, keyed by the cycles (the fewest multipliers)."""
    node = graph.node(name)
    pe_dim, simd_dim = fold_dims(graph, node)
    out: dict[int, int] = {}
    for pe in divisors(pe_dim):
        for simd in divisors(simd_dim) if simd_dim else [None]:
            c = layer_cycles(graph, node, LayerFold(pe, simd))
            out[c] = min(out.get(c, pe * (simd or 1)), pe * (simd or 1))
    return out


def test_only_the_bottleneck_is_raised() -> None:
    """a is raised until it is within the input's 2,048 cycles, then the input (no PE/SIMD) is the bottleneck: stop.
    b, never the bottleneck, keeps PE = SIMD = 1."""
    g = two_layers()
    choice = choose_folding(g)
    fold = choice.fold
    assert (fold["b"].pe, fold["b"].simd) == (1, 1)
    assert layer_cycles(g, g.node("a"), fold["a"]) == 2048 and fold["a"].pe * fold["a"].simd == 16  # 32,768 / 16
    assert (choice.bottleneck, choice.stop, choice.expected_ii) == ("q0", "bottleneck not folded", 2048)


@pytest.mark.parametrize("target,pe", [(6000, 3), (5000, 4), (3000, 6), (1500, 12), (1000, 16)])
def test_any_divisor_is_a_step(target: int, pe: int) -> None:
    """dw: 6*6*48*9 / PE cycles (15,552 at PE = 1); the smallest PE reaching the target, 3, 6 and 12 included."""
    g = depthwise48()
    fold = choose_folding(g, target_ii=target).fold
    assert fold["dw"].pe == pe
    assert 6 * 6 * 48 * 9 // pe <= target < 6 * 6 * 48 * 9 // max(d for d in divisors(48) if d < pe)


@pytest.mark.parametrize("budget", [0.12, 0.3, 0.85])
def test_budget_holds_for_every_resource_of_the_fit_check(budget: float, tmp_path: Path) -> None:
    """The written build's fit check (not the optimiser's own sum) is within budget x capacity in LUT, FF, DSP and
    BRAM36, and equals the optimiser's estimate; a tighter budget stops sooner (a slower II)."""
    g = zoo_graph("ds_cnn_kws")
    m = build_rtl(g, tmp_path, budget=budget)
    total = m["fit"]["total"]
    for r, k in KEYS.items():
        assert total[k] <= budget * CAPACITY[r] + 0.05, (r, total[k])
    search = m["folding_search"]
    assert (search["mode"], search["budget"], search["target_ii"], search["device"]) == ("fastest", budget, None,
                                                                                          "xc7z020")  # fmt: skip
    assert search["expected_ii_cycles"] == m["expected_ii_cycles"]
    choice = choose_folding(g, budget=budget)
    assert {k: round(choice.total.of(r), 1) for r, k in KEYS.items()} == total
    assert search["stop"] == "budget"
    if budget < 0.85:
        assert m["expected_ii_cycles"] > choose_folding(g, budget=budget * 2).expected_ii


def test_a_budget_the_smallest_design_exceeds_raises_nothing() -> None:
    """ds_cnn_kws at PE = SIMD = 1 already takes over 5% of the xc7z020's LUTs: the search stops at once."""
    choice = choose_folding(zoo_graph("ds_cnn_kws"), budget=0.05)
    assert choice.total.lut > 0.05 * CAPACITY["LUT"] and choice.stop == "budget"
    assert all(f.pe * (f.simd or 1) == 1 for f in choice.fold.values())


@pytest.mark.parametrize("name,target", [("ds_cnn_kws", 40_000), ("ds_cnn_kws", 20_000), ("pointwise_head", 4_000),
                                         ("inception_module", 10_000)])  # fmt: skip
def test_target_gives_the_smallest_foldings_meeting_it(name: str, target: int) -> None:
    """Every node within the target; every raised layer at the slowest of its foldings that meets it (so one step
    less would miss it), and with the fewest multipliers of that cycle count."""
    g = zoo_graph(name)
    choice = choose_folding(g, target_ii=target)
    assert choice.expected_ii <= target and choice.stop == "target reached"
    for n in folded_nodes(g):
        f = choice.fold[n.name]
        options = _options(g, n.name)
        if f.pe * (f.simd or 1) == 1:
            continue  # never raised
        met = max(c for c in options if c <= target)
        assert layer_cycles(g, n, f) == met, (n.name, f)
        assert f.pe * (f.simd or 1) == options[met], (n.name, f)


def test_ds_cnn_target_40000_is_no_larger_than_the_old_default(tmp_path: Path) -> None:
    """--target-ii 40000 against the previous default folding (the same 40,000 cycles, one product per DSP48E1):
    no more LUT or DSP48E1 (DSP 47 against 85: the pointwise layers pack two products per DSP48E1), BRAM36 within
    one RAMB18 (pw4_bn at SIMD 16, PE 1 feeds its requantiser one lane at a time, whose 128-word input FIFO the cost
    model puts in a RAMB18), and a lower largest use of the part (what the search minimises).  Flip-flops are the
    one resource that grows (8,013 against 6,947, 7.5% of the part): a packed DSP48E1's split products are
    registered in the fabric, about 3 FF per bit of the 16-bit product offset per pair (docs/hardware.md)."""
    from accel.parts import part_info

    g = zoo_graph("ds_cnn_kws")
    old = build_rtl(g, tmp_path / "old", folding={k: {"pe": p, **({"simd": s} if s else {}), "mult_style": "dsp"}
                                                   for k, (p, s) in OLD_DS_CNN.items()})["fit"]["total"]  # fmt: skip
    new = build_rtl(g, tmp_path / "new", target_ii=40_000)
    assert new["expected_ii_cycles"] == 40_000
    total = new["fit"]["total"]
    assert total["lut"] <= old["lut"] and total["dsp"] <= old["dsp"], (total, old)
    assert total["bram36"] <= old["bram36"] + 0.5, (total, old)
    cap = part_info("xc7z020clg400-1")
    use = {k: max(t[r] / getattr(cap, r) for r in ("lut", "ff", "dsp", "bram36"))
           for k, t in (("old", old), ("new", total))}  # fmt: skip
    assert use["new"] < use["old"], use
    assert total["ff"] <= 1.2 * old["ff"], (total, old)


def test_fixed_layers_are_kept_and_never_raised() -> None:
    """pw1_bn fixed at PE = SIMD = 1 (512,000 cycles) is the bottleneck: the search stops there, raising nothing
    beyond what it needed before; pw2_bn's fixed style and dw1's ram_style are kept while the optimiser folds them."""
    g = zoo_graph("ds_cnn_kws")
    spec = {"pw1_bn": {"pe": 1, "simd": 1}, "pw2_bn": {"mult_style": "lut"}, "dw1": {"ram_style": "lut"}}
    choice = choose_folding(g, spec)
    assert (choice.fold["pw1_bn"].pe, choice.fold["pw1_bn"].simd) == (1, 1)
    assert (choice.bottleneck, choice.stop, choice.expected_ii) == ("pw1_bn", "bottleneck fixed", 512_000)
    assert choice.fold["pw2_bn"].mult_style == "lut" and choice.fold["dw1"].ram_style == "lut"
    assert all(f.pe * (f.simd or 1) == 1 for f in choice.fold.values())  # nothing was slower than 512,000 cycles
    free = choose_folding(g, {"pw2_bn": {"mult_style": "lut"}}).fold
    assert free["pw2_bn"].mult_style == "lut" and free["pw2_bn"].pe * free["pw2_bn"].simd > 1


def test_styles_are_those_the_blocks_allow(tmp_path: Path) -> None:
    """Every chosen style is one the layer's blocks declare; build.json and the summary say which."""
    g = zoo_graph("ds_cnn_kws")
    m = build_rtl(g, tmp_path, target_ii=20_000, folding={"fc": {"mult_style": "lut"}})
    assert m["folding"]["fc"]["mult_style"] == "lut"
    for e in m["layers"]:
        units = [i for i in e["instances"] if i["module"] in ("accel_mvu", "accel_dwu")]
        for unit in units:
            f = m["folding"][e["node"]]
            assert set(f) == {"pe", "simd", "ram_style", "mult_style"}
            assert f["mult_style"] in (("dsp", "lut") if unit["module"] == "accel_dwu" or f["pe"] < 2 else
                                       ("dsp", "dsp2", "lut"))  # fmt: skip


def test_unreachable_target_is_one_sentence() -> None:
    g = zoo_graph("ds_cnn_kws")
    with pytest.raises(AccelError) as exc:
        choose_folding(g, target_ii=100)
    msg = str(exc.value)
    assert msg.startswith("graph ds_cnn_kws: a target II of 100 cycles cannot be reached within 85% of the xc7z020's")
    assert "the bottleneck, layer " in msg and "cycles per frame" in msg and "\n" not in msg
    with pytest.raises(AccelError, match=r"the bottleneck, layer q0 \(quantize\), gets down to 2,048 cycles per "
                                         r"frame and it has no PE/SIMD to raise"):  # fmt: skip
        choose_folding(two_layers(), target_ii=1000)


@pytest.mark.parametrize("kwargs,needle", [
    ({"budget": 0}, "folding budget 0 is not a fraction in (0, 1]"),
    ({"budget": 1.5}, "folding budget 1.5 is not a fraction in (0, 1]"),
    ({"budget": float("nan")}, "folding budget nan is not a fraction"),
    ({"budget": "0.5"}, "folding budget '0.5' is not a fraction"),
    ({"target_ii": 0}, "target II 0 is not a positive whole number"),
    ({"target_ii": 2.5}, "target II 2.5 is not a positive whole number"),
    ({"target_ii": True}, "target II True is not a positive whole number"),
    ({"folding": {"pw1_bn": {"mult_style": "dsp3"}}}, "node pw1_bn mult_style='dsp3'; supported values are auto, "
                                                      "dsp, dsp2, lut"),
    ({"folding": {"dw1": {"mult_style": "dsp2"}}}, "node dw1 mult_style='dsp2' is not supported by its blocks at any "
                                                   "PE/SIMD; supported values are auto, dsp, lut"),
    ({"folding": {"pw1_bn": {"pe": 1, "mult_style": "dsp2"}}}, "node pw1_bn mult_style='dsp2' is not supported by "
                                                               "its blocks at PE=1, SIMD=1"),
])  # fmt: skip
def test_bad_options_are_one_sentence(kwargs: dict, needle: str) -> None:
    g = zoo_graph("ds_cnn_kws")
    with pytest.raises(AccelError) as exc:
        choose_folding(g, **kwargs)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("argv,needle", [
    (["--budget", "1.5"], "Argument --budget: '1.5' is not a fraction in (0, 1]"),
    (["--budget", "x"], "Argument --budget: 'x' is not a fraction"),
    (["--target-ii", "0"], "Argument --target-ii: '0' is not a positive whole number"),
])  # fmt: skip
def test_cli_refuses_bad_budget_and_target(argv: list[str], needle: str, tmp_path: Path, capsys) -> None:
    for command in (["build", "digits", "--backend", "rtl", "-o", str(tmp_path)], ["verify", "digits"]):
        assert main([*command, *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and err.startswith("accel: error:") and "\n" not in err


def test_cli_build_json_records_the_search(tmp_path: Path, capsys) -> None:
    """`accel build --target-ii N --json` prints the search and the per-layer styles; the human summary says them."""
    assert main(["build", "digits", "--backend", "rtl", "-o", str(tmp_path / "j"), "--target-ii", "2000",
                 "--json"]) == 0  # fmt: skip
    m = json.loads(capsys.readouterr().out)["manifest"]
    search = m["folding_search"]
    assert search["mode"] == "target" and search["target_ii"] == 2000 and search["budget"] == 0.85
    assert search["expected_ii_cycles"] == m["expected_ii_cycles"] <= 2000 and search["evaluations"] >= 1
    assert all(set(f) == {"pe", "simd", "ram_style", "mult_style"} for f in m["folding"].values())
    assert main(["build", "digits", "--backend", "rtl", "-o", str(tmp_path / "h"), "--budget", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "folding: the fastest design within 30% of the xc7z020: II " in out and "designs evaluated" in out


def _fake_evaluate(graph: Graph):
    """A cost model of the rule's own terms, so the ranking is tested whatever the blocks' costs are: the input
    quantiser 2,048 cycles; a folded layer its cycle model; one DSP48E1 per product ("dsp"), one per two ("dsp2"),
    60 LUTs per product ("lut")."""
    from accel.rtl.blocks.cost import Cost
    from accel.rtl.folding import Evaluation

    def evaluate(fold: dict[str, LayerFold]) -> Evaluation:
        cycles = {"q0": 2048, **{k: layer_cycles(graph, graph.node(k), f) for k, f in fold.items()}}
        mults = {k: f.pe * (f.simd or 1) for k, f in fold.items()}
        dsp = sum(-(-m // 2) if fold[k].mult_style == "dsp2" else m * (fold[k].mult_style == "dsp")
                  for k, m in mults.items())  # fmt: skip
        lut = 100 + sum(60 * m for k, m in mults.items() if fold[k].mult_style == "lut")
        return Evaluation(cycles, Cost(lut=float(lut), ff=100.0, dsp=float(dsp), bram36=0.0))

    return evaluate


@pytest.mark.parametrize("budget,style", [(0.85, "dsp2"), (0.02, "lut")])
def test_dsp_packing_first_lut_multipliers_when_no_dsp_candidate_fits(budget: float, style: str) -> None:
    """Layer a needs 16 products per cycle: within 85% packed DSP48E1s are smallest (8 slices, not 16); within 2%
    (4.4 DSP48E1, 1,064 LUTs) neither 16 nor 8 slices fit, 16 LUT multipliers do (1,060 LUTs)."""
    from accel.rtl.folding import search_folding

    g = two_layers()
    choice = search_folding(g, None, _fake_evaluate(g), budget=budget)
    a = choice.fold["a"]
    assert (a.pe * a.simd, a.mult_style, choice.expected_ii, choice.stop) == (16, style, 2048, "bottleneck not folded")
    assert choice.fold["b"] == LayerFold(1, 1)
    assert choice.total.dsp <= budget * CAPACITY["DSP"] and choice.total.lut <= budget * CAPACITY["LUT"]
