"""The model fuzzer: random valid QKeras models (tests/model_fuzzer.py) through every path.

Each `make test` runs ``ACCEL_FUZZ_N`` (200) models against QKeras and ``ACCEL_FUZZ_HLS`` / ``ACCEL_FUZZ_RTL``
(20 each) small ones through the HLS C simulation and the RTL co-simulation, from the base seed
``ACCEL_FUZZ_SEED`` (0); `make fuzz N=2000 SEED=7` runs N against QKeras and N/10 through each backend.
Every failure names its seed and the command that replays it alone.  The contract checked is the README's:
a model the frontend accepts is exact on every path, and no backend refuses or crashes on it; the frontend
may refuse a model, but only with an AccelError (one sentence), and the run asserts that most models are
accepted so that a generator drifting into refusals is noticed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from accel import AccelError
from accel.frontend import load_graph
from tests.model_fuzzer import Fuzzed, random_model

N_QKERAS = int(os.environ.get("ACCEL_FUZZ_N", "200"))
N_HLS = int(os.environ.get("ACCEL_FUZZ_HLS", "20"))
N_RTL = int(os.environ.get("ACCEL_FUZZ_RTL", "20"))
BASE = int(os.environ.get("ACCEL_FUZZ_SEED", "0"))
#: QKeras models per test item (items spread over the xdist workers)
PER_ITEM = 20
#: seed offsets of the backend runs, so they draw other models than the QKeras run
HLS_SEEDS, RTL_SEEDS = 1_000_000, 2_000_000
#: the least share of random models the frontend must accept
MIN_ACCEPTED = 0.8


def _replay(seed: int, path: str) -> str:
    """The failing seed and the command that runs that one model alone on ``path`` (qkeras, hls or rtl)."""
    base = seed - {"qkeras": 0, "hls": HLS_SEEDS, "rtl": RTL_SEEDS}[path]
    return (f"fuzz seed {seed} (replay: ACCEL_FUZZ_SEED={base} ACCEL_FUZZ_N=1 ACCEL_FUZZ_HLS=1 ACCEL_FUZZ_RTL=1 "
            f".venv/bin/python -m pytest tests/test_fuzz.py -k {path})")  # fmt: skip


def _convert(f: Fuzzed) -> Any | None:
    """The model's Graph, or None when the frontend refuses it (only ever with an AccelError)."""
    try:
        return load_graph(f.model, softmax=f.softmax)[1]
    except AccelError:
        return None


def _accepted_small(seed: int) -> tuple[Fuzzed, Any]:
    """The first small model from ``seed`` on (seeds seed, seed + 7919, ...) that the frontend accepts."""
    for k in range(10):
        f = random_model(seed + 7919 * k, small=True)
        graph = _convert(f)
        if graph is not None:
            return f, graph
    raise AssertionError(f"the frontend refused 10 small random models from seed {seed}")


def _run(seed: int, path: str, check: Any) -> None:
    """Run ``check()``; any exception other than an assertion becomes a failure naming the seed."""
    try:
        check()
    except AssertionError:
        raise
    except Exception as exc:  # a crash or a backend's refusal of an accepted graph
        pytest.fail(f"{_replay(seed, path)}: {type(exc).__name__}: {exc}")


@pytest.mark.slow
@pytest.mark.parametrize("item", range(max(1, -(-N_QKERAS // PER_ITEM))))
def test_random_models_are_exact_against_qkeras(item: int) -> None:
    from accel.verify import verify_against_qkeras

    seeds = [BASE + s for s in range(item * PER_ITEM, min(N_QKERAS, (item + 1) * PER_ITEM))]
    accepted = 0
    for seed in seeds:
        f = random_model(seed)
        graph = _convert(f)
        if graph is None:
            continue
        accepted += 1

        def check(f: Fuzzed = f, graph: Any = graph, seed: int = seed) -> None:
            r = verify_against_qkeras(f.model, graph, 20, seed=seed)
            assert r.mismatches == 0, f"{_replay(seed, 'qkeras')}: {f.families}: {r.to_json()['first_divergence']}"

        _run(seed, "qkeras", check)
    assert accepted >= MIN_ACCEPTED * len(seeds), f"the frontend accepted only {accepted} of seeds {seeds}"


@pytest.mark.slow
@pytest.mark.hls
@pytest.mark.parametrize("k", range(N_HLS))
def test_random_models_are_exact_in_the_hls_c_simulation(k: int) -> None:
    from accel.hls import verify_against_hls

    seed = BASE + HLS_SEEDS + k
    f, graph = _accepted_small(seed)
    io_type = ("io_stream", "io_parallel")[k % 2]

    def check() -> None:
        r = verify_against_hls(f.model, graph, 5, io_type=io_type, seed=seed)
        assert r.mismatches == 0, f"{_replay(seed, 'hls')}: {f.families} ({io_type}): {r.to_json()['first_divergence']}"

    _run(seed, "hls", check)


#: RTL seeds a held-out ``make fuzz`` run found failing, kept as regressions: a 1x1 average pool of a signed input
#: (its window sum was exactly as wide as an element, which accel_pool_core refuses at elaboration), alone and in a
#: graph with a 1x1 global average pool
RTL_REGRESSIONS = (2_777_017, 2_777_020)


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("seed", RTL_REGRESSIONS)
def test_seeds_a_held_out_fuzz_run_found_stay_exact_in_rtl(seed: int) -> None:
    _rtl_check(seed)


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("k", range(N_RTL))
def test_random_models_are_exact_in_the_rtl_co_simulation(k: int) -> None:
    _rtl_check(BASE + RTL_SEEDS + k)


def _rtl_check(seed: int) -> None:
    from accel.rtl.verify import verify_against_rtl

    f, graph = _accepted_small(seed)

    def check() -> None:
        r = verify_against_rtl(None, graph, 3, seed=seed)
        assert r.mismatches == 0 and not r.problems, (
            f"{_replay(seed, 'rtl')}: {f.families}: {r.to_json()['first_divergence']} {r.problems}"
        )

    _run(seed, "rtl", check)
