"""What yosys ``synth_xilinx`` made of each memory of one synthesised module, read from its log and netlist.

Why: the build's cost model predicts each memory's mapping (``build.json`` ``instances[].memory``), but only
synthesis says whether a weight ROM really landed in block RAM.  yosys decides in its ``MEMORY_LIBMAP`` pass,
which prints one line per memory it sees (memories constant-folded earlier never appear)::

    mapping memory accel_mvu.wrom via $__XILINX_BLOCKRAM_SDP_
    mapping memory accel_mvu.ibuf via $__XILINX_LUTRAM_SDP_
    using FF mapping for memory accel_mvu.brom

A memory left to "FF mapping" is then expanded by ``MEMORY_MAP`` into one register per word; its
``write interface: N write mux blocks`` line tells a writable memory (registers) from a ROM, whose words are
constants that fold into LUT logic.  The primitives of a mapped memory carry its name in the netlist
(``wrom.0.0`` of type RAMB36E1, ``ibuf.0.0.genblk1...`` of type RAM64M), so they are counted by name prefix;
an FF-mapped memory's cells are renamed by later passes and cannot be attributed, so it has none listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: version of the rules below: a cache entry read with another is synthesised again (accel.rtl.synth.has_memories)
MEMORY_MODEL = "memory_libmap/1"

BLOCK_RAM = "block RAM"
LUT_RAM = "LUT-RAM"
REGISTERS = "registers"  # a writable memory expanded to one flip-flop per bit
LOGIC = "logic"  # a ROM expanded by FF mapping: its constant words fold into LUTs ahead of the read register

_LIBMAP = re.compile(r"^mapping memory (\S+) via (\S+)\s*$")
_FF_MAPPING = re.compile(r"^using FF mapping for memory (\S+)\s*$")
_MAP_HEAD = re.compile(r"^Mapping memory \\?(\S+) in module \\?(\S+):\s*$")
_MAP_WRITE = re.compile(r"^\s+write interface: (\d+) write mux blocks")


def _kind(cell_type: str) -> str:
    """What a memory_libmap target cell of the xilinx library is (``$__XILINX_BLOCKRAM_SDP_`` -> block RAM)."""
    if "BLOCKRAM" in cell_type or "ULTRARAM" in cell_type:
        return BLOCK_RAM
    if "LUTRAM" in cell_type:
        return LUT_RAM
    return cell_type  # a library this parser does not know: say what yosys said


def parse_log(lines: Iterable[str], module: str) -> list[dict[str, Any]]:
    """``[{"name", "became"}]`` per memory of ``module`` (the synthesised top), in the order yosys mapped them.

    ``lines``: the yosys log (``yosys -l``).  Names are relative to the top (``wrom``, or ``u_core.rowbuf`` for a
    memory of a flattened sub-instance), as the netlist's cells are named.
    """
    prefix = module + "."
    found: dict[str, str] = {}
    writes: dict[str, int] = {}
    mapping: str | None = None  # the memory whose MEMORY_MAP block is being read
    for line in lines:
        line = line.rstrip("\n")
        if m := _LIBMAP.match(line):
            name, became = m.group(1), _kind(m.group(2))
        elif m := _FF_MAPPING.match(line):
            name, became = m.group(1), REGISTERS
        else:
            if m := _MAP_HEAD.match(line):
                mapping = m.group(1) if m.group(2) == module else None
            elif mapping is not None and (m := _MAP_WRITE.match(line)):
                writes[mapping] = int(m.group(1))
                mapping = None
            continue
        if name.startswith(prefix):
            found[name[len(prefix) :]] = became
    return [{"name": name, "became": LOGIC if became == REGISTERS and writes.get(name) == 0 else became}
            for name, became in found.items()]  # fmt: skip


def count_primitives(memories: list[dict[str, Any]], netlist: dict[str, Any], module: str) -> list[dict[str, Any]]:
    """``memories`` with ``primitives`` (cell type -> count) from ``module`` of a yosys ``write_json`` netlist.

    A cell belongs to the memory whose name followed by a dot starts the cell's name (the longest such name,
    so ``rom`` does not take ``rom2``'s cells).  FF-mapped memories get ``{}``: their cells are not named after them.
    """
    names = sorted((m["name"] for m in memories if m["became"] in (BLOCK_RAM, LUT_RAM)), key=len, reverse=True)
    counts: dict[str, dict[str, int]] = {m["name"]: {} for m in memories}
    top = netlist.get("modules", {}).get(module, {})
    for cell_name, cell in top.get("cells", {}).items():
        cell_name = cell_name.lstrip("\\")
        for name in names:
            if cell_name.startswith(name + "."):
                per = counts[name]
                per[cell["type"]] = per.get(cell["type"], 0) + 1
                break
    return [{**m, "primitives": dict(sorted(counts[m["name"]].items()))} for m in memories]
