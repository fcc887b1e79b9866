"""The seams between an op and the backends: what an op module registers besides its schema.

Why one place: an op is added by writing one module in ``accel/ops/`` (schema, type inference, reference,
HLS lowering, RTL lowering, folding) and nothing else; the backends look the op up in
:data:`accel.ir.OPS` and never branch on its name.  This module defines the shapes of those hooks and
the primitives the backends hand to them:

* reference: ``(node, input specs, output spec, input arrays) -> (output array, overflow count)``;
* HLS: ``(ctx: HlsContext, node) -> None``, emitting hls4ml layer dicts through ``ctx``;
* RTL: an :class:`RtlLowering`: ``lower(wiring: RtlWiring, node)`` places the op's blocks through the
  network generator's primitives, and an optional :class:`Folding` (PE/SIMD dimensions, lanes,
  multipliers and the blocks whose ``expected_cycles_per_frame`` is the cycle model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import OPS, Graph, Node, TensorSpec

#: (node, input specs, output spec, raw input arrays (N, H, W, C)) -> (raw output, overflow count)
Reference = Callable[[Node, Sequence[TensorSpec], TensorSpec, list[np.ndarray]], tuple[np.ndarray, int]]


@dataclass(frozen=True)
class LayerFold:
    """PE and SIMD of one folded layer (``simd`` is None for ops without a SIMD dimension), where its weight
    and bias ROMs go (``ram_style``: "auto" by size, "block" or "lut"; see accel.rtl.blocks.cost.BLOCK_ROM_BITS)
    and how its products are made (``mult_style``: one of accel.rtl.blocks.cost.MULT_STYLES)."""

    pe: int
    simd: int | None
    ram_style: str = "auto"
    mult_style: str = "dsp"

    def as_json(self) -> dict[str, int | str | None]:
        """build.json's ``folding`` entry of the layer."""
        return {"pe": self.pe, "simd": self.simd, "ram_style": self.ram_style, "mult_style": self.mult_style}


@dataclass(frozen=True)
class Folding:
    """How an op's RTL parallelism is chosen: what PE and SIMD must divide, and what a choice costs.

    ``dims(graph, node)`` -> (size PE must divide, size SIMD must divide or None when the op has no SIMD);
    ``lanes(node, fold)`` -> (input lanes, output lanes); ``multipliers(node, fold)`` -> multipliers
    instantiated; ``blocks(graph, node, fold, prefix)`` -> the block chain, whose slowest
    ``expected_cycles_per_frame`` is the layer's cycle model.
    """

    dims: Callable[[Graph, Node], tuple[int, int | None]]
    lanes: Callable[[Node, LayerFold], tuple[int, int]]
    multipliers: Callable[[Node, LayerFold], int]
    blocks: Callable[[Graph, Node, LayerFold, str], list[Any]]
    #: what the PE and SIMD dimensions are, in the sentences that refuse a folding
    pe_dim_name: str = "channels"
    simd_dim_name: str = "input channels"

    def cycles(self, graph: Graph, node: Node, fold: LayerFold) -> int:
        return max(b.expected_cycles_per_frame() for b in self.blocks(graph, node, fold, ""))


@dataclass(frozen=True)
class RtlLowering:
    """An op's RTL view.

    ``absorbs_pad``: whether the op's window can take the padding of pad nodes in front of it (they then emit
    no block; else the pad becomes an ``accel_pad`` block); ``absorbed``: the op itself emits no block when it
    can be folded into its consumer's window (pad).
    """

    lower: Callable[[RtlWiring, Node], None]
    folding: Folding | None = None
    absorbs_pad: PadAbsorber | None = None
    absorbed: bool = False


class RtlWiring(Protocol):
    """The network generator's primitives (implemented by :mod:`accel.rtl.network`); streams are opaque."""

    graph: Graph

    def fold(self, node: Node) -> LayerFold: ...
    def take(self, tensor: str, reader: Node | None = None) -> Any: ...
    def edge(self, node: Node, k: int, lanes: int, *, join: bool = False, stream: Any = None) -> Any: ...
    def publish(self, node: Node, stream: Any) -> None: ...
    def pads_of(self, stream: Any) -> tuple[int, int, int, int]: ...
    def lanes_of(self, stream: Any) -> int: ...
    def restream(self, stream: Any, *, shape: tuple[int, int, int] | None = None,
                 pads: tuple[int, int, int, int] | None = None) -> Any: ...  # fmt: skip
    def error(self, node: Node, what: str) -> AccelError: ...
    #: a folded op: its Folding's blocks in a chain behind input edge 0
    def chain(self, node: Node) -> None: ...
    #: one single-input block at its producer's lanes: make(node, x, out, lanes, pads folded in) -> block
    def follow(self, node: Node, make: Callable[[Node, TensorSpec, TensorSpec, int, tuple[int, ...]], Any]) -> None: ...
    #: N operands -> N-1 two-input blocks: make(instance name, a, b, lanes, partial's type) -> block
    def join(self, node: Node, make: Callable[[str, TensorSpec, TensorSpec, int, FixedType], Any]) -> None: ...


class HlsContext(Protocol):
    """The HLS lowering's primitives (implemented by :mod:`accel.hls.lower`)."""

    graph: Graph
    io_type: str
    strategy: str
    disable: frozenset[str]

    def ident(self, name: str) -> str: ...
    def layer_name(self, tensor: str) -> str: ...
    def emit(self, layer: dict, result: str, tensor: str | None = None, **types: str) -> str: ...
    def precision(self, t: FixedType, rounding: Rounding | None = None, overflow: Overflow | None = None) -> str: ...
    def rounding_code(self, rounding: Rounding) -> int: ...
    def chain(self, node: Node, class_name: str, op: str, extra: dict) -> None: ...
    def weights(self, raw: np.ndarray, t: FixedType) -> np.ndarray: ...


def reads_alone(graph: Graph, pad: Node, reader: Node) -> bool:
    """Whether ``reader`` is the one reader of the pad node ``pad`` (read once, and not a graph output): only
    then can the pad be folded into it."""
    readers = graph.consumers(pad.output)
    return (len(readers) == 1 and readers[0].name == reader.name and pad.output not in graph.outputs
            and reader.inputs.count(pad.output) == 1)  # fmt: skip


def pad_chain(graph: Graph, node: Node) -> tuple[TensorSpec, tuple[int, int, int, int]]:
    """The tensor before the pad nodes in front of ``node`` that only it reads (one after another), and
    their padding summed; ``node``'s own input and no padding when there are none."""
    producers = {n.name: n for n in graph.nodes}
    t, pads, reader = node.inputs[0], (0, 0, 0, 0), node
    while t in producers and producers[t].op == "pad" and reads_alone(graph, producers[t], reader):
        reader = producers[t]
        pads = tuple(a + b for a, b in zip(pads, reader.attrs["pads"], strict=True))  # type: ignore[assignment]
        t = reader.inputs[0]
    return graph.tensors[t], pads


def unpadded_input(graph: Graph, node: Node) -> tuple[TensorSpec, tuple[int, int, int, int]]:
    """The tensor a windowed node really streams in, and the padding of the pad nodes folded into it: the
    pad chain in front (:func:`pad_chain`) when the node's ``absorbs_pad`` takes it, else its own input
    (the pads then stream through an ``accel_pad`` block).  A pad node itself takes every pad in front."""
    x, pads = pad_chain(graph, node)
    if node.op != "pad" and any(pads):
        rtl = OPS[node.op].rtl
        if rtl is None or rtl.absorbs_pad is None or not rtl.absorbs_pad(node, x, pads):
            return graph.tensors[node.inputs[0]], (0, 0, 0, 0)
    return x, pads


#: (reader node, the tensor it streams before any padding, padding of the pad nodes in front) -> whether the
#: reader's window can take that padding as its own
PadAbsorber = Callable[[Node, TensorSpec, tuple[int, int, int, int]], bool]


def window_absorbs(kernel_attr: str) -> PadAbsorber:
    """A window reader (conv, depthwise conv, pool) whose kernel is ``node.attrs[kernel_attr]`` takes padding in
    front while every side's total padding (its own plus the pads') stays below the kernel, as accel_window
    requires (a wider pad would make windows of padding alone)."""

    def absorbs(node: Node, x: TensorSpec, extra: tuple[int, int, int, int]) -> bool:
        kh, kw = node.attrs[kernel_attr]
        pt, pb, pl, pr = total_pads(node, extra)
        return pt < kh and pb < kh and pl < kw and pr < kw

    return absorbs


def total_pads(node: Node, extra: Sequence[int]) -> tuple[int, int, int, int]:
    """A windowed node's own padding plus the padding folded in from pad nodes."""
    return tuple(int(a) + int(b) for a, b in zip(node.attrs["pads"], extra, strict=True))  # type: ignore[return-value]
