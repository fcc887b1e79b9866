"""Long runs under random and bursty backpressure (issue "Every graph the frontend accepts works on every
backend", item 5): a whole network of stream blocks co-simulated for tens of thousands of beats per seed, with
the harness's stalls (runs of up to 256 cycles, each random per cycle, a long stall or a gapless burst, on the
input and the output independently), every output value compared exactly and every frame's TLAST checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import Graph, GraphBuilder
from accel.rtl.network import build_rtl
from accel.rtl.verify import verify_build

S6 = FixedType(True, 6, 2)
#: input beats streamed per seed (half of the frames with stalls: verify_build streams its first half clean)
BEATS_PER_SEED = 40_000
SEEDS = (1, 2, 3)


def stream_graph() -> Graph:
    """Stream blocks that run at a beat per cycle, so that a long run is many beats: a requantiser, an
    accel_pad read by a concat (of it twice: a fork), a channel shuffle, an add of two branches (FIFOs) and
    a requantiser."""
    b = GraphBuilder("stream_mix")
    x = b.input("x", (8, 8, 4), S6)
    q = b.add("q", "quantize", [x], {"out_type": FixedType(True, 5, 2), "rounding": Rounding.ROUND_HALF_EVEN,
                                     "overflow": Overflow.SATURATE, "relu": False})  # fmt: skip
    p = b.add("p", "pad", [q], {"pads": (1, 0, 0, 1)})
    cat = b.add("cat", "concat", [p, p])
    sh = b.add("sh", "channel_shuffle", [cat], {"groups": 2})
    a = b.add("a", "add", [sh, cat])
    out = b.add("out", "quantize", [a], {"out_type": FixedType(True, 8, 3), "rounding": Rounding.ROUND_HALF_EVEN,
                                         "overflow": Overflow.SATURATE, "relu": True})  # fmt: skip
    return b.build([out])


@pytest.fixture(scope="module")
def stream_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Graph, Path]:
    graph = stream_graph()
    out = tmp_path_factory.mktemp("stream_mix")
    build_rtl(graph, out)
    return graph, out


@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator is installed by make system")
@pytest.mark.parametrize("seed", SEEDS)
def test_long_random_and_bursty_backpressure(stream_build: tuple[Graph, Path], seed: int, tmp_path: Path) -> None:
    graph, build = stream_build
    run = tmp_path / "b"
    shutil.copytree(build, run)  # each seed co-simulates its own copy (parallel workers)
    per_frame = int(graph.tensors["x"].shape[0] * graph.tensors["x"].shape[1] * graph.tensors["x"].shape[2])
    from accel.deploy.manifest import load_build

    lanes = load_build(run).input.lanes
    frames = 2 * -(-BEATS_PER_SEED // (per_frame // lanes))
    r = verify_build(graph, run, frames, seed, simulator="verilator", trace_layers=False, bursty=True)
    assert r.mismatches == 0 and not r.problems, (r.first_divergence, r.problems)
    print(f"[backpressure] seed {seed}: {frames} frames, {frames * per_frame // lanes} input beats, "
          f"{r.sim_s:.1f} s simulated")
