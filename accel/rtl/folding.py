"""Folding: how many processing elements (PE) and SIMD lanes each compute layer of the RTL network gets, and how
its products are made (``mult_style``).

Only ops whose RTL lowering declares a :class:`accel.ops.lowering.Folding` are folded (today ``conv2d``:
one ``accel_mvu``, PE = output channels per beat, SIMD = input channels per beat, which for a KxK conv is
also the lanes of its ``accel_window``; and ``depthwise_conv2d``: one ``accel_dwu``, PE = channels per
beat, no SIMD).  The op's Folding gives the dimensions, the lanes, the multipliers and the blocks whose
cycle model the optimiser balances; every other block streams at the lanes its producer gives it (see
:mod:`accel.rtl.network`).

The optimiser (:func:`search_folding`) budgets the part, not a multiplier count.  It judges a folding by the
whole design: the network generator lowers the graph with it and sums the cost model of every instance
(:meth:`accel.rtl.blocks.base.Block.cost`: DSP48E1 after packing, LUT, FF, BRAM36 of MVUs, DWUs, windows,
pools, requantisers, FIFOs, width converters ...) and takes each node's slowest ``expected_cycles_per_frame``.
That evaluation is handed in as a callback (:data:`Evaluate`), because this module sits below
:mod:`accel.rtl.network`; :func:`accel.rtl.network.choose_folding` is the entry point that supplies it.
Evaluations are cached (a folding is evaluated once).

The rule:

1. every folded layer starts at its smallest folding (PE = SIMD = 1, DSP48E1 multipliers);
2. the bottleneck is the node with the most expected cycles per frame, counting every block (input FIFOs,
   width converters, pools ...; ties: the earliest in the graph).  If it is not a folded layer (e.g. a pool, or
   the input stream), or its PE/SIMD are fixed by the folding file, nothing can be gained: stop;
3. raise *only the bottleneck*, by the smallest step that reduces its cycles: the (PE, SIMD) pairs over all
   divisors of its dimensions (not only powers of two) whose cycle model is the next one below its present
   cycles (a pair more parallel than another of the same cycles is left out), each with every multiplier style
   its blocks allow (:meth:`~accel.rtl.blocks.base.Block.mult_styles`: "dsp", "dsp2" two products per
   DSP48E1, "lut") unless the folding file fixes one;
4. of the candidates whose design fits the budget in every resource (estimate <= ``budget`` x the part's
   capacity of LUT, FF, DSP48E1 and BRAM36) the smallest wins: one with DSP48E1 multipliers (dsp, dsp2) before
   one with LUT multipliers (LUTs are the fabric every other block needs; DSP slices serve nothing else, so
   LUT multipliers come in only when no DSP candidate fits), then the lowest largest utilisation fraction
   over the four resources, then the lowest sum of the four fractions, then the order dsp, dsp2, lut and fewer
   PE (so equal costs keep the plainer hardware).  A step that fits but leaves the node's cycles where they
   were (another of its blocks, e.g. a width converter fed by a narrow producer, holds it) is passed over for
   the next one;
5. stop when no candidate fits the budget (the II is then the bottleneck's), when the bottleneck has no faster
   folding, or — with a ``target_ii`` — as soon as the bottleneck is within it.

So the default (``budget`` = :data:`DEFAULT_BUDGET`, no target) is the fastest design found that fits 85% of the
part, and ``target_ii=N`` the smallest that reaches N cycles per frame; a target the budget cannot reach is
refused with one sentence naming the bottleneck and its best cycles.  A part whose capacity accel does not
know is budgeted as the xc7z020 (:data:`accel.parts.DEFAULT_PART`).

Overrides: a dict, or a JSON/YAML file, ``{node: {"pe": P, "simd": S}}`` fixes those layers (a missing key keeps
1); they are never raised.  ``"ram_style": "auto" | "block" | "lut"`` says where the layer's weight and bias ROMs
go (accel.rtl.blocks.cost.BLOCK_ROM_BITS); ``"mult_style": "auto" | "dsp" | "dsp2" | "lut"`` fixes how its
products are made ("auto", the default: the optimiser's choice).  Either alone leaves PE/SIMD to the optimiser.
Unknown nodes and keys, layers without PE/SIMD, SIMD on a depthwise layer, values that do not divide the
channel counts, unknown styles and styles the layer's blocks cannot build are refused with one sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.ir import OPS, Graph, Node
from accel.ops.lowering import Folding, LayerFold
from accel.parts import DEFAULT_PART, part_info
from accel.rtl.blocks.cost import BLOCK_ROM_BITS, MULT_STYLES, RAM_STYLES, RESOURCES, Cost
from accel.rtl.cost import capacity_of

#: share of each resource of the part the default search may fill (LUT, FF, DSP48E1, BRAM36)
DEFAULT_BUDGET = 0.85
#: what a folding file's ``mult_style`` may say: the optimiser's choice, or one of MULT_STYLES
MULT_CHOICES = ("auto", *MULT_STYLES)
#: the override keys a folded layer takes
OVERRIDE_KEYS = ("pe", "simd", "ram_style", "mult_style")

__all__ = ["DEFAULT_BUDGET", "Evaluate", "Evaluation", "FoldingChoice", "LayerFold", "folded_nodes", "layer_cycles",
           "multipliers", "search_folding"]


def folding_of(node: Node) -> Folding | None:
    """The op's Folding, or None when the op has no PE/SIMD."""
    rtl = OPS[node.op].rtl if node.op in OPS else None
    return rtl.folding if rtl is not None else None


def folded_nodes(graph: Graph) -> list[Node]:
    return [n for n in graph.nodes if folding_of(n) is not None]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def fold_dims(graph: Graph, node: Node) -> tuple[int, int | None]:
    """(size PE must divide, size SIMD must divide or None) of a folded layer."""
    return folding_of(node).dims(graph, node)  # type: ignore[union-attr]


def multipliers(graph: Graph, node: Node, fold: LayerFold) -> int:
    """Multipliers a folded layer instantiates (PE*SIMD for accel_mvu, PE*multiplier for accel_dwu)."""
    return folding_of(node).multipliers(node, fold)  # type: ignore[union-attr]


def layer_cycles(graph: Graph, node: Node, fold: LayerFold) -> int:
    """Expected cycles per frame of a folded layer's blocks, the slowest of them."""
    return folding_of(node).cycles(graph, node, fold)  # type: ignore[union-attr]


def load_overrides(spec: Any) -> dict[str, Any]:
    """A folding override: None, a dict, or a path to a JSON (.json) or YAML (.yaml/.yml) file."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return dict(spec)
    path = Path(spec)
    if not path.is_file():
        raise AccelError(f"folding file {path} does not exist; give a JSON or YAML file {{node: {{pe, simd}}}}.")
    text = path.read_text()
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one sentence
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AccelError(f"folding file {path} cannot be parsed ({first}); it must be JSON or YAML.") from None
    if not isinstance(data, Mapping):
        raise AccelError(f"folding file {path} holds a {type(data).__name__}; it must map node names to "
                         "{pe, simd}.")
    return dict(data)


def _check_override(graph: Graph, where: str, name: Any, value: Any) -> LayerFold:
    folded = [n.name for n in folded_nodes(graph)]
    names = {n.name: n for n in graph.nodes}
    if name not in names:
        raise AccelError(f"{where}: node '{name}' is not in graph {graph.name}; "
                         f"layers with PE/SIMD are {', '.join(folded) or 'none'}.")
    node = names[name]
    spec = folding_of(node)
    if spec is None:
        ops = sorted(op for op, d in OPS.items() if d.rtl is not None and d.rtl.folding is not None)
        raise AccelError(f"{where}: node {name} ({node.op}) has no PE/SIMD; only {' and '.join(ops)} "
                         f"layers are folded ({', '.join(folded) or 'none'} here).")
    if not isinstance(value, Mapping):
        raise AccelError(f"{where}: node {name} maps to {value!r}; it must be {{\"pe\": P, \"simd\": S}}.")
    unknown = sorted(set(value) - set(OVERRIDE_KEYS))
    if unknown:
        raise AccelError(f"{where}: node {name} has unknown keys {unknown}; supported keys are pe, simd, ram_style "
                         "and mult_style.")
    style = value.get("ram_style", "auto")
    if style not in RAM_STYLES:
        raise AccelError(f"{where}: node {name} ram_style={style!r}; supported values are "
                         f"{', '.join(RAM_STYLES)} (auto: block RAM for ROMs of {BLOCK_ROM_BITS:,} bits or more).")
    mult = value.get("mult_style", "auto")
    if mult not in MULT_CHOICES:
        raise AccelError(f"{where}: node {name} mult_style={mult!r}; supported values are {', '.join(MULT_CHOICES)} "
                         "(auto: the optimiser's choice; dsp2: two products per DSP48E1; lut: LUT multipliers).")
    mult = "dsp" if mult == "auto" else mult  # the search replaces an "auto" style
    pe_dim, simd_dim = fold_dims(graph, node)
    pe = value.get("pe", 1)
    simd = value.get("simd")
    for what, v in (("PE", pe), ("SIMD", simd)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise AccelError(f"{where}: node {name} {what}={v!r}; it must be a positive integer.")
    if pe_dim % pe:
        raise AccelError(f"{where}: node {name} PE={pe} does not divide its {pe_dim} {spec.pe_dim_name}; "
                         f"supported PE values are {', '.join(map(str, divisors(pe_dim)))}.")
    if simd_dim is None:
        if simd is not None:
            raise AccelError(f"{where}: node {name} ({node.op}) has no SIMD (its PE channels per beat are also "
                             "its lanes); set only pe.")
        return LayerFold(pe, None, style, mult)
    simd = 1 if simd is None else simd
    if simd_dim % simd:
        raise AccelError(f"{where}: node {name} SIMD={simd} does not divide its {simd_dim} {spec.simd_dim_name}; "
                         f"supported SIMD values are {', '.join(map(str, divisors(simd_dim)))}.")
    return LayerFold(pe, simd, style, mult)




# -- the search -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    """One folding judged on the whole design: each node's expected cycles per frame (its slowest block; ``""``
    holds the graph input's own blocks), in graph order, and the estimated total cost of every instance."""

    cycles: dict[str, int]
    total: Cost


#: the whole design of a folding, evaluated (supplied by accel.rtl.network, which lowers the graph)
Evaluate = Callable[[dict[str, LayerFold]], Evaluation]

#: why a search stopped, as build.json's ``folding_search.stop`` says it
STOPS = ("target reached", "budget", "bottleneck not folded", "bottleneck fixed", "fastest folding", "nothing to fold")


@dataclass(frozen=True)
class FoldingChoice:
    """The optimiser's result: the folding of every folded node and how the search went."""

    fold: dict[str, LayerFold]
    mode: str  # "fastest" (the fastest that fits the budget) or "target" (the smallest that reaches target_ii)
    budget: float
    target_ii: int | None
    device: str  # the device whose capacity the budget is a share of
    expected_ii: int
    bottleneck: str  # the node holding the II ("" = the input stream)
    stop: str  # one of STOPS
    evaluations: int  # whole designs evaluated (each once)
    total: Cost  # the chosen design's estimate

    def search_json(self) -> dict[str, Any]:
        """build.json's ``folding_search`` (:attr:`accel.deploy.manifest.RtlFacts.folding_search`)."""
        return {"mode": self.mode, "budget": self.budget, "target_ii": self.target_ii, "device": self.device,
                "expected_ii_cycles": self.expected_ii, "bottleneck": self.bottleneck, "stop": self.stop,
                "evaluations": self.evaluations}  # fmt: skip


def check_search(budget: Any, target_ii: Any) -> None:
    """Refuse a budget outside (0, 1] or a target that is not a positive whole number, with one sentence."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget <= 1:
        raise AccelError(f"folding budget {budget!r} is not a fraction in (0, 1]; it is the share of each of the "
                         f"part's LUT, FF, DSP48E1 and BRAM36 the design may use (default {DEFAULT_BUDGET}).")
    if target_ii is not None and (isinstance(target_ii, bool) or not isinstance(target_ii, int) or target_ii < 1):
        raise AccelError(f"target II {target_ii!r} is not a positive whole number of cycles per frame.")


#: one way to fold a layer: (cycles per frame of its blocks, PE, SIMD or None, the multiplier styles it allows)
Option = tuple[int, int, int | None, tuple[str, ...]]


class _Search:
    """The state of one search: the graph, the cached evaluations, each layer's options, the budget."""

    def __init__(self, graph: Graph, evaluate: Evaluate, budget: float, part: str) -> None:
        self.graph, self._evaluate, self.budget = graph, evaluate, float(budget)
        info = part_info(part)
        if not info.known:  # budget an unknown device as the default part
            info = part_info(DEFAULT_PART)
        self.device = info.device
        self.capacity: dict[str, int] = capacity_of(info)  # type: ignore[assignment]
        self.cache: dict[tuple[tuple[str, LayerFold], ...], Evaluation] = {}
        self._options: dict[str, list[Option]] = {}

    def evaluate(self, fold: dict[str, LayerFold]) -> Evaluation:
        key = tuple(fold.items())
        if key not in self.cache:
            self.cache[key] = self._evaluate(fold)
        return self.cache[key]

    def fractions(self, total: Cost) -> list[float]:
        return [total.of(r) / self.capacity[r] for r in RESOURCES]

    def fits(self, total: Cost) -> bool:
        return all(f <= self.budget + 1e-12 for f in self.fractions(total))

    def rank(self, total: Cost, fold: LayerFold) -> tuple:
        """The smaller the better: DSP multipliers first, the largest use, the sum of uses, plainer styles, PE."""
        frac = self.fractions(total)
        return fold.mult_style == "lut", max(frac), sum(frac), MULT_STYLES.index(fold.mult_style), fold.pe

    def options(self, node: Node, ram_style: str) -> list[Option]:
        """Every (PE, SIMD) of the layer over all divisors, with its cycle model and the styles its blocks allow."""
        if node.name not in self._options:
            spec = folding_of(node)
            pe_dim, simd_dim = fold_dims(self.graph, node)
            out = []
            for pe in divisors(pe_dim):
                for simd in divisors(simd_dim) if simd_dim is not None else [None]:
                    blocks = spec.blocks(self.graph, node, LayerFold(pe, simd, ram_style), "")  # type: ignore[union-attr]
                    declared = [b.mult_styles() for b in blocks if b.mult_styles()]
                    styles = tuple(s for s in MULT_STYLES if all(s in d for d in declared)) if declared else ("dsp",)
                    out.append((max(b.expected_cycles_per_frame() for b in blocks), pe, simd, styles))
            self._options[node.name] = out
        return self._options[node.name]

    def steps(self, node: Node, fold: LayerFold, cycles: int, style: str | None) -> list[list[LayerFold]]:
        """The layer's faster foldings, grouped by cycle model, the slowest group (the smallest step) first; in a
        group, a pair at least as parallel in PE and SIMD as another is left out; ``style`` fixes the style."""
        opts = [o for o in self.options(node, fold.ram_style) if o[0] < cycles and (style is None or style in o[3])]
        groups = []
        for level in sorted({o[0] for o in opts}, reverse=True):
            same = [o for o in opts if o[0] == level]
            lean = [o for o in same if not any(_below(p, o) for p in same)]
            groups.append([LayerFold(pe, simd, fold.ram_style, s) for _, pe, simd, styles in lean
                           for s in ((style,) if style is not None else styles)])  # fmt: skip
        return groups


def _below(p: Option, o: Option) -> bool:
    """Whether ``p`` is strictly less parallel than ``o`` in PE and SIMD (so ``o``, of equal cycles, is waste)."""
    return p != o and p[1] <= o[1] and (p[2] or 1) <= (o[2] or 1)


def search_folding(graph: Graph, overrides: Any, evaluate: Evaluate, *, budget: float = DEFAULT_BUDGET,
                   target_ii: int | None = None, part: str = DEFAULT_PART) -> FoldingChoice:  # fmt: skip
    """The folding of every folded node: the overrides, and the module's rule for the rest (see its docstring).

    ``evaluate`` judges a whole design (:data:`Evaluate`); ``budget`` is the share of each resource of ``part``
    the design may use; ``target_ii``, when given, stops the search as soon as the II is within it and refuses,
    in one sentence, a target the budget cannot reach.
    """
    check_search(budget, target_ii)
    where = "folding" if overrides is None or isinstance(overrides, Mapping) else f"folding file {overrides}"
    given = {str(k): v for k, v in load_overrides(overrides).items()}
    fixed = {k: _check_override(graph, where, k, v) for k, v in given.items()}
    shape_fixed = {k for k, v in given.items() if "pe" in v or "simd" in v}
    style_fixed = {k for k, v in given.items() if v.get("mult_style", "auto") != "auto"}
    search = _Search(graph, evaluate, budget, part)
    nodes = folded_nodes(graph)
    fold = {n.name: _start(search, n, fixed.get(n.name), n.name in shape_fixed, n.name in style_fixed, where)
            for n in nodes}  # fmt: skip
    for n in nodes:  # a fixed shape with a free style: the style the rule prefers at that shape
        if n.name in shape_fixed and n.name not in style_fixed:
            f = fold[n.name]
            styles = next(o[3] for o in search.options(n, f.ram_style) if o[1:3] == (f.pe, f.simd))
            tried = [{**fold, n.name: replace(f, mult_style=s)} for s in styles]
            fold = min(tried, key=lambda t: (not search.fits(search.evaluate(t).total),
                                             search.rank(search.evaluate(t).total, t[n.name])))  # fmt: skip
    by_name = {n.name: n for n in graph.nodes}
    while True:
        ev = search.evaluate(fold)
        ii = max(ev.cycles.values(), default=0)
        slowest = [k for k, c in ev.cycles.items() if c == ii]
        stuck = next((k for k in slowest if k not in fold or k in shape_fixed), None)  # ties: nothing to gain
        worst = stuck if stuck is not None else slowest[0] if slowest else ""
        if not nodes:
            stop = "nothing to fold"
        elif target_ii is not None and ii <= target_ii:
            stop = "target reached"
        elif stuck is not None:
            stop = "bottleneck fixed" if stuck in shape_fixed else "bottleneck not folded"
        else:
            stop, step = _raise(search, by_name[worst], fold, ev, worst in style_fixed)
            if step is not None:
                fold = step
                continue
        break
    if target_ii is not None and ii > target_ii:
        raise AccelError(_unreachable(graph, search, worst, ii, target_ii, stop, fold.get(worst)))
    return FoldingChoice(fold, "fastest" if target_ii is None else "target", float(budget), target_ii,
                         search.device, ii, worst, stop, len(search.cache), ev.total)  # fmt: skip


def _start(search: _Search, node: Node, given: LayerFold | None, shape_fixed: bool, style_fixed: bool,
           where: str) -> LayerFold:  # fmt: skip
    """A layer's folding before the search: as given, else its smallest folding (the most cycles, then the
    fewest multipliers) that allows its style (a given style, else dsp)."""
    f = given or LayerFold(1, None if fold_dims(search.graph, node)[1] is None else 1)
    opts = search.options(node, f.ram_style)
    if shape_fixed:
        styles = next(o[3] for o in opts if o[1:3] == (f.pe, f.simd))
        if style_fixed and f.mult_style not in styles:
            raise AccelError(f"{where}: node {node.name} mult_style={f.mult_style!r} is not supported by its blocks "
                             f"at PE={f.pe}{'' if f.simd is None else f', SIMD={f.simd}'}; supported values there "
                             f"are auto, {', '.join(styles)}.")  # fmt: skip
        return f
    ok = [o for o in opts if f.mult_style in o[3]]
    if not ok:
        allowed = sorted({s for o in opts for s in o[3]}, key=MULT_STYLES.index)
        raise AccelError(f"{where}: node {node.name} mult_style={f.mult_style!r} is not supported by its blocks at any "
                         f"PE/SIMD; supported values are auto, {', '.join(allowed)}.")  # fmt: skip
    _, pe, simd, _ = min(ok, key=lambda o: (-o[0], o[1] * (o[2] or 1), o[1]))
    return replace(f, pe=pe, simd=simd)


def _raise(search: _Search, node: Node, fold: dict[str, LayerFold], ev: Evaluation,
           style_fixed: bool) -> tuple[str, dict[str, LayerFold] | None]:  # fmt: skip
    """The bottleneck's smallest step that reduces its cycles and fits the budget (the smallest design among
    them); (why the search stops, None) when there is none."""
    now = fold[node.name]
    cycles = ev.cycles[node.name]
    for group in search.steps(node, now, cycles, now.mult_style if style_fixed else None):
        tried = [({**fold, node.name: c}, c) for c in group]
        fitting = [(f, c) for f, c in tried if search.fits(search.evaluate(f).total)]
        if not fitting:
            return "budget", None
        faster = [(f, c) for f, c in fitting if search.evaluate(f).cycles[node.name] < cycles]
        if faster:
            return "", min(faster, key=lambda fc: search.rank(search.evaluate(fc[0]).total, fc[1]))[0]
    return "fastest folding", None


def _unreachable(graph: Graph, search: _Search, worst: str, ii: int, target: int, stop: str,
                 f: LayerFold | None) -> str:  # fmt: skip
    """The one sentence refusing a target the budget cannot reach."""
    node = next((n for n in graph.nodes if n.name == worst), None)
    what = f"layer {worst} ({node.op})" if node is not None else "the input stream"
    at = "" if f is None else f" at PE={f.pe}{'' if f.simd is None else f', SIMD={f.simd}'} ({f.mult_style})"
    why = {"budget": "its next faster folding does not fit the budget",
           "bottleneck not folded": "it has no PE/SIMD to raise",
           "bottleneck fixed": "its PE/SIMD are fixed by the folding given",
           "fastest folding": "it has no faster folding"}[stop]  # fmt: skip
    return (f"graph {graph.name}: a target II of {target:,} cycles cannot be reached within {search.budget * 100:g}% "
            f"of the {search.device}'s resources: the bottleneck, {what}, gets down to {ii:,} cycles per frame{at} "
            f"and {why}; raise the budget, aim higher or fold by hand.")  # fmt: skip
