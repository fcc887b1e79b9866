"""Lower an accel Graph to an hls4ml layer list with every type taken from the Graph.

The Graph is the authority: it has already folded batch-norm, split separable
convolutions and typed every tensor exactly.  Each Graph node becomes one hls4ml
layer named after the node (so hls4ml's trace keys are node names), sometimes
preceded by helper layers named ``<node>__<what>``.  Each op's lowering is registered
with the op (``OpDef.hls`` in :mod:`accel.ops`); this module is the context they emit
through (:class:`accel.ops.lowering.HlsContext`).  The op lowerings close
hls4ml 1.3.0 gaps without changing a single value:

* grouped convolutions, depthwise with ``depth_multiplier > 1`` and depthwise under
  io_parallel + Resource (none supported by hls4ml) become ordinary convolutions
  with block-diagonal weights (the zero taps change neither value nor accumulator);
* channel shuffle becomes a 1x1 convolution with a 0/1 permutation matrix;
* adds and concatenations of more than two tensors become chains of two-input ones
  with exact intermediate types;
* average pools become accel's ``AccelAvgPool`` (one exact rounding, see extensions);
* max pools hls4ml cannot stream (pool != stride) or pads with zeros become ``AccelMaxPool``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import OPS, Graph, Node, TensorSpec

from .extensions import ROUNDING_CODE


@dataclass
class Lowered:
    """An hls4ml layer list plus the per-layer precisions that make it equal to the Graph."""

    layers: list[dict] = field(default_factory=list)
    #: hls4ml layer name -> {"result"|"accum"|"weight"|"bias": precision string}
    precisions: dict[str, dict[str, str]] = field(default_factory=dict)
    #: hls4ml layer name -> Graph node (or input tensor) whose output it is
    tensor_of_layer: dict[str, str] = field(default_factory=dict)
    #: Graph tensor -> hls4ml layer name
    layer_of_tensor: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def precision(t: FixedType, rounding: Rounding | None = None, overflow: Overflow | None = None) -> str:
    """hls4ml precision string of a Graph type, with rounding/overflow modes only when they matter."""
    if rounding is None and overflow is None:
        return t.hls
    rnd = (rounding or Rounding.TRUNCATE).value
    sat = (overflow or Overflow.WRAP).value
    return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.integer},{rnd},{sat}>"


def _ident(name: str) -> str:
    """A C++ identifier for a node name (hls4ml uses layer names as variable names; 'input' is reserved)."""
    s = re.sub(r"\W", "_", name)
    if s == "input":
        return "input_"
    return s if re.match(r"[A-Za-z_]", s) else f"t_{s}"


def _to_float(raw: np.ndarray, t: FixedType) -> np.ndarray:
    if t.width > 53:
        raise AccelError(f"type {t.hls} is wider than 53 bits; hls4ml takes weights as float64 and would round them.")
    return t.to_float(raw)


#: accel's workarounds of hls4ml gaps; a test disables each one to show hls4ml alone is wrong or fails
WORKAROUNDS = ("avgpool", "depthwise", "maxpool")


class _Lowering:
    def __init__(self, graph: Graph, io_type: str, strategy: str, disable: tuple[str, ...] = ()) -> None:
        unknown = set(disable) - set(WORKAROUNDS)
        if unknown:
            raise AccelError(f"unknown hls4ml workarounds {sorted(unknown)}; known: {', '.join(WORKAROUNDS)}.")
        self.graph = graph
        self.io_type = io_type
        self.strategy = strategy
        self.disable = frozenset(disable)
        self.out = Lowered()
        self.names: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------
    def layer_name(self, tensor: str) -> str:
        return self.out.layer_of_tensor[tensor]

    def emit(self, layer: dict, result: str, tensor: str | None = None, **types: str) -> str:
        name = layer["name"]
        if any(lay["name"] == name for lay in self.out.layers):
            raise AccelError(f"two hls4ml layers would be named '{name}'; rename the Keras layers so they differ.")
        self.out.layers.append(layer)
        self.out.precisions[name] = {"result": result, **types}
        if tensor is not None:
            self.out.tensor_of_layer[name] = tensor
            self.out.layer_of_tensor[tensor] = name
        return name

    # -- primitives the op lowerings use (accel.ops.lowering.HlsContext) ---------------------------------
    def ident(self, name: str) -> str:
        return _ident(name)

    def precision(self, t: FixedType, rounding: Rounding | None = None, overflow: Overflow | None = None) -> str:
        return precision(t, rounding, overflow)

    def rounding_code(self, rounding: Rounding) -> int:
        return ROUNDING_CODE[rounding]

    def weights(self, raw: np.ndarray, t: FixedType) -> np.ndarray:
        return _to_float(raw, t)

    def chain(self, node: Node, class_name: str, op: str, extra: dict) -> None:
        """Two-input hls4ml merges; intermediate types come from the op's own exact type inference."""
        opdef = OPS[node.op]
        srcs = list(node.inputs)
        acc_tensor = srcs[0]
        acc_spec = self.graph.tensors[acc_tensor]
        acc_layer = self.layer_name(acc_tensor)
        for i, nxt in enumerate(srcs[1:], start=1):
            last = i == len(srcs) - 1
            shape, out_t = opdef.infer(node, [acc_spec, self.graph.tensors[nxt]])
            if last:
                out_t = self.graph.tensors[node.name].dtype
            name = _ident(node.name) if last else f"{_ident(node.name)}__part{i}"
            layer = {"class_name": class_name, "name": name, "op": op, "inputs": [acc_layer, self.layer_name(nxt)]}
            layer.update(extra)
            acc_layer = self.emit(layer, out_t.hls, node.name if last else None)
            acc_spec = TensorSpec(name, shape, out_t)

    # -- driver --------------------------------------------------------------
    def run(self) -> Lowered:
        for t in self.graph.inputs:
            spec = self.graph.tensors[t]
            layer = {"class_name": "InputLayer", "name": _ident(t), "input_shape": list(spec.shape)}
            self.emit(layer, spec.dtype.hls, t)
            self.out.inputs.append(layer["name"])
        for node in self.graph.nodes:
            handler = OPS[node.op].hls if node.op in OPS else None
            if handler is None:
                supported = sorted(name for name, op in OPS.items() if op.hls is not None)
                raise AccelError(
                    f"node {node.name}: op '{node.op}' has no hls4ml lowering; supported ops: {', '.join(supported)}."
                )
            handler(self, node)
        self.out.outputs = [self.layer_name(t) for t in self.graph.outputs]
        return self.out


def lower(
    graph: Graph, io_type: str = "io_stream", strategy: str = "Latency", disable: tuple[str, ...] = ()
) -> Lowered:
    """The hls4ml layer list and precisions equal to ``graph`` (see the module docstring for the rewrites).

    ``disable`` names workarounds (:data:`WORKAROUNDS`) to leave out, so tests can
    show what hls4ml 1.3.0 does without them.
    """
    return _Lowering(graph, io_type, strategy, tuple(disable)).run()
