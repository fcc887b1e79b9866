"""The AXI DMA (simple mode) contract as PYNQ enforces it, and how accel streams a batch within it.

Why a module of its own: the board flow (:mod:`accel.deploy.board`) chooses the DMA's widths, the driver
(:mod:`accel.deploy.driver`) must move bytes within the rules those widths imply, and the simulated DMA
(:mod:`accel.deploy.dma_model`) must refuse what the real one refuses.  One description of the rules keeps the
three from drifting apart.

The rules (PYNQ ``pynq/lib/dma.py``, ``_SDMAChannel``, and Xilinx PG021), for a DMA without the data
realignment engine (DRE), which is how the board flow builds it:

* a transfer's start address (``array.physical_address + start``) is a multiple of the memory-side data width
  in bytes (``c_m_axi_mm2s_data_width / 8`` for sends, ``c_m_axi_s2mm_data_width / 8`` for receives);
* a transfer moves at most ``2**c_sg_length_width - 1`` bytes (the buffer length register) and at least one;
* a channel is re-armed only when it is idle (its previous transfer finished);
* ``sendchannel.transfer`` flushes the array it is given and ``recvchannel.wait`` invalidates it, so passing a
  view of only the bytes that move (a PYNQ buffer slice keeps its physical address) costs only those bytes;
* in simple mode MM2S puts TLAST on the last beat of each transfer and an S2MM transfer ends at TLAST.  accel's
  accelerators pass TLAST through per frame (:mod:`accel.deploy.stream`): an output frame ends with TLAST exactly
  when its input frame did.  So one MM2S transfer of a batch's input comes back as one S2MM packet of the
  batch's output, and the host arms one receive and one send per batch, not one per frame.

Frames sit back to back in one input and one output buffer; a batch larger than the length register is split
into pairs of transfers whose starts stay aligned (:meth:`DmaGeometry.batch_plan`), so no realignment engine
is needed (it would cost logic in the DMA, and PG021 offers it only for streams up to 64 bits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from accel import AccelError

#: AXI DMA buffer length register width the board flow sets (its maximum): one transfer moves up to 2**26 - 1 bytes.
DMA_LENGTH_BITS = 26
#: Stream widths the AXI DMA accepts on M_AXIS_MM2S / S_AXIS_S2MM.
DMA_STREAM_WIDTHS = (8, 16, 32, 64, 128, 256, 512, 1024)
#: The narrowest memory-mapped data width of the AXI DMA (PG021).
DMA_MIN_MM_WIDTH = 32
#: The overlay's AXI GPIO (one input bit) on the accelerator's sticky TLAST-error output (``ports.tlast_err``): the
#: board flow names the cell so and the driver reads its data register (offset 0) after every batch.
TLAST_GPIO = "axi_gpio_tlast"


def dma_stream_width(tdata_bits: int) -> int:
    """The DMA's stream width for an accelerator stream of ``tdata_bits``: equal, or the next wider one (a width
    converter then sits between them).  Callers check that ``tdata_bits`` is at most 1024 first."""
    return next(w for w in DMA_STREAM_WIDTHS if w >= tdata_bits)


def dma_mm_width(stream_bits: int) -> int:
    """The memory-mapped data width the board flow gives a DMA channel whose stream is ``stream_bits`` wide."""
    return max(DMA_MIN_MM_WIDTH, stream_bits)


@dataclass(frozen=True)
class DmaGeometry:
    """What the rules depend on: each channel's start-address alignment in bytes (1 with a DRE) and the most
    bytes one transfer may move."""

    send_align: int
    recv_align: int
    max_bytes: int

    @classmethod
    def from_parameters(cls, params: dict[str, Any]) -> DmaGeometry:
        """From the DMA's IP parameters as PYNQ reads them from the ``.hwh`` (``dma.description['parameters']``)."""

        def get(key: str, default: int) -> int:
            value = params.get(key, params.get(key.upper(), default))
            try:
                return int(value)
            except (TypeError, ValueError):
                raise AccelError(f"the DMA's .hwh parameter {key} is '{value}', not a number; rebuild the "
                                 "bitstream with accel's board flow.") from None  # fmt: skip

        if get("c_include_sg", 0) or get("c_micro_dma", 0):
            raise AccelError("the overlay's AXI DMA is in scatter-gather or micro mode; accel's driver supports the "
                             "simple mode its board flow builds.")  # fmt: skip

        def align(side: str) -> int:
            return 1 if get(f"c_include_{side}_dre", 0) else get(f"c_m_axi_{side}_data_width", 32) // 8

        return cls(align("mm2s"), align("s2mm"), (1 << get("c_sg_length_width", DMA_LENGTH_BITS)) - 1)

    @classmethod
    def for_streams(cls, in_tdata_bits: int, out_tdata_bits: int) -> DmaGeometry:
        """The geometry of the DMA the board flow builds for these accelerator stream widths (no DRE)."""
        send = dma_mm_width(dma_stream_width(in_tdata_bits)) // 8
        recv = dma_mm_width(dma_stream_width(out_tdata_bits)) // 8
        return cls(send, recv, (1 << DMA_LENGTH_BITS) - 1)

    def batch_plan(self, frames: int, in_frame_bytes: int, out_frame_bytes: int) -> list[tuple[int, int]]:
        """(first frame, frames) of each transfer pair for ``frames`` back-to-back frames: one MM2S transfer of
        their input and one S2MM transfer of their output each, as few pairs as the length register allows, every
        start aligned on both sides (the frames sit back to back in one input and one output buffer)."""
        big = max(in_frame_bytes, out_frame_bytes)
        if big > self.max_bytes:
            raise AccelError(f"one frame is {big} bytes, more than one DMA transfer may move ({self.max_bytes}); "
                             "only smaller frames are supported.")  # fmt: skip
        # frames per transfer: a multiple of `step` keeps every later start aligned on both sides
        step = math.lcm(self.send_align // math.gcd(self.send_align, in_frame_bytes),
                        self.recv_align // math.gcd(self.recv_align, out_frame_bytes))  # fmt: skip
        per = (self.max_bytes // big) // step * step
        if per == 0:
            raise AccelError(f"frames of {in_frame_bytes} input and {out_frame_bytes} output bytes cannot be split "
                             f"into aligned DMA transfers of at most {self.max_bytes} bytes; enable the DMA's "
                             "realignment engine.")  # fmt: skip
        return [(f, min(per, frames - f)) for f in range(0, frames, per)]
