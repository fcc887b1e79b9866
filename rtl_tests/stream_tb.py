"""cocotb side of the block testbenches: a small TB class that drives, collects and measures.

Nothing is computed here: the vectors (input beats, expected output beats) come from pytest through
the ``.npz`` named by ``ACCEL_TB_VECTORS`` (see :mod:`rtl_tests.common`).  The test asserts exact
equality itself and writes what it saw to ``ACCEL_TB_RESULTS`` for pytest.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


def _random_pauses(seed: int, prob_go: float):
    """Seeded pause generator: True (pause) with probability 1 - prob_go each cycle."""
    rng = random.Random(seed)
    while True:
        yield rng.random() >= prob_go


class StreamTB:
    """Drives AXI-Stream inputs by prefix, collects the output, counts cycles of every handshake."""

    def __init__(self, dut, in_prefixes: list[str], out_prefix: str = "m_axis") -> None:
        self.dut = dut
        self.in_prefixes = in_prefixes
        self.out_prefix = out_prefix
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.sources = {}
        for p in in_prefixes:
            bus = AxiStreamBus.from_prefix(dut, p)
            # byte_size = whole TDATA width: one cocotbext-axi "byte" is one beat (widths need not be 8k).
            self.sources[p] = AxiStreamSource(bus, dut.clk, dut.rst, byte_size=len(bus.tdata))
        obus = AxiStreamBus.from_prefix(dut, out_prefix)
        self.sink = AxiStreamSink(obus, dut.clk, dut.rst, byte_size=len(obus.tdata))
        self.cycle = 0
        self.in_cycles: dict[str, list[int]] = {p: [] for p in in_prefixes}
        self.out: list[int] = []
        self.out_last: list[int] = []
        self.out_cycles: list[int] = []

    async def reset(self) -> None:
        self.dut.rst.value = 1
        for _ in range(4):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        cocotb.start_soon(self._monitor())

    async def _monitor(self) -> None:
        """Sample every handshake at the clock edge (values before the edge's register updates)."""
        d = self.dut
        ins = [(p, getattr(d, f"{p}_tvalid"), getattr(d, f"{p}_tready")) for p in self.in_prefixes]
        mv = getattr(d, f"{self.out_prefix}_tvalid")
        mr = getattr(d, f"{self.out_prefix}_tready")
        md = getattr(d, f"{self.out_prefix}_tdata")
        ml = getattr(d, f"{self.out_prefix}_tlast")
        while True:
            await RisingEdge(d.clk)
            self.cycle += 1
            for p, v, r in ins:
                if v.value == 1 and r.value == 1:
                    self.in_cycles[p].append(self.cycle)
            if mv.value == 1 and mr.value == 1:
                self.out.append(int(md.value))
                self.out_last.append(int(ml.value))
                self.out_cycles.append(self.cycle)

    def set_stalls(self, seed: int, valid_prob: float, ready_prob: float) -> None:
        for i, s in enumerate(self.sources.values()):
            s.set_pause_generator(_random_pauses(seed + 17 * i, valid_prob))
        self.sink.set_pause_generator(_random_pauses(seed + 1000, ready_prob))

    def clear_stalls(self) -> None:
        for s in self.sources.values():
            s.clear_pause_generator()
        self.sink.clear_pause_generator()

    async def send(self, frames: dict[str, list[list[int]]]) -> None:
        """Queue frames on every input (one cocotbext-axi frame per tensor frame: TLAST on its last beat)."""
        for p, frs in frames.items():
            for fr in frs:
                await self.sources[p].send(AxiStreamFrame(tdata=list(fr)))

    async def wait_inputs(self, counts: dict[str, int], max_cycles: int) -> None:
        """Wait until every input has accepted ``counts[prefix]`` beats (a block that drops the last rows of a
        frame, as valid pooling does, emits its last output before it has taken its last input)."""
        start = self.cycle
        while any(len(self.in_cycles[p]) < n for p, n in counts.items()):
            await RisingEdge(self.dut.clk)
            assert self.cycle - start < max_cycles, f"timeout: inputs not all accepted after {max_cycles} cycles"

    async def wait_outputs(self, count: int, max_cycles: int) -> None:
        start = self.cycle
        while len(self.out) < count:
            await RisingEdge(self.dut.clk)
            assert self.cycle - start < max_cycles, (
                f"timeout: {len(self.out)} of {count} output beats after {max_cycles} cycles"
            )


def _split(flat: list[int], lengths: list[int]) -> list[list[int]]:
    out, i = [], 0
    for n in lengths:
        out.append(flat[i : i + n])
        i += n
    return out


@cocotb.test()
async def stream_test(dut):
    """Phase 0: F frames without stalls (measured); phase 1: the rest with random stalls; exact compare."""
    v = np.load(os.environ["ACCEL_TB_VECTORS"])
    prefixes = [str(p) for p in v["prefixes"]]
    f0, seed, max_cycles = (int(x) for x in v["cfg"])
    valid_prob, ready_prob = (float(x) for x in v["probs"])
    inputs = {p: _split([int(h, 16) for h in v[f"in_{p}"]], [int(n) for n in v[f"in_{p}_len"]]) for p in prefixes}
    exp_len = [int(n) for n in v["exp_len"]]
    exp = [int(h, 16) for h in v["exp"]]
    nframes = len(exp_len)

    tb = StreamTB(dut, prefixes, str(v["output"]))
    await tb.reset()
    tb.clear_stalls()
    await tb.send({p: frs[:f0] for p, frs in inputs.items()})
    await tb.wait_outputs(sum(exp_len[:f0]), max_cycles)
    await tb.wait_inputs({p: sum(len(fr) for fr in frs[:f0]) for p, frs in inputs.items()}, max_cycles)
    # phase-0 measurements (first input prefix defines frame starts): handshake cycles of each frame's
    # first and last input beat and first and last output beat
    in_len = [len(fr) for fr in inputs[prefixes[0]]]
    in_cycles = tb.in_cycles[prefixes[0]]
    in_start = [in_cycles[sum(in_len[:f])] for f in range(f0)]
    in_end = [in_cycles[sum(in_len[: f + 1]) - 1] for f in range(f0)]
    out_start = [tb.out_cycles[sum(exp_len[:f])] for f in range(f0)]
    out_end = [tb.out_cycles[sum(exp_len[: f + 1]) - 1] for f in range(f0)]
    if nframes > f0:
        tb.set_stalls(seed, valid_prob, ready_prob)
        await tb.send({p: frs[f0:] for p, frs in inputs.items()})
        await tb.wait_outputs(sum(exp_len), max_cycles)
    for _ in range(20):  # no extra beats may follow
        await RisingEdge(dut.clk)

    np.savez(
        os.environ["ACCEL_TB_RESULTS"],
        out=np.array([format(b, "x") for b in tb.out], dtype=str),
        out_last=np.array(tb.out_last, dtype=np.int64),
        in_start=np.array(in_start, dtype=np.int64),
        in_end=np.array(in_end, dtype=np.int64),
        out_start=np.array(out_start, dtype=np.int64),
        out_end=np.array(out_end, dtype=np.int64),
    )
    exp_last = []
    for n in exp_len:
        exp_last += [0] * (n - 1) + [1]
    assert len(tb.out) == len(exp), f"{len(tb.out)} output beats, expected {len(exp)}"
    for i, (a, b) in enumerate(zip(tb.out, exp, strict=True)):
        assert a == b, f"output beat {i}: got {a:#x}, expected {b:#x}"
    assert tb.out_last == exp_last, "TLAST positions differ from the frame ends"
