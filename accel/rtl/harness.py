"""The generated Verilog harness ``accel_cosim_tb`` around a build's top (see :mod:`accel.rtl.simulator`).

Why the testbench looks the way it does
---------------------------------------
A network runs tens of thousands of cycles per frame (``ds_cnn_kws``: ~50k), so anything Python does
*every cycle* (cocotbext-axi's source and sink each await every clock edge; reading every layer's
handshake through VPI) would dominate the run time.  The per-cycle work is therefore done in this
generated Verilog harness, which wraps the build's top (module and port names from build.json):

* **s_axis driver**: reads the input beats from a hex file (one beat per line) and offers them with
  seeded random valid gaps (xorshift32, identical in every simulator); with ``bursty``, in runs of up to 256
  cycles, each run random per cycle, a long stall or a burst without gaps (the sink's backpressure likewise,
  independently), so that blocks meet long stalls on both sides, not only short ones; TLAST on every frame's
  last beat, or
  with ``tlast_end`` only on the run's last beat (a DMA sending the whole run in one transfer), and with
  ``extra_last`` also on that input beat (1-based; a framing error the top must flag); ``valid`` is held until
  accepted (AXI rule).
* **m_axis sink**: seeded random (with ``bursty``: also bursty) ``tready`` backpressure; logs every output beat
  with its TLAST and cycle.
* **per-layer monitors**: for every instance build.json lists (and every library block inside it that the
  instance record names as a child, e.g. the window generator inside ``accel_maxpool_win``) it samples the
  instance's ``m_axis`` handshake through the hierarchy (``dut.<instance>.m_axis_*``; a fork's input side)
  and logs, at each TLAST beat, the cycle and the number of *busy* cycles since the previous one.  An
  instance whose record names a ``progress`` wire (one unit of the work its cycle model counts per cycle the
  wire is high, as an MVU's step) is busy exactly on those cycles: it may keep working while its output is
  held, and may wait a cycle for queue room while its output is being taken.  Any other instance's cycle is
  not busy when it is blocked by its consumer (``m_axis_tvalid && !m_axis_tready``) or starved by its
  producer, as the instance record's ``starved`` says: ``input`` (``s_axis_tready &&
  !s_axis_tvalid``), ``any_input`` (an input not valid, e.g. ``accel_add``), ``selected_input`` (the input
  it reads now not valid, ``accel_concat``'s ``in_valid``).  Busy cycles per frame are the instance's own
  cycles per frame, comparable with the block's ``expected_cycles_per_frame()`` even though in a chain
  every layer is paced by the slowest one.  With ``trace_on`` every instance's output beats are logged too
  (used to name the first diverging layer).
* **TLAST checks**: the cycle each sticky error of build.json's ``tlast_checks`` first rises (``T k cycle``),
  and at the end the top's ``tlast_err`` output (``F value``; ``F -1`` for a top without one).

Everything comes from the typed manifest; the generated Verilog is never parsed.
"""

from __future__ import annotations

from typing import Any

from accel.deploy.manifest import BuildManifest

#: cycles the sink stays open after the last expected beat, to catch extra (duplicated) beats
TAIL_CYCLES = 200
#: probabilities (out of 256) that the driver offers a beat / the sink is ready, when stalls are on
VALID_THRESHOLD = 179  # ~0.70
READY_THRESHOLD = 154  # ~0.60
HARNESS = "accel_cosim_tb"


def monitors(manifest: BuildManifest) -> list[dict[str, Any]]:
    """Every monitored instance in build.json order, each followed by the library blocks inside it:
    {node, instance path, module, top (a top-level instance), starved, inputs (port prefixes), vector_output}."""
    out: list[dict[str, Any]] = []
    for layer in manifest.rtl.layers if manifest.rtl else ():
        for inst in layer.instances:
            ins = [p.port for p in inst.inputs] or ["s_axis"]
            out.append({"node": layer.node, "instance": inst.instance, "module": inst.module, "top": True,
                        "starved": inst.starved, "inputs": ins, "vector_output": inst.vector_output,
                        "progress": inst.progress})  # fmt: skip
            for child in inst.children:
                out.append({"node": layer.node, "instance": f"{inst.instance}.{child.path}", "module": child.module,
                            "top": False, "starved": child.starved, "inputs": ["s_axis"],
                            "vector_output": False, "progress": ""})  # fmt: skip
    return out


def _starved(p: str, mode: str, inputs: list[str]) -> str:
    """The Verilog expression that is true while the instance at path ``p`` waits for input."""
    if mode == "selected_input":
        return f"!{p}.in_valid"
    if mode == "any_input":
        return "!(" + " && ".join(f"{p}.{i}_tvalid" for i in inputs) + ")"
    return f"{p}.{inputs[0]}_tready && !{p}.{inputs[0]}_tvalid"


def harness_verilog(manifest: BuildManifest) -> str:
    """The Verilog of ``accel_cosim_tb``: driver, sink and per-instance monitors around the build's top."""
    top = manifest.top
    ports = manifest.ports
    iw = manifest.input.tdata_bits
    ow = manifest.output.tdata_bits
    sa, ma = ports.s_axis, ports.m_axis
    rst_expr = "!rst" if ports.reset_active_low else "rst"
    lines = [
        "// accel_cosim_tb: generated by accel.rtl.cosim -- stream driver, sink and layer monitors around the top.",
        "`timescale 1ns / 1ps",
        "`default_nettype none",
        "",
        f"module {HARNESS} (",
        "    input  wire        clk,",
        "    input  wire        rst,",
        "    input  wire        finish,     // flush the logs",
        "    input  wire        trace_on,   // log every instance's output beats",
        "    input  wire [31:0] n_in,       // input beats in total",
        "    input  wire [31:0] per_in,     // input beats per frame",
        "    input  wire [31:0] n_out,      // output beats expected",
        "    input  wire [31:0] clean_in,   // input beats offered without gaps first",
        "    input  wire [31:0] clean_out,  // output beats accepted without backpressure first",
        "    input  wire [8:0]  valid_thr,  // a beat is offered when rnd[7:0] < valid_thr (256: always)",
        "    input  wire [8:0]  ready_thr,  // the sink is ready when rnd[7:0] < ready_thr (256: always)",
        "    input  wire [31:0] seed,",
        "    input  wire        tlast_end,  // input TLAST on the run's last beat only (else on every frame's last)",
        "    input  wire        bursty,     // stalls in runs (random, long stall, gapless burst), else per cycle",
        "    input  wire [31:0] extra_last, // input beat (1-based) that carries TLAST besides (0: none)",
        "    output reg         done",
        ");",
        f"    reg  [{iw - 1}:0] s_tdata;",
        "    reg         s_tvalid, s_tlast;",
        "    wire        s_tready;",
        f"    wire [{ow - 1}:0] m_tdata;",
        "    wire        m_tvalid, m_tlast;",
        "    reg         m_tready;",
        "    wire        terr;",
        f"    reg  [{iw - 1}:0] word;",
        "    reg  [31:0] cycle, loaded, recv, rin, rout;",
        "    integer fin, fout, fev, ftr, code;",
        "    reg [8*1024-1:0] fname;",
        "",
        f"    {top} dut (",
        f"        .{ports.clock}(clk), .{ports.reset}({rst_expr}),",
        f"        .{sa}_tdata(s_tdata), .{sa}_tvalid(s_tvalid), .{sa}_tready(s_tready), .{sa}_tlast(s_tlast),",
        f"        .{ma}_tdata(m_tdata), .{ma}_tvalid(m_tvalid), .{ma}_tready(m_tready), .{ma}_tlast(m_tlast)"
        + (f", .{ports.tlast_err}(terr)" if ports.tlast_err else ""),
        "    );",
        *([] if ports.tlast_err else ["    assign terr = 1'b0;"]),
        "",
        "    initial begin",
        '        if (!$value$plusargs("ACCEL_IN=%s", fname)) fname = "in.hex";',
        '        fin = $fopen(fname, "r");',
        '        if (!$value$plusargs("ACCEL_OUT=%s", fname)) fname = "out.txt";',
        '        fout = $fopen(fname, "w");',
        '        if (!$value$plusargs("ACCEL_EVENTS=%s", fname)) fname = "events.txt";',
        '        fev = $fopen(fname, "w");',
        '        if (!$value$plusargs("ACCEL_TRACE=%s", fname)) fname = "trace.txt";',
        '        ftr = $fopen(fname, "w");',
        "    end",
        "",
        "    function [31:0] xorshift(input [31:0] x);",
        "        reg [31:0] y;",
        "        begin",
        "            y = x ^ (x << 13);",
        "            y = y ^ (y >> 17);",
        "            xorshift = y ^ (y << 5);",
        "        end",
        "    endfunction",
        "",
        "    // stalls (when a threshold is below 256): runs of up to 256 cycles, each random per cycle (modes 0, 1:",
        "    // offered / ready when rnd[7:0] < threshold), a long stall (2) or a burst without gaps (3)",
        "    reg  [8:0]  in_left, out_left;",
        "    reg  [1:0]  in_mode, out_mode;",
        "    wire in_go = valid_thr[8] || ((bursty && in_mode[1]) ? in_mode[0] : ({1'b0, rin[7:0]} < valid_thr));",
        "    wire out_go = ready_thr[8] || ((bursty && out_mode[1]) ? out_mode[0] : ({1'b0, rout[7:0]} < ready_thr));",
        "    wire in_hs = s_tvalid && s_tready;",
        "    wire out_hs = m_tvalid && m_tready;",
        "    always @(posedge clk) begin",
        "        if (rst) begin",
        "            cycle <= 0; loaded <= 0; recv <= 0; done <= 1'b0;",
        "            s_tvalid <= 1'b0; s_tlast <= 1'b0; s_tdata <= 0; m_tready <= 1'b0;",
        "            rin <= (seed * 32'd2654435761) ^ 32'h6a09e667;",
        "            in_left <= 9'd0; out_left <= 9'd0; in_mode <= 2'd0; out_mode <= 2'd0;",
        "            rout <= (seed * 32'd2246822519) ^ 32'hbb67ae85;",
        "        end else begin",
        "            cycle <= cycle + 1;",
        "            rin <= xorshift(rin);",
        "            rout <= xorshift(rout);",
        "            in_left <= (in_left == 0) ? {1'b0, rin[31:24]} : in_left - 9'd1;",
        "            if (in_left == 0) in_mode <= rin[17:16];",
        "            out_left <= (out_left == 0) ? {1'b0, rout[31:24]} : out_left - 9'd1;",
        "            if (out_left == 0) out_mode <= rout[17:16];",
        '            if (in_hs && ((loaded - 1) % per_in == 0)) $fwrite(fev, "I %0d\\n", cycle);',
        "            if (!s_tvalid || s_tready) begin",
        "                if (loaded < n_in && (loaded < clean_in || in_go)) begin",
        '                    code = $fscanf(fin, "%h\\n", word);',
        "                    s_tdata <= word;",
        "                    s_tvalid <= 1'b1;",
        "                    s_tlast <= (tlast_end ? (loaded + 1 == n_in) : ((loaded + 1) % per_in == 0))",
        "                               || (loaded + 1 == extra_last);",
        "                    loaded <= loaded + 1;",
        "                end else begin",
        "                    s_tvalid <= 1'b0;",
        "                end",
        "            end",
        "            if (out_hs) begin",
        '                $fwrite(fout, "%h %0d %0d\\n", m_tdata, m_tlast, cycle);',
        "                recv <= recv + 1;",
        "            end",
        "            m_tready <= (recv + out_hs < clean_out) || out_go;",
        "            done <= (recv + out_hs >= n_out);",
        "            if (finish) begin",
        '                $fwrite(fev, "E %0d\\n", cycle);',
        f'                $fwrite(fev, "F %0d\\n", {"terr" if ports.tlast_err else "-1"});',
        "                $fflush(fout); $fflush(fev); $fflush(ftr);",
        "            end",
        "        end",
        "    end",
    ]
    for k, inst in enumerate(monitors(manifest)):
        p = f"dut.{inst['instance']}"
        if inst["vector_output"]:  # a fork: watch its input side (the beat leaves when every consumer took it)
            side = inst["inputs"][0]
            hs = f"{p}.{side}_tvalid && {p}.{side}_tready"
            last, data = f"{p}.{side}_tlast", f"{p}.{side}_tdata"
            stall = f"!{p}.{side}_tvalid || !{p}.{side}_tready"
        else:
            hs = f"{p}.m_axis_tvalid && {p}.m_axis_tready"
            last, data = f"{p}.m_axis_tlast", f"{p}.m_axis_tdata"
            if inst["progress"]:  # one unit of modelled work per cycle the wire is high: busy exactly then
                stall = f"!{p}.{inst['progress']}"
            else:
                stall = (f"({p}.m_axis_tvalid && !{p}.m_axis_tready) || "
                         f"({_starved(p, inst['starved'], inst['inputs'])})")  # fmt: skip
        lines += [
            "",
            f"    // monitor {k}: {inst['node']} / {inst['instance']} ({inst['module']})",
            f"    reg [31:0] busy_{k};",
            f"    wire mhs_{k} = {hs};",
            f"    wire stall_{k} = {stall};",
            "    always @(posedge clk) begin",
            "        if (rst) begin",
            f"            busy_{k} <= 0;",
            "        end else begin",
            f"            if (mhs_{k} && {last}) begin",
            f'                $fwrite(fev, "L {k} %0d %0d\\n", cycle, busy_{k} + {{31\'d0, !stall_{k}}});',
            f"                busy_{k} <= 0;",
            "            end else begin",
            f"                busy_{k} <= busy_{k} + {{31'd0, !stall_{k}}};",
            "            end",
        ]
        if inst["top"]:
            lines.append(f'            if (trace_on && mhs_{k}) $fwrite(ftr, "{k} %h\\n", {data});')
        lines += ["        end", "    end"]
    lines += _tlast_monitors(manifest)
    lines += ["endmodule", "", "`default_nettype wire", ""]
    return "\n".join(lines)


def _tlast_monitors(manifest: BuildManifest) -> list[str]:
    """Log the cycle each TLAST check of build.json (``tlast_checks``, :mod:`accel.rtl.tlast`) first rises."""
    names = list((manifest.rtl.tlast_checks or {}) if manifest.rtl else {})
    if not names:
        return []
    lines = ["", "    // TLAST checks: the cycle each sticky tlast_err first rises",
             f"    reg [{len(names) - 1}:0] tseen;", "    always @(posedge clk) begin",
             f"        if (rst) tseen <= {len(names)}'d0;", "        else begin"]  # fmt: skip
    for k, name in enumerate(names):
        lines += [f"            if (dut.{name}.tlast_err && !tseen[{k}]) begin",
                  f'                $fwrite(fev, "T {k} %0d\\n", cycle);', f"                tseen[{k}] <= 1'b1;",
                  "            end"]  # fmt: skip
    return [*lines, "        end", "    end"]
