"""Run an :class:`accel.ir.Graph` on raw integers: golden outputs, per-node trace, overflow counters.

``IMPLS`` maps each op name to its reference implementation; a test asserts
every registered op has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

import accel.ops  # noqa: F401  (registers the ops)
from accel import AccelError
from accel.ir import Graph, Node, TensorSpec
from accel.reference import kernels as K

#: (node, input specs, output spec, input arrays) -> (output array, overflow count)
Impl = Callable[[Node, Sequence[TensorSpec], TensorSpec, list[np.ndarray]], tuple[np.ndarray, int]]
IMPLS: dict[str, Impl] = {}


def implements(op: str) -> Callable[[Impl], Impl]:
    def register(fn: Impl) -> Impl:
        IMPLS[op] = fn
        return fn

    return register


def _conv_shifts(node: Node, x: TensorSpec, out: TensorSpec) -> dict[str, int]:
    return {
        "product_shift": out.dtype.frac - x.dtype.frac - node.param_types["weight"].frac,
        "bias_shift": out.dtype.frac - node.param_types["bias"].frac,
    }


@implements("conv2d")
def _conv2d(node, ins, out, xs):
    a = node.attrs
    y = K.conv2d(
        xs[0], node.params["weight"], node.params["bias"], stride=a["stride"], pads=a["pads"], groups=a["groups"],
        **_conv_shifts(node, ins[0], out),
    )  # fmt: skip
    return y, 0


@implements("depthwise_conv2d")
def _depthwise(node, ins, out, xs):
    a = node.attrs
    y = K.depthwise_conv2d(
        xs[0], node.params["weight"], node.params["bias"], stride=a["stride"], pads=a["pads"],
        **_conv_shifts(node, ins[0], out),
    )  # fmt: skip
    return y, 0


def _requant_args(node: Node) -> dict:
    a = node.attrs
    return {"rounding": a["rounding"], "overflow": a["overflow"], "relu": a["relu"]}


@implements("quantize")
def _quantize(node, ins, out, xs):
    return K.requantize(xs[0], ins[0].dtype, out.dtype, **_requant_args(node))


@implements("maxpool")
def _maxpool(node, ins, out, xs):
    return K.maxpool(xs[0], node.attrs["pool"], node.attrs["stride"], node.attrs["pads"]), 0


@implements("avgpool")
def _avgpool(node, ins, out, xs):
    a = node.attrs
    return K.avgpool(xs[0], a["pool"], a["stride"], ins[0].dtype, out.dtype, **_requant_args(node))


@implements("global_avgpool")
def _gap(node, ins, out, xs):
    return K.global_avgpool(xs[0], ins[0].dtype, out.dtype, **_requant_args(node))


def _shifts(ins: Sequence[TensorSpec], out: TensorSpec) -> list[int]:
    return [out.dtype.frac - s.dtype.frac for s in ins]


@implements("add")
def _add(node, ins, out, xs):
    return K.add(xs, _shifts(ins, out)), 0


@implements("concat")
def _concat(node, ins, out, xs):
    return K.concat(xs, _shifts(ins, out)), 0


@implements("pad")
def _pad(node, ins, out, xs):
    return K.pad(xs[0], node.attrs["pads"]), 0


@implements("reshape")
def _reshape(node, ins, out, xs):
    return K.reshape(xs[0], out.shape), 0


@implements("upsample")
def _upsample(node, ins, out, xs):
    return K.upsample(xs[0], node.attrs["factor"]), 0


@implements("channel_shuffle")
def _shuffle(node, ins, out, xs):
    return K.channel_shuffle(xs[0], node.attrs["groups"]), 0


@dataclass
class ExecutionResult:
    """Outputs by tensor name; every tensor when traced; per-node overflow (saturation/wrap) counts."""

    outputs: dict[str, np.ndarray]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    overflows: dict[str, int] = field(default_factory=dict)


def run_node(graph: Graph, node: Node, inputs: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Run one node on raw inputs ``(N, H, W, C)``; returns its output and overflow count."""
    if node.op not in IMPLS:
        raise AccelError(f"node {node.name}: op '{node.op}' has no reference implementation.")
    out_spec = graph.tensors[node.output]
    y, count = IMPLS[node.op](node, graph.input_specs(node), out_spec, inputs)
    if y.shape[1:] != out_spec.shape:
        raise AssertionError(f"reference for {node.name} produced {y.shape[1:]}, graph says {out_spec.shape}")
    return y, count


def _check_input(spec: TensorSpec, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.shape[1:] != spec.shape:
        raise AccelError(f"input {spec.name} must have shape (N, {', '.join(map(str, spec.shape))}), got {x.shape}.")
    if x.dtype.kind not in "iu":
        raise AccelError(f"input {spec.name} must be raw integers of {spec.dtype.hls}, got {x.dtype}.")
    if x.size and (x.min() < spec.dtype.min_raw or x.max() > spec.dtype.max_raw):
        raise AccelError(f"input {spec.name} has raw values outside {spec.dtype.hls}.")
    return x.astype(np.int64)


def execute(graph: Graph, inputs: np.ndarray | Mapping[str, np.ndarray], trace: bool = False) -> ExecutionResult:
    """Run the graph on a batch of raw integer inputs.

    ``inputs`` is one array for a single-input graph, or a mapping by input name.
    """
    if not isinstance(inputs, Mapping):
        if len(graph.inputs) != 1:
            raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs; pass them by name.")
        inputs = {graph.inputs[0]: inputs}
    values = {name: _check_input(graph.tensors[name], inputs[name]) for name in graph.inputs}
    overflows: dict[str, int] = {}
    last_use = {t: i for i, n in enumerate(graph.nodes) for t in n.inputs}
    keep = set(graph.outputs)
    for i, node in enumerate(graph.nodes):
        y, count = run_node(graph, node, [values[t] for t in node.inputs])
        values[node.output] = y
        overflows[node.name] = count
        if not trace:  # free tensors nobody reads any more
            for t in set(node.inputs):  # a node may read one tensor twice (add(x, x))
                if last_use.get(t) == i and t not in keep:
                    del values[t]
    return ExecutionResult(
        outputs={t: values[t] for t in graph.outputs},
        tensors=values if trace else {},
        overflows=overflows,
    )
