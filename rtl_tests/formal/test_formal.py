"""Formal AXI-Stream checks of the stream blocks in ``accel/rtl/lib/`` (see harness.py and docs/hardware.md).

Each case is one block at small parameters, built from its description in :mod:`accel.rtl.blocks` where it has
one.  Its check (``prove``: ABC's PDR, an unbounded proof, for the blocks in ``UNBOUNDED``; ``bmc3``: ABC's BMC,
for those in ``BMC3``; ``bmc``: yices, for the others; both over the case's depth, two frames in and out and the
drain) must pass every assertion of
``axis_formal.sv`` for two frames on every input with any data, valid gaps and backpressure; ``cover`` must
reach the drained state within the depth, so the beat-count assertion is not vacuous.  The mutant test checks
that the checkers catch a block whose data moves while stalled and one that drops a beat.

Library modules without AXI-Stream ports of their own (``accel_rom``, ``accel_mul``, ``accel_avg_div``,
``accel_result_queue``) are checked only inside the blocks that instantiate them (``accel_rom`` in threshold);
``accel_skid`` and ``accel_pool_core`` are checked on their own and inside most blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from accel.fixed import FixedType, Overflow, Rounding
from accel.ops.common import accumulator_type
from accel.rtl import LIB_DIR
from accel.rtl.blocks.add import Add
from accel.rtl.blocks.argmax import ArgMax
from accel.rtl.blocks.avgpool import AvgPool
from accel.rtl.blocks.avgpool_win import AvgPoolWindowed
from accel.rtl.blocks.base import Block
from accel.rtl.blocks.concat import Concat
from accel.rtl.blocks.dwu import Dwu
from accel.rtl.blocks.fifo import Fifo
from accel.rtl.blocks.fork import Fork
from accel.rtl.blocks.frame_last import FrameLast
from accel.rtl.blocks.gap import GlobalAvgPool
from accel.rtl.blocks.maxpool import MaxPool
from accel.rtl.blocks.maxpool_win import MaxPoolWindowed
from accel.rtl.blocks.mvu import Mvu
from accel.rtl.blocks.pad import Pad
from accel.rtl.blocks.requant import Requant
from accel.rtl.blocks.shuffle import ChannelShuffle
from accel.rtl.blocks.threshold import Threshold
from accel.rtl.blocks.upsample import Upsample
from accel.rtl.blocks.width import WidthConverter
from accel.rtl.blocks.window import Window
from rtl_tests.formal.harness import CHECKERS, FRAMES, FormalCase, Stream, case_from_block, prove

S4, U3, S3, S2 = FixedType(True, 4, 1), FixedType(False, 3, 1), FixedType(True, 3, 1), FixedType(True, 2, 0)


def _auto(blk: Block, latency: int = 8, held: int = 1, **kw) -> FormalCase:
    """A case with the drain time (``held`` frames at the block's cycles per frame, and its pipeline
    ``latency``) and a depth that fits two frames at the block's pace, the drain and 4 cycles (the reset and a
    margin; the cover task shows the drained state is reached within it).

    ``held``: the frames whose beats may all still be inside when the inputs are done: 1 for most blocks, which
    hold less than a frame; ``FRAMES`` for accel_window, whose line buffer holds a whole tiny frame and more, so
    that both input frames may be taken before the first window leaves (with one frame's drain the beat count
    fails there although no beat is lost)."""
    ins, outs = blk.ports()
    beats = max(p.beats_per_frame for p in (*ins, *outs))
    pace = max(blk.expected_cycles_per_frame(), beats)
    drain = held * pace + latency
    return replace(case_from_block(blk, drain=drain, depth=FRAMES * pace + drain + 4), **kw)


def _mvu() -> FormalCase:
    """Two input folds and two output folds (the second reuses the buffered input beats) of one pixel, one
    lane each.  The arithmetic is cut off: ``dut.result`` (the dot product plus bias that enters the output
    queue) is any value every cycle, so the weight and bias ROMs, multipliers and accumulators drop out of the
    model.  Sound: a free value includes the one the arithmetic gives, so what holds with the cut holds
    without it; and it loses nothing that these properties check, since no control signal reads the result
    (the steps, tags, the queue's owed count and TLAST come from the fold counters) and the queue must still
    hold whatever it is given stable while stalled.  One pixel: at two (depth 44) ABC's BMC, even with the
    cut, was only at step 27 after 32 s of CPU time."""
    rng = np.random.default_rng(1)
    xt, wt, bt = S3, S3, S4
    w = rng.integers(wt.min_raw, wt.max_raw + 1, size=(2, 2))
    b = rng.integers(bt.min_raw, bt.max_raw + 1, size=(2,))
    acc = accumulator_type(w, wt, xt, b, bt)
    return _auto(Mvu("mvu", w, b, xt, wt, acc, acc.frac - xt.frac - wt.frac, acc.frac - bt.frac, 1, 1, 1,
                     mult_style="dsp"), latency=16, cuts=("dut.result",))


def _dwu() -> FormalCase:
    rng = np.random.default_rng(2)
    xt, wt, bt = S3, S3, S4
    kk, c = 2, 2
    w = rng.integers(wt.min_raw, wt.max_raw + 1, size=(kk, c))
    b = rng.integers(bt.min_raw, bt.max_raw + 1, size=(c,))
    acc = accumulator_type(w, wt, xt, b, bt)
    win = Window("dwu_win", (1, 2, c), (1, 2), (1, 1), (0, 0, 0, 0), 1, xt.width)
    ho, wo, _ = win.out_shape
    return _auto(Dwu("dwu", w.reshape(1, 2, c, 1), b, xt, wt, acc, acc.frac - xt.frac - wt.frac,
                     acc.frac - bt.frac, ho * wo, 1, mult_style="lut"), latency=16)


def _concat() -> FormalCase:
    """Each output pixel starts with input 0's channels, which leave before input 1's frame has begun: an output
    frame needs only input 0's frame to have started."""
    case = _auto(Concat("concat", 1, 1, 2, 2, 1, S2, U3))
    return replace(case, outputs=tuple(replace(s, after=("s0_axis",)) for s in case.outputs))


def _frame_last() -> FormalCase:
    """Two paths: s_axis -> m_net_axis (the network's input, TLAST per frame) and s_net_axis -> m_axis (TLAST as
    the input frame's last beat carried it, so the source's TLAST is free)."""
    blk = FrameLast("frame_last", (1, 1, 2), U3, 1, 3, (1, 1, 3), S2, 1, 2, depth=1)
    inputs = (Stream("s_axis", 3, 2, free_last=True, comb=True), Stream("s_net_axis", 2, 3, comb=True))
    outputs = (Stream("m_axis", 2, 3, after=("s_net_axis",), flags="s_axis"),
               Stream("m_net_axis", 3, 2, after=("s_axis",)))
    return FormalCase("frame_last", blk.module, blk.source_modules, blk.verilog_parameters(), inputs, outputs,
                      drain=8, depth=20, block=blk)


def _pad() -> FormalCase:
    """accel_pad begins a frame's border beats once the frame's first input beat is offered (before it is taken),
    so its input is ``comb``: output frame k may begin while input frame k's first beat is only offered."""
    case = _auto(Pad("pad", 1, 2, 1, 1, 2, (1, 0, 0, 1)))
    return replace(case, inputs=tuple(replace(s, comb=True) for s in case.inputs))


def _skid() -> FormalCase:
    return FormalCase("skid", "accel_skid", ("accel_skid",), {"WIDTH": 3}, (Stream("s_axis", 3, 3),),
                      (Stream("m_axis", 3, 3),), drain=4, depth=16)


def _pool_core() -> FormalCase:
    """The shared pooling core at its own parameters (sum mode, 2x2 windows padded above and left): 2x2 -> 2x2,
    one channel, so every window is a border window of one pixel.  Latency: an output beat leaves 2 cycles
    after its window's last input beat; drain: a frame (4 beats) and 12."""
    params = {"H": 2, "W": 2, "C": 1, "P": 1, "DATA_W": 2, "SIGNED": 1, "PH": 2, "PW": 2, "PT": 1, "PL": 1,
              "HO": 2, "WO": 2, "ACC_W": 4, "MODE": 1}
    return FormalCase("pool_core", "accel_pool_core", ("accel_skid", "accel_pool_core"), params,
                      (Stream("s_axis", 2, 4),), (Stream("m_axis", 4, 4),), drain=16, depth=30)


def _avgpool_win() -> FormalCase:
    """3x1 -> two overlapping 2x1 windows.  The data is cut off: the window's output data (``dut.win_data``)
    and the dividers' averages (``dut.pool.avgs``) are any value every cycle, so the line buffer's contents,
    the window sums and the dividers drop out.  Sound for these properties: the control (window counters, the
    pool core's counters, the queue's owed count) reads none of it, a free value includes the real one, and
    the output queue must keep whatever it is given stable while stalled (the window's and the pool core's own
    data stability is proved in their own cases)."""
    return _auto(AvgPoolWindowed("avgpool_win", 3, 1, 1, 1, S2, S3, (2, 1), (1, 1)), latency=12, held=FRAMES,
                 cuts=("dut.win_data", "dut.pool.avgs"))


#: name -> case; the small parameters of each block (a few beats per frame, 1- to 4-bit elements)
CASES: dict[str, Callable[[], FormalCase]] = {
    "skid": _skid,
    "fifo": lambda: _auto(Fifo("fifo", 2, 3, beats_per_frame=3)),
    "fifo_depth3": lambda: _auto(Fifo("fifo_depth3", 3, 2, beats_per_frame=4)),
    "fork": lambda: _auto(Fork("fork", 2, 2, beats_per_frame=3)),
    "width_up": lambda: _auto(WidthConverter("width_up", 1, 2, 2, 2, 1, 2)),
    "width_down": lambda: _auto(WidthConverter("width_down", 1, 1, 4, 2, 2, 1)),
    "shuffle": lambda: _auto(ChannelShuffle("shuffle", 1, 1, 4, 1, 2, 2)),
    "upsample": lambda: _auto(Upsample("upsample", 1, 2, 1, 1, 2, (2, 1))),
    "zero_insert": lambda: _auto(Upsample("zero_insert", 2, 2, 1, 1, 2, (2, 1), zero=True)),
    "pad": _pad,
    "requant": lambda: _auto(Requant("requant", S4, S2, Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, True,
                                     (1, 1, 3), 1)),
    "threshold": lambda: _auto(Threshold("threshold", S3, U3, np.array([-1, 2]), np.array([0, 3, 5]), (1, 1, 3), 1)),
    # per-channel tables (two groups of two lanes: the ROM rows reloaded beat by beat)
    "threshold_per_channel": lambda: _auto(Threshold("threshold_per_channel", S3, U3, np.array([[-1, 2], [0, 0],
                                                     [-4, 3], [1, 1]]), np.array([[0, 3, 5], [5, 1, 1], [7, 6, 0],
                                                     [2, 2, 4]]), (1, 1, 4), 2)),  # fmt: skip
    "add": lambda: _auto(Add("add", 1, 1, 4, 2, S2, S3)),
    "concat": _concat,
    "maxpool": lambda: _auto(MaxPool("maxpool", 2, 3, 1, 1, S2, (2, 2), (2, 2))),
    # 2x1 with 'same' padding below and right -> two overlapping 2x2 windows
    "maxpool_win": lambda: _auto(MaxPoolWindowed("maxpool_win", 2, 1, 1, 1, U3, (2, 2), (1, 1), (0, 1, 0, 1)),
                                 latency=8, held=FRAMES),
    "avgpool": lambda: _auto(AvgPool("avgpool", 2, 2, 1, 1, S2, S3, (2, 2), (2, 2)), latency=16),
    "avgpool_win": _avgpool_win,
    "gap": lambda: _auto(GlobalAvgPool("gap", 1, 2, 2, 1, S2, S3), latency=16),
    "argmax": lambda: _auto(ArgMax("argmax", 1, 2, 3, 1, S2, FixedType(False, 2, 2))),
    # accel_window at 1-bit elements, a 2x2 kernel over one column or one row (with 2x2 inputs PDR does not
    # converge in minutes): rows slide (padding above and left), columns slide, a stride of 2 down the rows
    # (padding below and right)
    "window": lambda: _auto(Window("window", (2, 1, 1), (2, 2), (1, 1), (1, 0, 1, 0), 1, 1), latency=4, held=FRAMES),
    "window_cols": lambda: _auto(Window("window_cols", (1, 2, 1), (2, 2), (1, 1), (1, 0, 1, 0), 1, 1), latency=4,
                                 held=FRAMES),
    "window_stride": lambda: _auto(Window("window_stride", (3, 1, 1), (2, 2), (2, 2), (0, 1, 0, 1), 1, 1), latency=4,
                                   held=FRAMES),
    "mvu": _mvu,
    "dwu": _dwu,
    "frame_last": _frame_last,
    "pool_core": _pool_core,
}


#: cases that ABC's PDR proves for all time within seconds here; the others are checked by bounded model checking
#: over ``depth`` cycles (two frames in and out, the drain and a margin), where PDR did not converge in minutes
UNBOUNDED = {"fifo", "fifo_depth3", "fork", "width_up", "shuffle", "upsample", "maxpool", "maxpool_win", "window",
             "window_cols", "window_stride", "pool_core"}
#: cases bounded by ABC's bmc3, where neither PDR (minutes) nor yices (past step 27 after a minute) was quick; gap
#: and dwu pass with yices too, but took 394 s and 181 s in a loaded suite run against 110 s and 113 s with bmc3
BMC3 = {"mvu", "avgpool_win", "gap", "dwu"}


def case_named(name: str) -> FormalCase:
    return replace(CASES[name](), engine="prove" if name in UNBOUNDED else "bmc3" if name in BMC3 else "bmc")


@pytest.mark.formal
@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_axis_proof(name: str, tmp_path: Path) -> None:
    case = case_named(name)
    res = prove(case, tmp_path)
    assert res.status == {case.engine: "PASS", "cover": "PASS"}, (
        f"{name}: SymbiYosys says {res.status} ({case.engine}: the AXI-Stream assertions for every input; cover: "
        f"the drained state within depth {case.depth}); log tail:\n{res.log[-4000:]}")


def _line_of(text: str) -> int:
    """Line of the checker's assertion ``text`` in axis_formal.sv (what a failing BMC names)."""
    lines = CHECKERS.read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if text in line and "assert(" in line]
    assert len(hits) == 1, text
    return hits[0]


#: (block, library file, original text, mutated text, the checker assertions of which one must fail first)
MUTANTS = [
    ("fifo", "accel_fifo.v", "if (do_read) out_reg <= mem[rd_addr];",
     "if (do_read || count != 0) out_reg <= mem[rd_addr];",
     ("assert(data == $past(data));",)),  # the output register reloads while held: data moves while stalled
    ("skid", "accel_skid.v", "b_valid <= 1'b1;", "b_valid <= 1'b0;",
     # a beat taken while the output is held is dropped: the next TLAST comes a beat late, or a beat is missing
     ("assert(last == ((pos == BEATS - 1) && flags[frame]));", "assert(total == FRAMES * BEATS);")),
]


@pytest.mark.formal
@pytest.mark.parametrize("name,lib,old,new,checks", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_fails(name: str, lib: str, old: str, new: str, checks: tuple[str, ...], tmp_path: Path) -> None:
    source = (LIB_DIR / lib).read_text()
    assert source.count(old) == 1, f"{lib} no longer contains the text the mutant changes: {old}"
    mutant = tmp_path / lib
    mutant.write_text(source.replace(old, new))
    case = case_named(name)
    res = prove(case, tmp_path, sources=[mutant if (LIB_DIR / f"{m}.v").name == lib else LIB_DIR / f"{m}.v"
                                         for m in case.sources], tasks=("bmc",))
    assert res.status == {"bmc": "FAIL"}, f"the {name} mutant was not caught: {res.status}\n{res.log[-3000:]}"
    expected = {f"{CHECKERS.name}:{_line_of(c)}" for c in checks}
    assert expected & set(res.failed_assertions()), f"{name}: {res.failed_assertions()}, expected one of {expected}"


@pytest.mark.formal
def test_frame_last_tlast_err_mutant_fails(tmp_path: Path) -> None:
    """accel_frame_last's tlast_err is checked exactly (set once an input beat before a frame's last carries TLAST,
    0 otherwise): a mutant that never sets it fails the formal top's assertion, which a correct one passes above."""
    lib = "accel_frame_last.v"
    old, new = "if (in_fire && s_axis_tlast && !in_last) tlast_err <= 1'b1;", "tlast_err <= 1'b0;"
    source = (LIB_DIR / lib).read_text()
    assert source.count(old) == 1, f"{lib} no longer contains the text the mutant changes: {old}"
    (tmp_path / lib).write_text(source.replace(old, new))
    case = case_named("frame_last")
    res = prove(case, tmp_path, sources=[tmp_path / lib if m == "accel_frame_last" else LIB_DIR / f"{m}.v"
                                         for m in case.sources], tasks=("bmc",))  # fmt: skip
    assert res.status == {"bmc": "FAIL"}, f"the tlast_err mutant was not caught: {res.status}\n{res.log[-3000:]}"
