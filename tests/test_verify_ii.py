"""The measured II of a co-simulation (:attr:`accel.rtl.simulator.SimResult.ii_cycles`): the steady state, not
the first interval, which can still show the pipeline filling."""

from __future__ import annotations

from accel.rtl.simulator import SimResult


def _sim(ends: list[int], clean: int) -> SimResult:
    """A SimResult with only the frame ends and the stall-free frame count that ii_cycles reads."""
    return SimResult(out_beats=[], out_last=[], out_cycles=[], tlast_positions=[], frame_first_in=[0] * len(ends),
                     frame_last_out=ends, completed=True, cycles=ends[-1], frames=len(ends), beats_per_frame_out=1,
                     simulator="icarus", elapsed_s=0.0, compile_s=0.0, clean_frames=clean)  # fmt: skip


def test_ii_leaves_out_the_first_interval() -> None:
    """A random chain with two layers at one rate (II 2,592) ended its frames 2,624 then 2,592 cycles apart: the
    median of both (2,608) is neither; the first is left out when others remain."""
    ends = [1000, 3624, 6216, 8808, 12000]  # the last frame ran with stalls
    assert _sim(ends, 3).ii_cycles == 2592
    assert _sim(ends, 4).ii_cycles == 2592
    assert _sim(ends, 2).ii_cycles == 2624  # one interval: all there is
    assert _sim(ends[:1], 1).ii_cycles is None
    assert _sim([0, 10, 30, 50, 70], 5).ii_cycles == 20  # the median of the steady intervals
