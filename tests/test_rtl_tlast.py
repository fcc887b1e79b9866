"""Output TLAST follows input TLAST through a whole RTL build (accel_frame_last at accel_top's ports).

The stream contract: output TLAST is high on the last beat of output frame k iff the last beat of input frame k
carried TLAST.  Co-simulated with input TLAST on every frame (``in_tlast="frame"``: TLAST after every output frame,
as before) and on the run's last beat only (``"end"``, one DMA transfer for the batch: exactly one TLAST, on the
run's last output beat), with random input gaps and output backpressure; outputs exact against the reference.
Two designs: digits, and a strided valid convolution then a pool that both drop trailing rows, so the network's
output frame ends several input rows before its input frame does and its last beat must wait for the input's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.manifest import BuildManifest, load_build
from accel.deploy.stream import pack, unpack
from accel.ir import Graph, GraphBuilder
from accel.ops.examples import conv_node, quantize_node, random_raw, random_type
from accel.reference.executor import execute
from accel.rtl.network import build_rtl
from accel.rtl.simulator import SimResult, simulate
from tests.test_rtl_network import needs_iverilog, zoo_graph

FRAMES = 6


def early_output_graph() -> Graph:
    """(8, 8, 2) -> 3x3 stride-2 valid conv (input row 7 unused) -> activation -> 2x2 max pool (conv row 2
    unused): the output frame is complete once input row 4 is in, three rows before the input frame ends."""
    rng = np.random.default_rng(5)
    b = GraphBuilder("early_output")
    x = b.input("x", (8, 8, 2), random_type(rng, signed=True, widths=(4, 8)))
    c = conv_node(b, "conv", x, rng, 4, kernel=(3, 3), stride=(2, 2))
    q = quantize_node(b, "act", c, rng)
    p = b.add("pool", "maxpool", [q], {"pool": (2, 2), "stride": (2, 2), "pads": (0, 0, 0, 0)})
    return b.build([p])


def cosimulate(graph: Graph, out: Path, in_tlast: str) -> tuple[BuildManifest, SimResult]:
    """Build ``graph`` once into ``out``, stream FRAMES random frames with stalls; outputs exact; the result."""
    build_rtl(graph, out)
    m = load_build(out)
    tin, tout = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    x = random_raw(np.random.default_rng(11), tin.dtype, (FRAMES, *tin.shape))
    beats = pack(x, tin.dtype, m.input.lanes)
    res = simulate(out, beats, FRAMES, seed=3, in_tlast=in_tlast)
    assert res.completed, f"{graph.name}, in_tlast={in_tlast}: stopped (deadlock?) after {len(res.out_beats)} beats"
    assert res.tlast_err is False and res.tlast_errors == {}, "a legal run must leave every TLAST check at 0"
    got = unpack(res.out_beats, (FRAMES, *tout.shape), tout.dtype, m.output.lanes)
    assert np.array_equal(got, execute(graph, x).outputs[graph.outputs[0]])
    return m, res


def expected_tlast(in_tlast: str, per_out: int) -> list[int]:
    """Output beat indices with TLAST: every frame's last beat, or the run's last beat only."""
    if in_tlast == "end":
        return [FRAMES * per_out - 1]
    return [(f + 1) * per_out - 1 for f in range(FRAMES)]


@needs_iverilog
@pytest.mark.slow
@pytest.mark.parametrize("in_tlast", ["frame", "end"])
@pytest.mark.parametrize("model", ["digits", "early_output"])
def test_output_tlast_follows_input_tlast(model: str, in_tlast: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    graph = zoo_graph("digits") if model == "digits" else early_output_graph()
    if model == "early_output":
        # the premise: the network's output frame needs fewer input rows than the input frame has
        assert graph.tensors["conv"].shape[:2] == (3, 3) and graph.tensors["pool"].shape[:2] == (1, 1)
    m, res = cosimulate(graph, tmp_path_factory.mktemp(f"{model}_{in_tlast}"), in_tlast)
    assert res.tlast_positions == expected_tlast(in_tlast, m.output.beats_per_frame)


@needs_iverilog
@pytest.mark.slow
def test_the_ii_is_unchanged_with_one_tlast_per_batch(tmp_path: Path) -> None:
    """The shell adds nothing to the data path: digits' measured II equals the expected II with input TLAST only at
    the batch's end, frames streamed without stalls."""
    g = zoo_graph("digits")
    m = build_rtl(g, tmp_path)
    tin = g.tensors[g.inputs[0]]
    x = random_raw(np.random.default_rng(2), tin.dtype, (4, *tin.shape))
    res = simulate(tmp_path, pack(x, tin.dtype, m["input"]["lanes"]), 4, in_tlast="end", in_gaps=False,
                   out_backpressure=False, clean_frames=4)  # fmt: skip
    assert res.ii_cycles == m["expected_ii_cycles"] and res.tlast_positions == [4 * m["output"]["beats_per_frame"] - 1]


def test_an_unknown_tlast_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AccelError, match=r"^simulate\(in_tlast='batch'\): input TLAST mode 'batch' is unknown; "
                                         r"supported are 'frame' and 'end'\.$"):  # fmt: skip
        simulate(tmp_path, [0], 1, in_tlast="batch")
