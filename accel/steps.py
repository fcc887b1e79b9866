"""The steps of the flow, each a plain function over the one Graph: load, inspect, verify, build.

Why a module of its own: the ``accel`` commands (:mod:`accel.cli`) and the end-to-end demo
(:mod:`accel.demo`) chain the very same steps, and both sit above them; with the steps here
neither imports the other (the layer table in docs/architecture.md, enforced by
tests/test_layering.py).  Argument parsing and exit codes stay in the CLI.

TensorFlow and the backends are imported inside the steps that need them, so importing this
module (and so ``accel --help``) stays fast.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.folders import locked, staged_build
from accel.resources import zoo

#: what `verify --against` can compare the reference with
VERIFY_TARGETS = ("qkeras", "hls", "rtl")
BACKENDS = ("hls", "rtl")
BOARDS = ("pynq-z2",)
#: the Pynq-Z2's part, the default of every build
DEFAULT_PART = "xc7z020clg400-1"


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


def zoo_names() -> list[str]:
    """The built-in models' names."""
    return zoo().names()


def load_model(spec: str, *, input_type: Any = None, softmax: str | None = None) -> tuple[Any, Any]:
    """A zoo name or an .h5 path -> (Keras model, Graph); AccelError when it is neither.  ``input_type`` (e.g.
    ``'ap_fixed<16,6>'``) and ``softmax`` ('drop') are the frontend options of :func:`accel.frontend.to_graph`."""
    _quiet_tensorflow()
    from accel.frontend import load_graph
    from accel.frontend.walk import check_softmax, input_type_of

    input_type_of(input_type)  # a bad spelling is refused before TensorFlow loads the model
    check_softmax(softmax)
    options = {"input_type": input_type, "softmax": softmax}

    path = Path(spec)
    if path.suffix.lower() in (".h5", ".hdf5", ".keras") or path.exists() or os.sep in spec:
        if path.is_file():  # TensorFlow will be needed: keep its logger to errors (missing files fail fast)
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
        return load_graph(path, **options)
    models = zoo()
    names = models.names()
    if spec not in names:
        raise AccelError(
            f"'{spec}' is neither a zoo model nor an existing file; zoo models are {', '.join(names)} "
            "(or give a path to a Keras .h5 file)."
        )
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return load_graph(models.build(spec, seed=0), name=spec, **options)


def model_source(spec: str) -> tuple[str, str]:
    """(source, sha256) a build records of the model ``spec``: a zoo name as it is, a file as its absolute path
    and content hash (see :class:`accel.deploy.manifest.BuildManifest`)."""
    path = Path(spec)
    if path.is_file():
        import hashlib

        return str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest()
    return spec, ""


def is_build_dir(spec: str) -> bool:
    """Whether a MODEL argument names a build directory (one holding build.json) rather than a model."""
    from accel.deploy.manifest import MANIFEST

    return (Path(spec) / MANIFEST).is_file()


def load_build_model(build_dir: Path) -> tuple[Any, Any, Any]:
    """(manifest, Keras model, Graph) of a build directory: the model reloaded from the source it records."""
    from accel.deploy.manifest import load_build

    manifest = load_build(build_dir)
    if not manifest.source:
        raise AccelError(f"{build_dir} does not record the model it was built from (it was built from a Graph in "
                         "Python); verify it from Python with accel.rtl.verify.verify_build or rebuild it with "
                         "`accel build`.")  # fmt: skip
    if manifest.source_sha256 and model_source(manifest.source)[1] != manifest.source_sha256:
        raise AccelError(f"{manifest.source}, which {build_dir} was built from, has changed or is missing since; "
                         "rebuild the directory with `accel build`.")  # fmt: skip
    model, graph = load_model(manifest.source, input_type=manifest.input_type or None,
                              softmax=manifest.softmax or None)  # fmt: skip
    return manifest, model, graph


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


def console() -> Any:
    """A rich console; output to a pipe or file gets a wide fixed width instead of rich's 80 columns."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 250)


def print_inspect_table(info: dict[str, Any], out: Any = None) -> None:
    """:func:`inspect_graph`'s facts as a table on ``out`` (a rich console; default: a new one); on a narrow
    terminal the columns go into several tables keyed by node (:func:`accel.tables.print_table`)."""
    from accel.tables import SECTION, Column, print_table

    # the numbers first, the Keras layer name last: a narrow terminal's first table holds what is compared most
    columns = [Column("node"), Column("op"), Column("in shape", "right"), Column("out shape", "right"),
               Column("MACs", "right"), Column("params", "right"), Column("in type"), Column("weight"),
               Column("bias"), Column("out / acc type"), Column("Keras layer")]  # fmt: skip
    rows: list[list[str] | None] = [
        [r["name"], r["op"], " ".join(_shape(s) for s in r["input_shapes"]), _shape(r["output_shape"]),
         f"{r['macs']:,}", f"{r['parameters']:,}", " ".join(r["input_types"]), r["weight_type"] or "",
         r["bias_type"] or "", r["output_type"], r["source"]]
        for r in info["layers"]
    ]  # fmt: skip
    t = info["totals"]
    rows += [SECTION, ["total", "", "", "", f"{t['macs']:,}", f"{t['parameters']:,}", "", "", "", "", ""]]
    print_table(out or console(), f"{info['model']}: {t['nodes']} nodes", columns, rows)


# -- step: verify ----------------------------------------------------------------------
def verify(model: Any, graph: Any, against: str, samples: int, seed: int, *, io: str = "stream",
           simulator: str | None = None, folding: str | None = None, output_dir: str | None = None,
           budget: float | None = None, target_ii: int | None = None) -> dict[str, Any]:  # fmt: skip
    """One bit-exact comparison of the reference with ``against``; the JSON-ready result.  ``folding``, ``budget``
    (None: the default) and ``target_ii`` fold the RTL design (:mod:`accel.rtl.folding`)."""
    if against == "qkeras":
        from accel.verify import verify_against_qkeras

        return verify_against_qkeras(model, graph, samples=samples, seed=seed).to_json()
    if against == "hls":
        from accel.hls import verify_against_hls

        result = verify_against_hls(model, graph, samples, io_type=io, seed=seed, output_dir=output_dir)
        return {**result.to_json(), "io_type": f"io_{io}"}
    if against == "rtl":
        from accel.rtl.verify import verify_against_rtl

        return verify_against_rtl(model, graph, samples, seed=seed, folding=folding, output_dir=output_dir,
                                  simulator=simulator, **_search(budget, target_ii)).to_json()  # fmt: skip
    raise AccelError(f"verification against '{against}' is unknown; supported: {', '.join(VERIFY_TARGETS)}.")


def _search(budget: float | None, target_ii: int | None) -> dict[str, Any]:
    """The folding search's keyword arguments: the budget only when given (else the backend's default)."""
    return {"target_ii": target_ii, **({"budget": budget} if budget is not None else {})}


def verify_build_dir(build_dir: Path, against: str, samples: int, seed: int, *,
                     simulator: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Verify a build directory as it is (nothing regenerated): its RTL co-simulation or its HLS top's C
    simulation against the reference of the model it was built from; the JSON-ready result."""
    from accel.deploy.manifest import load_build

    backend = load_build(build_dir).backend
    if against not in BACKENDS:
        raise AccelError(f"{build_dir} is a build directory; it is verified against its own backend "
                         f"(--against {backend}), QKeras against a model (accel verify MODEL).")  # fmt: skip
    if against != backend:
        raise AccelError(f"{build_dir} is an {backend} build; `--against {against}` needs an {against} build "
                         f"(accel build --backend {against}), or use `--against {backend}`.")  # fmt: skip
    manifest, _, graph = load_build_model(build_dir)
    with locked(build_dir, "build directory"):  # the run writes its simulation and measurements there
        if against == "rtl":
            from accel.rtl.verify import verify_build

            result = verify_build(graph, build_dir, samples, seed, simulator=simulator).to_json()
        else:
            from accel.hls.build_check import verify_hls_build

            result = {**verify_hls_build(graph, build_dir, samples, seed).to_json(),
                      "io_type": manifest.hls.io_type}  # fmt: skip
    return {**result, "build_dir": str(build_dir)}


def describe_verify(result: dict[str, Any]) -> str:
    """One human sentence about a verification result; names the first diverging layer on a mismatch."""
    head = f"{result['model']}: {result['samples']} random samples against {result['against']}: "
    rounded = describe_float32_rounded(result)
    speed = _sim_speed(result)
    if result["mismatches"] == 0:
        if rounded:
            return head + f"all outputs bit-exact except {rounded} ({result['elapsed_s']:.1f} s)." + speed
        return head + f"all outputs bit-exact ({result['elapsed_s']:.1f} s)." + speed
    d = result.get("first_divergence") or {}
    if d.get("stream") and d.get("layer") is None:  # a stream fault (lost or extra beats, TLAST, tlast_err), no value
        also = f"; besides, {rounded}" if rounded else ""
        return head + f"the output stream is wrong: {d['stream']}{also}."
    where = f" first diverging layer: {d['layer']} (node {d['node']}) at {d['index']}" if d else ""
    detail = f", expected {d['expected']!r} got {d['got']!r}" if d else ""
    also = f"; besides, {rounded}" if rounded else ""
    differ = f"{result['mismatches']} samples differ ({result['mismatched_values']} values)"
    return head + f"{differ};{where}{detail}{also}." + speed


def _sim_speed(result: dict[str, Any]) -> str:
    """A co-simulation's speed as a second sentence (RTL results only): run and compile apart, since the compiled
    model is cached and reused by the next run of the same build."""
    if "frames_per_s" not in result:
        return ""
    compiled = f"compile {result['compile_s']:.1f} s" if result["compile_s"] else "compiled model reused"
    return (f" {result['simulator']}: {result['sim_cycles']:,} cycles in {result['sim_s']:.1f} s "
            f"({result['frames_per_s']:.1f} frames/s); {compiled}.")


def describe_float32_rounded(result: dict[str, Any]) -> str:
    """The values QKeras' float32 rounded within its error bound (not mismatches), as a phrase; '' when none."""
    f = result.get("float32_rounded") or {}
    if not f.get("values"):
        return ""
    return (f"{f['values']} values in {f['samples']} samples that QKeras' float32 rounded within its error bound "
            f"(at most {f['max_error_over_bound']:.3g} of the bound; float32 may round at "
            f"{', '.join(f['tensors'][:5])}{' ...' if len(f['tensors']) > 5 else ''})")  # fmt: skip


# -- step: build ----------------------------------------------------------------------
def build(model: Any, graph: Any, backend: str, out_dir: Path, *, board: str | None = None, part: str | None = None,
          clock_ns: float = 10.0, io: str = "stream", folding: str | None = None, budget: float | None = None,
          target_ii: int | None = None, source: str | None = None, allow_overfit: bool = False,
          input_type: Any = None, softmax: str | None = None, force: bool = False,
          hls_options: Any = None) -> dict[str, Any]:  # fmt: skip
    """Write the backend's project into ``out_dir`` (and the board flow on top); a JSON-ready summary.

    The build is staged and lands in ``out_dir`` only when complete (:func:`accel.folders.staged_build`); a folder
    holding another model's or backend's build, or other files, is refused unless ``force`` clears it.
    ``hls_options``: hls4ml's ``strategy`` and ``reuse_factor`` for the HLS backend (:mod:`accel.api`).

    ``source`` is the MODEL argument the graph came from (a zoo name or a file), recorded in the manifest with
    the frontend options it was converted with (``input_type``, ``softmax``), so that ``accel verify BUILD_DIR``
    can check the build later without being told the model again.
    ``allow_overfit``: the RTL backend writes a design whose estimated resources exceed the part instead of
    refusing it (see :mod:`accel.rtl.cost`).  ``folding``, ``budget`` (None: the default) and ``target_ii`` fold
    the RTL design (:mod:`accel.rtl.folding`).
    """
    part = part or DEFAULT_PART
    src, sha = model_source(source) if source else ("", "")
    from accel.frontend.walk import input_type_of

    itype = input_type_of(input_type)
    converted = {"input_type": itype.hls if itype is not None else "", "softmax": softmax or ""}
    summary: dict[str, Any] = {"model": graph.name, "backend": backend, "dir": str(out_dir)}
    if backend not in BACKENDS:
        raise AccelError(f"backend '{backend}' is unknown; supported: {', '.join(BACKENDS)}.")
    with staged_build(out_dir, graph.name, backend, force=force) as stage:
        if backend == "hls":
            from accel.hls.project import build_hls_project, csim_project

            summary["manifest"] = build_hls_project(model, graph, stage, part=part, clock_ns=clock_ns, io_type=io,
                                                    source=src, source_sha256=sha, **converted,
                                                    **(hls_options or {}))  # fmt: skip
            summary["csim"] = csim_project(stage)
        else:
            from accel.rtl.network import build_rtl

            summary["manifest"] = build_rtl(graph, stage, folding=folding, part=part, clock_ns=clock_ns,
                                            source=src, source_sha256=sha, allow_overfit=allow_overfit,
                                            **converted, **_search(budget, target_ii))  # fmt: skip
        if board is not None:
            from accel.deploy.board import write_board_flow

            summary["board"] = write_board_flow(stage, board=board, clock_ns=clock_ns)
    return summary


def describe_fit(fit: dict[str, Any]) -> str:
    """The build summary's line on the fit check: the cost model's estimate against the part, largest use."""
    t, cap = fit["total"], fit.get("capacity")
    names = (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("bram36", "BRAM36"))

    def num(v: float) -> str:
        return f"{v:,.1f}" if v != int(v) else f"{int(v):,}"

    if cap is None:
        parts = ", ".join(f"{label} {num(round(t[k]) if k != 'bram36' else t[k])}" for k, label in names)
        return f"resource estimate (cost model, before synthesis): {parts}; {fit['verdict']}."
    parts = ", ".join(f"{label} {num(round(t[k]) if k != 'bram36' else t[k])} of {cap[k]:,}" for k, label in names)
    note = " (built anyway: --allow-overfit)" if fit.get("fits") is False else ""
    return f"resource estimate (cost model, before synthesis) vs the {cap['device']}: {parts}; {fit['verdict']}{note}."


def describe_folding(search: dict[str, Any], folding: dict[str, Any]) -> str:
    """The build summary's line on the folding optimiser: its mode, where it stopped, the multiplier styles."""
    share = f"{search['budget'] * 100:g}% of the {search['device']}"
    goal = (f"the smallest design reaching {search['target_ii']:,} cycles within {share}" if search["mode"] == "target"
            else f"the fastest design within {share}")  # fmt: skip
    held = f"held by {search['bottleneck'] or 'the input stream'}, stopped: {search['stop']}"
    styles = [f.get("mult_style", "dsp") for f in folding.values()]
    counts = ", ".join(f"{styles.count(s)} {s}" for s in dict.fromkeys(styles))
    return (f"folding: {goal}: II {search['expected_ii_cycles']:,} cycles ({held}; {search['evaluations']} designs "
            f"evaluated); multipliers per layer: {counts or 'none'}.")


def describe_build(summary: dict[str, Any]) -> str:
    """A few human lines about what `accel build` wrote and what to run next."""
    m = summary["manifest"]
    lines = [f"{summary['model']}: {summary['backend']} project in {summary['dir']} "
             f"(top {m['top']}, part {m['part']}, {m['clock_ns']} ns clock, {len(m['files'])} files)."]  # fmt: skip
    csim = summary.get("csim")
    if csim is not None:
        verdict = "passed" if csim.get("ok") else "FAILED"
        lines.append(f"C simulation of the AXI-Stream top on the reference vectors {verdict} "
                     f"({csim.get('frames')} frames, {csim.get('seconds', 0):.1f} s).")  # fmt: skip
    if "expected_ii_cycles" in m:
        lines.append(f"expected initiation interval: {m['expected_ii_cycles']:,} cycles per frame.")
    if m.get("folding_search"):
        lines.append(describe_folding(m["folding_search"], m.get("folding", {})))
    if m.get("fit"):
        lines.append(describe_fit(m["fit"]))
    if m.get("clock_check"):
        c = m["clock_check"]
        verdict = "meets" if c["meets_clock"] else "does NOT meet"
        lines.append(f"clock check (per-block bound, before synthesis): {c['fmax_mhz']:.0f} MHz ({c['instance']}), "
                     f"{verdict} the {1000 / c['clock_ns']:.0f} MHz clock; `accel report` estimates it from yosys.")
    lines.append(f"vendor step (needs Xilinx tools, not run here): {m['ip']['make']}")
    board = summary.get("board")
    if board is not None:
        script = board.get("script", "board/build_bitstream.sh")
        lines.append(f"board flow for {board.get('board', 'the board')} (needs Vivado): {script}")
        if board.get("clock_note"):
            lines.append(f"board clock: {board['clock_note']}")
    return "\n".join(lines)
