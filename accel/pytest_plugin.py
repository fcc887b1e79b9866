"""accel's pytest plugin: the ``accel_verify`` fixture, for a user's own test suite and CI (see docs/ci.md).

Registered through the ``pytest11`` entry point, so any pytest run in an environment where accel is installed
has the fixture::

    def test_digits_exact(accel_verify):
        accel_verify("digits", against=["qkeras", "rtl"], samples=20)

Each comparison is accel's own bit-exact check (:func:`accel.steps.verify`, or
:func:`accel.steps.verify_build_dir` for a build directory).  Any mismatch fails the test with accel's
one-line report per comparison (the first diverging layer, index and values), without a traceback; an
:class:`accel.AccelError` fails it with its sentence.  accel itself (and TensorFlow) is imported only when
the fixture is called, so the plugin costs nothing to a pytest run that does not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

#: What ``against`` may name, as ``accel verify --against`` does.
TARGETS = ("qkeras", "hls", "rtl")
#: The options ``accel_verify`` passes on to :func:`accel.steps.verify` (those of ``accel verify``).
MODEL_OPTIONS = ("io", "simulator", "folding", "budget", "target_ii", "output_dir", "input_type", "softmax")
#: Those of them that say how the model is converted (:func:`accel.steps.load_model`).
FRONTEND_OPTIONS = ("input_type", "softmax")
#: The options that apply to a build directory, which is verified as it is.
BUILD_DIR_OPTIONS = ("simulator",)


def _targets(against: str | Iterable[str]) -> list[str]:
    targets = [against] if isinstance(against, str) else list(against)
    if not targets:
        pytest.fail(f"accel_verify: `against` names no comparison; give one or more of {', '.join(TARGETS)}.",
                    pytrace=False)  # fmt: skip
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        pytest.fail(f"accel_verify: verification against '{unknown[0]}' is unknown; supported: {', '.join(TARGETS)}.",
                    pytrace=False)  # fmt: skip
    return targets


def run_verify(model: str | Path, against: str | Iterable[str] = ("qkeras",), samples: int = 20, seed: int = 0,
               **options: Any) -> list[dict[str, Any]]:  # fmt: skip
    """Verify ``model`` (a zoo name, a Keras .h5 path or a build directory) against each of ``against``.

    Returns the JSON-ready result of each comparison (those ``accel verify --json`` prints); calls
    :func:`pytest.fail` with accel's report when any output differs or accel refuses the request.
    """
    from accel import AccelError
    from accel.steps import describe_verify, is_build_dir, load_model, verify, verify_build_dir

    spec = str(model)
    targets = _targets(against)
    build_dir = is_build_dir(spec)
    allowed = BUILD_DIR_OPTIONS if build_dir else MODEL_OPTIONS
    extra = [k for k in options if k not in allowed]
    if extra:
        what = f"{spec} is a build directory, which is verified as it is" if build_dir else "accel_verify"
        pytest.fail(f"accel_verify: {what}; option '{extra[0]}' does not apply (options: {', '.join(allowed)}).",
                    pytrace=False)  # fmt: skip
    results: list[dict[str, Any]] = []
    try:
        if build_dir:
            for target in targets:
                results.append(verify_build_dir(Path(spec), target, samples, seed, **options))
        else:
            frontend = {k: v for k, v in options.items() if k in FRONTEND_OPTIONS}
            rest = {k: v for k, v in options.items() if k not in FRONTEND_OPTIONS}
            keras_model, graph = load_model(spec, **frontend)
            for target in targets:
                results.append(verify(keras_model, graph, target, samples, seed, **rest))
    except AccelError as e:
        pytest.fail(f"accel: error: {e}", pytrace=False)
    failed = [describe_verify(r) for r in results if r["mismatches"]]
    if failed:
        pytest.fail("\n".join(failed), pytrace=False)
    return results


@pytest.fixture
def accel_verify() -> Callable[..., list[dict[str, Any]]]:
    """``accel_verify(model, against=("qkeras",), samples=20, seed=0, **options)``: accel's bit-exact check of
    ``model`` (a zoo name, a Keras .h5 path or a build directory, which is checked against its own backend)
    against each of ``against`` ("qkeras", "hls", "rtl"; a string or a list); fails the test with accel's
    report on any mismatch, else returns the list of results.  ``options``: ``io``, ``simulator``,
    ``folding``, ``budget``, ``target_ii``, ``output_dir``, ``input_type``, ``softmax``, as for ``accel verify``
    (a build directory takes only ``simulator``)."""
    return run_verify
