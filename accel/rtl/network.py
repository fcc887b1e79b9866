"""The RTL network generator: a :class:`accel.ir.Graph` -> one Verilog top ``accel_top`` of library blocks.

``build_rtl(graph, out_dir)`` writes::

    out_dir/rtl/accel_top.v       the generated top (instances and wires only)
    out_dir/rtl/accel_*.v         the library files it uses (copied)
    out_dir/rtl/*.mem             weight/bias ROM images ($readmemh)
    out_dir/rtl/filelist.f        Verilog sources, file names relative to out_dir/rtl
    out_dir/vivado/package_ip.tcl Vivado: project + ipx::package_project into out_dir/ip
    out_dir/build.json            the manifest (accel.deploy.manifest)

Which blocks a node becomes is the op's business: its RTL lowering (``OpDef.rtl``, in
``accel/ops/<op>.py``) calls one of the wiring primitives of :class:`Wiring` — ``chain`` (a folded op:
its :class:`accel.ops.lowering.Folding`'s blocks, e.g. ``accel_window`` + ``accel_mvu``), ``follow``
(one single-input block at its producer's lanes, e.g. ``accel_requant``), ``join`` (N operands -> N-1
two-input blocks, e.g. ``accel_add``) — or wires streams itself (``reshape``: wiring only; ``pad``: no
block, its padding folded into the window of the one layer that reads it).  This module never branches
on an op's name.  It owns the edges: instance names ``u_<node>_<block>``;

* a tensor read by several consumers -> ``accel_fork`` (``u_<producer>_fork``);
* on every edge, ``u_<consumer>_in<k>_width`` (``accel_width``) when the producer's lanes differ from
  the lanes the consumer takes, then ``u_<consumer>_in<k>_fifo`` (``accel_fifo``).

Every placed block's declared ports (:meth:`accel.rtl.blocks.base.Block.ports`) are checked against the
streams wired to them (bits per beat, beats per frame, element type where the block fixes it), and
the manifest records each instance's ports, cycle model, resource class and monitoring facts, so that
co-simulation, report and package never read the generated Verilog.

Lanes: a folded op's Folding gives its input and output lanes; every other block keeps its producer's
lanes; a join takes the lanes of its first operand (or their gcd with the channel counts).

FIFO sizing.  Ordinary edges: ``max(4, 2 * beats per pixel)`` so a bursty producer (a DWU emits one beat
per KxK window pass, an MVU a fold at a time) and a bursty consumer (an MVU reads a pixel in its first
fold only) overlap.  Join inputs (each operand of add/concat): a FIFO holding one whole frame of that
operand plus that slack.  Why this cannot deadlock: all branches of a join leave one fork, which hands a
beat on only when every branch took it; a join input FIFO that is full holds a frame's worth of beats
the join has not consumed, so the fork has delivered the whole frame of the oldest of them to every
branch; every block emits frame f's outputs from frame f's inputs alone, so every other branch can
produce the matching beat and the join proceeds.  In latency terms: input k's FIFO must exceed the
largest lag of any other branch behind the fork (a window lags (KH+SH)/H of a frame, an MVU two pixels,
a FIFO its depth, a global average pool a whole frame), because a deadlock needs input k's FIFO full
while another branch is still starved; that lag is at most one frame (plus a pixel) for every block, so
one frame plus two pixels is the safe closed form.  For the zoo's small frames the lag bound with any margin is already
over half a frame (a 3x3 window on an 8-row image alone is half), so the frame bound costs little: at
most 1,024 entries per join input.

ROM paths: every ``.mem`` file is referenced by its bare file name (relative), written next to
``accel_top.v`` in ``out_dir/rtl``; ``$readmemh`` resolves it against the simulator's working
directory, so run simulators in ``out_dir/rtl`` or copy ``rom_files`` (manifest key, relative to
out_dir) into the run directory; the Vivado script adds the ``.mem`` files to the project, where
synthesis finds them by name.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.deploy.manifest import MANIFEST, SCHEMA_VERSION, BuildManifest, check_target, stream_spec, write_manifest
from accel.deploy.stream import beat_bytes
from accel.fixed import FixedType
from accel.ir import OPS, Graph, Node, TensorSpec
from accel.ops.lowering import LayerFold, unpadded_input
from accel.rtl import lib_file, tlast
from accel.rtl.blocks.base import Block
from accel.rtl.blocks.cost import Cost
from accel.rtl.blocks.delay import clock_check
from accel.rtl.blocks.fifo import Fifo
from accel.rtl.blocks.fork import Fork
from accel.rtl.blocks.frame_last import FrameLast
from accel.rtl.blocks.width import WidthConverter
from accel.rtl.cost import cost_json, fit_check, memory_json, refuse_overfit
from accel.rtl.folding import (
    DEFAULT_BUDGET,
    Evaluate,
    Evaluation,
    FoldingChoice,
    folding_of,
    multipliers,
    search_folding,
)
from accel.rtl.top import top_verilog
from accel.rtl.vivado import VLNV, package_ip_tcl

PORTS = {"clock": "clk", "reset": "rst", "reset_active_low": False, "s_axis": "s_axis", "m_axis": "m_axis",
         "tlast_err": "tlast_err"}
NO_PADS = (0, 0, 0, 0)


def _ident(name: str) -> str:
    """A Verilog identifier from a node name."""
    s = re.sub(r"\W", "_", name)
    return s if re.match(r"[A-Za-z_]", s) else f"n_{s}"


def rtl_ops() -> list[str]:
    """The ops the RTL backend lowers (every registered op with an RTL lowering)."""
    return sorted(name for name, op in OPS.items() if op.rtl is not None)


@dataclass
class Stream:
    """A bundle of wires ``<wire>_tdata/tvalid/tready/tlast`` in accel_top carrying one tensor."""

    wire: str
    shape: tuple[int, int, int]
    dtype: FixedType
    lanes: int
    pads: tuple[int, int, int, int] = NO_PADS  # padding a folded pad node still owes the consumer

    @property
    def bits(self) -> int:
        return self.lanes * self.dtype.width

    @property
    def frame_beats(self) -> int:
        h, w, c = self.shape
        return h * w * c // self.lanes

    def record(self, port: str, index: int | None = None) -> dict[str, Any]:
        """The manifest's description of this stream on one port of an instance."""
        return {"port": port, "index": index, "shape": list(self.shape), "type": self.dtype.hls,
                "lanes": self.lanes, "wire": self.wire, "beats_per_frame": self.frame_beats}  # fmt: skip


@dataclass
class Instance:
    """One block instance in accel_top: its ports' streams and the layer it is counted in."""

    name: str
    block: Block
    node: str
    inputs: list[Stream]
    outputs: list[Stream]
    params: dict = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.block.module

    def record(self, cost: Cost) -> dict[str, Any]:
        """The manifest's record of this instance: everything a reader needs without the Verilog, and its
        estimated ``cost`` (the block's :meth:`~accel.rtl.blocks.base.Block.cost`) with its memories."""
        ins, outs = self.block.ports()
        vector = self.block.vector_output
        return {
            "instance": self.name,
            "module": self.module,
            "parameters": self.params,
            "expected_cycles": int(self.block.expected_cycles_per_frame()),
            "resource_class": self.block.resource_class,
            "inputs": [s.record(p.name) for p, s in zip(ins, self.inputs, strict=True)],
            "outputs": [s.record(p.name, k if vector else None)
                        for k, (p, s) in enumerate(zip(outs, self.outputs, strict=True))],
            "starved": self.block.starved,
            "vector_output": vector,
            "progress": self.block.progress,
            "children": [{"path": c.path, "module": c.module, "starved": c.starved} for c in self.block.children],
            "cost": cost_json(cost),
            "memory": [memory_json(m) for m in cost.memory],
        }


class Wiring:
    """Places blocks and wires streams; the primitives an op's RTL lowering calls
    (:class:`accel.ops.lowering.RtlWiring`)."""

    def __init__(self, graph: Graph, fold: dict[str, LayerFold]) -> None:
        self.graph = graph
        self.folds = fold
        self.instances: list[Instance] = []
        self.streams: dict[str, Stream] = {}  # tensor -> its producer's output stream
        self.fork_outs: dict[str, list[Stream]] = {}  # tensor -> fork outputs not yet taken
        self.edges = {t: 0 for t in graph.tensors}
        for n in graph.nodes:
            for t in n.inputs:
                self.edges[t] += 1
        for t in graph.outputs:
            self.edges[t] += 1
        self.node_of: dict[str, str] = {}  # producer node of each tensor (graph input: "")
        self.ids: set[str] = set()

    # -- the RtlWiring primitives ----------------------------------------------------------------------
    def fold(self, node: Node) -> LayerFold:
        return self.folds[node.name]

    def error(self, node: Node, what: str) -> AccelError:
        return AccelError(f"node {node.name} ({node.op}): {what}")

    def pads_of(self, stream: Stream) -> tuple[int, int, int, int]:
        return stream.pads

    def lanes_of(self, stream: Stream) -> int:
        return stream.lanes

    def restream(self, stream: Stream, *, shape: tuple[int, int, int] | None = None,
                 pads: tuple[int, int, int, int] | None = None) -> Stream:  # fmt: skip
        """The same wires seen as another shape (a reshape) or owing padding (a folded pad)."""
        return Stream(stream.wire, shape or stream.shape, stream.dtype, stream.lanes,
                      stream.pads if pads is None else pads)  # fmt: skip

    def publish(self, node: Node, stream: Stream) -> None:
        self.streams[node.output] = stream

    def take(self, tensor: str, reader: Node | None = None) -> Stream:
        """The stream of ``tensor`` for one consumer edge (through a fork when it has several).

        A stream that still owes padding may only be read by an op that absorbs it (or by another pad).
        """
        if tensor not in self.streams:
            raise AccelError(f"tensor {tensor} has no stream (internal order error).")
        src = self.streams[tensor]
        if reader is not None and any(src.pads):
            rtl = OPS[reader.op].rtl
            if not (rtl.absorbs_pad or rtl.absorbed):
                absorbing = sorted(n for n, op in OPS.items() if op.rtl is not None and op.rtl.absorbs_pad)
                raise self.error(reader, "it reads a pad node's output; padding is folded only into the window of "
                                         f"a single following {', '.join(absorbing)} layer.")  # fmt: skip
        if self.edges[tensor] <= 1:
            return src
        if tensor not in self.fork_outs:
            n = self.edges[tensor]
            owner = self.node_of.get(tensor) or tensor
            name = self.inst_name(owner, "fork")
            outs = [Stream(f"{name}_out{k}", src.shape, src.dtype, src.lanes, src.pads) for k in range(n)]
            block = Fork(name, src.bits, n, src.frame_beats, lanes=src.lanes)
            self._check_ports(owner, block, [src])
            self.instances.append(Instance(name, block, self.node_of.get(tensor, ""), [src], outs,
                                           block.verilog_parameters()))  # fmt: skip
            self.fork_outs[tensor] = list(outs)
        return self.fork_outs[tensor].pop(0)

    def edge(self, node: Node, k: int, lanes: int, *, join: bool = False, stream: Stream | None = None) -> Stream:
        """Input ``k`` of ``node`` at ``lanes``: producer -> [fork] -> [width] -> fifo.

        FIFO sizing.  Ordinary edges: ``max(4, 2 * beats per pixel)`` so a bursty producer (a DWU emits
        one beat per KxK window pass, an MVU a fold at a time) and a bursty consumer (an MVU reads a
        pixel in its first fold only) overlap.  Join inputs: one whole frame of that operand plus that
        slack, which cannot deadlock (see :meth:`join`).
        """
        s = stream if stream is not None else self.take(node.inputs[k], reader=node)
        h, w, c = s.shape
        if c % lanes:
            raise self.error(node, f"its input {node.inputs[k]} has {c} channels, which {lanes} lanes do not "
                                   "divide; lanes must divide the channel count.")  # fmt: skip
        if s.lanes != lanes:
            blk = WidthConverter(f"{node.name}_in{k}_width", h, w, c, s.dtype.width, s.lanes, lanes)
            s = self.restream(self.place(node.name, f"in{k}_width", blk, [s], s.shape), pads=s.pads)
        depth = max(4, 2 * (c // lanes))
        if join:
            depth += s.frame_beats
        blk = Fifo(f"{node.name}_in{k}_fifo", depth, s.bits, s.frame_beats, lanes=lanes)
        return self.restream(self.place(node.name, f"in{k}_fifo", blk, [s], s.shape), pads=s.pads)

    def chain(self, node: Node) -> None:
        """A folded op: its Folding's blocks in a chain behind input edge 0 (a pad in front folded in)."""
        spec = folding_of(node)
        fold = self.fold(node)
        lanes_in, _ = spec.lanes(node, fold)
        s = self.edge(node, 0, lanes_in)
        if s.pads != unpadded_input(self.graph, node)[1]:
            raise self.error(node, "internal error: folded padding disagrees with the graph.")
        blocks = spec.blocks(self.graph, node, fold, f"{_ident(node.name)}_")
        out = self.graph.tensors[node.output]
        for k, b in enumerate(blocks):
            last = k == len(blocks) - 1
            s = self.place(node.name, b.module.removeprefix("accel_"), b, [s], out.shape if last else None)
        self.publish(node, s)

    def follow(self, node: Node, make: Any) -> None:
        """One single-input block at its producer's lanes: ``make(node, x, out, lanes, pads)`` -> block."""
        src = self.take(node.inputs[0], reader=node)
        s = self.edge(node, 0, src.lanes, stream=src)
        x = unpadded_input(self.graph, node)[0] if any(s.pads) else self.graph.tensors[node.inputs[0]]
        out = self.graph.tensors[node.output]
        block = make(node, x, out, s.lanes, s.pads)
        self.publish(node, self.place(node.name, block.name.removeprefix(f"{node.name}_"), block, [s], out.shape))

    def join(self, node: Node, make: Any) -> None:
        """N operands -> a chain of N-1 two-input blocks ``make(name, a, b, lanes, out_type)``; ``out_type`` is
        the op's type inference over the original operands the block's partial result combines.

        Every operand (and every partial result) enters through a FIFO of one whole frame plus slack.  Why
        this cannot deadlock: all branches of a join leave one fork, which hands a beat on only when every
        branch took it; a join input FIFO that is full holds a frame's worth of beats the join has not
        consumed, so the fork has delivered the whole frame of the oldest of them to every branch; every
        block emits frame f's outputs from frame f's inputs alone, so every other branch can produce the
        matching beat and the join proceeds.  In latency terms: input k's FIFO must exceed the largest
        lag of any other branch behind the fork (a window lags (KH+SH)/H of a frame, an MVU two pixels,
        a FIFO its depth, a global average pool a whole frame); that lag is at most one frame (plus a
        pixel) for every block, so one frame plus two pixels is the safe closed form.
        """
        out = self.graph.tensors[node.output]
        srcs = [self.take(t, reader=node) for t in node.inputs]
        lanes = srcs[0].lanes
        for c in [self.graph.tensors[t].shape[2] for t in node.inputs] + [out.shape[2]]:
            lanes = math.gcd(lanes, c)
        ins = [self.edge(node, k, lanes, join=True, stream=s) for k, s in enumerate(srcs)]
        specs = [self.graph.tensors[t] for t in node.inputs]
        infer = OPS[node.op].infer
        acc = ins[0]
        for k in range(1, len(ins)):
            a = TensorSpec(acc.wire, acc.shape, acc.dtype)
            b = TensorSpec(ins[k].wire, ins[k].shape, ins[k].dtype)
            # the partial result's type: the op's own inference over the original operands it combines, which
            # the last partial makes the graph's type exactly
            _, out_type = infer(node, specs[: k + 1])
            block = make(f"{node.name}_{node.op}{k}", a, b, lanes, out_type)
            s = self.place(node.name, node.op, block, [acc, ins[k]])
            if k < len(ins) - 1:  # the chained partial result is itself a join input
                s = self.edge(node, k + len(ins) - 1, lanes, join=True, stream=s)
            acc = s
        if acc.dtype != out.dtype:
            raise self.error(node, f"chaining {len(ins)} operands gives type {acc.dtype.hls}, not the graph's "
                                   f"{out.dtype.hls}; supported are joins whose pairwise types compose to it.")
        self.publish(node, acc)

    # -- placing blocks ------------------------------------------------------------------------------------
    def inst_name(self, node: str, kind: str) -> str:
        base = f"u_{_ident(node)}_{kind}"
        name, k = base, 1
        while name in self.ids:
            name, k = f"{base}{k}", k + 1
        self.ids.add(name)
        return name

    def _check_ports(self, node: str, block: Block, inputs: list[Stream]) -> None:
        """The streams wired to a block must be what its ports declare (an internal consistency check)."""
        declared, _ = block.ports()
        if len(declared) != len(inputs):
            raise AccelError(f"node {node}: internal error: {block.name} has {len(declared)} inputs, "
                             f"{len(inputs)} streams are wired to it.")  # fmt: skip
        for p, s in zip(declared, inputs, strict=True):
            if (p.bits, p.beats_per_frame) != (s.bits, s.frame_beats) or p.dtype not in (None, s.dtype):
                raise AccelError(
                    f"node {node}: internal error: {block.name} port {p.name} takes {p.beats_per_frame} beats of "
                    f"{p.bits} bits ({p.dtype.hls if p.dtype else 'any type'}), its producer streams "
                    f"{s.frame_beats} beats of {s.bits} bits ({s.dtype.hls})."
                )

    def place(self, node: str, kind: str, block: Block, inputs: list[Stream],
              shape: tuple[int, int, int] | None = None) -> Stream:  # fmt: skip
        """Instantiate ``block`` fed by ``inputs``; its output stream (``shape``: the tensor it carries,
        default the block's declared output frame)."""
        try:
            params = block.verilog_parameters()
            self._check_ports(node, block, inputs)
        except AccelError as exc:  # the block's sentence says what is unsupported; name the graph node first
            msg = str(exc)
            raise AccelError(msg if msg.startswith(f"node {node}") else f"node {node}: {msg}") from None
        name = self.inst_name(node, kind)
        (port,) = block.ports()[1]
        out = Stream(f"{name}_out", shape or port.shape, port.dtype or inputs[0].dtype, port.lanes)
        self.instances.append(Instance(name, block, node, inputs, [out], params))
        return out

    # -- nodes ------------------------------------------------------------------------------------------------
    def first_lanes(self, tensor: str) -> int:
        """Lanes to give a graph input: what its first consumer takes directly (1 for lane-following blocks)."""
        for n in self.graph.nodes:
            if tensor in n.inputs:
                rtl = OPS[n.op].rtl
                if rtl.folding is not None:
                    return rtl.folding.lanes(n, self.fold(n))[0]
                if rtl.absorbed:
                    return self.first_lanes(n.name)
                return 1
        return 1

    def lower(self, n: Node) -> None:
        rtl = OPS[n.op].rtl
        if rtl is None:
            raise self.error(n, f"the RTL backend has no block for op '{n.op}'; supported ops are "
                                f"{', '.join(rtl_ops())}.")  # fmt: skip
        self.node_of[n.output] = self.node_of.get(n.inputs[0], "") if rtl.absorbed else n.name
        rtl.lower(self, n)


def _layers(graph: Graph, wiring: Wiring,
            fold: dict[str, LayerFold]) -> tuple[list[dict[str, Any]], list[tuple[str, Cost]]]:  # fmt: skip
    """Per graph node: work, folding, expected cycles, estimated cost and its instances (those of the input go to
    layer 0); and the (node, cost) of every instance, for the fit check."""
    by_node: dict[str, list[Instance]] = {}
    for inst in wiring.instances:
        by_node.setdefault(inst.node, []).append(inst)
    layers = []
    costs: list[tuple[str, Cost]] = []
    for n in graph.nodes:
        insts = by_node.get(n.name, []) + (by_node.get("", []) if not layers else [])
        own = [i.block.cost() + tlast.watch_cost(i.block) for i in insts]  # with the TLAST watches on its inputs
        costs += [(n.name, c) for c in own]
        f = fold.get(n.name)
        layers.append({
            "node": n.name,
            "op": n.op,
            "macs": int(graph.macs(n)),
            "parameters": int(graph.parameter_count(n)),
            "pe": f.pe if f else None,
            "simd": f.simd if f else None,
            "multipliers": multipliers(graph, n, f) if f else 0,
            "expected_cycles": max((int(i.block.expected_cycles_per_frame()) for i in insts), default=0),
            "instances": [i.record(c) for i, c in zip(insts, own, strict=True)],
            "cost": cost_json(sum(own, Cost())),
        })
    return layers, costs


def _frame_last(wiring: Wiring, s_in: Stream, s_out: Stream, in_bits: int, out_bits: int, tout: str) -> Instance:
    """Place ``accel_frame_last`` between the ports (``in_bits`` / ``out_bits`` wide) and the network's first and
    last streams, counted in the layer that produces the output ``tout``; the top wires it
    (:func:`accel.rtl.top.top_verilog`)."""
    node = wiring.node_of.get(tout) or tout
    name = wiring.inst_name(node, "frame_last")
    block = FrameLast(name, s_in.shape, s_in.dtype, s_in.lanes, in_bits, s_out.shape, s_out.dtype, s_out.lanes,
                      out_bits)  # fmt: skip
    outside_in, outside_out = (Stream("", s.shape, s.dtype, s.lanes) for s in (s_in, s_out))  # the ports: no wire
    inst = Instance(name, block, node, [outside_in, s_out], [outside_out, s_in], block.verilog_parameters())
    wiring.instances.append(inst)
    return inst


def _wire(graph: Graph, fold: dict[str, LayerFold], kind: type[Wiring] = Wiring) -> tuple[Wiring, Stream, Stream]:
    """Lower every node of ``graph`` with ``fold``, then place the ports' ``accel_frame_last`` (last instance of
    the wiring, so that the optimiser and the fit check count the same design): the wiring and the input and
    output streams."""
    wiring = kind(graph, fold)
    tin, tout = graph.inputs[0], graph.outputs[0]
    spec_in = graph.tensors[tin]
    s_in = Stream("in", spec_in.shape, spec_in.dtype, wiring.first_lanes(tin))
    wiring.streams[tin] = s_in
    wiring.node_of[tin] = ""
    for n in graph.nodes:
        wiring.lower(n)
    s_out = wiring.take(tout)
    in_bits, out_bits = (8 * beat_bytes(s.dtype, s.lanes) for s in (s_in, s_out))
    _frame_last(wiring, s_in, s_out, in_bits, out_bits, tout)
    return wiring, s_in, s_out


class _Sizing(Wiring):
    """The wiring the folding optimiser evaluates candidates with: blocks are placed without writing or checking
    their Verilog parameters (done once, when :func:`build_rtl` wires the chosen folding)."""

    def place(self, node: str, kind: str, block: Block, inputs: list[Stream],
              shape: tuple[int, int, int] | None = None) -> Stream:  # fmt: skip
        name = self.inst_name(node, kind)
        (port,) = block.ports()[1]
        out = Stream(f"{name}_out", shape or port.shape, port.dtype or inputs[0].dtype, port.lanes)
        self.instances.append(Instance(name, block, node, inputs, [out]))
        return out


def _signature(block: Block) -> tuple:
    """What a block's cycles and cost depend on: its class and fields (arrays by shape: an instance's name fixes
    which node's weights it holds)."""
    key: list[Any] = [type(block)]
    for f in fields(block):  # type: ignore[arg-type]
        v = getattr(block, f.name)
        if isinstance(v, np.ndarray):
            v = v.shape
        else:
            try:
                hash(v)
            except TypeError:
                v = repr(v)
        key.append(v)
    return tuple(key)


def _evaluator(graph: Graph) -> Evaluate:
    """Judge a folding as the fit check judges the build: every instance's cost summed, each node's slowest block
    (:data:`accel.rtl.folding.Evaluate`); a block's cycles and cost are computed once per search."""
    memo: dict[tuple, tuple[int, float, float, float, float]] = {}

    def evaluate(fold: dict[str, LayerFold]) -> Evaluation:
        cycles = dict.fromkeys(("", *(n.name for n in graph.nodes)), 0)
        lut = ff = dsp = bram = 0.0
        for inst in _wire(graph, fold, _Sizing)[0].instances:
            key = _signature(inst.block)
            if key not in memo:
                cost = inst.block.cost() + tlast.watch_cost(inst.block)
                memo[key] = int(inst.block.expected_cycles_per_frame()), cost.lut, cost.ff, cost.dsp, cost.bram36
            c, *more = memo[key]
            cycles[inst.node] = max(cycles[inst.node], c)
            lut, ff, dsp, bram = lut + more[0], ff + more[1], dsp + more[2], bram + more[3]
        return Evaluation({k: v for k, v in cycles.items() if k or v}, Cost(lut, ff, dsp, bram))

    return evaluate


def choose_folding(graph: Graph, folding: Any = None, *, budget: float = DEFAULT_BUDGET, target_ii: int | None = None,
                   part: str = "xc7z020clg400-1") -> FoldingChoice:  # fmt: skip
    """The folding :func:`build_rtl` uses: ``folding``'s fixed layers and the optimiser for the rest, every
    candidate judged on the whole lowered design (:func:`accel.rtl.folding.search_folding`)."""
    return search_folding(graph, folding, _evaluator(graph), budget=budget, target_ii=target_ii,
                          part=part)  # fmt: skip


def build_rtl(graph: Graph, out_dir: Path, *, folding: Any = None, part: str = "xc7z020clg400-1",
              clock_ns: float = 10.0, source: str = "", source_sha256: str = "", allow_overfit: bool = False,
              budget: float = DEFAULT_BUDGET, target_ii: int | None = None, input_type: str = "",
              softmax: str = "") -> dict:
    """Generate the RTL network of ``graph`` into ``out_dir``; returns the manifest as the JSON in build.json
    (:func:`accel.deploy.manifest.load_build` reads it typed).

    ``folding``: None, a dict or a JSON/YAML path of ``{node: {"pe": P, "simd": S, "ram_style": .., "mult_style":
    ..}}`` overrides; the optimiser folds the other layers (:mod:`accel.rtl.folding`): the fastest design within
    ``budget`` (share of each resource of ``part``), or with ``target_ii`` the smallest reaching it.
    ``source`` / ``source_sha256`` / ``input_type`` / ``softmax``: what the graph came from and how it was
    converted (see :class:`accel.deploy.manifest.BuildManifest`).
    Everything is checked before anything is written, including the fit check (:mod:`accel.rtl.cost`): a design
    whose estimated resources exceed ``part`` is refused with one sentence unless ``allow_overfit``; the estimate
    is recorded either way (``fit``, and ``cost`` / ``memory`` per layer and instance).
    """
    out_dir = Path(out_dir)
    check_target(part, clock_ns)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
                         "the RTL backend supports one input and one output stream.")
    if graph.outputs[0] in graph.inputs:
        raise AccelError(f"graph {graph.name} outputs its input unchanged; the RTL backend needs at least one layer.")
    for n in graph.nodes:
        if OPS[n.op].rtl is None:
            raise AccelError(f"node {n.name} ({n.op}): the RTL backend has no block for op '{n.op}'; supported ops "
                             f"are {', '.join(rtl_ops())}.")
    choice = choose_folding(graph, folding, budget=budget, target_ii=target_ii, part=part)
    fold = choice.fold
    wiring, s_in, s_out = _wire(graph, fold)
    tin, tout = graph.inputs[0], graph.outputs[0]
    spec_in = graph.tensors[tin]
    if any(s_out.pads):
        raise AccelError(f"graph {graph.name}: its output is a pad node; the RTL backend folds pads into a "
                         "following window only.")
    in_spec = stream_spec(tin, spec_in.shape, spec_in.dtype, s_in.lanes)
    out_spec = stream_spec(tout, graph.tensors[tout].shape, graph.tensors[tout].dtype, s_out.lanes)
    shell = wiring.instances[-1]  # accel_frame_last, placed last by _wire
    layers, costs = _layers(graph, wiring, fold)
    fit = fit_check(costs, part)
    refuse_overfit(fit, graph.name, allow_overfit)
    clock = clock_check(((i.name, i.module) for i in wiring.instances), clock_ns)  # warns on a miss

    rtl = out_dir / "rtl"
    viv = out_dir / "vivado"
    if rtl.exists():
        shutil.rmtree(rtl)
    rtl.mkdir(parents=True)
    viv.mkdir(parents=True, exist_ok=True)
    roms = [f"rtl/{Path(p).name}" for inst in wiring.instances for p in inst.block.write_files(rtl)]
    modules = list(dict.fromkeys([*(m for inst in wiring.instances for m in inst.block.source_modules), tlast.MODULE]))
    for m in modules:
        shutil.copyfile(lib_file(m), rtl / f"{m}.v")
    network = [i for i in wiring.instances if i is not shell]
    top = top_verilog(graph, network, s_in, s_out, in_spec.tdata_bits, out_spec.tdata_bits, shell)
    (rtl / "accel_top.v").write_text(top)
    sources = [f"{m}.v" for m in modules] + ["accel_top.v"]
    (rtl / "filelist.f").write_text("".join(f"{s}\n" for s in sources))
    (viv / "package_ip.tcl").write_text(package_ip_tcl(part, clock_ns))
    manifest = {
        "backend": "rtl",
        "model": graph.name,
        "part": part,
        "clock_ns": float(clock_ns),
        "top": "accel_top",
        "input": in_spec.to_json(),
        "output": out_spec.to_json(),
        "ports": dict(PORTS),
        "ip": {"vlnv": VLNV, "repo": "ip", "make": "vivado -mode batch -source vivado/package_ip.tcl"},
        "files": [f"rtl/{s}" for s in sources] + roms + ["rtl/filelist.f", "vivado/package_ip.tcl"],
        "source": source,
        "source_sha256": source_sha256,
        "input_type": input_type,
        "softmax": softmax,
        "rtl_sources": [f"rtl/{s}" for s in sources],
        "filelist": "rtl/filelist.f",
        "rom_files": roms,
        "rom_paths": "bare file names relative to the simulator's working directory (run in rtl/ or copy "
                     "rom_files there); Vivado: added to the project",
        "layers": layers,
        "expected_ii_cycles": max((e["expected_cycles"] for e in layers), default=0),
        "multipliers": sum(e["multipliers"] for e in layers),
        "folding": {k: v.as_json() for k, v in fold.items()},
        "folding_search": choice.search_json(),
        "tlast_checks": tlast.checks(wiring.instances),
        "fit": fit.to_json(allow_overfit),
        "clock_check": clock.to_json() if clock is not None else None,
    }
    typed = BuildManifest.from_json({"schema": SCHEMA_VERSION, **manifest}, out_dir / MANIFEST)
    write_manifest(out_dir, typed)
    return typed.to_json()
