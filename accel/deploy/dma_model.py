"""A simulated PYNQ: contiguous buffers with a write-back cache, and an AXI DMA in simple mode that keeps the rules.

Why: the board transport (:class:`accel.deploy.driver.PynqDmaTransport`) is code that only a board would run,
and a board is not here.  This module gives it the same API PYNQ does (``Overlay(...).axi_dma_0.sendchannel``,
``allocate``, buffer ``flush``/``invalidate``/``physical_address``, slices that keep their physical address)
and refuses what PYNQ and the DMA refuse (:mod:`accel.deploy.dma`): an unaligned start, a length beyond the
length register or zero, a channel re-armed before it is idle, a transfer past the end of its buffer.  Behind
the DMA sits a :class:`StreamDevice` (the RTL co-simulation or the NumPy reference, see
:mod:`accel.rtl.sim_transport`), so the very transport code the board runs is tested end to end here.

The cache is modelled, not assumed away: each buffer has a CPU view (the array) and a memory image (what the DMA
reads and writes).  ``flush`` copies the CPU view of exactly its bytes to memory, ``invalidate`` copies memory of
exactly its bytes back; the DMA reads and writes only memory.  A driver that forgets to flush sends stale bytes, one
that forgets to invalidate reads stale bytes, and ``stats`` counts how many bytes each flushed and invalidated.

Time is not modelled, order is: the device computes a send's output when the send is armed, but the send finishes
(goes idle) only once receives have taken all but ``in_flight_bytes`` of the output it produced, because a real
accelerator stops taking input while its output is not drained.  A driver that waits for its send before arming
the receive deadlocks here as it would on the board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from accel.deploy.dma import TLAST_GPIO, DmaGeometry

#: Where the simulated contiguous memory starts (a 4 KiB page, as the CMA allocator returns).
BASE_ADDRESS = 0x1000_0000
PAGE = 4096


class StreamDevice(Protocol):
    """The hardware behind the DMA: takes one MM2S transfer's bytes (TLAST on its last beat, as MM2S sends them) and
    returns the output packets that completes, each the bytes of the beats up to and including one TLAST, in
    order."""

    def consume(self, data: bytes) -> list[bytes]: ...


@dataclass
class CacheStats:
    """Bytes flushed and invalidated, and seconds spent inside the device (so host time can be told apart)."""

    flushed: int = 0
    invalidated: int = 0
    device_s: float = 0.0


class SimBuffer(np.ndarray):
    """A ``pynq.allocate`` buffer: an ndarray (the CPU's view) over a memory image the DMA sees, with PYNQ's
    ``physical_address``, ``flush``, ``invalidate`` and ``freebuffer``; a slice keeps the right physical address."""

    _root: SimBuffer | None = None

    def __array_finalize__(self, obj: Any) -> None:
        if isinstance(obj, SimBuffer):
            self._root = obj._root if obj._root is not None else obj
        else:
            self._root = None

    @property
    def _base_root(self) -> SimBuffer:
        return self._root if self._root is not None else self

    @property
    def offset(self) -> int:
        """Byte offset of this view in its allocation."""
        return self.__array_interface__["data"][0] - self._base_root.__array_interface__["data"][0]

    @property
    def physical_address(self) -> int:
        return self._base_root._phys + self.offset

    def _span(self) -> slice:
        if not self.flags.c_contiguous:
            raise RuntimeError("a DMA buffer view must be contiguous")
        return slice(self.offset, self.offset + self.nbytes)

    def flush(self) -> None:
        root = self._base_root
        root._memory[self._span()] = np.frombuffer(self.tobytes(), dtype=np.uint8)
        root._stats.flushed += self.nbytes

    def invalidate(self) -> None:
        root = self._base_root
        self.view(np.uint8).reshape(-1)[:] = root._memory[self._span()]
        root._stats.invalidated += self.nbytes

    def freebuffer(self) -> None:
        self._base_root._freed = True


class SimMemory:
    """The simulated contiguous memory: ``allocate`` hands out page-aligned buffers at rising addresses."""

    def __init__(self) -> None:
        self.next_address = BASE_ADDRESS
        self.stats = CacheStats()

    def allocate(self, shape: Any, dtype: Any = np.uint8, **_: Any) -> SimBuffer:
        arr = np.zeros(shape, dtype=dtype)
        buf = arr.view(SimBuffer)
        buf._root = None
        buf._phys = self.next_address
        buf._memory = np.zeros(buf.nbytes, dtype=np.uint8)
        buf._stats = self.stats
        buf._freed = False
        self.next_address += -(-max(buf.nbytes, 1) // PAGE) * PAGE
        return buf


class SimDmaChannel:
    """One channel of the simple-mode AXI DMA, with ``_SDMAChannel``'s API: ``transfer``, ``wait``, ``idle``,
    ``running``, ``error``, ``transferred``; ``log`` keeps every transfer's (address, nbytes)."""

    def __init__(self, dma: SimAxiDma, send: bool, align: int, max_size: int) -> None:
        self.dma, self.send, self.align, self.max_size = dma, send, align, max_size
        self.name = "sendchannel" if send else "recvchannel"
        self.running, self.error, self.transferred = True, False, 0
        self.armed: tuple[SimBuffer, int, int] | None = None  # (array, start, nbytes) of the running transfer
        self.first_transfer = True
        self.log: list[tuple[int, int]] = []
        self._done: SimBuffer | None = None  # the receive array wait() invalidates

    @property
    def idle(self) -> bool:
        self.dma.advance()
        return self.armed is None and not self.first_transfer

    def transfer(self, array: SimBuffer, start: int = 0, nbytes: int = 0) -> None:
        if not self.running:
            raise RuntimeError(f"DMA {self.name} not started (halted after an error)")
        if self.armed is not None:
            raise RuntimeError(f"DMA {self.name} not idle: re-armed before its previous transfer finished")
        if not isinstance(array, SimBuffer):
            raise RuntimeError(f"DMA {self.name}: the array is not a contiguous buffer from allocate()")
        nbytes = nbytes or array.nbytes - start
        if nbytes > self.max_size:
            raise ValueError(f"Transfer size is {nbytes} bytes, which exceeds the maximum DMA buffer size "
                             f"{self.max_size}.")  # fmt: skip
        if nbytes <= 0 or start < 0 or start + nbytes > array.nbytes:
            raise RuntimeError(f"DMA {self.name}: bytes {start}..{start + nbytes} are outside the "
                               f"{array.nbytes}-byte array (a real DMA would write past it or stop with an "
                               "internal error)")  # fmt: skip
        address = array.physical_address + start
        if address % self.align:
            raise RuntimeError(f"DMA does not support unaligned transfers; Starting address must be aligned to "
                               f"{self.align} bytes.")  # fmt: skip
        if self.send:
            array.flush()  # PYNQ flushes the whole array it is given
        self.transferred = 0
        self.armed = (array, start, nbytes)
        self.first_transfer = False
        self.log.append((address, nbytes))
        if self.send:
            self.dma.on_send(array, start, nbytes)
        self.dma.advance()

    def wait(self) -> None:
        if not self.running:
            raise RuntimeError(f"DMA {self.name} not started (halted after an error)")
        if not self.idle:
            raise RuntimeError(f"wait() on a {self.name} transfer that cannot finish: the accelerator's output is "
                               "not being received (PYNQ would spin here forever)")  # fmt: skip
        if self._done is not None:
            self._done.invalidate()  # PYNQ's wait() invalidates the receive array
            self._done = None

    def finish(self, moved: int, ok: bool = True) -> None:
        """The hardware side: the running transfer ends having moved ``moved`` bytes (``ok`` False: halted)."""
        array = self.armed[0] if self.armed else None
        self.transferred = moved
        self._done = None if self.send else array
        self.armed = None
        if not ok:
            self.error, self.running = True, False


class SimAxiDma:
    """``axi_dma_0``: a send and a receive channel around a :class:`StreamDevice`, with the PYNQ description
    parameters the board flow's DMA has (so the driver reads its geometry as it does on the board)."""

    def __init__(self, device: StreamDevice, geometry: DmaGeometry, memory: SimMemory, *,
                 in_flight_bytes: int = 0) -> None:  # fmt: skip
        if geometry.max_bytes & (geometry.max_bytes + 1):
            raise ValueError(f"a DMA's length limit is 2**w - 1 bytes, not {geometry.max_bytes}")
        self.device, self.geometry, self.memory = device, geometry, memory
        self.in_flight_bytes = in_flight_bytes
        self.description = {"parameters": {
            "c_include_sg": "0", "c_include_mm2s": "1", "c_include_s2mm": "1",
            "c_include_mm2s_dre": str(int(geometry.send_align == 1)),
            "c_include_s2mm_dre": str(int(geometry.recv_align == 1)),
            "c_m_axi_mm2s_data_width": str(8 * max(geometry.send_align, 4)),
            "c_m_axi_s2mm_data_width": str(8 * max(geometry.recv_align, 4)),
            "c_sg_length_width": str(geometry.max_bytes.bit_length()),
        }}  # fmt: skip
        self.buffer_max_size = geometry.max_bytes
        self.sendchannel = SimDmaChannel(self, True, geometry.send_align, geometry.max_bytes)
        self.recvchannel = SimDmaChannel(self, False, geometry.recv_align, geometry.max_bytes)
        self.packets: list[bytes] = []  # produced, not yet received
        self.produced = self.received = 0  # output bytes

    def on_send(self, array: SimBuffer, start: int, nbytes: int) -> None:
        data = array._base_root._memory[array.offset + start : array.offset + start + nbytes].tobytes()
        t0 = time.perf_counter()
        out = self.device.consume(data)
        self.memory.stats.device_s += time.perf_counter() - t0
        self.packets += out
        self.produced += sum(len(p) for p in out)

    def advance(self) -> None:
        """Move what can move: a produced packet into an armed receive (ending it at the packet's TLAST, or with
        an internal error when the packet is longer than the transfer); a send finishes once receives have taken
        all but ``in_flight_bytes`` of the output produced."""
        recv, send = self.recvchannel, self.sendchannel
        if recv.armed is not None and self.packets:
            array, start, nbytes = recv.armed
            packet = self.packets.pop(0)
            moved = packet[:nbytes]
            self.received += len(packet)
            lo = array.offset + start
            array._base_root._memory[lo : lo + len(moved)] = np.frombuffer(moved, dtype=np.uint8)
            recv.finish(len(moved), ok=len(packet) <= nbytes)  # longer than the transfer: DMA error, halted
        if send.armed is not None and self.produced - self.received <= self.in_flight_bytes:
            send.finish(send.armed[2])


class SimGpio:
    """The overlay's AXI GPIO on the accelerator's sticky ``tlast_err`` (:data:`accel.deploy.dma.TLAST_GPIO`): its data
    register (offset 0) reads the device's ``tlast_err`` attribute (0 for a device without one)."""

    def __init__(self, device: StreamDevice) -> None:
        self.device = device

    def read(self, offset: int = 0) -> int:
        if offset != 0:
            raise ValueError(f"the simulated AXI GPIO has only its data register at offset 0, not {offset}")
        return int(bool(getattr(self.device, "tlast_err", False)))


class SimOverlay:
    """``pynq.Overlay(bitfile)`` of an accel bitstream: ``axi_dma_0`` over the device, and the AXI GPIO on its
    ``tlast_err`` (the board flow makes it for every accelerator that has the output)."""

    def __init__(self, bitfile: str, dma: SimAxiDma) -> None:
        self.bitfile = bitfile
        self.axi_dma_0 = dma
        setattr(self, TLAST_GPIO, SimGpio(dma.device))


class SimPynq:
    """What :class:`~accel.deploy.driver.PynqDmaTransport` needs of the ``pynq`` module: ``Overlay`` and
    ``allocate``, over one simulated memory and DMA."""

    def __init__(self, device: StreamDevice, geometry: DmaGeometry, *, in_flight_bytes: int = 0) -> None:
        self.memory = SimMemory()
        self.dma = SimAxiDma(device, geometry, self.memory, in_flight_bytes=in_flight_bytes)

    def Overlay(self, bitfile: str) -> SimOverlay:  # noqa: N802 - PYNQ's name
        return SimOverlay(bitfile, self.dma)

    def allocate(self, shape: Any, dtype: Any = np.uint8, **kw: Any) -> SimBuffer:
        return self.memory.allocate(shape, dtype, **kw)

    @property
    def stats(self) -> CacheStats:
        return self.memory.stats
