"""Transports that stand in for the board: the board's own DMA code over a simulated PYNQ, with the RTL
co-simulation or the NumPy reference as the hardware.

Why: the driver's byte path (pack -> to_bytes -> DMA -> from_bytes -> unpack) and its DMA code must be tested
before anyone owns a board.  Both transports here *are* :class:`accel.deploy.driver.PynqDmaTransport`, the code the
board runs, given the simulated ``pynq`` of :mod:`accel.deploy.dma_model` (aligned starts, length register, idle
before re-arm, a modelled cache) with the DMA geometry the board flow builds for the build's streams.  Behind the
DMA, :class:`CosimDevice` feeds the bytes of each MM2S transfer, as beats with TLAST on the last one, to the
simulated ``accel_top`` (:func:`accel.rtl.simulator.simulate`, random valid gaps and backpressure) and cuts its
output stream into S2MM packets at the TLASTs the RTL actually drove; :class:`ReferenceDevice` computes the same
packets with :func:`accel.reference.execute`, for fast tests and for checking a bundle on a machine without a
simulator.

Why in :mod:`accel.rtl`: it runs the RTL co-simulation, so it sits above both :mod:`accel.deploy` (driver,
manifest, packer) and the simulator; in ``accel.deploy`` it made deploy -> rtl -> deploy an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.deploy.dma import TLAST_GPIO, DmaGeometry
from accel.deploy.dma_model import CacheStats, SimPynq, StreamDevice
from accel.deploy.driver import PynqDmaTransport, TransportTimeout
from accel.deploy.manifest import BuildManifest, load_build
from accel.deploy.stream import from_bytes, pack, tlast_flags, to_bytes, unpack


class _FrameDevice:
    """The stream behaviour both devices share: input bytes in whole frames, the TLAST MM2S puts on a transfer's last
    beat passed through to that frame's output (:mod:`accel.deploy.stream`), and the output stream cut into S2MM
    packets at its TLASTs (a packet left open continues with the next transfer's output)."""

    def __init__(self, manifest: BuildManifest) -> None:
        self.manifest = manifest
        self._pending = b""  # input bytes of an unfinished frame
        self._open = b""  # output bytes after the last TLAST

    def consume(self, data: bytes) -> list[bytes]:
        self._pending += data
        si, so = self.manifest.input, self.manifest.output
        frames = len(self._pending) // si.bytes_per_frame
        if frames == 0:
            return []
        whole = self._pending[: frames * si.bytes_per_frame]
        self._pending = self._pending[frames * si.bytes_per_frame :]
        # MM2S puts TLAST on the transfer's last beat: it ends a frame only when the transfer ends on a frame
        frame_last = np.zeros(frames, dtype=bool)
        frame_last[-1] = not self._pending
        beats, tlast = self.run(whole, frames, frame_last)
        packets, start = [], 0
        for last in tlast:
            packets.append(self._open + to_bytes(beats[start : last + 1], so.dtype, so.lanes))
            self._open, start = b"", last + 1
        self._open += to_bytes(beats[start:], so.dtype, so.lanes)
        return packets

    def run(self, data: bytes, frames: int, frame_last: np.ndarray) -> tuple[list[int], list[int]]:
        """Output beats of ``frames`` whole input frames whose last beats carry TLAST as ``frame_last`` says, and
        the indices of the output beats that carry TLAST."""
        raise NotImplementedError


class CosimDevice(_FrameDevice):
    """The RTL co-simulation of ``build_dir`` as the DMA's hardware (random valid gaps and backpressure on); the
    output packets are cut where the RTL drove TLAST."""

    def __init__(self, build_dir: str | Path, *, simulator: str | None = None, seed: int = 0,
                 stalls: bool = True) -> None:  # fmt: skip
        self.build_dir = Path(build_dir)
        manifest = load_build(self.build_dir)
        if manifest.backend != "rtl":
            raise AccelError(f"{build_dir}: SimTransport co-simulates RTL builds; this is a {manifest.backend} build.")
        super().__init__(manifest)
        self.simulator, self.seed, self.stalls = simulator, seed, stalls
        self.last = None  # the last SimResult, for tests and timing reports
        self.tlast_err = False  # the accelerator's tlast_err, read through the simulated AXI GPIO

    def run(self, data: bytes, frames: int, frame_last: np.ndarray) -> tuple[list[int], list[int]]:
        from accel.rtl.simulator import simulate

        if not frame_last[-1]:
            raise AccelError(f"{self.build_dir}: the simulated DMA co-simulates whole frames per transfer; this "
                             "transfer ends inside a frame.")  # fmt: skip
        si, so = self.manifest.input, self.manifest.output
        res = simulate(self.build_dir, from_bytes(data, si.dtype, si.lanes), frames, simulator=self.simulator,
                       seed=self.seed, in_gaps=self.stalls, out_backpressure=self.stalls, in_tlast="end")  # fmt: skip
        self.last = res
        self.tlast_err = self.tlast_err or bool(res.tlast_err)  # sticky, as the hardware's until a reset
        if not res.completed:
            got = f"gave {len(res.out_beats)} of {frames * so.beats_per_frame} beats"
            raise TransportTimeout("output stream (simulated m_axis)", got)
        if any(b < 0 for b in res.out_beats):
            raise AccelError(f"{self.build_dir}: the simulated output stream has X/Z beats; the RTL is broken.")
        return res.out_beats, res.tlast_positions


class ReferenceDevice(_FrameDevice):
    """The NumPy reference of ``graph`` as the DMA's hardware, with TLAST as the stream contract specifies."""

    def __init__(self, graph: Any, manifest: BuildManifest) -> None:
        if not isinstance(manifest, BuildManifest):
            raise AccelError(f"ReferenceTransport takes a BuildManifest, not {type(manifest).__name__}; read one with "
                             "accel.deploy.manifest.load_build or accel.deploy.driver.load_metadata.")  # fmt: skip
        super().__init__(manifest)
        self.graph = graph

    def run(self, data: bytes, frames: int, frame_last: np.ndarray) -> tuple[list[int], list[int]]:
        from accel.reference import execute

        si, so = self.manifest.input, self.manifest.output
        raw = unpack(from_bytes(data, si.dtype, si.lanes), (frames, *si.shape), si.dtype, si.lanes)
        y = execute(self.graph, raw).outputs[self.graph.outputs[0]].reshape((frames, *so.shape))
        tlast = np.flatnonzero(tlast_flags(frame_last, so.beats_per_frame).ravel())
        return pack(y, so.dtype, so.lanes), [int(i) for i in tlast]


class SimulatedBoardTransport(PynqDmaTransport):
    """:class:`PynqDmaTransport` over the simulated PYNQ, with the board flow's DMA geometry for ``manifest``."""

    def __init__(self, device: StreamDevice, manifest: BuildManifest, *, in_flight: int = 2,
                 geometry: DmaGeometry | None = None) -> None:  # fmt: skip
        si, so = manifest.input, manifest.output
        geometry = geometry or DmaGeometry.for_streams(si.tdata_bits, so.tdata_bits)
        # the accelerator holds about `in_flight` frames of output before it stops taking input
        self.device = device
        self.pynq = SimPynq(device, geometry, in_flight_bytes=in_flight * so.bytes_per_frame)
        super().__init__(Path(f"{manifest.model}.bit"), si.bytes_per_frame, so.bytes_per_frame, pynq=self.pynq,
                         tlast_gpio=TLAST_GPIO if manifest.ports.tlast_err else "")

    @property
    def stats(self) -> CacheStats:
        """Bytes flushed and invalidated, and seconds spent in the simulated hardware."""
        return self.pynq.stats

    @property
    def device_s(self) -> float:
        return self.pynq.stats.device_s


class SimTransport(SimulatedBoardTransport):
    """The board's DMA code against the RTL co-simulation of ``build_dir``."""

    def __init__(self, build_dir: str | Path, *, simulator: str | None = None, seed: int = 0, stalls: bool = True,
                 in_flight: int = 2) -> None:  # fmt: skip
        device = CosimDevice(build_dir, simulator=simulator, seed=seed, stalls=stalls)
        super().__init__(device, device.manifest, in_flight=in_flight)
        self.build_dir = device.build_dir

    @property
    def last(self) -> Any:
        """The last co-simulation's SimResult."""
        return self.device.last


class ReferenceTransport(SimulatedBoardTransport):
    """The board's DMA code against the NumPy reference of ``graph`` (packing from ``manifest``)."""

    def __init__(self, graph: Any, manifest: BuildManifest, *, in_flight: int = 2) -> None:
        super().__init__(ReferenceDevice(graph, manifest), manifest, in_flight=in_flight)
        self.graph, self.manifest = graph, manifest
