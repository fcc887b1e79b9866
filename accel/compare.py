"""The one comparison loop every verifier shares: exact raw integers in, a :class:`VerifyResult` out.

Why one loop: QKeras, the hls4ml C simulation and the RTL co-simulation produce their outputs in different
forms (float32 views, float64 views, stream beats), but once each is turned into raw integers of the output
type (or marked invalid: off the type's grid or range, X bits, a lost beat) the judgement is the same:
a sample mismatches when any of its values differs, values are compared with ``==``, and the first
difference is reported with its layer, index and both values.  Each verifier converts, then calls
:func:`compare_outputs`; none of them counts mismatches itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.ir import Graph


def random_inputs(graph: Graph, n: int, seed: int) -> np.ndarray:
    """``n`` raw input frames drawn uniformly over the input type's full range (shared by every backend)."""
    if len(graph.inputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs; supported: exactly one.")
    spec = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    return rng.integers(spec.dtype.min_raw, spec.dtype.max_raw, size=(n, *spec.shape), endpoint=True, dtype=np.int64)


def check_build_matches(graph: Graph, manifest: Any, build_dir: Any, backend: str) -> None:
    """A build (its :class:`accel.deploy.manifest.BuildManifest`) verified against a graph must be a
    ``backend`` build generated from that graph: same name, same input and output streams."""
    if manifest.backend != backend:
        raise AccelError(f"{build_dir} is an {manifest.backend} build; `--against {backend}` needs a "
                         f"{backend} build (accel build --backend {backend}), or use `--against {manifest.backend}`.")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
                         "a build has one input and one output stream.")  # fmt: skip
    tin, tout = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    want = (graph.name, tin.shape, tin.dtype, tout.shape, tout.dtype)
    have = (manifest.model, manifest.input.shape, manifest.input.dtype, manifest.output.shape, manifest.output.dtype)
    if want != have:
        raise AccelError(f"{build_dir} was built from model {manifest.model} ({manifest.input.shape} "
                         f"{manifest.input.type} -> {manifest.output.shape} {manifest.output.type}), not from "
                         f"{graph.name}; verify a build against the model it was built from.")  # fmt: skip


def load_build_for(graph: Graph, build_dir: Any, backend: str, samples: int) -> Any:
    """The typed manifest of a build about to be verified on ``samples`` frames against ``graph``, checked to be
    a ``backend`` build of that graph (see :func:`check_build_matches`)."""
    from accel.deploy.manifest import load_build

    if samples < 1:
        raise AccelError(f"--samples must be at least 1, got {samples}.")
    manifest = load_build(build_dir)
    check_build_matches(graph, manifest, build_dir, backend)
    return manifest


def float_to_raw(values: np.ndarray, dtype: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """Floats -> (raw ints, exact mask); a value off ``dtype``'s grid or range is not exact."""
    x = np.asarray(values, dtype=np.float64)
    scaled = np.ldexp(x, dtype.frac)
    finite = np.isfinite(scaled)
    safe = np.where(finite, scaled, 0.0)
    raw = np.rint(safe)
    ok = finite & (raw == safe) & (raw >= dtype.min_raw) & (raw <= dtype.max_raw)
    return np.where(ok, raw, 0).astype(np.int64), ok


@dataclass
class VerifyResult:
    """The outcome of one verification run (the CLI prints it and writes ``to_json()``)."""

    model: str
    against: str
    samples: int
    mismatches: int  # samples with any differing output value
    mismatched_values: int
    first_divergence: dict[str, Any] | None
    elapsed_s: float
    #: against QKeras only: output values QKeras' float32 rounded within its error bound (accepted, not counted as
    #: mismatches): ``values``, ``samples``, ``max_error_over_bound`` (the largest |QKeras - exact| / bound) and
    #: ``tensors`` (where float32 may round); None for the hardware paths, which are compared with ``==`` only
    float32_rounded: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def bound_ratio(got: np.ndarray, exact: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far ``got`` lies from the exact value, as a fraction of the bound on its side (0 when equal)."""
    d = got.astype(np.float64) - exact
    side = np.where(d > 0, hi - exact, exact - lo).astype(np.float64)
    return np.where(d == 0, 0.0, np.abs(d) / np.where(side > 0, side, np.inf))


@dataclass
class OutputCheck:
    """One graph output as a verifier saw it: the reference's raw values and the other side's.

    ``got_raw`` holds the other side's raw integers, ``valid`` says which of them are real values (False: off
    the grid or range, X bits, a missing beat; such a value mismatches whatever it holds); ``got_view`` is
    what the other side reported, for the message (a float, or the raw value's float view).
    """

    node: str
    layer: str
    dtype: FixedType
    shape: tuple[int, ...]
    expected_raw: np.ndarray  # (N, ...) reference raw values
    got_raw: np.ndarray  # (N, ...) other side's raw values
    valid: np.ndarray | None = None  # (N, ...) bool
    got_view: np.ndarray | None = None  # (N, ...) floats reported by the other side
    instance: str | None = None  # the hardware instance whose output this is, when there is one
    #: (lo, hi) raw bounds (N, ...) of what float32 arithmetic could make of the exact value (accel.float32), for
    #: a QKeras tensor where float32 may round; None: only the exact value is right
    bounds: tuple[np.ndarray, np.ndarray] | None = None

    def _flat(self, a: Any) -> np.ndarray:
        return np.asarray(a).reshape(self.expected_raw.shape[0], -1)

    def _valid(self) -> np.ndarray:
        return np.ones(self._flat(self.got_raw).shape, bool) if self.valid is None else self._flat(self.valid)

    def rounded_mask(self) -> np.ndarray:
        """(N, size): True where a valid value differs from the exact one but lies within the float32 bounds."""
        got, exp = self._flat(self.got_raw), self._flat(self.expected_raw)
        if self.bounds is None:
            return np.zeros(got.shape, bool)
        lo, hi = (self._flat(b) for b in self.bounds)
        return self._valid() & (got != exp) & (got >= lo) & (got <= hi)

    def mismatch_mask(self) -> np.ndarray:
        """(N, size): True where the values differ (beyond the float32 bounds, where there are bounds)."""
        bad = (self._flat(self.got_raw) != self._flat(self.expected_raw)) & ~self.rounded_mask()
        return bad | ~self._valid()

    def rounded_ratios(self) -> np.ndarray:
        """|got - exact| / bound of every float32-rounded value (each at most 1)."""
        mask = self.rounded_mask()
        if self.bounds is None or not mask.any():
            return np.zeros(0)
        lo, hi = (self._flat(b)[mask] for b in self.bounds)
        return bound_ratio(self._flat(self.got_raw)[mask], self._flat(self.expected_raw)[mask], lo, hi)

    def divergence(self, bad: np.ndarray, reference_is_expected: bool = True) -> dict[str, Any]:
        """The first differing value: layer, node, index (sample, h, w, c), expected and got as floats."""
        sample, flat = (int(i) for i in np.argwhere(bad)[0])
        n = self.expected_raw.shape[0]
        ref = float(self.dtype.to_float(np.asarray(self.expected_raw).reshape(n, -1)[sample, flat]))
        if self.got_view is not None:
            other = float(np.asarray(self.got_view, dtype=np.float64).reshape(n, -1)[sample, flat])
        else:
            other = float(self.dtype.to_float(np.asarray(self.got_raw).reshape(n, -1)[sample, flat]))
        expected, got = (ref, other) if reference_is_expected else (other, ref)
        out: dict[str, Any] = {"layer": self.layer, "node": self.node}
        if self.instance is not None:
            out["instance"] = self.instance
        out.update(index=[sample, *(int(i) for i in np.unravel_index(flat, self.shape))], expected=expected, got=got)
        return out


@dataclass
class Tally:
    """What :func:`compare_outputs` found: per-sample verdicts, the count of differing values, the first one."""

    bad_samples: np.ndarray  # (N,) bool
    bad_values: int
    first: dict[str, Any] | None
    rounded_samples: np.ndarray | None = None  # (N,) bool: samples with a float32-rounded value
    rounded_values: int = 0
    rounded_max_ratio: float = 0.0

    def float32_rounded(self, tensors: list[str]) -> dict[str, Any]:
        """The ``float32_rounded`` entry of the JSON: what was accepted as float32 rounding, and where it may be."""
        samples = 0 if self.rounded_samples is None else int(self.rounded_samples.sum())
        return {"values": self.rounded_values, "samples": samples,
                "max_error_over_bound": round(self.rounded_max_ratio, 6), "tensors": list(tensors)}  # fmt: skip

    def result(self, model: str, against: str, elapsed_s: float,
               float32_tensors: list[str] | None = None) -> VerifyResult:  # fmt: skip
        """The verdict; ``float32_tensors`` (against QKeras only) are where float32 may round, and with them the
        result reports ``float32_rounded``."""
        rounded = self.float32_rounded(float32_tensors) if float32_tensors is not None else None
        return VerifyResult(model=model, against=against, samples=int(self.bad_samples.size),
                            mismatches=int(self.bad_samples.sum()), mismatched_values=self.bad_values,
                            first_divergence=self.first, elapsed_s=round(elapsed_s, 3),
                            float32_rounded=rounded)  # fmt: skip


def compare_outputs(checks: list[OutputCheck], samples: int, reference_is_expected: bool = True) -> Tally:
    """Compare every output exactly (within its float32 bounds where it has some); ``reference_is_expected``
    False when the other side is the specification (QKeras: ``expected`` is then its value, ``got`` the reference's)."""
    tally = Tally(np.zeros(samples, dtype=bool), 0, None, np.zeros(samples, dtype=bool))
    for check in checks:
        bad = check.mismatch_mask()
        tally.bad_values += int(bad.sum())
        tally.bad_samples |= bad.any(axis=1)
        if tally.first is None and bad.any():
            tally.first = check.divergence(bad, reference_is_expected)
        rounded = check.rounded_mask()
        tally.rounded_values += int(rounded.sum())
        tally.rounded_samples |= rounded.any(axis=1)
        tally.rounded_max_ratio = float(np.max(check.rounded_ratios(), initial=tally.rounded_max_ratio))
    return tally


def first_diverging_layer(checks: list[OutputCheck], reference_is_expected: bool = True) -> dict[str, Any] | None:
    """The first of per-layer checks (in graph order) whose values differ, as a divergence; None when all agree."""
    for check in checks:
        bad = check.mismatch_mask()
        if bad.any():
            return check.divergence(bad, reference_is_expected)
    return None
