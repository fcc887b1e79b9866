"""Folding: how many processing elements (PE) and SIMD lanes each compute layer of the RTL network gets.

Only ops whose RTL lowering declares a :class:`accel.ops.lowering.Folding` are folded (today ``conv2d``:
one ``accel_mvu``, PE = output channels per beat, SIMD = input channels per beat, which for a KxK conv is
also the lanes of its ``accel_window``; and ``depthwise_conv2d``: one ``accel_dwu``, PE = channels per
beat, no SIMD).  The op's Folding gives the dimensions, the lanes, the multipliers and the blocks whose
cycle model the optimiser balances; every other block streams at the lanes its producer gives it (see
:mod:`accel.rtl.network`).

Default rule (``choose_folding``), a greedy balance of cycles per frame:

1. start every folded layer at PE = SIMD = 1;
2. take the bottleneck layer (most expected cycles per frame, from the blocks'
   ``expected_cycles_per_frame``); stop when it is within ``target_ii``;
3. raise its parallelism one step: PE to the next divisor of its PE dimension, or SIMD to the next divisor
   of its input channels, whichever gives fewer cycles (ties: fewer multipliers, then the more balanced
   PE/SIMD pair, then PE); a step that would exceed ``max_multipliers`` multipliers in total is not taken;
4. repeat; when the bottleneck cannot be raised any more the loop stops (the II is then that layer's).

So every layer gets the smallest parallelism that meets the target, and the cycles per frame are
balanced below it.  ``DEFAULT_TARGET_II`` = 50,000 cycles is the target that puts ``ds_cnn_kws`` at or
below 50,000 cycles per inference (the issue's goal; its default folding gives an expected II of
40,000); ``DEFAULT_MAX_MULTIPLIERS`` = 220 is the DSP48E1 count of the xc7z020.

Overrides: a dict, or a JSON/YAML file, ``{node: {"pe": P, "simd": S}}`` fixes those layers (a missing
key keeps 1); the others follow the default rule.  ``"ram_style": "auto" | "block" | "lut"`` says where the
layer's weight and bias ROMs go (accel.rtl.blocks.cost.BLOCK_ROM_BITS; alone it leaves PE/SIMD to the
rule).  Unknown nodes and keys, layers without PE/SIMD, SIMD on a depthwise layer, values that do not divide
the channel counts and unknown ROM styles are refused with one sentence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.ir import OPS, Graph, Node
from accel.ops.lowering import Folding, LayerFold
from accel.rtl.blocks.cost import BLOCK_ROM_BITS, RAM_STYLES

#: target cycles per frame of the default rule (makes ds_cnn_kws' II <= 50,000)
DEFAULT_TARGET_II = 50_000
#: multiplier budget of the default rule: the 220 DSP48E1 slices of the xc7z020
DEFAULT_MAX_MULTIPLIERS = 220

__all__ = ["LayerFold", "choose_folding", "folded_nodes", "layer_cycles", "multipliers"]


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
    unknown = sorted(set(value) - {"pe", "simd", "ram_style"})
    if unknown:
        raise AccelError(f"{where}: node {name} has unknown keys {unknown}; supported keys are pe, simd and "
                         "ram_style.")
    style = value.get("ram_style", "auto")
    if style not in RAM_STYLES:
        raise AccelError(f"{where}: node {name} ram_style={style!r}; supported values are "
                         f"{', '.join(RAM_STYLES)} (auto: block RAM for ROMs of {BLOCK_ROM_BITS:,} bits or more).")
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
        return LayerFold(pe, None, style)
    simd = 1 if simd is None else simd
    if simd_dim % simd:
        raise AccelError(f"{where}: node {name} SIMD={simd} does not divide its {simd_dim} {spec.simd_dim_name}; "
                         f"supported SIMD values are {', '.join(map(str, divisors(simd_dim)))}.")
    return LayerFold(pe, simd, style)


def _steps(graph: Graph, node: Node, fold: LayerFold) -> list[LayerFold]:
    """The next larger foldings of a layer: PE one divisor up, or SIMD one divisor up."""
    pe_dim, simd_dim = fold_dims(graph, node)
    out = []
    bigger = [d for d in divisors(pe_dim) if d > fold.pe]
    if bigger:
        out.append(replace(fold, pe=bigger[0]))
    if simd_dim is not None:
        bigger = [d for d in divisors(simd_dim) if d > (fold.simd or 1)]
        if bigger:
            out.append(replace(fold, simd=bigger[0]))
    return out


def choose_folding(
    graph: Graph,
    overrides: Any = None,
    target_ii: int = DEFAULT_TARGET_II,
    max_multipliers: int = DEFAULT_MAX_MULTIPLIERS,
) -> dict[str, LayerFold]:
    """PE/SIMD of every folded node: the overrides, the default rule for the rest."""
    where = "folding" if overrides is None or isinstance(overrides, Mapping) else f"folding file {overrides}"
    given = load_overrides(overrides)
    fixed = {str(k): _check_override(graph, where, k, v) for k, v in given.items()}
    nodes = folded_nodes(graph)
    fold = {n.name: fixed.get(n.name, LayerFold(1, None if fold_dims(graph, n)[1] is None else 1)) for n in nodes}
    if not nodes:
        return fold
    cycles = {n.name: layer_cycles(graph, n, fold[n.name]) for n in nodes}
    mults = {n.name: multipliers(graph, n, fold[n.name]) for n in nodes}
    frozen = {str(k) for k, v in given.items() if "pe" in v or "simd" in v}  # a ram_style alone leaves PE/SIMD free
    while True:
        free = [n for n in nodes if n.name not in frozen]
        if not free:
            break
        worst = max(free, key=lambda n: cycles[n.name])
        if cycles[worst.name] <= target_ii:
            break
        options = []
        for step in _steps(graph, worst, fold[worst.name]):
            m = multipliers(graph, worst, step)
            if sum(mults.values()) - mults[worst.name] + m > max_multipliers:
                continue
            c = layer_cycles(graph, worst, step)
            options.append((c, m, max(step.pe, step.simd or 1), 0 if step.pe > fold[worst.name].pe else 1, step))
        if not options:
            frozen.add(worst.name)  # cannot go faster within the budget: the II is this layer's
            continue
        best = min(options, key=lambda o: o[:4])[4]
        fold[worst.name] = best
        cycles[worst.name] = layer_cycles(graph, worst, best)
        mults[worst.name] = multipliers(graph, worst, best)
    return fold
