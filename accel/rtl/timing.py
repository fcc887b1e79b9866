"""Timing estimate of one synthesised instance: longest path through the mapped xc7 netlist, in ns and MHz.

Why: Vivado cannot run here and no open place-and-route exists for the xc7z020, yet a build needs a figure
for the clock it can run at.  The netlist yosys ``synth_xilinx -family xc7`` maps (``write_json`` in the same
run that counts resources, :mod:`accel.rtl.synth`) already fixes the cells every path goes through; what it
lacks is placement.  So: published per-cell delays of the 7-series -1 speed grade plus a stated routing
allowance per net, summed along the longest path (static timing analysis on the netlist graph).

Method.  Every net bit is a node; a combinational cell adds an arc from each input bit to each output bit it
drives (delay = routing allowance of the input net + the cell's delay for that pin pair).  Paths start at a
register's clock-to-out or an input port and end at a register's setup or an output port; the longest of
each kind is reported separately:

* ``critical_ns`` / ``fmax_mhz`` / ``logic_levels`` / ``path``: register to register inside the instance
  (including a DSP48E1's internal register-to-register paths), the figure that bounds the clock;
* ``input_to_reg_ns``, ``reg_to_output_ns``, ``input_to_output_ns``: paths through the instance's ports.  A
  port meets another block's logic, so these are parts of longer paths: ``reg_to_output_ns`` of the driver
  plus ``input_to_reg_ns`` of the consumer is the full path (the boundary net's routing is counted once, in
  the consumer's ``input_to_reg_ns``).  They are not folded into Fmax.

Routing allowance (:func:`route_ns`): ``ROUTE_NET_NS + ROUTE_FANOUT_NS * log2(fanout)`` per net, because in
Vivado's reports of 7-series -1 designs routing is most of a path (typically 60-70 % of it) and, before
placement, fanout is the one thing known that drives it (Vivado's own post-synthesis estimate is a fanout
model too).  Connections that never use general routing cost nothing: the carry cascade (CO -> CI), a LUT
into CARRY4 S/DI or MUXF7 and MUXF7 into MUXF8 (hard-wired inside a slice), DSP48E1/RAMB36 cascades, and a
fanout-1 net from a LUT/MUXF/CARRY4 into a flip-flop's D (Vivado packs that pair into one slice).  The IBUF,
OBUF and BUFG that synthesising an instance as a top level adds are ignored (zero delay).

Constants (ns, 7-series -1).  Two sources: [V] the -1 figures Vivado's timing reports print for these
primitives, which are DS187's (Zynq-7000) switching characteristics; DS187 itself could not be retrieved
here, so these are the commonly published values, not re-read from the PDF.  [X] Vivado's 7-series -1
timing model as extracted by Project X-Ray (prjxray-db ``artix7/timings/*.sdf``; the Zynq-7000 PL is the
Artix-7 fabric) and shipped in yosys' own cell library, ``share/yosys/xilinx/cells_sim.v`` (its ``specify``
blocks, each citing its SDF line; checkable on any machine with yosys).  The two agree where both give a
figure (CARRY4 CI->CO[3] 0.114 ns in both; LUT 0.124 [V] vs 0.127 [X] for the fastest pin; [X]'s larger
per-pin LUT figures include slice input routing, which the per-net allowance covers here).  Each constant
below names its source.

Expected error against Vivado: not measured (Vivado cannot run here).  This is a pre-placement estimate:
cell delays are the data sheet's, so paths dominated by DSP48E1 or RAMB should be close; LUT paths depend
on placement and congestion, which a fixed allowance cannot see: expect roughly +-30 % on the critical
path, more for very high fanout nets (Vivado replicates or routes them far).  Clock skew, jitter and
uncertainty are not modelled (Vivado's reports charge ~0.1-0.2 ns for them), and yosys' mapping is not
Vivado's.  The estimate ranks instances and finds unpipelined logic; sign-off is Vivado's
``report_timing_summary`` (docs/hardware.md, "Timing estimate", says how to run it).
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: version of the delay model (change it with any constant or rule): a cached estimate of another is made again
TIMING_MODEL = "xc7-1/3"

# -- slice flip-flops ---------------------------------------------------------------------------------------
T_CKO = 0.518  # [V] FDRE/FDSE/FDCE/FDPE clock to Q (Prop_fdre_C_Q 0.456-0.518 on -1; the larger taken)
T_SETUP_D = 0.05  # [X] slicel.sdf gives -0.046 for D; a negative setup is not relied on, +0.05 taken
T_SETUP_CE = 0.109  # [X] slicel.sdf L248, CE setup
T_SETUP_SR = 0.404  # [X] slicel.sdf L274, synchronous R/S setup
# -- LUTs and wide multiplexers -----------------------------------------------------------------------------
T_ILO = 0.124  # [V] DS187 T_ILO, LUT1-6 (and INV) input to output, any pin (Prop_lut*_I*_O)
T_MUXF7 = 0.223  # [X] CLBLL_L.sdf L451-453, MUXF7 I0/I1 -> O (max)
T_MUXF7_S = 0.296  # [X] same, MUXF7 S -> O
T_MUXF8 = 0.104  # [X] CLBLL_L.sdf L462-464, MUXF8 I0/I1 -> O (max)
T_MUXF8_S = 0.273  # [X] same, MUXF8 S -> O
# -- CARRY4: [X] CLBLL_L.sdf L11-46, (input, output) -> delay, the max over the input's bit positions -------
CARRY4_NS: dict[tuple[str, str], float] = {
    ("CI", "CO0"): 0.271, ("CI", "CO1"): 0.157, ("CI", "CO2"): 0.228, ("CI", "CO3"): 0.114,
    ("CI", "O0"): 0.222, ("CI", "O1"): 0.334, ("CI", "O2"): 0.239, ("CI", "O3"): 0.313,
    ("CYINIT", "CO0"): 0.536, ("CYINIT", "CO1"): 0.494, ("CYINIT", "CO2"): 0.592, ("CYINIT", "CO3"): 0.580,
    ("CYINIT", "O0"): 0.482, ("CYINIT", "O1"): 0.598, ("CYINIT", "O2"): 0.584, ("CYINIT", "O3"): 0.642,
    ("S", "CO0"): 0.340, ("S", "CO1"): 0.469, ("S", "CO2"): 0.548, ("S", "CO3"): 0.528,
    ("S", "O0"): 0.223, ("S", "O1"): 0.400, ("S", "O2"): 0.558, ("S", "O3"): 0.618,
    ("DI", "CO0"): 0.379, ("DI", "CO1"): 0.465, ("DI", "CO2"): 0.540, ("DI", "CO3"): 0.526,
    ("DI", "O1"): 0.407, ("DI", "O2"): 0.556, ("DI", "O3"): 0.615,
}  # fmt: skip
# -- DSP48E1: [X] cells_sim.v DSP48E1 (its A/B/C.required, P/PCOUT.arrival and *.comb functions) -------------
T_DSP_A_P = {"MULTIPLY": 2.823, "NONE": 1.523}  # A -> P, no register on the way
T_DSP_B_P = {"MULTIPLY": 2.690, "NONE": 1.509}  # B -> P, no register on the way
T_DSP_C_P = 1.325  # C (and the ALU controls) -> P
T_DSP_PCIN_P = 1.107  # PCIN cascade -> P
T_DSP_PCOUT_EXTRA = 0.148  # PCOUT arrives this much after P (every *.PCOUT.comb minus *.P.comb)
T_DSP_SETUP_AREG, T_DSP_SETUP_BREG, T_DSP_SETUP_CREG = 0.254, 0.324, 0.168  # A/B/C into their own registers
T_DSP_SETUP_MREG = {"A": 1.416, "B": 1.285}  # A/B through the multiplier into MREG
T_DSP_SETUP_PREG = {"A": {"MULTIPLY": 2.739, "NONE": 1.441}, "B": {"MULTIPLY": 2.608, "NONE": 1.428},
                    "C": 1.244, "PCIN": 1.025}  # into PREG with no register before it  # fmt: skip
T_DSP_PATDET_EXTRA = 0.290  # a used pattern detector adds this to every setup into PREG
T_DSP_CKO = {"PREG": 0.329, "CREG": 1.687, "MREG": 1.671, "AREG": {"MULTIPLY": 2.952, "NONE": 1.632},
             "BREG": {"MULTIPLY": 2.813, "NONE": 1.616}}  # clock -> P from the last register on the way
T_DSP_SETUP_CTRL = T_SETUP_SR  # CE*/RST* pins: the slice's synchronous-reset setup, an approximation
# -- block RAM: [X] BRAM_L.sdf ---------------------------------------------------------------------------
# (cells_sim.v attaches these two to swapped DO_REG conditions; the output register is the fast one, UG473)
T_BRAM_CKO = 2.454  # L143, clock -> DO without the output register (DO_REG = 0)
T_BRAM_CKO_REG = 0.882  # L153, clock -> DO from the output register (DO_REG = 1)
T_BRAM_SETUP = {"ADDR": 0.566, "WE": 0.532, "DI": 0.737, "REGCE": 0.360, "RSTREG": 0.342}  # L13-L135
T_BRAM_SETUP_OTHER = 0.566  # EN/RSTRAM and the rest: the address figure, an approximation
# -- LUT-RAM and shift registers: [X] CLBLM_R.sdf ----------------------------------------------------------
T_LUTRAM_CKO = 1.153  # L889/L981, WCLK -> DO (a write seen at the output)
T_LUTRAM_SETUP = {"D": 0.453, "WE": 0.654, "A": 0.245}  # L986, L834, L800: data, write enable, write address
T_SRL_CKO = 1.472  # L905, SRL16E/SRLC32E CLK -> Q
T_SRL_CKO_Q31 = 1.114  # L904, SRLC32E CLK -> Q31 (cascade output)
T_SRL_SETUP = {"D": 0.173, "CE": 0.109}  # L912, slicel.sdf L248
# -- routing allowance (see the module docstring) ------------------------------------------------------------
ROUTE_NET_NS = 0.50  # one general-routing net of fanout 1 between two slices placed near each other
ROUTE_FANOUT_NS = 0.12  # added per doubling of the fanout (a wider spread of sinks, longer wires)

FF_TYPES = {"FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1", "LDCE", "LDPE"}
PASS_TYPES = {"IBUF", "OBUF", "BUFG", "BUFGCTRL", "BUFH", "IBUFG", "OBUFT", "IOBUF"}
CONST_TYPES = {"VCC", "GND"}
LUT_TYPES = {f"LUT{k}" for k in range(1, 7)} | {"LUT6_2", "INV"}
LUTRAM_READ = {  # LUT-RAM: which address port reads which output, and the wide multiplexers a read goes through
    "RAM32X1S": ({"A": "O"}, 0), "RAM64X1S": ({"A": "O"}, 0), "RAM128X1S": ({"A": "O"}, 1),
    "RAM256X1S": ({"A": "O"}, 2), "RAM32X1D": ({"A": "SPO", "DPRA": "DPO"}, 0),
    "RAM64X1D": ({"A": "SPO", "DPRA": "DPO"}, 0), "RAM128X1D": ({"A": "SPO", "DPRA": "DPO"}, 1),
    "RAM256X1D": ({"A": "SPO", "DPRA": "DPO"}, 2),
    **{t: ({f"ADDR{x}": f"DO{x}" for x in "ABCDEFGH"}, 0) for t in ("RAM32M", "RAM64M", "RAM32M16", "RAM64M8")},
}  # fmt: skip
SRL_TYPES = {"SRL16", "SRL16E", "SRLC16", "SRLC16E", "SRLC32E"}
CLOCK_PINS = {"C", "CLK", "WCLK", "CLKARDCLK", "CLKBWRCLK", "CLKARDCLKL", "CLKARDCLKU", "CLKBWRCLKL",
              "CLKBWRCLKU", "G"}  # fmt: skip
OUTPUT_PINS = {"O", "O5", "O6", "Q", "Q31", "CO", "P", "PCOUT", "ACOUT", "BCOUT", "CARRYOUT", "CARRYCASCOUT",
               "MULTSIGNOUT", "PATTERNDETECT", "PATTERNBDETECT", "OVERFLOW", "UNDERFLOW", "SPO", "DPO",
               "DOADO", "DOBDO", "DOPADOP", "DOPBDOP", "CASCADEOUTA", "CASCADEOUTB", "SBITERR", "DBITERR",
               "ECCPARITY", "RDADDRECC", *(f"DO{x}" for x in "ABCDEFGH")}  # fmt: skip
#: (driver type prefix, driver pin) -> sink pins reached on dedicated wires (no general routing)
DEDICATED = {("CARRY4", "CO"): {("CARRY4", "CI")}, ("DSP48E1", "PCOUT"): {("DSP48E1", "PCIN")},
             ("DSP48E1", "ACOUT"): {("DSP48E1", "ACIN")}, ("DSP48E1", "BCOUT"): {("DSP48E1", "BCIN")},
             ("DSP48E1", "CARRYCASCOUT"): {("DSP48E1", "CARRYCASCIN")},
             ("DSP48E1", "MULTSIGNOUT"): {("DSP48E1", "MULTSIGNIN")},
             ("RAMB36E1", "CASCADEOUTA"): {("RAMB36E1", "CASCADEINA")},
             ("RAMB36E1", "CASCADEOUTB"): {("RAMB36E1", "CASCADEINB")},
             ("LUT", "O"): {("CARRY4", "S"), ("CARRY4", "DI"), ("MUXF7", "I0"), ("MUXF7", "I1")},
             ("MUXF7", "O"): {("MUXF8", "I0"), ("MUXF8", "I1")}}  # fmt: skip
PACKED_INTO_FF = {"LUT", "MUXF7", "MUXF8", "CARRY4"}  # a fanout-1 net from these into an FF's D: same slice


def route_ns(fanout: int) -> float:
    """Routing allowance of one net with ``fanout`` sinks: ``ROUTE_NET_NS + ROUTE_FANOUT_NS * log2(fanout)``."""
    return ROUTE_NET_NS + ROUTE_FANOUT_NS * math.log2(max(1, fanout))


def _value(v: Any) -> Any:
    """A yosys JSON parameter: binary-digit strings are integers, other strings stay strings (trailing blank off)."""
    if isinstance(v, str) and re.fullmatch(r"[01]+", v):
        return int(v, 2)
    return v.rstrip() if isinstance(v, str) else v


def _base(port: str) -> str:
    """``A3`` -> ``A``, ``DPRA0`` -> ``DPRA``: LUT-RAM and SRL primitives name some address bits as ports."""
    return re.sub(r"\d+$", "", port)


def _family(ctype: str) -> str:
    """``LUT4`` -> ``LUT`` (for the dedicated-wire and packing tables); other types unchanged."""
    return "LUT" if ctype in LUT_TYPES else ctype


class _Cell:
    """One netlist cell: its pins as (port, bit index) -> net bit, split into inputs and outputs."""

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self.type: str = data["type"]
        self.params = {k: _value(v) for k, v in data.get("parameters", {}).items()}
        dirs = data.get("port_directions", {})
        self.inputs: dict[tuple[str, int], int] = {}
        self.outputs: dict[tuple[str, int], int] = {}
        for port, bits in data.get("connections", {}).items():
            is_out = dirs.get(port, "output" if port in OUTPUT_PINS else "input") == "output"
            for i, b in enumerate(bits):
                if isinstance(b, int):
                    (self.outputs if is_out else self.inputs)[(port, i)] = b

    def p(self, name: str, default: Any = 0) -> Any:
        return self.params.get(name, default)


def _dsp_model(cell: _Cell) -> tuple[dict[str, float], dict[str, float], dict[str, float], float | None]:
    """DSP48E1 timing from its register parameters: (setup per input group, combinational delay to P per
    input group, clock -> P, internal register-to-register delay or None).  Mirrors the arcs yosys' cell
    library declares for the same parameters; groups: A, B, C (with the ALU controls), PCIN, CTRL."""
    mult = "NONE" if cell.p("USE_MULT", "MULTIPLY") == "NONE" else "MULTIPLY"
    areg, breg, creg, mreg, preg = (int(cell.p(k, 1)) for k in ("AREG", "BREG", "CREG", "MREG", "PREG"))
    mreg = mreg if mult == "MULTIPLY" else 0
    patdet = T_DSP_PATDET_EXTRA if cell.p("USE_PATTERN_DETECT", "NO_PATDET") != "NO_PATDET" else 0.0
    setup: dict[str, float] = {"CTRL": T_DSP_SETUP_CTRL}
    comb: dict[str, float] = {}
    for g, reg, own in (("A", areg, T_DSP_SETUP_AREG), ("B", breg, T_DSP_SETUP_BREG)):
        if reg:
            setup[g] = own
        elif mreg:
            setup[g] = T_DSP_SETUP_MREG[g]
        elif preg:
            setup[g] = T_DSP_SETUP_PREG[g][mult] + patdet
        else:
            comb[g] = (T_DSP_A_P if g == "A" else T_DSP_B_P)[mult]
    if creg:
        setup["C"] = T_DSP_SETUP_CREG
    elif preg:
        setup["C"] = T_DSP_SETUP_PREG["C"] + patdet
    else:
        comb["C"] = T_DSP_C_P
    if preg:
        setup["PCIN"] = T_DSP_SETUP_PREG["PCIN"] + patdet
    else:
        comb["PCIN"] = T_DSP_PCIN_P
    cko: dict[str, float] = {}
    # clock -> P: from PREG; without it, from every register whose output reaches P without another register
    # (A/B registers reach it only when MREG is not used)
    last = [T_DSP_CKO["CREG"]] * creg + [T_DSP_CKO["MREG"]] * mreg
    if not mreg:
        last += [T_DSP_CKO["AREG"][mult]] * areg + [T_DSP_CKO["BREG"][mult]] * breg
    if preg:
        cko["P"] = T_DSP_CKO["PREG"]
    elif last:
        cko["P"] = max(last)
    # internal register to register: an input register through the multiplier into MREG or PREG, and MREG
    # into PREG; an input register's clock-to-out taken as PREG's (T_DSP_CKO["PREG"]), an approximation
    internal = []
    for g, reg in (("A", areg), ("B", breg)):
        if reg and mreg:
            internal.append(T_DSP_CKO["PREG"] + T_DSP_SETUP_MREG[g])
        elif reg and preg:
            internal.append(T_DSP_CKO["PREG"] + T_DSP_SETUP_PREG[g][mult] + patdet)
    if mreg and preg:
        internal.append(T_DSP_CKO["MREG"] + patdet)  # MREG -> P pin, used for MREG -> PREG
    return setup, comb, cko, (max(internal) if internal else None)


def _dsp_group(port: str) -> str:
    if port in ("A", "ACIN"):
        return "A"
    if port in ("B", "BCIN"):
        return "B"
    if port == "PCIN":
        return "PCIN"
    if port.startswith(("CE", "RST")):
        return "CTRL"
    return "C"  # C, OPMODE, ALUMODE, CARRYIN, CARRYINSEL, INMODE, D: into the ALU like C


class _Graph:
    """The timing graph of one netlist: arcs between nodes (net bits and per-cell virtual nodes)."""

    def __init__(self, module: dict[str, Any]) -> None:
        self.cells = [_Cell(n, c) for n, c in module.get("cells", {}).items()]
        self.arcs: dict[int | str, list[tuple[int | str, float, float, int]]] = {}  # src -> (dst, cell, route, i)
        self.launch: dict[int | str, tuple[float, int]] = {}  # node -> (clock-to-out, cell index)
        self.capture: list[tuple[int, float, float, int]] = []  # (net bit, route, setup, cell index)
        self.internal: list[tuple[float, int]] = []  # (delay, cell index): DSP internal register paths
        self.unknown: set[str] = set()
        self.driver: dict[int, tuple[str, str]] = {}  # net bit -> (driver family, pin)
        self.sinks: dict[int, int] = {}
        ports = module.get("ports", {})
        self.inputs = [b for p in ports.values() if p["direction"] == "input" for b in p["bits"] if isinstance(b, int)]
        self.outputs = [b for p in ports.values() if p["direction"] != "input" for b in p["bits"]
                        if isinstance(b, int)]  # fmt: skip
        for b in self.outputs:
            self.sinks[b] = self.sinks.get(b, 0) + 1
        for c in self.cells:
            for (port, _), b in c.outputs.items():
                self.driver[b] = (_family(c.type), port)
            for (port, _), b in c.inputs.items():
                if port not in CLOCK_PINS:
                    self.sinks[b] = self.sinks.get(b, 0) + 1
        for i, c in enumerate(self.cells):
            self._add_cell(i, c)

    def _route(self, net: int, cell: _Cell, port: str) -> float:
        drv = self.driver.get(net)
        fam = _family(cell.type)
        if drv is not None:
            if (fam, port) in DEDICATED.get(drv, ()):
                return 0.0
            if fam in FF_TYPES and port == "D" and drv[0] in PACKED_INTO_FF and self.sinks.get(net, 0) == 1:
                return 0.0
        return route_ns(self.sinks.get(net, 1))

    def _arc(self, src: int | str, dst: int | str, delay: float, route: float, i: int) -> None:
        self.arcs.setdefault(src, []).append((dst, delay, route, i))

    def _through(self, i: int, c: _Cell, pins: Iterable[tuple[str, int]], dst: int | str, delay: float) -> None:
        for pin in pins:
            if pin in c.inputs and pin[0] not in CLOCK_PINS:
                net = c.inputs[pin]
                self._arc(net, dst, delay, self._route(net, c, pin[0]), i)

    def _setup(self, i: int, c: _Cell, pin: tuple[str, int], setup: float) -> None:
        net = c.inputs[pin]
        self.capture.append((net, self._route(net, c, pin[0]), setup, i))

    def _add_cell(self, i: int, c: _Cell) -> None:
        """The arcs, launch points and capture points of one cell: one branch per primitive family."""
        t = c.type
        if t in CONST_TYPES:
            return
        if t in PASS_TYPES:
            for pin, net in c.inputs.items():
                for out in c.outputs.values():
                    if pin[0] not in CLOCK_PINS:
                        self._arc(net, out, 0.0, 0.0, i)
            return
        if t in FF_TYPES:
            setup = {"D": T_SETUP_D, "CE": T_SETUP_CE, "GE": T_SETUP_CE, "R": T_SETUP_SR, "S": T_SETUP_SR}
            for pin in c.inputs:
                if pin[0] in setup:  # CLR/PRE are asynchronous: no setup path
                    self._setup(i, c, pin, setup[pin[0]])
            for out in c.outputs.values():
                self.launch[out] = (T_CKO, i)
        elif t in LUT_TYPES:
            for out in c.outputs.values():
                self._through(i, c, c.inputs, out, T_ILO)
        elif t in ("MUXF7", "MUXF8"):
            data, sel = (T_MUXF7, T_MUXF7_S) if t == "MUXF7" else (T_MUXF8, T_MUXF8_S)
            for out in c.outputs.values():
                self._through(i, c, [p for p in c.inputs if p[0] != "S"], out, data)
                self._through(i, c, [p for p in c.inputs if p[0] == "S"], out, sel)
        elif t == "CARRY4":
            for (oport, oi), out in c.outputs.items():
                for pin in c.inputs:
                    d = CARRY4_NS.get((pin[0], f"{oport}{oi}"))
                    if d is not None and (pin[0] not in ("S", "DI") or pin[1] <= oi):
                        self._through(i, c, [pin], out, d)
        elif t == "DSP48E1":
            self._add_dsp(i, c)
        elif t.startswith(("RAMB18", "RAMB36")):
            reg = {"A": int(c.p("DOA_REG", 0)), "B": int(c.p("DOB_REG", 0))}
            for pin in c.inputs:
                if pin[0] not in CLOCK_PINS and not pin[0].startswith("CASCADEIN"):
                    key = next((k for k in ("ADDR", "WE", "DIP", "DI", "REGCE", "RSTREG") if pin[0].startswith(k)),
                               None)  # fmt: skip
                    self._setup(i, c, pin, T_BRAM_SETUP.get("DI" if key == "DIP" else key or "", T_BRAM_SETUP_OTHER))
            for (oport, _), out in c.outputs.items():
                side = "A" if oport in ("DOADO", "DOPADOP", "CASCADEOUTA") else "B"
                self.launch[out] = (T_BRAM_CKO_REG if reg[side] else T_BRAM_CKO, i)
        elif t in LUTRAM_READ:
            reads, muxes = LUTRAM_READ[t]
            mux = (T_MUXF7 if muxes >= 1 else 0.0) + (T_MUXF8 if muxes >= 2 else 0.0)  # deeper than 64: MUXF7/8
            write_addr = {"RAM32M": "ADDRD", "RAM64M": "ADDRD", "RAM32M16": "ADDRH", "RAM64M8": "ADDRH"}.get(t, "A")
            for (oport, _), out in c.outputs.items():
                self.launch[out] = (T_LUTRAM_CKO + mux, i)
                addr = [p for p in c.inputs if reads.get(_base(p[0])) == oport]
                self._through(i, c, addr, out, T_ILO + mux)
            for pin in c.inputs:
                if pin[0] in ("D", "WE") or pin[0].startswith("DI"):
                    self._setup(i, c, pin, T_LUTRAM_SETUP["WE" if pin[0] == "WE" else "D"])
                elif _base(pin[0]) == write_addr:
                    self._setup(i, c, pin, T_LUTRAM_SETUP["A"])
        elif t in SRL_TYPES:
            for (oport, _), out in c.outputs.items():
                self.launch[out] = (T_SRL_CKO_Q31 if oport == "Q31" else T_SRL_CKO, i)
                if oport == "Q":
                    self._through(i, c, [p for p in c.inputs if p[0].startswith("A")], out, T_ILO)
            for pin in c.inputs:
                if pin[0] in T_SRL_SETUP:
                    self._setup(i, c, pin, T_SRL_SETUP[pin[0]])
        else:  # an unexpected primitive: every input to every output through one LUT delay, and said so
            self.unknown.add(t)
            for out in c.outputs.values():
                self._through(i, c, c.inputs, out, T_ILO)

    def _add_dsp(self, i: int, c: _Cell) -> None:
        setup, comb, cko, internal = _dsp_model(c)
        registered = {"A": int(c.p("AREG", 1)), "B": int(c.p("BREG", 1))}
        alu = f"dsp{i}"  # virtual node: the ALU output, so inputs x outputs arcs stay linear in the pin count
        for pin in c.inputs:
            if pin[0] in CLOCK_PINS:
                continue
            g = _dsp_group(pin[0])
            if g in comb:
                self._through(i, c, [pin], alu, comb[g])
            elif g in setup and (g != "CTRL" or cko):
                self._setup(i, c, pin, setup[g])
        for (oport, _), out in c.outputs.items():
            if oport in ("ACOUT", "BCOUT"):  # the A/B cascade: timed only from its register (else not at all)
                if registered[oport[0]]:
                    self.launch[out] = (T_DSP_CKO["PREG"], i)
                continue
            extra = T_DSP_PCOUT_EXTRA if oport != "P" else 0.0
            if "P" in cko:
                self.launch[out] = (cko["P"] + extra, i)
            self._arc(alu, out, extra, 0.0, i)
        if internal is not None:
            self.internal.append((internal, i))


def _names(module: dict[str, Any]) -> dict[int, str]:
    """Net bit -> its most readable name (a public name before a generated one, then the shortest)."""
    best: dict[int, tuple[int, int, str]] = {}
    for name, net in module.get("netnames", {}).items():
        bits = net.get("bits", [])
        for k, b in enumerate(bits):
            if isinstance(b, int):
                label = name.lstrip("\\") + (f"[{k}]" if len(bits) > 1 else "")
                rank = (int(net.get("hide_name", 0)), len(label), label)
                if b not in best or rank < best[b]:
                    best[b] = rank
    return {b: r[2] for b, r in best.items()}


def _top(netlist: dict[str, Any]) -> dict[str, Any]:
    modules = netlist.get("modules", {})
    tops = [m for m in modules.values() if _value(m.get("attributes", {}).get("top", 0)) == 1]
    if len(tops) != 1:
        tops = [m for m in modules.values() if m.get("cells") and not m.get("attributes", {}).get("blackbox")]
    if len(tops) != 1:
        raise ValueError(f"the netlist has {len(tops)} candidate top modules, not one")
    return tops[0]


def analyse(netlist: dict[str, Any]) -> dict[str, Any]:
    """The timing estimate of a yosys ``write_json`` netlist (its top module) as a JSON-ready dict.

    Keys: ``model``, ``critical_ns``, ``fmax_mhz``, ``logic_levels``, ``routing_ns`` (the critical path's
    routing allowance), ``path`` (its cell chain), ``from`` / ``to`` (signal names), ``input_to_reg_ns``,
    ``reg_to_output_ns``, ``input_to_output_ns``, ``loop_nodes`` (net bits on combinational loops, not
    timed) and ``unknown_cells``.  Delays are None where no such path exists.
    """
    module = _top(netlist)
    g = _Graph(module)
    # arrival per node and per origin ("reg": a register's clock-to-out, "port": an input port at time 0)
    indeg: dict[int | str, int] = {}
    for src, outs in g.arcs.items():
        indeg.setdefault(src, 0)
        for dst, *_ in outs:
            indeg[dst] = indeg.get(dst, 0) + 1
    arr: dict[str, dict[int | str, float]] = {"reg": {}, "port": {}}
    pred: dict[str, dict[int | str, tuple[int | str, int, float]]] = {"reg": {}, "port": {}}
    for node, (t, _) in g.launch.items():
        arr["reg"][node] = max(t, arr["reg"].get(node, t))
    for b in g.inputs:
        arr["port"][b] = 0.0
    queue = deque(n for n, d in indeg.items() if d == 0)
    done = 0
    order: list[int | str] = []
    while queue:
        n = queue.popleft()
        order.append(n)
        done += 1
        for dst, delay, route, i in g.arcs.get(n, ()):
            for kind in ("reg", "port"):
                if n in arr[kind]:
                    t = arr[kind][n] + route + delay
                    if t > arr[kind].get(dst, -math.inf):
                        arr[kind][dst] = t
                        pred[kind][dst] = (n, i, route)
            indeg[dst] -= 1
            if indeg[dst] == 0:
                queue.append(dst)
    loops = len(indeg) - done
    for n, d in indeg.items():  # a node on (or behind) a combinational loop has no longest path: not timed
        if d > 0:
            arr["reg"].pop(n, None)
            arr["port"].pop(n, None)
    names = _names(module)

    def worst_capture(kind: str) -> tuple[float, tuple[int, float, float, int]] | None:
        best = None
        for cap in g.capture:
            net, route, setup, _ = cap
            if net in arr[kind]:
                t = arr[kind][net] + route + setup
                if best is None or t > best[0]:
                    best = (t, cap)
        return best

    result: dict[str, Any] = {"model": TIMING_MODEL, "critical_ns": None, "fmax_mhz": None, "logic_levels": None,
                              "routing_ns": None, "path": None, "from": None, "to": None}  # fmt: skip
    reg = worst_capture("reg")
    dsp = max(g.internal, default=None)
    if reg is not None and (dsp is None or reg[0] >= dsp[0]):
        t, (net, route, _, cap_i) = reg
        chain, levels, routing, start = _walk(g, pred["reg"], net)
        cap = g.cells[cap_i]
        launch_type = g.cells[g.launch[start][1]].type if start in g.launch else "?"
        end = next(iter(cap.outputs.values())) if cap.type in FF_TYPES else net  # a register: its Q names it
        result["critical_ns"], result["logic_levels"], result["routing_ns"] = t, levels, routing + route
        result["path"] = " > ".join([launch_type, *([_chain(chain)] if chain else []), cap.type])
        result["from"], result["to"] = names.get(start, "?"), names.get(end, "?")
    elif dsp is not None:
        t, i = dsp
        result["critical_ns"], result["logic_levels"], result["routing_ns"] = t, 0, 0.0
        result["path"] = "DSP48E1 (internal registers)"
        result["from"] = result["to"] = g.cells[i].name
    if result["critical_ns"]:  # from the critical delay as reported (3 decimals), so the two agree exactly
        result["critical_ns"] = round(result["critical_ns"], 3)
        result["fmax_mhz"] = 1000.0 / result["critical_ns"]
    port_reg = worst_capture("port")
    result["input_to_reg_ns"] = port_reg[0] if port_reg else None
    result["reg_to_output_ns"] = max((arr["reg"][b] for b in g.outputs if b in arr["reg"]), default=None)
    result["input_to_output_ns"] = max((arr["port"][b] for b in g.outputs if b in arr["port"]), default=None)
    result["loop_nodes"] = loops
    result["unknown_cells"] = sorted(g.unknown)
    result = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
    result["ports"] = _port_arcs(module, g, order, arr["reg"])
    return result


#: ports that are not timed across instance boundaries: the clock, and the reset (a synchronous reset from
#: accel_top's port; Vivado times it, typically replicated or on a global buffer)
UNTIMED_PORTS = ("clk", "rst")


def _port_arcs(module: dict[str, Any], g: _Graph, order: list[int | str], reg_arr: dict[int | str, float]
               ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per port of the instance (by name, over all its bits): ``reg_to`` {output: ns} from a register to it,
    ``to_reg`` {input: ns} from it to a register's setup, ``through`` {input: {output: ns}} combinationally.

    What :func:`accel.rtl.design_timing.cross_instance` chains along the wires of a network: the paths that
    cross instance boundaries (an output ready through one block's logic into another's register).  One
    forward pass per input port over the topological ``order`` of the combinational arcs.
    """
    ports = {n: p for n, p in module.get("ports", {}).items() if n not in UNTIMED_PORTS}
    outs = {n: [b for b in p["bits"] if isinstance(b, int)] for n, p in ports.items() if p["direction"] != "input"}
    ins = {n: [b for b in p["bits"] if isinstance(b, int)] for n, p in ports.items() if p["direction"] == "input"}
    reg_to = {n: max((reg_arr[b] for b in bits if b in reg_arr), default=None) for n, bits in outs.items()}
    to_reg: dict[str, float | None] = {}
    through: dict[str, dict[str, float]] = {}
    for name, bits in ins.items():
        arr: dict[int | str, float] = {b: 0.0 for b in bits}
        for n in order:
            if n in arr:
                for dst, delay, route, _ in g.arcs.get(n, ()):
                    t = arr[n] + route + delay
                    if t > arr.get(dst, -math.inf):
                        arr[dst] = t
        to_reg[name] = max((arr[net] + route + setup for net, route, setup, _ in g.capture if net in arr),
                           default=None)  # fmt: skip
        hits = {o: max((arr[b] for b in obits if b in arr), default=None) for o, obits in outs.items()}
        through[name] = {o: round(t, 3) for o, t in hits.items() if t is not None}
    return {
        "reg_to": {n: round(t, 3) for n, t in reg_to.items() if t is not None},
        "to_reg": {n: round(t, 3) for n, t in to_reg.items() if t is not None},
        "through": {n: d for n, d in through.items() if d},
    }


def _walk(g: _Graph, pred: dict[int | str, tuple[int | str, int, float]], node: int | str
          ) -> tuple[list[str], int, float, int | str]:  # fmt: skip
    """Back from ``node`` along the arrival-defining arcs: (combinational cell types in path order, logic
    levels, routing on the way, the launching node)."""
    cells: list[int] = []
    routing = 0.0
    while node in pred:
        node, i, route = pred[node]
        routing += route
        if (not cells or cells[-1] != i) and g.cells[i].type not in PASS_TYPES:
            cells.append(i)
    types = [g.cells[i].type for i in reversed(cells)]
    return types, len(types), routing, node


def _chain(types: list[str]) -> str:
    """``LUT2 > CARRY4 x3 > LUT3``: a chain of combinational cells, runs of one type collapsed."""
    out: list[tuple[str, int]] = []
    for t in types:
        if out and out[-1][0] == t:
            out[-1] = (t, out[-1][1] + 1)
        else:
            out.append((t, 1))
    return " > ".join(t if n == 1 else f"{t} x{n}" for t, n in out)


def analyse_file(path: Path) -> dict[str, Any]:
    """:func:`analyse` of a netlist JSON file written by yosys ``write_json``."""
    return analyse(json.loads(Path(path).read_text()))
