"""cocotb side of the accel_frame_last test: a source, a stand-in network and a sink around the block.

The case comes from the JSON file named by ``ACCEL_TB_CASE`` (written by ``test_frame_last.py``): input beats and
their TLAST, the network's output beats, when each output frame may start (``early``: input beats of its frame
the stand-in network must have taken), handshake probabilities and the seed.  Everything the handshakes showed
goes to the JSON file named by ``ACCEL_TB_RESULTS``; pytest compares it with what it expects.

Each cycle: inputs are driven after the falling edge, the block's combinational outputs are read once they
settle (ReadOnly), the handshakes of the coming rising edge are decided from them, and the state moves on.
Every beat the block passes is checked to pass in the same cycle (tvalid/tready/tdata combinational).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge


class FrameLastTB:
    """Source on s_axis, stand-in network on m_net_axis / s_net_axis, sink on m_axis."""

    def __init__(self, dut, case: dict) -> None:
        self.dut = dut
        self.case = case
        self.rng = random.Random(case["seed"])
        self.in_beats = case["in_beats"]
        self.out_beats = case["out_beats"]
        self.src = list(zip(case["in_data"], case["in_last"], strict=True))
        self.net_out = case["net_data"]
        self.sent = 0  # input beats the block took
        self.net_got: list[tuple[int, int]] = []  # (tdata, tlast) the network took
        self.made = 0  # output beats the network handed over
        self.out: list[tuple[int, int]] = []  # (tdata, tlast) the sink took
        self.src_valid = self.net_valid = False
        self.in_hold = self.out_hold = 0  # cycles the block held a last beat (coverage)
        self.queued_max = 0  # most flags queued (input frames' last beats taken minus output frames done)

    def _available(self) -> bool:
        """The network may hand over its next output beat: frame k's needs ``early`` beats of input frame k."""
        k = self.made // self.out_beats
        return self.made < len(self.net_out) and len(self.net_got) >= k * self.in_beats + self.case["early"]

    async def run(self, max_cycles: int) -> None:
        d, c = self.dut, self.case
        for _ in range(max_cycles):
            await FallingEdge(d.clk)
            if not self.src_valid and self.sent < len(self.src):
                self.src_valid = self.rng.random() < c["valid_p"]
            if not self.net_valid and self._available():
                self.net_valid = self.rng.random() < c["net_valid_p"]
            data, last = self.src[min(self.sent, len(self.src) - 1)]
            d.s_axis_tvalid.value = int(self.src_valid)
            d.s_axis_tdata.value = data
            d.s_axis_tlast.value = last
            d.m_net_axis_tready.value = int(self.rng.random() < c["net_ready_p"])
            ndata = self.net_out[min(self.made, len(self.net_out) - 1)]
            nlast = int(self.made % self.out_beats == self.out_beats - 1)
            d.s_net_axis_tvalid.value = int(self.net_valid)
            d.s_net_axis_tdata.value = ndata
            d.s_net_axis_tlast.value = nlast
            d.m_axis_tready.value = int(self.rng.random() < c["ready_p"])
            await ReadOnly()
            self._check_and_step(data, ndata, nlast)
            if len(self.out) == len(self.net_out) and self.sent == len(self.src):
                break
            await RisingEdge(d.clk)

    def _check_and_step(self, data: int, ndata: int, nlast: int) -> None:
        """Check the pass-through of this cycle, then take the handshakes of the coming edge."""
        d = self.dut
        in_last = self.sent % self.in_beats == self.in_beats - 1
        net_ready = int(d.m_net_axis_tready.value)
        s_ready = int(d.s_axis_tready.value)
        if in_last and not s_ready and net_ready:
            self.in_hold += 1
        else:  # ready passes through unless the flag queue is full at a frame's last beat
            assert s_ready == net_ready, f"s_axis_tready {s_ready} != network ready {net_ready} on a passing beat"
        if self.src_valid:
            assert int(d.m_net_axis_tvalid.value) == s_ready or not net_ready
            assert int(d.m_net_axis_tdata.value) == data
            assert int(d.m_net_axis_tlast.value) == int(in_last)
        m_valid, m_ready = int(d.m_axis_tvalid.value), int(d.m_axis_tready.value)
        if self.net_valid and nlast and not m_valid:
            self.out_hold += 1
        elif self.net_valid:  # an output beat passes in the cycle it is offered
            assert m_valid == 1 and int(d.m_axis_tdata.value) == ndata, "an output beat did not pass through"
            assert int(d.s_net_axis_tready.value) == m_ready
        if self.src_valid and s_ready:
            self.net_got.append((data, int(in_last)))
            self.sent += 1
            self.src_valid = False
        if m_valid and m_ready:
            self.out.append((int(d.m_axis_tdata.value), int(d.m_axis_tlast.value)))
            self.made += 1
            self.net_valid = False
        done_frames = self.made // self.out_beats
        self.queued_max = max(self.queued_max, self.sent // self.in_beats - done_frames)


@cocotb.test()
async def frame_last_test(dut) -> None:
    """Reset, stream the case, write what was seen."""
    case = json.loads(Path(os.environ["ACCEL_TB_CASE"]).read_text())
    for sig in ("s_axis_tvalid", "s_net_axis_tvalid", "m_axis_tready", "m_net_axis_tready"):
        getattr(dut, sig).value = 0
    dut.rst.value = 1
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    tb = FrameLastTB(dut, case)
    await tb.run(case["max_cycles"])
    Path(os.environ["ACCEL_TB_RESULTS"]).write_text(json.dumps({
        "out": tb.out, "net_got": tb.net_got, "in_hold": tb.in_hold, "out_hold": tb.out_hold,
        "queued_max": tb.queued_max}))  # fmt: skip
