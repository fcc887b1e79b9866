"""Transports that stand in for the board: the board's own DMA code over a simulated PYNQ, with the RTL
co-simulation or the NumPy reference as the hardware.

Why: the driver's byte path (pack -> to_bytes -> DMA -> from_bytes -> unpack) and its DMA code must be tested
before anyone owns a board.  Both transports here *are* :class:`accel.deploy.driver.PynqDmaTransport`, the code the
board runs, given the simulated ``pynq`` of :mod:`accel.deploy.dma_model` (aligned starts, length register, idle
before re-arm, a modelled cache) with the DMA geometry the board flow builds for the build's streams.  Behind the
DMA, :class:`CosimDevice` feeds the bytes the DMA reads, as beats, to the simulated ``accel_top``
(:func:`accel.rtl.simulator.simulate`, random valid gaps and backpressure) and cuts its output stream into S2MM
packets at the TLASTs the RTL actually drove; :class:`ReferenceDevice` computes the same packets with
:func:`accel.reference.execute`, for fast tests and for checking a bundle on a machine without a simulator.

Why in :mod:`accel.rtl`: it runs the RTL co-simulation, so it sits above both :mod:`accel.deploy` (driver,
manifest, packer) and the simulator; in ``accel.deploy`` it made deploy -> rtl -> deploy an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accel import AccelError
from accel.deploy.dma import DmaGeometry
from accel.deploy.dma_model import CacheStats, SimPynq, StreamDevice
from accel.deploy.driver import PynqDmaTransport, TransportTimeout
from accel.deploy.manifest import BuildManifest, StreamSpec, load_build
from accel.deploy.stream import from_bytes, pack, to_bytes, unpack


class _FrameDevice:
    """Collects input bytes into whole frames and hands each batch of complete frames to ``run``."""

    def __init__(self, manifest: BuildManifest) -> None:
        self.manifest = manifest
        self._pending = b""

    def consume(self, data: bytes) -> list[bytes]:
        self._pending += data
        ib = self.manifest.input.bytes_per_frame
        frames = len(self._pending) // ib
        if frames == 0:
            return []
        whole, self._pending = self._pending[: frames * ib], self._pending[frames * ib :]
        return self.run(whole, frames)

    def run(self, data: bytes, frames: int) -> list[bytes]:
        raise NotImplementedError


class CosimDevice(_FrameDevice):
    """The RTL co-simulation of ``build_dir`` as the DMA's hardware (random valid gaps and backpressure on)."""

    def __init__(self, build_dir: str | Path, *, simulator: str | None = None, seed: int = 0,
                 stalls: bool = True) -> None:  # fmt: skip
        self.build_dir = Path(build_dir)
        manifest = load_build(self.build_dir)
        if manifest.backend != "rtl":
            raise AccelError(f"{build_dir}: SimTransport co-simulates RTL builds; this is a {manifest.backend} build.")
        super().__init__(manifest)
        self.simulator, self.seed, self.stalls = simulator, seed, stalls
        self.last = None  # the last SimResult, for tests and timing reports

    def run(self, data: bytes, frames: int) -> list[bytes]:
        from accel.rtl.simulator import simulate

        si, so = self.manifest.input, self.manifest.output
        res = simulate(self.build_dir, from_bytes(data, si.dtype, si.lanes), frames, simulator=self.simulator,
                       seed=self.seed, in_gaps=self.stalls, out_backpressure=self.stalls)  # fmt: skip
        self.last = res
        if not res.completed:
            got = f"gave {len(res.out_beats)} of {frames * so.beats_per_frame} beats"
            raise TransportTimeout("output stream (simulated m_axis)", got)
        if any(b < 0 for b in res.out_beats):
            raise AccelError(f"{self.build_dir}: the simulated output stream has X/Z beats; the RTL is broken.")
        return _packets(res.out_beats, res.tlast_positions, so)


class ReferenceDevice(_FrameDevice):
    """The NumPy reference of ``graph`` as the DMA's hardware (TLAST on every frame's last beat, as specified)."""

    def __init__(self, graph: Any, manifest: BuildManifest) -> None:
        if not isinstance(manifest, BuildManifest):
            raise AccelError(f"ReferenceTransport takes a BuildManifest, not {type(manifest).__name__}; read one with "
                             "accel.deploy.manifest.load_build or accel.deploy.driver.load_metadata.")  # fmt: skip
        super().__init__(manifest)
        self.graph = graph

    def run(self, data: bytes, frames: int) -> list[bytes]:
        from accel.reference import execute

        si, so = self.manifest.input, self.manifest.output
        raw = unpack(from_bytes(data, si.dtype, si.lanes), (frames, *si.shape), si.dtype, si.lanes)
        y = execute(self.graph, raw).outputs[self.graph.outputs[0]].reshape((frames, *so.shape))
        beats = pack(y, so.dtype, so.lanes)
        per = so.beats_per_frame
        return _packets(beats, [(f + 1) * per - 1 for f in range(frames)], so)


def _packets(beats: list[int], tlast: list[int], spec: StreamSpec) -> list[bytes]:
    """The S2MM packets of an output stream: the bytes of the beats up to and including each TLAST (a stream
    that does not end with TLAST leaves its tail in the DMA, as hardware would)."""
    out, start = [], 0
    for last in tlast:
        out.append(to_bytes(beats[start : last + 1], spec.dtype, spec.lanes))
        start = last + 1
    return out


class SimulatedBoardTransport(PynqDmaTransport):
    """:class:`PynqDmaTransport` over the simulated PYNQ, with the board flow's DMA geometry for ``manifest``."""

    def __init__(self, device: StreamDevice, manifest: BuildManifest, *, in_flight: int = 2,
                 geometry: DmaGeometry | None = None) -> None:  # fmt: skip
        si, so = manifest.input, manifest.output
        geometry = geometry or DmaGeometry.for_streams(si.tdata_bits, so.tdata_bits)
        self.device, self.pynq = device, SimPynq(device, geometry, in_flight=in_flight)
        super().__init__(Path(f"{manifest.model}.bit"), si.bytes_per_frame, so.bytes_per_frame, pynq=self.pynq)

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
