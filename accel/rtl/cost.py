"""The fit check of an RTL build: the design's estimated resources against the capacity of its part.

Why: yosys takes minutes to hours on a large design and accel's own report runs only after the build, so without
this check ``accel build --backend rtl`` wrote any design, however large (a 4096x4096 dense layer holds 8 MB of
weights; the xc7z020 has 630 KB of block RAM).  Each block states its cost as a closed formula
(:meth:`accel.rtl.blocks.base.Block.cost`, :mod:`accel.rtl.blocks.cost`); here the network generator's instances
are summed per layer and in total, judged against :func:`accel.parts.part_info`, and a design that exceeds its
part in any resource is refused with one sentence naming the resource, the estimate, the capacity and the layer
contributing most, before anything is written (unless the caller allows it: ``allow_overfit``).  A part whose
capacity accel does not know is never refused; the manifest says so.

The estimate is the calibrated cost model, not a synthesis: docs/hardware.md ("Fit check") gives the method and
the error observed against yosys ``synth_xilinx -family xc7``; ``accel report`` runs yosys itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accel import AccelError
from accel.parts import PartInfo, known_devices, part_info
from accel.rtl.blocks.cost import RESOURCES, Cost, Memory, total

#: how the estimate was made, recorded in build.json
METHOD = ("sum of the instances' cost formulas (accel/rtl/blocks/cost.py), calibrated against yosys synth_xilinx "
          "-family xc7 per instance (scripts/calibrate_cost.py; docs/hardware.md, Fit check)")  # fmt: skip
#: how a sentence names each resource
LABELS = {"LUT": "LUTs", "FF": "flip-flops", "DSP": "DSP slices", "BRAM": "BRAM36"}
#: the build.json keys of a cost (lower case; BRAM counted in BRAM36 blocks)
KEYS = {"LUT": "lut", "FF": "ff", "DSP": "dsp", "BRAM": "bram36"}


def cost_json(cost: Cost) -> dict[str, float]:
    """A cost as build.json records it: ``lut``, ``ff``, ``dsp``, ``bram36``, rounded to 0.1."""
    return {KEYS[r]: round(cost.of(r), 1) for r in RESOURCES}


def memory_json(memory: Memory) -> dict[str, Any]:
    """One memory of an instance as build.json records it: what it holds, what it becomes, its size and cost."""
    return {"name": memory.name, "kind": memory.kind, "words": memory.words, "width": memory.width,
            "lut": round(memory.lut, 1), "ff": round(memory.ff, 1), "bram36": round(memory.bram36, 1),
            "bits": memory.bits}  # fmt: skip


def capacity_of(info: PartInfo) -> dict[str, int] | None:
    """The part's capacity per resource, None when accel does not know the device."""
    if not info.known:
        return None
    return {"LUT": info.lut, "FF": info.ff, "DSP": info.dsp, "BRAM": info.bram36}  # type: ignore[dict-item]


def _num(v: float, resource: str = "") -> str:
    """A resource count for a sentence: whole and thousands separated, a half BRAM36 kept."""
    if resource == "BRAM" and v != int(v):
        return f"{v:,.1f}"
    return f"{round(v):,}"


@dataclass(frozen=True)
class FitCheck:
    """The design's estimate per layer and in total, and its part."""

    layers: tuple[tuple[str, Cost], ...]  # (node, sum of its instances' costs), in graph order
    total: Cost
    part: PartInfo

    @property
    def capacity(self) -> dict[str, int] | None:
        return capacity_of(self.part)

    def utilisation(self) -> dict[str, float] | None:
        """Percent of the part per resource (None when the capacity is unknown)."""
        cap = self.capacity
        if cap is None:
            return None
        return {r: 100.0 * self.total.of(r) / cap[r] for r in RESOURCES}

    def over(self) -> list[str]:
        """The resources the estimate exceeds, the most exceeded first."""
        cap = self.capacity
        if cap is None:
            return []
        ratio = {r: self.total.of(r) / cap[r] for r in RESOURCES}
        return sorted((r for r in RESOURCES if ratio[r] > 1.0), key=lambda r: -ratio[r])

    @property
    def fits(self) -> bool | None:
        return None if self.capacity is None else not self.over()

    def largest_use(self) -> tuple[str, float] | None:
        """(resource, percent) of the largest use, None when the capacity is unknown."""
        pct = self.utilisation()
        if pct is None:
            return None
        worst = max(RESOURCES, key=lambda r: pct[r])
        return worst, pct[worst]

    def verdict(self) -> str:
        """One phrase: fits (largest use), does not fit (which resources), or capacity unknown."""
        if self.capacity is None:
            return (f"capacity of part {self.part.part} unknown (accel knows {', '.join(known_devices())}); "
                    "no fit check")  # fmt: skip
        pct = self.utilisation() or {}
        over = self.over()
        if over:
            return f"does not fit the {self.part.device}: " + ", ".join(f"{r} {pct[r]:.0f}%" for r in over)
        worst, p = self.largest_use() or ("LUT", 0.0)
        return f"fits the {self.part.device} (largest use: {worst} {p:.1f}%)"

    def refusal(self, graph: str) -> str:
        """The one sentence refusing the design: the most exceeded resource, estimate vs capacity, the layer
        holding most of it and where in that layer it goes."""
        resource = self.over()[0]
        cap = self.capacity or {}
        node, cost = max(self.layers, key=lambda nc: nc[1].of(resource))
        held = cost.of(resource)
        return (f"graph {graph}: the RTL design needs an estimated {_num(self.total.of(resource), resource)} "
                f"{LABELS[resource]} (the {self.part.device} has {_num(cap[resource])}); layer {node} holds "
                f"{_num(held, resource)} of them{_where(cost, resource)}; fold less, quantise narrower, or pass "
                "--allow-overfit.")  # fmt: skip

    def to_json(self, allow_overfit: bool) -> dict[str, Any]:
        """The ``fit`` record of build.json (:class:`accel.deploy.manifest.FitRecord`)."""
        cap = self.capacity
        pct = self.utilisation()
        return {
            "method": METHOD,
            "total": cost_json(self.total),
            "capacity": None if cap is None else {"device": self.part.device,
                                                  **{KEYS[r]: cap[r] for r in RESOURCES}},  # fmt: skip
            "utilisation_percent": None if pct is None else {KEYS[r]: round(pct[r], 2) for r in RESOURCES},
            "fits": self.fits,
            "verdict": self.verdict(),
            "allow_overfit": bool(allow_overfit),
        }


def _where(cost: Cost, resource: str) -> str:
    """Where a layer's use of ``resource`` goes, when one memory (or the multipliers) holds most of it."""
    if resource == "DSP":
        return " in multipliers"
    amount = cost.of(resource)
    by_name: dict[str, float] = {}
    for m in cost.memory:
        by_name[m.name] = by_name.get(m.name, 0.0) + {"LUT": m.lut, "FF": m.ff, "BRAM": m.bram36}[resource]
    if not by_name or amount <= 0:
        return ""
    name, share = max(by_name.items(), key=lambda kv: kv[1])
    if share < 0.5 * amount:
        return ""
    return f" in {name}" if name in ("weights", "biases") else f" in its {name}"


def fit_check(layers: Sequence[tuple[str, Cost]], part: str) -> FitCheck:
    """Sum ``(node, cost)`` pairs (one per instance or per layer) per layer and in total, against ``part``."""
    per_layer: dict[str, Cost] = {}
    for node, cost in layers:
        per_layer[node] = per_layer.get(node, Cost()) + cost
    return FitCheck(tuple(per_layer.items()), total(per_layer.values()), part_info(part))


def refuse_overfit(check: FitCheck, graph: str, allow_overfit: bool) -> None:
    """Raise the refusal when the design exceeds its part and the caller did not allow it."""
    if check.over() and not allow_overfit:
        raise AccelError(check.refusal(graph))
