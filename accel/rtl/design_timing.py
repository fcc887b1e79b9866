"""Timing across instance boundaries: the per-instance port arcs chained along the wires of a network.

Why: :mod:`accel.rtl.timing` estimates each instance alone, so its ``critical_ns`` covers register-to-register
paths inside the instance only.  A path that leaves one block and enters another (a consumer's ``s_axis_tready``
into its producer's output logic) or passes through a block combinationally (an output ready forwarded to the
input ready) is invisible there, yet Vivado times it like any other.  Every instance's estimate records its
port arcs (``timing["ports"]``: register to output port, input port to register, input to output port); the
manifest records which wire each port is on (:class:`accel.deploy.manifest.PortRecord` ``wire``).  Here those
arcs are joined into one graph and its longest register-to-register path is found.

Method.  Nodes are (instance, port signal), e.g. ``(u_fc_mvu, s_axis_tready)``.  Arcs: within an instance, its
``through`` arcs; across a wire, ``m_axis_tdata/tvalid/tlast`` of the driver to ``s_axis_*`` of each consumer
and each consumer's ``s_axis_tready`` back to the driver's ``m_axis_tready`` (no delay: the boundary net's
routing allowance is already in the consumer's input-side figure, see :mod:`accel.rtl.timing`).  A path starts
at an output port's ``reg_to`` figure and ends at an input port's ``to_reg`` figure.  Per port, each figure is
the worst over the port's bits and over the paths behind it, so the composition is an upper bound of the
netlist's true cross-instance path (two worst halves need not belong to one path).  The network's own
``s_axis`` / ``m_axis`` (the DMA side) are not timed: what drives them is outside the design.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: the AXI4-Stream signals of a port that travel with the data (driver -> consumer); TREADY goes back
FORWARD = ("tdata", "tvalid", "tlast")


@dataclass(frozen=True)
class PortWire:
    """One AXI4-Stream port of an instance on a network wire."""

    instance: str
    port: str  # prefix: s_axis, s0_axis, m_axis ...
    wire: str
    output: bool


@dataclass(frozen=True)
class CrossPath:
    """The longest estimated register-to-register path that crosses at least one instance boundary."""

    critical_ns: float
    nodes: tuple[str, ...]  # "instance.port_signal" from the launching output port to the capturing input port

    @property
    def fmax_mhz(self) -> float:
        return 1000.0 / self.critical_ns

    def to_json(self) -> dict[str, Any]:
        instances = len({n.split(".")[0] for n in self.nodes})
        return {"critical_ns": self.critical_ns, "fmax_mhz": self.fmax_mhz, "path": " > ".join(self.nodes),
                "from": self.nodes[0], "to": self.nodes[-1], "instances": instances}  # fmt: skip


class CombinationalLoop(ValueError):
    """The instances' through arcs close a loop across the network (a design error, not a timing figure)."""


def cross_instance(ports: Iterable[PortWire], arcs: Mapping[str, Mapping[str, Any] | None]) -> CrossPath | None:
    """The longest register-to-register path through instance ports, or None when nothing crosses a wire.

    ``ports``: every instance's stream ports and their wires; ``arcs``: instance -> its ``timing["ports"]``
    (None or absent: the instance was not estimated, its paths are left out).  Raises
    :class:`CombinationalLoop` when through arcs form a cycle.
    """
    drivers: dict[str, list[PortWire]] = {}
    consumers: dict[str, list[PortWire]] = {}
    for p in ports:
        if p.wire and arcs.get(p.instance):
            (drivers if p.output else consumers).setdefault(p.wire, []).append(p)
    preds: dict[tuple[str, str], list[tuple[tuple[str, str], float]]] = {}

    def arc(src: tuple[str, str], dst: tuple[str, str], delay: float) -> None:
        preds.setdefault(dst, []).append((src, delay))

    for wire, outs in drivers.items():
        for d in outs:
            for c in consumers.get(wire, ()):
                for sig in FORWARD:
                    arc((d.instance, f"{d.port}_{sig}"), (c.instance, f"{c.port}_{sig}"), 0.0)
                arc((c.instance, f"{c.port}_tready"), (d.instance, f"{d.port}_tready"), 0.0)
    for inst, a in arcs.items():
        for src, outs in ((a or {}).get("through") or {}).items():
            for dst, t in outs.items():
                arc((inst, src), (inst, dst), float(t))

    best: dict[tuple[str, str], tuple[float, tuple[str, str] | None]] = {}
    visiting: set[tuple[str, str]] = set()

    def arrival(node: tuple[str, str]) -> tuple[float, tuple[str, str] | None]:
        """Latest arrival at ``node`` and the node it came from (None: launched here by a register)."""
        if node in best:
            return best[node]
        if node in visiting:
            raise CombinationalLoop(f"a combinational loop crosses instances at {node[0]}.{node[1]}")
        visiting.add(node)
        own = ((arcs.get(node[0]) or {}).get("reg_to") or {}).get(node[1])
        value: tuple[float, tuple[str, str] | None] = (float(own), None) if own is not None else (float("-inf"), None)
        for src, delay in preds.get(node, ()):
            t = arrival(src)[0] + delay
            if t > value[0]:
                value = (t, src)
        visiting.discard(node)
        best[node] = value
        return value

    # capture points: every input port on a wire with both ends (data signals at consumers, TREADY at drivers)
    sinks = [(c.instance, f"{c.port}_{sig}") for wire, ins in consumers.items() if wire in drivers
             for c in ins for sig in FORWARD]  # fmt: skip
    sinks += [(d.instance, f"{d.port}_tready") for wire, outs in drivers.items() if wire in consumers for d in outs]
    worst: tuple[float, tuple[str, str]] | None = None
    for node in sinks:
        setup = ((arcs.get(node[0]) or {}).get("to_reg") or {}).get(node[1])
        t = arrival(node)[0]
        if setup is not None and t > float("-inf") and (worst is None or t + float(setup) > worst[0]):
            worst = (t + float(setup), node)
    if worst is None:
        return None
    chain = [worst[1]]
    while (prev := best[chain[-1]][1]) is not None:
        chain.append(prev)
    return CrossPath(round(worst[0], 3), tuple(f"{i}.{p}" for i, p in reversed(chain)))
