"""``measured.json``: what the RTL co-simulation measured in a build directory, the one writer and reader of it.

Why one module: the co-simulation (:mod:`accel.rtl.verify`) writes the file and the report (:mod:`accel.report`)
reads it; before this module the report accepted four spellings of a layer's cycles because no layout was
written down.  Now :class:`Measured` is the layout and :func:`read_measured` refuses anything else with one
sentence naming the file.

Layout (schema 1, JSON with ``indent=1``)::

    schema              1
    model               graph name
    simulator           "icarus" | "verilator"
    frames              frames simulated
    latency_cycles      frame 0: first input beat to last output beat, inclusive, no stalls (null: none arrived)
    ii_cycles           median cycles between consecutive stall-free frames' last output beats, the first
                        interval left out when others remain (null: < 2 frames)
    expected_ii_cycles  the build manifest's expected II (null for a build without one)
    layers              [{node, expected_cycles, measured_cycles, instances: {instance: cycles}}] in build.json
                        order; measured = median busy cycles per frame (null: the monitor saw no frame)

A file without ``schema`` has this very layout (the co-simulation wrote it before this module existed) and is
read as schema 1.  Cycles are integers (the co-simulation's medians are taken as whole cycles).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accel import AccelError

MEASURED = "measured.json"
MEASURED_SCHEMA = 1
_KEYS = ("schema", "model", "simulator", "frames", "latency_cycles", "ii_cycles", "expected_ii_cycles", "layers")
_LAYER_KEYS = ("node", "expected_cycles", "measured_cycles", "instances")


@dataclass(frozen=True)
class MeasuredLayer:
    """One layer's cycles per frame: the manifest's expectation, the measured one, and each instance's."""

    node: str
    expected_cycles: int | None
    measured_cycles: int | None
    instances: dict[str, int | None]

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "expected_cycles": self.expected_cycles, "measured_cycles": self.measured_cycles,
                "instances": dict(self.instances)}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Measured:
    """The contents of ``measured.json`` (see the module docstring)."""

    model: str
    simulator: str
    frames: int
    latency_cycles: int | None
    ii_cycles: int | None
    expected_ii_cycles: int | None
    layers: tuple[MeasuredLayer, ...]
    schema: int = MEASURED_SCHEMA

    def layer_cycles(self) -> dict[str, int | None]:
        """node -> measured cycles per frame."""
        return {layer.node: layer.measured_cycles for layer in self.layers}

    def to_json(self) -> dict[str, Any]:
        return {"schema": self.schema, "model": self.model, "simulator": self.simulator, "frames": self.frames,
                "latency_cycles": self.latency_cycles, "ii_cycles": self.ii_cycles,
                "expected_ii_cycles": self.expected_ii_cycles,
                "layers": [layer.to_json() for layer in self.layers]}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any, path: str | Path = MEASURED) -> Measured:
        """Parse and check the JSON of ``measured.json``; one AccelError sentence naming ``path`` otherwise."""
        p = _Check(str(path))
        o = p.obj(data, "the file", _KEYS)
        schema = o.get("schema", MEASURED_SCHEMA)
        if schema != MEASURED_SCHEMA:
            raise AccelError(f"{path}: schema {schema!r} is not supported, this accel reads measured.json schema "
                             f"{MEASURED_SCHEMA}; run the co-simulation again (accel verify MODEL --against rtl).")
        layers = []
        rows = o["layers"]
        if not isinstance(rows, list):
            raise p.wrong("layers", rows, "a list")
        for i, row in enumerate(rows):
            r = p.obj(row, f"layers[{i}]", _LAYER_KEYS)
            insts = r["instances"]
            if not isinstance(insts, dict):
                raise p.wrong(f"layers[{i}].instances", insts, "a JSON object")
            for name, cycles in insts.items():
                p.cycles(f"layers[{i}].instances.{name}", cycles)
            layers.append(MeasuredLayer(node=p.str(f"layers[{i}].node", r["node"]),
                                        expected_cycles=p.cycles(f"layers[{i}].expected_cycles",
                                                                 r["expected_cycles"]),
                                        measured_cycles=p.cycles(f"layers[{i}].measured_cycles",
                                                                 r["measured_cycles"]),
                                        instances=dict(insts)))  # fmt: skip
        frames = o["frames"]
        if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
            raise p.wrong("frames", frames, "a positive integer")
        return cls(model=p.str("model", o["model"]), simulator=p.str("simulator", o["simulator"]),
                   frames=frames, latency_cycles=p.cycles("latency_cycles", o["latency_cycles"]),
                   ii_cycles=p.cycles("ii_cycles", o["ii_cycles"]),
                   expected_ii_cycles=p.cycles("expected_ii_cycles", o["expected_ii_cycles"]),
                   layers=tuple(layers), schema=MEASURED_SCHEMA)  # fmt: skip


class _Check:
    """Typed checks of one file's values; every failure is one sentence naming the file and the key."""

    def __init__(self, path: str) -> None:
        self.path = path

    def wrong(self, key: str, value: Any, expected: str) -> AccelError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return AccelError(f"{self.path}: {key} is {shown}, not {expected}; run the co-simulation again "
                          "(accel verify MODEL --against rtl).")  # fmt: skip

    def obj(self, data: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.wrong(where, data, "a JSON object")
        missing = [k for k in keys if k not in data and k != "schema"]
        unknown = [k for k in data if k not in keys]
        if missing or unknown:
            what = f"lacks {missing[0]}" if missing else f"has the unknown key {unknown[0]}"
            raise AccelError(f"{self.path}: {where} {what}; measured.json holds {', '.join(keys)}, so run the "
                             "co-simulation again (accel verify MODEL --against rtl).")  # fmt: skip
        return data

    def str(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.wrong(key, value, "a string")
        return value

    def cycles(self, key: str, value: Any) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        raise self.wrong(key, value, "a whole number of cycles or null")


def write_measured(directory: Path, measured: Measured) -> Path:
    """Write ``directory/measured.json``; returns its path."""
    path = Path(directory) / MEASURED
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measured.to_json(), indent=1) + "\n")
    return path


def read_measured(directory: Path) -> Measured | None:
    """``directory/measured.json`` checked, or None when the co-simulation has not run there."""
    path = Path(directory) / MEASURED
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AccelError(f"{path} cannot be read as JSON ({exc}); run the co-simulation again "
                         "(accel verify MODEL --against rtl).") from None  # fmt: skip
    return Measured.from_json(data, path)
