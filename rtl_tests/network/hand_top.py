"""A hand-written two-layer ``accel_top`` (requantiser -> max pool) with its build.json.

Why: the co-simulation harness (:mod:`accel.rtl.harness`) must be testable without the network generator,
and a top with one deliberately flipped output bit proves that a wrong output is reported.  The top is
written the way the generator writes one: byte-padded TDATA on both ports, instances named
``u_<node>_<block>``, every instance listed in build.json's ``layers``.
"""

from __future__ import annotations

from pathlib import Path

from accel.deploy.manifest import stream_spec, write_manifest
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import Graph, GraphBuilder
from accel.rtl import lib_file
from accel.rtl.blocks.maxpool import MaxPool
from accel.rtl.blocks.requant import Requant

IN_TYPE = FixedType(True, 10, 4)  # 3 lanes: 30-bit beats, 32-bit TDATA
OUT_TYPE = FixedType(False, 5, 2)  # 3 lanes: 15-bit beats, 16-bit TDATA
SHAPE = (4, 6, 6)
LANES = 3


def hand_graph(name: str = "hand_requant_pool") -> Graph:
    """x (4,6,6) ap_fixed<10,4> -> quantize (ReLU, ap_ufixed<5,2>, half-even, saturate) -> maxpool 2x2."""
    b = GraphBuilder(name)
    x = b.input("x", SHAPE, IN_TYPE)
    q = b.add("q", "quantize", [x], {"out_type": OUT_TYPE, "rounding": Rounding.ROUND_HALF_EVEN,
                                     "overflow": Overflow.SATURATE, "relu": True})  # fmt: skip
    p = b.add("p", "maxpool", [q], {"pool": (2, 2), "stride": (2, 2)})
    return b.build([p])


def _params(d: dict) -> str:
    return ", ".join(f".{k}({v})" for k, v in d.items())


def _layer(node: str, op: str, instance: str, block) -> dict:
    """The manifest's layer record of one hand-placed block, from the block's own declarations."""
    ins, outs = block.ports()

    def port(p) -> dict:
        return {"port": p.name, "index": None, "shape": list(p.shape), "type": p.dtype.hls, "lanes": p.lanes,
                "beats_per_frame": p.beats_per_frame}

    record = {"instance": instance, "module": block.module, "parameters": block.verilog_parameters(),
              "expected_cycles": block.expected_cycles_per_frame(), "resource_class": block.resource_class,
              "inputs": [port(p) for p in ins], "outputs": [port(p) for p in outs], "starved": block.starved,
              "children": [{"path": c.path, "module": c.module, "starved": c.starved} for c in block.children]}
    return {"node": node, "op": op, "macs": 0, "parameters": 0, "pe": None, "simd": None, "multipliers": 0,
            "expected_cycles": block.expected_cycles_per_frame(), "instances": [record]}  # fmt: skip


def write_hand_build(out_dir: Path, flip_beat: int | None = None, drop_tlast: bool = False,
                     flip_input_frame: int | None = None, stop_after: int | None = None) -> dict:  # fmt: skip
    """Write rtl/accel_top.v, rtl/filelist.f and build.json.

    Faults the harness must see: ``flip_beat`` flips bit 0 of that output beat (counted from reset);
    ``drop_tlast`` never raises the top's TLAST; ``flip_input_frame`` flips bit 6 of every element of that
    input frame before the requantiser (so the first layer, ``q``, diverges); ``stop_after`` drops
    m_axis_tvalid for good after that many output beats (a hang).
    """
    out_dir = Path(out_dir)
    rtl = out_dir / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    rq = Requant("u_q_requant", IN_TYPE, OUT_TYPE, Rounding.ROUND_HALF_EVEN, Overflow.SATURATE, True, SHAPE, LANES)
    mp = MaxPool("u_p_maxpool", SHAPE[0], SHAPE[1], SHAPE[2], LANES, OUT_TYPE, (2, 2), (2, 2))
    ho, wo, c = mp.out_shape
    iw, ow = LANES * IN_TYPE.width, LANES * OUT_TYPE.width
    flip = (f"(out_count == 32'd{flip_beat}) ? 1'b1 : 1'b0" if flip_beat is not None else "1'b0")
    per_in = SHAPE[0] * SHAPE[1] * SHAPE[2] // LANES
    bit6 = "".join(f" | ({iw}'d64 << {k * IN_TYPE.width})" for k in range(LANES))
    in_flip = (f"(in_count / {per_in} == {flip_input_frame}) ? ({iw}'d0{bit6}) : {iw}'d0"
               if flip_input_frame is not None else f"{iw}'d0")
    top = f"""// hand-written accel_top for the co-simulation self-test
`timescale 1ns / 1ps
`default_nettype none
module accel_top (
    input  wire        clk,
    input  wire        rst,
    input  wire [31:0] s_axis_tdata,
    input  wire        s_axis_tvalid,
    output wire        s_axis_tready,
    input  wire        s_axis_tlast,
    output wire [15:0] m_axis_tdata,
    output wire        m_axis_tvalid,
    input  wire        m_axis_tready,
    output wire        m_axis_tlast
);
    wire [{ow - 1}:0] q_tdata;
    wire q_tvalid, q_tready, q_tlast;
    wire [{ow - 1}:0] p_tdata;
    wire p_tlast, p_tvalid;
    reg [31:0] out_count, in_count;
    always @(posedge clk) begin
        if (rst) begin
            out_count <= 0;
            in_count <= 0;
        end else begin
            if (m_axis_tvalid && m_axis_tready) out_count <= out_count + 1;
            if (s_axis_tvalid && s_axis_tready) in_count <= in_count + 1;
        end
    end
    wire [{iw - 1}:0] x_tdata = s_axis_tdata[{iw - 1}:0] ^ ({in_flip});
    accel_requant #({_params(rq.verilog_parameters())}) u_q_requant (
        .clk(clk), .rst(rst),
        .s_axis_tdata(x_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .s_axis_tlast(s_axis_tlast),
        .m_axis_tdata(q_tdata), .m_axis_tvalid(q_tvalid), .m_axis_tready(q_tready), .m_axis_tlast(q_tlast));
    accel_maxpool #({_params(mp.verilog_parameters())}) u_p_maxpool (
        .clk(clk), .rst(rst),
        .s_axis_tdata(q_tdata), .s_axis_tvalid(q_tvalid), .s_axis_tready(q_tready), .s_axis_tlast(q_tlast),
        .m_axis_tdata(p_tdata), .m_axis_tvalid(p_tvalid), .m_axis_tready(m_axis_tready && !stopped),
        .m_axis_tlast(p_tlast));
    assign m_axis_tdata = {{{16 - ow}'d0, p_tdata ^ {{{ow - 1}'d0, {flip}}}}};
    wire stopped = {f"out_count >= 32'd{stop_after}" if stop_after is not None else "1'b0"};
    assign m_axis_tvalid = p_tvalid && !stopped;
    assign m_axis_tlast = p_tlast & {"1'b0" if drop_tlast else "1'b1"};
endmodule
`default_nettype wire
"""
    (rtl / "accel_top.v").write_text(top)
    modules = dict.fromkeys([*Requant.sources, *MaxPool.sources])  # each library file once, dependencies first
    sources = [*(lib_file(m) for m in modules), rtl / "accel_top.v"]
    (rtl / "filelist.f").write_text("".join(f"{s}\n" for s in sources))
    manifest = {
        "backend": "rtl",
        "model": "hand_requant_pool",
        "part": "xc7z020clg400-1",
        "clock_ns": 10.0,
        "top": "accel_top",
        "input": stream_spec("x", SHAPE, IN_TYPE, LANES),
        "output": stream_spec("p", (ho, wo, c), OUT_TYPE, LANES),
        "ports": {"clock": "clk", "reset": "rst", "reset_active_low": False, "s_axis": "s_axis", "m_axis": "m_axis"},
        "ip": {"vlnv": "accel:user:accel_top:1.0", "repo": "ip", "make": "none"},
        "files": ["rtl/accel_top.v", "rtl/filelist.f"],
        "rtl_sources": [str(s) for s in sources],
        "filelist": "rtl/filelist.f",
        "rom_files": [],
        "rom_paths": "none",
        "layers": [_layer("q", "quantize", "u_q_requant", rq), _layer("p", "maxpool", "u_p_maxpool", mp)],
        "expected_ii_cycles": max(rq.expected_cycles_per_frame(), mp.expected_cycles_per_frame()),
        "multipliers": 0,
        "folding": {},
    }
    write_manifest(out_dir, manifest)
    return manifest
