"""A sweep's YAML spec: read, checked key by key, and expanded into independent jobs.

Why every check names the file and the key: a sweep runs for hours, so a typo must stop it before the first
job, in one sentence (AccelError, exit status 2), not as a traceback in a worker an hour later.

The spec (docs/sweep.md has an example)::

    models: [ds_cnn_kws]            # zoo names or .h5 files (relative to the spec's folder)
    target_ii: [8000, 16000]        # or budget: [0.5, 0.85], or folding: [a.yaml, b.json] (one of the three)
    default: true                   # also the default build (no target II, budget or folding); default true
    seeds: [0]                      # random inputs of the co-simulation
    simulators: [icarus]            # icarus | verilator
    samples: [3]                    # frames per co-simulation
    parts: [xc7z020clg400-1]
    synth: true                     # yosys resources and estimated Fmax per job (default true)
    output: ds_cnn_kws.sweep        # where the jobs and the table go (default: SPEC's name + .sweep)

A job is the product of the lists: models x (default + foldings) x seeds x simulators x samples x parts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from accel import AccelError, __version__

#: the folding axes of a spec, at most one of which is given
FOLDING_KEYS = ("target_ii", "budget", "folding")
SIMULATORS = ("icarus", "verilator")
KNOWN_KEYS = ("models", *FOLDING_KEYS, "default", "seeds", "simulators", "samples", "parts", "synth", "output")


@dataclass(frozen=True)
class Sweep:
    """A checked spec: its jobs (JSON-ready dicts, each with its content ``key``) and its output folder."""

    path: Path
    output: Path
    jobs: tuple[dict[str, Any], ...]


def _fail(path: Path, key: str, what: str) -> AccelError:
    return AccelError(f"{path}: '{key}' {what}.")


def _list(path: Path, data: dict[str, Any], key: str, default: list[Any] | None) -> list[Any]:
    """``data[key]`` as a non-empty list without repeats (a scalar is a list of one)."""
    value = data.get(key, default)
    if value is None:
        raise _fail(path, key, "is missing; give a list (see docs/sweep.md)")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _fail(path, key, "is an empty list; give at least one value or leave the key out")
    if len({json.dumps(v, sort_keys=True) for v in items}) != len(items):
        raise _fail(path, key, "lists a value twice; each value makes its own jobs, so list it once")
    return items


def _whole(path: Path, key: str, items: list[Any], low: int) -> list[int]:
    bad = [v for v in items if isinstance(v, bool) or not isinstance(v, int) or v < low]
    if bad:
        raise _fail(path, key, f"holds {bad[0]!r}; give whole numbers of {low} or more")
    return items


def _model(path: Path, item: Any) -> dict[str, str]:
    """A model entry: a zoo name, or a Keras file (relative to the spec) recorded with its content hash."""
    from accel.steps import zoo_names

    if not isinstance(item, str) or not item:
        raise _fail(path, "models", f"holds {item!r}; give zoo names or paths to Keras .h5 files")
    if item in zoo_names():
        return {"name": item, "source": item, "sha256": ""}
    file = (path.parent / item).resolve()
    if not file.is_file():
        raise _fail(path, "models", f"holds '{item}', which is neither a zoo model ({', '.join(zoo_names())}) nor "
                    "a file")  # fmt: skip
    return {"name": file.stem, "source": str(file), "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}


def _foldings(path: Path, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The folding axis: one search dict per value ({} is the default build)."""
    given = [k for k in FOLDING_KEYS if k in data]
    if len(given) > 1:
        raise _fail(path, given[1], f"cannot be combined with '{given[0]}'; a sweep varies one of "
                    f"{', '.join(FOLDING_KEYS)}")  # fmt: skip
    default = data.get("default", True)
    if not isinstance(default, bool):
        raise _fail(path, "default", f"is {default!r}; give true or false")
    searches: list[dict[str, Any]] = [{}] if default else []
    if given == ["target_ii"]:
        searches += [{"target_ii": v} for v in _whole(path, "target_ii", _list(path, data, "target_ii", None), 1)]
    elif given == ["budget"]:
        budgets = _list(path, data, "budget", None)
        bad = [v for v in budgets if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1]
        if bad:
            raise _fail(path, "budget", f"holds {bad[0]!r}; give fractions in (0, 1] of each resource of the part")
        searches += [{"budget": float(v)} for v in budgets]
    elif given == ["folding"]:
        searches += [{"folding": _folding_file(path, v)} for v in _list(path, data, "folding", None)]
    if not searches:
        raise _fail(path, "default", "is false and no target_ii, budget or folding is given, so there is nothing "
                    "to build")  # fmt: skip
    return searches


def _folding_file(path: Path, item: Any) -> dict[str, Any]:
    """An explicit folding: the file's parsed content goes into the job (so its hash follows the content)."""
    import yaml

    file = (path.parent / str(item)).resolve()
    if not isinstance(item, str) or not file.is_file():
        raise _fail(path, "folding", f"holds {item!r}, which is not a JSON or YAML folding file")
    try:
        content = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise _fail(path, "folding", f"names {file}, which is not valid YAML/JSON ({str(exc).splitlines()[0]})") \
            from None
    if not isinstance(content, dict):
        raise _fail(path, "folding", f"names {file}, which is not a mapping of node names to PE/SIMD settings")
    return {"file": str(item), "layers": content}


#: sources that only orchestrate (they do not shape a job's build, co-simulation or estimate), left out of the
#: generator's hash so that a fix to the sweep's own code does not redo finished jobs
ORCHESTRATION = ("sweep", "cli.py")


@lru_cache(maxsize=1)
def generator_hash() -> str:
    """A hash of accel's version and of the Python and Verilog sources that build, simulate and estimate a design
    (all of accel but :data:`ORCHESTRATION`): a job folder made by other code is not reused."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    files = (p for ext in ("*.py", "*.v") for p in root.rglob(ext))
    for file in sorted(f for f in files if f.relative_to(root).parts[0] not in ORCHESTRATION):
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def job_key(job: dict[str, Any]) -> str:
    """The content address of a job: its canonical JSON (without the key itself) and the generator's hash."""
    body = {k: v for k, v in job.items() if k != "key"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{generator_hash()}\n{text}".encode()).hexdigest()[:20]


def load_spec(path: str | Path, output: str | Path | None = None) -> Sweep:
    """Read and check ``path``; the expanded jobs and the output folder (``output`` overrides the spec's)."""
    import yaml

    from accel.steps import DEFAULT_PART

    path = Path(path)
    if not path.is_file():
        raise AccelError(f"sweep spec {path} does not exist; give a YAML file (see docs/sweep.md).")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise AccelError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}).") from None
    if not isinstance(data, dict):
        raise AccelError(f"{path} is not a mapping of keys ({', '.join(KNOWN_KEYS)}); see docs/sweep.md.")
    unknown = [k for k in data if k not in KNOWN_KEYS]
    if unknown:
        raise _fail(path, str(unknown[0]), f"is not a sweep key; known keys: {', '.join(KNOWN_KEYS)}")
    models = [_model(path, m) for m in _list(path, data, "models", None)]
    searches = _foldings(path, data)
    seeds = _whole(path, "seeds", _list(path, data, "seeds", [0]), 0)
    sims = _list(path, data, "simulators", ["icarus"])
    bad = [s for s in sims if s not in SIMULATORS]
    if bad:
        raise _fail(path, "simulators", f"holds {bad[0]!r}; supported: {', '.join(SIMULATORS)}")
    samples = _whole(path, "samples", _list(path, data, "samples", [3]), 1)
    parts = _list(path, data, "parts", [DEFAULT_PART])
    _check_parts(path, parts)
    synth = data.get("synth", True)
    if not isinstance(synth, bool):
        raise _fail(path, "synth", f"is {synth!r}; give true or false")
    out = output if output is not None else data.get("output", f"{path.stem}.sweep")
    if not isinstance(out, (str, Path)):
        raise _fail(path, "output", f"is {out!r}; give a folder")
    jobs = []
    for model in models:
        for search in searches:
            for seed in seeds:
                for sim in sims:
                    for n in samples:
                        for part in parts:
                            job = {"model": model, "search": search, "seed": seed, "simulator": sim,
                                   "samples": n, "part": part, "synth": synth}  # fmt: skip
                            jobs.append({**job, "key": job_key(job)})
    folder = Path(out) if output is not None else path.parent / out
    return Sweep(path, folder, tuple(jobs))


def _check_parts(path: Path, parts: list[Any]) -> None:
    from accel.parts import known_devices, part_info

    for part in parts:
        try:
            known = isinstance(part, str) and part_info(part).known
        except AccelError:
            known = False
        if not known:
            raise _fail(path, "parts", f"holds {part!r}, a part outside accel's table; known devices: "
                        f"{', '.join(known_devices())}")  # fmt: skip
