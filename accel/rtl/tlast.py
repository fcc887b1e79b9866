"""TLAST checks in ``accel_top``: which streams are watched, what the watches cost, and their Verilog.

Why: the blocks find frame boundaries by counting beats and ignore the TLAST they are given, so a beat lost or
duplicated upstream would shift every later frame without a sign.  Inside the network every producer marks its
frames' last beats itself, so TLAST must be high on exactly the last beat of each frame of every stream.  The
generator therefore watches the stream into every input of a counting block (every block but those that hand
TLAST on unchanged, FIFOs and forks, whose next watch sees it: :attr:`accel.rtl.blocks.base.Block.tlast_unwatched`)
with one ``accel_tlast_check`` (a beat counter and a sticky ``tlast_err``), and ``accel_frame_last`` checks the
top's input itself under the DMA's rule (TLAST may be absent at a frame end, not present elsewhere).  The top's
``tlast_err`` output is the OR of them all; build.json lists every check (``tlast_checks``: instance -> what it
watches) so that the co-simulation names the one that fired, and ``ports.tlast_err`` names the output, which the
board flow wires to an AXI GPIO input that the PYNQ driver reads after every run.

The watches cost a beat counter each (about clog2(beats) + 3 LUTs and clog2(beats) + 2 flip-flops: yosys
``synth_xilinx`` of ``accel_tlast_check`` at 1, 10, 784 and 31,360 beats gave 3/3, 7/6, 15/12 and 20/17 LUT/FF),
counted with the instance whose input they watch, by the fit check and the optimiser alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accel.rtl.blocks.base import Block, Port
from accel.rtl.blocks.cost import Cost, counter, logic

MODULE = "accel_tlast_check"
#: the sticky error output of a check (and of a block with ``tlast_err_port``), and of accel_top
ERR = "tlast_err"


def watched(block: Block) -> list[tuple[int, Port]]:
    """The input ports (index, port) of ``block`` whose TLAST is watched by an ``accel_tlast_check``."""
    return [(k, p) for k, p in enumerate(block.ports()[0]) if p.name not in block.tlast_unwatched]


def watch_cost(block: Block) -> Cost:
    """What the watches on ``block``'s inputs cost: a beat counter, its registered last-beat flag, the error bit."""
    return sum((counter(p.beats_per_frame) + logic(lut=3, ff=2) for _, p in watched(block)), Cost())


@dataclass(frozen=True)
class Watch:
    """One ``accel_tlast_check`` instance: its name, the stream wire it watches, beats per frame, what it guards."""

    name: str
    wire: str
    beats: int
    target: str


def watches(instances: list[Any]) -> list[Watch]:
    """The watches of the network's ``instances`` (:class:`accel.rtl.network.Instance`): one per watched input."""
    out = []
    for inst in instances:
        for k, port in watched(inst.block):
            s = inst.inputs[k]
            out.append(Watch(f"{inst.name}_tlast{k}", s.wire, s.frame_beats, f"{inst.name}.{port.name}"))
    return out


def checks(instances: list[Any]) -> dict[str, str]:
    """build.json's ``tlast_checks``: every instance with a sticky ``tlast_err`` -> one phrase of what it checks."""
    out = {}
    for inst in instances:
        if inst.block.tlast_err_port:
            out[inst.name] = f"accel_top's input: TLAST on a beat that is not the last of a frame ({inst.module})"
    for w in watches(instances):
        out[w.name] = f"the stream into {w.target}: TLAST not exactly on each frame's last beat of {w.beats}"
    return out


def verilog(instances: list[Any]) -> list[str]:
    """The watches' instances and ``assign tlast_err = ...`` (the OR of every sticky error) in accel_top."""
    lines = ["    // TLAST checks (accel.rtl.tlast): sticky errors, ORed into tlast_err"]
    errs = [f"{inst.name}_{ERR}" for inst in instances if inst.block.tlast_err_port]
    for w in watches(instances):
        errs.append(f"{w.name}_{ERR}")
        lines += [f"    wire {w.name}_{ERR};",
                  f"    {MODULE} #(.BEATS({w.beats})) {w.name} (",
                  f"        .clk(clk), .rst(rst), .valid({w.wire}_tvalid), .ready({w.wire}_tready), "
                  f".last({w.wire}_tlast), .{ERR}({w.name}_{ERR})",
                  "    );"]  # fmt: skip
    lines.append(f"    assign {ERR} = {' | '.join(errs) if errs else chr(39) + '1b0'};")
    return [*lines, ""]
