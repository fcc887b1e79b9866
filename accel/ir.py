"""accel's typed integer dataflow graph: the single source of truth for every backend.

* Every tensor is ``(H, W, C)`` (channels last, no batch axis) with one exact
  :class:`~accel.fixed.FixedType`; a dense layer's vector is ``(1, 1, N)``.
* A node has exactly one output, named like the node.
* Ops are registered once (:func:`register_op`), one module per op in
  :mod:`accel.ops`, with their attribute schema, parameter names, type inference,
  MAC count and their reference, HLS and RTL lowerings (whose shapes
  :mod:`accel.ops.lowering` defines); backends look an op up here and keep no op
  tables of their own.

This module imports neither Keras nor a backend.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class TensorSpec:
    """A tensor's name, ``(H, W, C)`` shape and exact type."""

    name: str
    shape: Shape
    dtype: FixedType

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass(frozen=True)
class AttrSpec:
    """One attribute of an op: the Python type it must have, whether required, its allowed values."""

    kind: type | tuple[type, ...]
    required: bool = True
    default: Any = None
    allowed: tuple[Any, ...] | None = None
    doc: str = ""


@dataclass(frozen=True, eq=False)
class Node:
    """One operation.  ``params`` are raw integer arrays whose types are in ``param_types``.

    ``source`` is the Keras layer the node came from; ``matches_source`` says
    whether the node's output *is* that layer's output (false for e.g. a conv
    whose fused activation is a separate node), which is what per-layer
    comparison against QKeras uses.
    """

    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, np.ndarray] = field(default_factory=dict)
    param_types: Mapping[str, FixedType] = field(default_factory=dict)
    source: str = ""
    matches_source: bool = True

    @property
    def output(self) -> str:
        return self.name


@dataclass(frozen=True)
class OpDef:
    """What an op is, independent of any backend."""

    name: str
    doc: str
    attrs: Mapping[str, AttrSpec]
    params: tuple[str, ...]
    #: number of inputs; ``None`` means two or more
    arity: int | None
    #: (node, input specs) -> (output shape, output type); raises AccelError for bad shapes
    infer: Callable[[Node, Sequence[TensorSpec]], tuple[Shape, FixedType]]
    #: (node, input specs, output spec) -> multiply-accumulates per frame
    macs: Callable[[Node, Sequence[TensorSpec], TensorSpec], int] = lambda n, i, o: 0
    #: the exact integer implementation (accel.ops.lowering.Reference); required
    reference: Callable[..., Any] | None = None
    #: the hls4ml lowering ``(ctx, node)``; None: the HLS backend refuses the op with a sentence
    hls: Callable[..., Any] | None = None
    #: the RTL lowering (accel.ops.lowering.RtlLowering); None: the RTL backend refuses the op
    rtl: Any = None
    #: the op's own test cases, ``rng -> [Graph]``, run by ``tests/test_conformance.py`` through the reference
    #: and both hardware backends; a new op is thus tested without editing any test.  Each is a small (a frame
    #: of at most ~8x8x8) single-input, single-output graph that contains the op, with weights, types and shapes
    #: drawn from ``rng``, that the frontend could produce and that both backends must build (so a ``pad``
    #: feeds a conv or max pool, whose window the RTL backend folds it into)
    examples: Callable[[np.random.Generator], list[Graph]] | None = None


OPS: dict[str, OpDef] = {}


def register_op(opdef: OpDef) -> OpDef:
    if opdef.name in OPS:
        raise RuntimeError(f"op {opdef.name} registered twice")
    OPS[opdef.name] = opdef
    return opdef


def _check_attrs(name: str, opdef: OpDef, attrs: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(attrs) - set(opdef.attrs)
    if unknown:
        raise AccelError(
            f"node {name} ({opdef.name}) has unknown attributes {sorted(unknown)}; "
            f"{opdef.name} takes {sorted(opdef.attrs)}."
        )
    out: dict[str, Any] = {}
    for key, spec in opdef.attrs.items():
        if key not in attrs:
            if spec.required:
                raise AccelError(f"node {name} ({opdef.name}) lacks required attribute '{key}'.")
            out[key] = spec.default
            continue
        value = attrs[key]
        if isinstance(value, list):
            value = tuple(value)
        if value is not None and not isinstance(value, spec.kind):
            raise AccelError(
                f"node {name} ({opdef.name}) attribute '{key}' is {type(value).__name__}; expected {spec.kind}."
            )
        if spec.allowed is not None and value not in spec.allowed:
            raise AccelError(
                f"node {name} ({opdef.name}) attribute '{key}'={value!r} is not supported; "
                f"supported: {', '.join(map(repr, spec.allowed))}."
            )
        out[key] = value
    return out


@dataclass(frozen=True)
class Graph:
    """A topologically ordered, fully typed network."""

    name: str
    tensors: Mapping[str, TensorSpec]
    nodes: tuple[Node, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def consumers(self, tensor: str) -> list[Node]:
        return [n for n in self.nodes if tensor in n.inputs]

    def input_specs(self, node: Node) -> list[TensorSpec]:
        return [self.tensors[t] for t in node.inputs]

    def macs(self, node: Node) -> int:
        return OPS[node.op].macs(node, self.input_specs(node), self.tensors[node.output])

    def parameter_count(self, node: Node) -> int:
        return int(sum(np.asarray(p).size for p in node.params.values()))


class GraphBuilder:
    """Builds a :class:`Graph` node by node, validating attributes and inferring every output type."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tensors: dict[str, TensorSpec] = {}
        self._nodes: list[Node] = []
        self._inputs: list[str] = []

    def input(self, name: str, shape: Sequence[int], dtype: FixedType) -> str:
        shape3 = _as_shape(name, shape)
        self._claim(name)
        self._tensors[name] = TensorSpec(name, shape3, dtype)
        self._inputs.append(name)
        return name

    def add(
        self,
        name: str,
        op: str,
        inputs: Sequence[str],
        attrs: Mapping[str, Any] | None = None,
        params: Mapping[str, np.ndarray] | None = None,
        param_types: Mapping[str, FixedType] | None = None,
        source: str = "",
        matches_source: bool = True,
    ) -> str:
        """Add a node; returns its output tensor's name (the node's name)."""
        if op not in OPS:
            raise AccelError(f"node {name} uses unknown op '{op}'; known ops: {', '.join(sorted(OPS))}.")
        opdef = OPS[op]
        self._claim(name)
        for t in inputs:
            if t not in self._tensors:
                raise AccelError(f"node {name} reads tensor '{t}', which no earlier node produces.")
        if opdef.arity is None and len(inputs) < 2:
            raise AccelError(f"node {name} ({op}) needs two or more inputs, got {len(inputs)}.")
        if opdef.arity is not None and len(inputs) != opdef.arity:
            raise AccelError(f"node {name} ({op}) needs {opdef.arity} input(s), got {len(inputs)}.")
        params = dict(params or {})
        param_types = dict(param_types or {})
        if set(params) != set(opdef.params) or set(param_types) != set(opdef.params):
            raise AccelError(f"node {name} ({op}) must have parameters {list(opdef.params)}, got {sorted(params)}.")
        for key, arr in params.items():
            arr = np.asarray(arr)
            if arr.dtype.kind not in "iu":
                raise AccelError(f"node {name} parameter '{key}' must hold raw integers, got {arr.dtype}.")
            t = param_types[key]
            if arr.size and (arr.min() < t.min_raw or arr.max() > t.max_raw):
                raise AccelError(f"node {name} parameter '{key}' has values outside {t.hls}.")
            arr = arr.astype(np.int64)
            arr.setflags(write=False)
            params[key] = arr
        node = Node(
            name=name,
            op=op,
            inputs=tuple(inputs),
            attrs=MappingProxyType(_check_attrs(name, opdef, attrs or {})),
            params=MappingProxyType(params),
            param_types=MappingProxyType(param_types),
            source=source or name,
            matches_source=matches_source,
        )
        try:
            shape, dtype = opdef.infer(node, [self._tensors[t] for t in inputs])
        except AccelError as exc:  # e.g. an exact accumulator wider than 62 bits: say which node needs it
            if f"node {name} " in str(exc) or str(exc).startswith(f"{name}:"):
                raise
            raise AccelError(f"node {name} ({op}): {exc}") from None
        self._tensors[name] = TensorSpec(name, _as_shape(name, shape), dtype)
        self._nodes.append(node)
        return name

    def spec(self, tensor: str) -> TensorSpec:
        return self._tensors[tensor]

    def build(self, outputs: Sequence[str]) -> Graph:
        for t in outputs:
            if t not in self._tensors:
                raise AccelError(f"graph output '{t}' is not a tensor of the graph.")
        if not self._inputs:
            raise AccelError(f"graph {self.name} has no input.")
        return Graph(
            name=self.name,
            tensors=MappingProxyType(dict(self._tensors)),
            nodes=tuple(self._nodes),
            inputs=tuple(self._inputs),
            outputs=tuple(outputs),
        )

    def _claim(self, name: str) -> None:
        if name in self._tensors:
            raise AccelError(f"two tensors are named '{name}'; names must be unique.")


def _as_shape(name: str, shape: Sequence[int]) -> Shape:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise AccelError(f"tensor {name} has shape {shape}; accel tensors are (H, W, C) with positive sizes.")
    return shape  # type: ignore[return-value]


def attr_to_json(value: Any) -> Any:
    """JSON form of an attribute value (enums by name, types by their HLS spelling)."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, FixedType):
        return value.hls
    if isinstance(value, tuple):
        return [attr_to_json(v) for v in value]
    return value
