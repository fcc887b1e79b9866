"""The ``accel`` command: a flat list of steps over the one Graph.

    accel zoo [--json]                       list the built-in models
    accel inspect MODEL [--json]             per-node shapes, exact types, MACs, parameters
    accel verify MODEL --against qkeras ...  bit-exact check of the reference against QKeras
    accel demo                               inspect + verify the trained `digits` model

MODEL is a zoo name or a path to a Keras ``.h5`` file.  Every :class:`accel.AccelError`
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
from pathlib import Path
from typing import Any

from accel import AccelError, __version__

#: backends named by `verify --against` that this version cannot run yet
UNAVAILABLE_BACKENDS = {
    "hls": "the HLS (hls4ml C simulation) backend",
    "rtl": "the RTL network backend",
}
EXIT_MISMATCH = 1
EXIT_ERROR = 2


# -- step: load ----------------------------------------------------------------------
def _quiet_tensorflow() -> None:
    """Silence TensorFlow/absl start-up chatter before TensorFlow is first imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # absl comes with TensorFlow; nothing to silence without it
        pass


def _zoo_names() -> list[str]:
    import models

    return models.names()


def load_model(spec: str) -> tuple[Any, Any]:
    """A zoo name or an .h5 path -> (Keras model, Graph); AccelError when it is neither."""
    _quiet_tensorflow()
    from accel.frontend import load_graph

    path = Path(spec)
    if path.suffix.lower() in (".h5", ".hdf5", ".keras") or path.exists() or os.sep in spec:
        if path.is_file():  # TensorFlow will be needed: keep its logger to errors (missing files fail fast)
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
        return load_graph(path)
    import models

    names = models.names()
    if spec not in names:
        raise AccelError(
            f"'{spec}' is neither a zoo model nor an existing file; zoo models are {', '.join(names)} "
            "(or give a path to a Keras .h5 file)."
        )
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return load_graph(models.build(spec, seed=0), name=spec)


# -- step: inspect ----------------------------------------------------------------------
def inspect_graph(graph: Any) -> dict[str, Any]:
    """Per-node facts (shapes, exact types, MACs, parameters) and totals, as JSON-ready data."""
    rows = []
    for name in graph.inputs:
        spec = graph.tensors[name]
        rows.append({
            "name": name, "op": "input", "source": name, "input_shapes": [], "output_shape": list(spec.shape),
            "input_types": [], "weight_type": None, "bias_type": None, "output_type": spec.dtype.hls,
            "macs": 0, "parameters": 0,
        })  # fmt: skip
    for node in graph.nodes:
        ins = graph.input_specs(node)
        out = graph.tensors[node.output]
        wt = node.param_types.get("weight")
        bt = node.param_types.get("bias")
        rows.append({
            "name": node.name,
            "op": node.op,
            "source": node.source,
            "input_shapes": [list(s.shape) for s in ins],
            "output_shape": list(out.shape),
            "input_types": [s.dtype.hls for s in ins],
            "weight_type": wt.hls if wt else None,
            "bias_type": bt.hls if bt else None,
            "output_type": out.dtype.hls,
            "macs": graph.macs(node),
            "parameters": graph.parameter_count(node),
        })
    return {
        "model": graph.name,
        "inputs": list(graph.inputs),
        "outputs": list(graph.outputs),
        "layers": rows,
        "totals": {
            "nodes": len(graph.nodes),
            "macs": sum(r["macs"] for r in rows),
            "parameters": sum(r["parameters"] for r in rows),
        },
    }


def _shape(s: list[int]) -> str:
    return "x".join(map(str, s))


def _console() -> Any:
    """A rich console; output to a pipe or file gets a wide fixed width instead of rich's 80 columns."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 250)


def print_inspect_table(info: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{info['model']}: {info['totals']['nodes']} nodes", show_lines=False)
    for col, justify in [("node", "left"), ("op", "left"), ("Keras layer", "left"), ("in shape", "right"),
                         ("out shape", "right"), ("in type", "left"), ("weight", "left"), ("bias", "left"),
                         ("out / acc type", "left"), ("MACs", "right"), ("params", "right")]:  # fmt: skip
        table.add_column(col, justify=justify, no_wrap=True)
    for r in info["layers"]:
        table.add_row(
            r["name"], r["op"], r["source"], " ".join(_shape(s) for s in r["input_shapes"]), _shape(r["output_shape"]),
            " ".join(r["input_types"]), r["weight_type"] or "", r["bias_type"] or "", r["output_type"],
            f"{r['macs']:,}", f"{r['parameters']:,}",
        )  # fmt: skip
    t = info["totals"]
    table.add_section()
    table.add_row("total", "", "", "", "", "", "", "", "", f"{t['macs']:,}", f"{t['parameters']:,}")
    _console().print(table)


# -- step: verify ----------------------------------------------------------------------
def verify(model: Any, graph: Any, against: str, samples: int, seed: int) -> dict[str, Any]:
    if against in UNAVAILABLE_BACKENDS:
        raise AccelError(
            f"verification against '{against}' is not available in this version ({UNAVAILABLE_BACKENDS[against]} "
            "is not wired to the CLI yet); supported: --against qkeras."
        )
    from accel.verify import verify_against_qkeras

    return verify_against_qkeras(model, graph, samples=samples, seed=seed).to_json()


def describe_verify(result: dict[str, Any]) -> str:
    """One human sentence about a verification result; names the first diverging layer on a mismatch."""
    head = f"{result['model']}: {result['samples']} random samples against {result['against']}: "
    if result["mismatches"] == 0:
        return head + f"all outputs bit-exact ({result['elapsed_s']:.1f} s)."
    d = result.get("first_divergence") or {}
    where = f" first diverging layer: {d['layer']} (node {d['node']}) at {d['index']}" if d else ""
    detail = f", expected {d['expected']!r} got {d['got']!r}" if d else ""
    return head + f"{result['mismatches']} samples differ ({result['mismatched_values']} values);{where}{detail}."


# -- commands ----------------------------------------------------------------------
def cmd_zoo(args: argparse.Namespace) -> int:
    names = _zoo_names()
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    _, graph = load_model(args.model)
    info = inspect_graph(graph)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print_inspect_table(info)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    if args.against in UNAVAILABLE_BACKENDS:  # answer before the slow model load
        verify(None, None, args.against, args.samples, args.seed)
    model, graph = load_model(args.model)
    result = verify(model, graph, args.against, args.samples, args.seed)
    print(json.dumps(result) if args.json else describe_verify(result))
    return EXIT_MISMATCH if result["mismatches"] else 0


def cmd_demo(args: argparse.Namespace) -> int:
    console = _console()
    with console.status("building digits and converting it to an accel Graph ..."):
        model, graph = load_model("digits")
    info = inspect_graph(graph)
    print_inspect_table(info)
    with console.status(f"verifying {args.samples} random inputs against QKeras, bit for bit ..."):
        result = verify(model, graph, "qkeras", args.samples, args.seed)
    console.print(describe_verify(result))
    metrics_path = Path(__file__).resolve().parent.parent / "models" / "digits_metrics.json"
    if metrics_path.is_file():
        m = json.loads(metrics_path.read_text())
        console.print(
            f"digits test accuracy (models/digits_metrics.json; {m['split']['n_test']} images of {m['dataset']}): "
            f"float {m['float_test_accuracy']:.2%}, quantised {m['quantized_test_accuracy']:.2%}; "
            f"{info['totals']['parameters']:,} parameters, {info['totals']['macs']:,} MACs per image."
        )
    return EXIT_MISMATCH if result["mismatches"] else 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in the one-line ``accel: error:`` form and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise AccelError(message[0].upper() + message[1:] + ("" if message.endswith(".") else "."))


def build_parser() -> argparse.ArgumentParser:
    model_help = "a zoo model name (see `accel zoo`) or a path to a Keras .h5 file"
    p = _Parser(
        prog="accel",
        description="Quantised QKeras pointwise/depthwise CNNs to bit-exact FPGA hardware. This version converts a "
        "model to accel's typed integer graph, inspects it and verifies its NumPy integer reference against QKeras; "
        "the HLS and RTL network backends are not wired to this command yet.",
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
    s.add_argument("--json", action="store_true", help="print one JSON object (per-node entries and totals)")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser(
        "verify",
        help="compare the NumPy integer reference with QKeras on random inputs, bit for bit",
        description="Exit status: 0 all outputs equal, 1 some differ, 2 error. "
        "--against hls and rtl are reserved for backends this version does not run yet.",
    )
    s.add_argument("model", metavar="MODEL", help=model_help)
    s.add_argument("--against", choices=["qkeras", *UNAVAILABLE_BACKENDS], default="qkeras",
                   help="what to compare the reference with (default: qkeras; hls/rtl: not available yet)")  # fmt: skip
    s.add_argument("--samples", type=_positive_int, default=1000, help="number of random inputs (default: 1000)")
    s.add_argument("--seed", type=_int, default=0, help="random seed of the inputs (default: 0)")
    s.add_argument("--json", action="store_true", help="print one JSON object with the result")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("demo", help="inspect the trained digits model and verify it against QKeras")
    s.add_argument("--samples", type=_positive_int, default=1000, help="number of random inputs (default: 1000)")
    s.add_argument("--seed", type=_int, default=0, help="random seed of the inputs (default: 0)")
    s.set_defaults(func=cmd_demo)
    return p


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001 (warnings' signature)
    """accel's own warnings (e.g. AccelPrecisionWarning) read as one line, like errors; others keep Python's form."""
    if category.__module__.startswith("accel"):
        return f"accel: warning: {' '.join(str(message).split())}\n"
    return _python_formatwarning(message, category, filename, lineno, line)


_python_formatwarning = warnings.formatwarning


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 mismatches found, 2 error)."""
    warnings.formatwarning = _format_warning
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except AccelError as exc:
        print(f"accel: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `accel inspect m --json | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
