"""The RTL network generator: a :class:`accel.ir.Graph` -> one Verilog top ``accel_top`` of library blocks.

``build_rtl(graph, out_dir)`` writes::

    out_dir/rtl/accel_top.v       the generated top (instances and wires only)
    out_dir/rtl/accel_*.v         the library files it uses (copied)
    out_dir/rtl/*.mem             weight/bias ROM images ($readmemh)
    out_dir/rtl/filelist.f        Verilog sources, file names relative to out_dir/rtl
    out_dir/vivado/package_ip.tcl Vivado: project + ipx::package_project into out_dir/ip
    out_dir/build.json            the manifest (accel.deploy.manifest) with the RTL keys below

Mapping, one block (or a fixed chain) per graph node, instance names ``u_<node>_<block>``:

* conv2d 1x1/stride 1/no padding -> ``accel_mvu``; any other conv2d -> ``accel_window`` + ``accel_mvu``
  (the window's lanes are the MVU's SIMD); grouped convs become one block-diagonal MVU (the zero weights
  cost multipliers, not correctness);
* depthwise_conv2d -> ``accel_window`` + ``accel_dwu`` (window lanes = PE);
* quantize -> ``accel_requant``; maxpool -> ``accel_maxpool`` (stride = pool) or ``accel_maxpool_win``;
  avgpool -> ``accel_avgpool`` or ``accel_avgpool_win``; global_avgpool -> ``accel_gap``;
  channel_shuffle -> ``accel_shuffle``; upsample -> ``accel_upsample``;
* add / concat -> ``accel_add`` / ``accel_concat``, a chain of N-1 blocks for N operands;
* pad -> no block: folded into the padding of the one windowed layer (conv, depthwise, overlapping max
  pooling) that reads it; reshape -> wiring only (the stream order is row-major (H, W, C) in every
  shape), with a width converter first when the lanes do not divide the new channel count;
* a tensor read by several consumers -> ``accel_fork`` (``u_<producer>_fork``);
* on every edge, ``u_<consumer>_in<k>_width`` (``accel_width``) when the producer's lanes differ from
  the lanes the consumer takes, then ``u_<consumer>_in<k>_fifo`` (``accel_fifo``).

Lanes: MVU input = SIMD, output = PE; DWU input = PE, output = PE*multiplier (see
:mod:`accel.rtl.folding`); every other block keeps its producer's lanes; a join takes the lanes of its
first operand (or their gcd with the channel counts).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.deploy.manifest import check_target, stream_spec, write_manifest
from accel.fixed import FixedType
from accel.ir import Graph, Node
from accel.rtl import lib_file
from accel.rtl.blocks.add import Add
from accel.rtl.blocks.avgpool import AvgPool
from accel.rtl.blocks.avgpool_win import AvgPoolWindowed
from accel.rtl.blocks.concat import Concat
from accel.rtl.blocks.dwu import Dwu
from accel.rtl.blocks.fifo import Fifo
from accel.rtl.blocks.fork import Fork
from accel.rtl.blocks.gap import GlobalAvgPool
from accel.rtl.blocks.maxpool import MaxPool
from accel.rtl.blocks.maxpool_win import MaxPoolWindowed
from accel.rtl.blocks.mvu import Mvu
from accel.rtl.blocks.requant import Requant
from accel.rtl.blocks.shuffle import ChannelShuffle
from accel.rtl.blocks.upsample import Upsample
from accel.rtl.blocks.width import WidthConverter
from accel.rtl.blocks.window import Window
from accel.rtl.folding import FOLDED_OPS, LayerFold, choose_folding, multipliers

SUPPORTED_OPS = ("conv2d", "depthwise_conv2d", "quantize", "maxpool", "avgpool", "global_avgpool", "add", "concat",
                 "pad", "reshape", "upsample", "channel_shuffle")
#: ops whose window can absorb a preceding pad node
WINDOWED_OPS = ("conv2d", "depthwise_conv2d", "maxpool")
PORTS = {"clock": "clk", "reset": "rst", "reset_active_low": False, "s_axis": "s_axis", "m_axis": "m_axis"}


def _ident(name: str) -> str:
    """A Verilog identifier from a node name."""
    s = re.sub(r"\W", "_", name)
    return s if re.match(r"[A-Za-z_]", s) else f"n_{s}"


@dataclass
class Stream:
    """A bundle of wires ``<wire>_tdata/tvalid/tready/tlast`` in accel_top carrying one tensor."""

    wire: str
    shape: tuple[int, int, int]
    dtype: FixedType
    lanes: int
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # padding a folded pad node still owes the consumer

    @property
    def bits(self) -> int:
        return self.lanes * self.dtype.width

    @property
    def frame_beats(self) -> int:
        h, w, c = self.shape
        return h * w * c // self.lanes


@dataclass
class Instance:
    """One block instance in accel_top: its ports' streams and the layer it is counted in."""

    name: str
    block: Any
    node: str
    inputs: list[Stream]
    outputs: list[Stream]
    params: dict = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.block.module


# ----------------------------------------------------------------------------------------------------------
# compute layers (shared with accel.rtl.folding for the cycle model)


def _conv_is_plain(node: Node, pads: tuple[int, ...]) -> bool:
    return tuple(node.attrs["kernel"]) == (1, 1) and tuple(node.attrs["stride"]) == (1, 1) and not any(pads)


def _total_pads(node: Node, extra: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return tuple(int(a) + int(b) for a, b in zip(node.attrs["pads"], extra, strict=True))  # type: ignore[return-value]


def _shifts(node: Node, x: FixedType, out: FixedType) -> tuple[int, int]:
    wt, bt = node.param_types["weight"], node.param_types["bias"]
    ps, bs = out.frac - (x.frac + wt.frac), out.frac - bt.frac
    if ps < 0 or bs < 0:
        raise AccelError(f"node {node.name}: its output type {out.hls} is coarser than the exact accumulator; "
                         "the RTL MVU/DWU produce the exact accumulator type only.")
    return ps, bs


def unpadded_input(graph: Graph, node: Node) -> tuple[Any, tuple[int, int, int, int]]:
    """The tensor a windowed node really streams in and the padding of the pad nodes folded into it."""
    t = node.inputs[0]
    pads = (0, 0, 0, 0)
    producers = {n.name: n for n in graph.nodes}
    while t in producers and producers[t].op == "pad":
        pads = tuple(a + b for a, b in zip(pads, producers[t].attrs["pads"], strict=True))  # type: ignore[assignment]
        t = producers[t].inputs[0]
    return graph.tensors[t], pads


def compute_blocks(graph: Graph, node: Node, fold: LayerFold, prefix: str) -> list[Any]:
    """The block chain of a conv2d/depthwise_conv2d node with folding ``fold`` ([Window], Mvu|Dwu).

    A pad node in front is folded into the window's padding (the window streams the unpadded tensor).
    """
    x, extra_pads = unpadded_input(graph, node)
    out = graph.tensors[node.output]
    h, w, cin = x.shape
    pads = _total_pads(node, extra_pads)
    kh, kw = node.attrs["kernel"]
    ps, bs = _shifts(node, x.dtype, out.dtype)
    wt = node.param_types["weight"]
    weight = np.asarray(node.params["weight"], dtype=np.int64)
    bias = np.asarray(node.params["bias"], dtype=np.int64)
    pixels = out.shape[0] * out.shape[1]
    blocks: list[Any] = []
    if node.op == "conv2d":
        groups = node.attrs["groups"]
        cout = weight.shape[3]
        if groups > 1:  # block-diagonal full weight
            full = np.zeros((kh, kw, cin, cout), dtype=np.int64)
            cg, og = cin // groups, cout // groups
            for g in range(groups):
                full[:, :, g * cg:(g + 1) * cg, g * og:(g + 1) * og] = weight[:, :, :, g * og:(g + 1) * og]
            weight = full
        simd = fold.simd or 1
        if not _conv_is_plain(node, pads):
            blocks.append(Window(f"{prefix}window", (h, w, cin), (kh, kw), tuple(node.attrs["stride"]), pads,
                                 simd, x.dtype.width))
        blocks.append(Mvu(f"{prefix}mvu", weight.reshape(kh * kw * cin, cout), bias, x.dtype, wt, out.dtype, ps, bs,
                          pixels, simd=simd, pe=fold.pe))
    else:
        blocks.append(Window(f"{prefix}window", (h, w, cin), (kh, kw), tuple(node.attrs["stride"]), pads, fold.pe,
                             x.dtype.width))
        blocks.append(Dwu(f"{prefix}dwu", weight, bias, x.dtype, wt, out.dtype, ps, bs, pixels, pe=fold.pe))
    return blocks


def compute_lanes(node: Node, fold: LayerFold) -> tuple[int, int]:
    """(input lanes, output lanes) of a folded layer."""
    if node.op == "conv2d":
        return fold.simd or 1, fold.pe
    return fold.pe, fold.pe * int(node.params["weight"].shape[3])


# ----------------------------------------------------------------------------------------------------------
# the generator


class _Builder:
    def __init__(self, graph: Graph, fold: dict[str, LayerFold]) -> None:
        self.g = graph
        self.fold = fold
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

    def err(self, node: Node, what: str) -> AccelError:
        return AccelError(f"node {node.name} ({node.op}): {what}")

    def inst_name(self, node: str, kind: str) -> str:
        base = f"u_{_ident(node)}_{kind}"
        name, k = base, 1
        while name in self.ids:
            name, k = f"{base}{k}", k + 1
        self.ids.add(name)
        return name

    def add(self, node: str, kind: str, block: Any, inputs: list[Stream], out: tuple | None,
            directory: Path | None = None) -> Stream:
        name = self.inst_name(node, kind)
        outs = []
        if out is not None:
            shape, dtype, lanes = out
            outs = [Stream(f"{name}_out", shape, dtype, lanes)]
        try:
            params = block.verilog_parameters(Path(".")) if directory is not None else block.verilog_parameters()
        except AccelError as exc:  # the block's sentence says what is unsupported; name the graph node first
            raise AccelError(f"node {node}: {exc}") from None
        inst = Instance(name, block, node, inputs, outs, params)
        self.instances.append(inst)
        return outs[0] if outs else None  # type: ignore[return-value]

    # -- edges -------------------------------------------------------------------------------------------
    def take(self, tensor: str) -> Stream:
        """The stream of ``tensor`` for one consumer edge (through a fork when it has several)."""
        if tensor not in self.streams:
            raise AccelError(f"tensor {tensor} has no stream (internal order error).")
        src = self.streams[tensor]
        if self.edges[tensor] <= 1:
            return src
        if tensor not in self.fork_outs:
            n = self.edges[tensor]
            owner = self.node_of.get(tensor) or tensor
            name = self.inst_name(owner, "fork")
            outs = [Stream(f"{name}_out{k}", src.shape, src.dtype, src.lanes, src.pads) for k in range(n)]
            block = Fork(name, src.bits, n, src.frame_beats)
            self.instances.append(Instance(name, block, self.node_of.get(tensor, ""), [src], outs,
                                           block.verilog_parameters()))
            self.fork_outs[tensor] = list(outs)
        return self.fork_outs[tensor].pop(0)

    def edge(self, node: Node, k: int, lanes: int, join: bool = False, stream: Stream | None = None) -> Stream:
        """Input ``k`` of ``node`` at ``lanes``: producer -> [fork] -> [width] -> fifo."""
        s = stream if stream is not None else self.take(node.inputs[k])
        h, w, c = s.shape
        if c % lanes:
            raise self.err(node, f"its input {node.inputs[k]} has {c} channels, which {lanes} lanes do not divide; "
                                 "lanes must divide the channel count.")
        if s.lanes != lanes:
            blk = WidthConverter(f"{node.name}_in{k}_width", h, w, c, s.dtype.width, s.lanes, lanes)
            s2 = self.add(node.name, f"in{k}_width", blk, [s], (s.shape, s.dtype, lanes))
            s2.pads = s.pads
            s = s2
        pixel = c // lanes
        depth = max(4, 2 * pixel)
        if join:
            depth = s.frame_beats + depth
        blk = Fifo(f"{node.name}_in{k}_fifo", depth, s.bits, s.frame_beats)
        s2 = self.add(node.name, f"in{k}_fifo", blk, [s], (s.shape, s.dtype, lanes))
        s2.pads = s.pads
        return s2

    def no_pads(self, node: Node, s: Stream) -> None:
        if any(s.pads):
            raise self.err(node, f"it reads a pad node's output; padding is folded only into the window of a "
                                 f"single following {', '.join(WINDOWED_OPS)} layer.")

    # -- nodes ----------------------------------------------------------------------------------------------
    def first_lanes(self, tensor: str) -> int:
        """Lanes to give a graph input: what its first consumer takes directly (1 for lane-following blocks)."""
        for n in self.g.nodes:
            if tensor in n.inputs:
                if n.op in FOLDED_OPS:
                    return compute_lanes(n, self.fold[n.name])[0]
                if n.op == "pad":
                    return self.first_lanes(n.name)
                return 1
        return 1

    def node(self, n: Node) -> None:
        op = n.op
        if op not in SUPPORTED_OPS:
            raise self.err(n, f"the RTL backend has no block for op '{op}'; supported ops are "
                              f"{', '.join(SUPPORTED_OPS)}.")
        out = self.g.tensors[n.output]
        self.node_of[n.output] = n.name
        if op in FOLDED_OPS:
            fold = self.fold[n.name]
            lin, lout = compute_lanes(n, fold)
            s = self.edge(n, 0, lin)
            if s.pads != unpadded_input(self.g, n)[1]:
                raise self.err(n, "internal error: folded padding disagrees with the graph.")
            blocks = compute_blocks(self.g, n, fold, f"{_ident(n.name)}_")
            cur = s
            for b in blocks:
                kind = "window" if isinstance(b, Window) else b.module.removeprefix("accel_")
                if isinstance(b, Window):
                    cur = self.add(n.name, kind, b, [cur], (b.out_shape, cur.dtype, lin))
                else:
                    cur = self.add(n.name, kind, b, [cur], (out.shape, out.dtype, lout), directory=Path("."))
            self.streams[n.output] = cur
            return
        if op == "pad":
            (consumer,) = self.g.consumers(n.output) or [None]
            if (consumer is None or len(self.g.consumers(n.output)) != 1 or consumer.op not in WINDOWED_OPS
                    or n.output in self.g.outputs or consumer.inputs.count(n.output) != 1):
                raise self.err(n, "the RTL backend has no pad block; a pad is supported only when exactly one "
                                  f"{', '.join(WINDOWED_OPS)} layer reads it (its padding is then folded in).")
            s = self.take(n.inputs[0])
            pads = tuple(a + b for a, b in zip(s.pads, n.attrs["pads"], strict=True))
            self.streams[n.output] = Stream(s.wire, s.shape, s.dtype, s.lanes, pads)  # type: ignore[arg-type]
            self.node_of[n.output] = self.node_of.get(n.inputs[0], "")
            return
        if op == "reshape":
            src = self.take(n.inputs[0])
            self.no_pads(n, src)
            c_new = out.shape[2]
            lanes = math.gcd(src.lanes, c_new)
            s = self.edge(n, 0, lanes, stream=src)
            self.streams[n.output] = Stream(s.wire, out.shape, s.dtype, s.lanes)
            return
        if op in ("add", "concat"):
            self.join(n)
            return
        # lane-following single-input blocks
        src = self.take(n.inputs[0])
        if op == "maxpool" and any(src.pads):
            pass  # folded into the window below
        else:
            self.no_pads(n, src)
        lanes = src.lanes
        s = self.edge(n, 0, lanes, stream=src)
        x, _ = unpadded_input(self.g, n) if op == "maxpool" else (self.g.tensors[n.inputs[0]], None)
        h, w, c = x.shape
        a = n.attrs
        name = f"{n.name}_"
        if op == "quantize":
            blk, kind = Requant(f"{name}requant", x.dtype, out.dtype, a["rounding"], a["overflow"], a["relu"],
                                x.shape, lanes), "requant"
        elif op == "maxpool":
            pads = _total_pads(n, s.pads)
            pool, stride = tuple(a["pool"]), tuple(a["stride"])
            if pool == stride:
                blk, kind = MaxPool(f"{name}maxpool", h, w, c, lanes, x.dtype, pool, stride, pads), "maxpool"
            else:
                blk, kind = MaxPoolWindowed(f"{name}maxpool", h, w, c, lanes, x.dtype, pool, stride,
                                            pads), "maxpool"
        elif op == "avgpool":
            pool, stride = tuple(a["pool"]), tuple(a["stride"])
            cls = AvgPool if pool == stride else AvgPoolWindowed
            blk, kind = cls(f"{name}avgpool", h, w, c, lanes, x.dtype, out.dtype, pool, stride, a["rounding"],
                            a["overflow"], a["relu"]), "avgpool"
        elif op == "global_avgpool":
            blk, kind = GlobalAvgPool(f"{name}gap", h, w, c, lanes, x.dtype, out.dtype, a["rounding"], a["overflow"],
                                      a["relu"]), "gap"
        elif op == "channel_shuffle":
            blk, kind = ChannelShuffle(f"{name}shuffle", h, w, c, lanes, x.dtype.width, a["groups"]), "shuffle"
        else:  # upsample
            blk, kind = Upsample(f"{name}upsample", h, w, c, lanes, x.dtype.width, tuple(a["factor"])), "upsample"
        self.streams[n.output] = self.add(n.name, kind, blk, [s], (out.shape, out.dtype, lanes))

    def join(self, n: Node) -> None:
        out = self.g.tensors[n.output]
        srcs = [self.take(t) for t in n.inputs]
        for s in srcs:
            self.no_pads(n, s)
        chans = [self.g.tensors[t].shape[2] for t in n.inputs]
        lanes = srcs[0].lanes
        for c in chans + [out.shape[2]]:
            lanes = math.gcd(lanes, c)
        ins = [self.edge(n, k, lanes, join=True, stream=s) for k, s in enumerate(srcs)]
        h, w = out.shape[:2]
        acc = ins[0]
        for k in range(1, len(ins)):
            b = ins[k]
            last = k == len(ins) - 1
            kind = n.op
            if n.op == "add":
                blk = Add(f"{n.name}_add{k}", h, w, out.shape[2], lanes, acc.dtype, b.dtype)
                shape = out.shape
            else:
                blk = Concat(f"{n.name}_concat{k}", h, w, acc.shape[2], b.shape[2], lanes, acc.dtype, b.dtype)
                shape = (h, w, acc.shape[2] + b.shape[2])
            blk.validate()
            s = self.add(n.name, kind, blk, [acc, b], (shape, blk.out_type, lanes))
            if not last:  # the chained partial result is itself a join input
                s = self.edge(n, k + len(ins) - 1, lanes, join=True, stream=s)
            acc = s
        if acc.dtype != out.dtype:
            raise self.err(n, f"chaining {len(ins)} operands gives type {acc.dtype.hls}, not the graph's "
                              f"{out.dtype.hls}; supported are joins whose pairwise types compose to it.")
        self.streams[n.output] = acc


# ----------------------------------------------------------------------------------------------------------
# Verilog


def _param_text(params: dict) -> str:
    items = []
    for k, v in params.items():
        if isinstance(v, str):
            items.append(f'        .{k}("{v}")')
        else:
            items.append(f"        .{k}({int(v)})")
    return ",\n".join(items)


def _port(prefix: str, s: Stream) -> list[str]:
    return [f"        .{prefix}_tdata({s.wire}_tdata)", f"        .{prefix}_tvalid({s.wire}_tvalid)",
            f"        .{prefix}_tready({s.wire}_tready)", f"        .{prefix}_tlast({s.wire}_tlast)"]


def _verilog(graph: Graph, instances: list[Instance], s_in: Stream, s_out: Stream, in_bits: int,
             out_bits: int) -> str:
    lines = [
        f"// accel_top: generated by accel.rtl.network from graph {graph.name}; do not edit.",
        "// AXI4-Stream in/out in the accel stream contract (accel.deploy.stream); TDATA padded to whole bytes",
        "// (input pad bits ignored, output pad bits zero).  clk, rst: synchronous, active high.",
        "`resetall",
        "`timescale 1ns / 1ps",
        "`default_nettype none",
        "",
        "module accel_top (",
        "    input  wire                 clk,",
        "    input  wire                 rst,",
        f"    input  wire [{in_bits - 1}:0] s_axis_tdata,",
        "    input  wire                 s_axis_tvalid,",
        "    output wire                 s_axis_tready,",
        "    input  wire                 s_axis_tlast,",
        f"    output wire [{out_bits - 1}:0] m_axis_tdata,",
        "    output wire                 m_axis_tvalid,",
        "    input  wire                 m_axis_tready,",
        "    output wire                 m_axis_tlast",
        ");",
        "",
    ]
    streams = [s_in] + [o for inst in instances for o in inst.outputs]
    seen = set()
    for s in streams:
        if s.wire in seen:
            continue
        seen.add(s.wire)
        lines.append(f"    wire [{s.bits - 1}:0] {s.wire}_tdata;")
        lines.append(f"    wire {s.wire}_tvalid, {s.wire}_tready, {s.wire}_tlast;")
    lines.append("")
    if in_bits > s_in.bits:
        lines.append("    /* verilator lint_off UNUSEDSIGNAL */  // byte-padding bits of the input are ignored")
        lines.append(f"    wire [{in_bits - 1}:0] s_axis_tdata_all = s_axis_tdata;")
        lines.append("    /* verilator lint_on UNUSEDSIGNAL */")
        lines.append(f"    assign {s_in.wire}_tdata = s_axis_tdata_all[{s_in.bits - 1}:0];")
    else:
        lines.append(f"    assign {s_in.wire}_tdata = s_axis_tdata;")
    lines += [f"    assign {s_in.wire}_tvalid = s_axis_tvalid;", f"    assign s_axis_tready = {s_in.wire}_tready;",
              f"    assign {s_in.wire}_tlast = s_axis_tlast;"]
    if out_bits > s_out.bits:
        lines.append(f"    assign m_axis_tdata = {{{out_bits - s_out.bits}'b0, {s_out.wire}_tdata}};")
    else:
        lines.append(f"    assign m_axis_tdata = {s_out.wire}_tdata;")
    lines += [f"    assign m_axis_tvalid = {s_out.wire}_tvalid;", f"    assign {s_out.wire}_tready = m_axis_tready;",
              f"    assign m_axis_tlast = {s_out.wire}_tlast;", ""]
    for inst in instances:
        lines.append(f"    // layer {inst.node or '(input)'}")
        lines.append(f"    {inst.module} #(")
        lines.append(_param_text(inst.params))
        lines.append(f"    ) {inst.name} (")
        conns = ["        .clk(clk)", "        .rst(rst)"]
        if inst.module == "accel_fork":
            conns += _port("s_axis", inst.inputs[0])
            outs = list(reversed(inst.outputs))
            for sig in ("tdata", "tvalid", "tready", "tlast"):
                conns.append(f"        .m_axis_{sig}({{{', '.join(f'{o.wire}_{sig}' for o in outs)}}})")
        else:
            if len(inst.inputs) == 1:
                conns += _port("s_axis", inst.inputs[0])
            else:
                for k, s in enumerate(inst.inputs):
                    conns += _port(f"s{k}_axis", s)
            conns += _port("m_axis", inst.outputs[0])
        lines.append(",\n".join(conns))
        lines.append("    );")
        lines.append("")
    lines += ["endmodule", "", "`resetall", ""]
    return "\n".join(lines)


def _tcl(part: str, clock_ns: float) -> str:
    freq = int(round(1e9 / clock_ns))
    return f"""# package_ip.tcl: generated by accel.rtl.network; packages accel_top as IP accel:accel:accel_top:1.0.
# Run from the build directory: vivado -mode batch -source vivado/package_ip.tcl
set here [file dirname [file normalize [info script]]]
set root [file dirname $here]
set part {part}
create_project -force accel_top_pkg [file join $root vivado project] -part $part
set rtl [file join $root rtl]
set fp [open [file join $rtl filelist.f] r]
foreach line [split [read $fp] "\\n"] {{
    set f [string trim $line]
    if {{$f ne ""}} {{ add_files -norecurse [file join $rtl $f] }}
}}
close $fp
# ROM images: $readmemh uses bare file names, which synthesis resolves among the project's files
set mems [glob -nocomplain [file join $rtl *.mem]]
if {{[llength $mems] > 0}} {{
    add_files -norecurse $mems
    set_property file_type {{Memory Initialization Files}} [get_files $mems]
}}
set_property top accel_top [current_fileset]
update_compile_order -fileset sources_1
ipx::package_project -root_dir [file join $root ip] -vendor accel -library accel -taxonomy /UserIP \\
    -import_files -set_current true
set core [ipx::current_core]
set_property vendor accel $core
set_property library accel $core
set_property name accel_top $core
set_property version 1.0 $core
set_property display_name accel_top $core
set_property description "accel streaming accelerator (AXI4-Stream in/out)" $core
foreach busif {{s_axis m_axis}} {{
    if {{[llength [ipx::get_bus_interfaces $busif -of_objects $core]] == 0}} {{
        ipx::infer_bus_interfaces xilinx.com:interface:axis_rtl:1.0 $core
    }}
}}
if {{[llength [ipx::get_bus_interfaces rst -of_objects $core]] == 0}} {{
    ipx::infer_bus_interfaces xilinx.com:signal:reset_rtl:1.0 $core
}}
if {{[llength [ipx::get_bus_interfaces clk -of_objects $core]] == 0}} {{
    ipx::infer_bus_interfaces xilinx.com:signal:clock_rtl:1.0 $core
}}
set rstif [ipx::get_bus_interfaces rst -of_objects $core]
if {{[llength [ipx::get_bus_parameters POLARITY -of_objects $rstif]] == 0}} {{ ipx::add_bus_parameter POLARITY $rstif }}
set_property value ACTIVE_HIGH [ipx::get_bus_parameters POLARITY -of_objects $rstif]
ipx::associate_bus_interfaces -busif s_axis -clock clk $core
ipx::associate_bus_interfaces -busif m_axis -clock clk $core
ipx::associate_bus_interfaces -clock clk -reset rst $core
set clkif [ipx::get_bus_interfaces clk -of_objects $core]
if {{[llength [ipx::get_bus_parameters FREQ_HZ -of_objects $clkif]] == 0}} {{ ipx::add_bus_parameter FREQ_HZ $clkif }}
set_property value {freq} [ipx::get_bus_parameters FREQ_HZ -of_objects $clkif]
ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity $core
ipx::save_core $core
close_project
"""


def build_rtl(graph: Graph, out_dir: Path, *, folding: Any = None, part: str = "xc7z020clg400-1",
              clock_ns: float = 10.0) -> dict:
    """Generate the RTL network of ``graph`` into ``out_dir``; returns the manifest (also in build.json).

    ``folding``: None (default rule), a dict or a JSON/YAML path of ``{node: {"pe": P, "simd": S}}``
    overrides (see :mod:`accel.rtl.folding`).
    """
    out_dir = Path(out_dir)
    check_target(part, clock_ns)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise AccelError(f"graph {graph.name} has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
                         "the RTL backend supports one input and one output stream.")
    if graph.outputs[0] in graph.inputs:
        raise AccelError(f"graph {graph.name} outputs its input unchanged; the RTL backend needs at least one layer.")
    for n in graph.nodes:
        if n.op not in SUPPORTED_OPS:
            raise AccelError(f"node {n.name} ({n.op}): the RTL backend has no block for op '{n.op}'; supported ops "
                             f"are {', '.join(SUPPORTED_OPS)}.")
    fold = choose_folding(graph, folding)
    b = _Builder(graph, fold)
    tin = graph.inputs[0]
    spec_in = graph.tensors[tin]
    s_in = Stream("in", spec_in.shape, spec_in.dtype, b.first_lanes(tin))
    b.streams[tin] = s_in
    b.node_of[tin] = ""
    for n in graph.nodes:
        b.node(n)
    tout = graph.outputs[0]
    s_out = b.take(tout)
    if any(s_out.pads):
        raise AccelError(f"graph {graph.name}: its output is a pad node; the RTL backend folds pads into a "
                         "following window only.")
    in_spec = stream_spec(tin, spec_in.shape, spec_in.dtype, s_in.lanes)
    out_spec = stream_spec(tout, graph.tensors[tout].shape, graph.tensors[tout].dtype, s_out.lanes)

    rtl = out_dir / "rtl"
    viv = out_dir / "vivado"
    if rtl.exists():
        shutil.rmtree(rtl)
    rtl.mkdir(parents=True)
    viv.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    roms: list[str] = []
    for inst in b.instances:
        for p in inst.block.write_files(rtl):
            roms.append(f"rtl/{Path(p).name}")
    modules: list[str] = []
    for inst in b.instances:
        for m in getattr(inst.block, "sources", (inst.block.module,)):
            if m not in modules:
                modules.append(m)
    for m in modules:
        shutil.copyfile(lib_file(m), rtl / f"{m}.v")
    top = _verilog(graph, b.instances, s_in, s_out, in_spec["tdata_bits"], out_spec["tdata_bits"])
    (rtl / "accel_top.v").write_text(top)
    sources = [f"{m}.v" for m in modules] + ["accel_top.v"]
    (rtl / "filelist.f").write_text("".join(f"{s}\n" for s in sources))
    (viv / "package_ip.tcl").write_text(_tcl(part, clock_ns))
    files += [f"rtl/{s}" for s in sources] + roms + ["rtl/filelist.f", "vivado/package_ip.tcl"]

    layers = []
    by_node: dict[str, list[Instance]] = {}
    for inst in b.instances:
        by_node.setdefault(inst.node, []).append(inst)
    for n in graph.nodes:
        insts = by_node.get(n.name, [])
        f = fold.get(n.name)
        entry = {
            "node": n.name,
            "op": n.op,
            "macs": int(graph.macs(n)),
            "parameters": int(graph.parameter_count(n)),
            "pe": f.pe if f else None,
            "simd": f.simd if f else None,
            "multipliers": multipliers(graph, n, f) if f else 0,
            "expected_cycles": max((int(i.block.expected_cycles_per_frame()) for i in insts), default=0),
            "instances": [{"instance": i.name, "module": i.module, "parameters": i.params} for i in insts],
        }
        layers.append(entry)
    # blocks counted at the input (a fork of the graph input)
    for inst in by_node.get("", []):
        layers[0]["instances"].append({"instance": inst.name, "module": inst.module, "parameters": inst.params})
        layers[0]["expected_cycles"] = max(layers[0]["expected_cycles"], int(inst.block.expected_cycles_per_frame()))
    manifest = {
        "backend": "rtl",
        "model": graph.name,
        "part": part,
        "clock_ns": float(clock_ns),
        "top": "accel_top",
        "input": in_spec,
        "output": out_spec,
        "ports": dict(PORTS),
        "ip": {"vlnv": "accel:accel:accel_top:1.0", "repo": "ip", "make": "vivado -mode batch -source "
               "vivado/package_ip.tcl"},
        "files": files,
        "rtl_sources": [f"rtl/{s}" for s in sources],
        "filelist": "rtl/filelist.f",
        "rom_files": roms,
        "rom_paths": "bare file names relative to the simulator's working directory (run in rtl/ or copy "
                     "rom_files there); Vivado: added to the project",
        "layers": layers,
        "expected_ii_cycles": max((e["expected_cycles"] for e in layers), default=0),
        "multipliers": sum(e["multipliers"] for e in layers),
        "folding": {k: v.as_json() for k, v in fold.items()},
    }
    write_manifest(out_dir, manifest)
    return manifest
