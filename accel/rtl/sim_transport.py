"""Transports that stand in for the board: the RTL co-simulation and the NumPy reference.

Why: the driver's byte path (pack -> to_bytes -> DMA -> from_bytes -> unpack) must be tested before anyone
owns a board.  :class:`SimTransport` feeds the very bytes the driver produced, as beats, to the simulated
``accel_top`` (:func:`accel.rtl.simulator.simulate`) and returns the simulated output stream as the DMA would
write it; :class:`ReferenceTransport` computes the same bytes with :func:`accel.reference.execute`, for fast
tests and for checking a bundle on a machine without a simulator.  Neither is imported by the driver.

Why in :mod:`accel.rtl`: it runs the RTL co-simulation, so it sits above both :mod:`accel.deploy` (driver,
manifest, packer) and the simulator; in ``accel.deploy`` it made deploy -> rtl -> deploy an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accel import AccelError
from accel.deploy.driver import TransportTimeout
from accel.deploy.manifest import BuildManifest, load_build
from accel.deploy.stream import from_bytes, pack, to_bytes, unpack


class SimTransport:
    """DMA stand-in running the RTL co-simulation of ``build_dir`` (random valid gaps and backpressure on)."""

    def __init__(self, build_dir: str | Path, *, simulator: str | None = None, seed: int = 0,
                 stalls: bool = True) -> None:  # fmt: skip
        self.build_dir = Path(build_dir)
        self.manifest = load_build(self.build_dir)
        if self.manifest.backend != "rtl":
            kind = self.manifest.backend
            raise AccelError(f"{build_dir}: SimTransport co-simulates RTL builds; this is a {kind} build.")
        self.simulator, self.seed, self.stalls = simulator, seed, stalls
        self.last = None  # the last SimResult, for tests and timing reports

    def transfer(self, data: bytes, receive_bytes: int, frames: int, timeout_s: float) -> bytes:
        from accel.rtl.simulator import simulate

        si, so = self.manifest.input, self.manifest.output
        beats = from_bytes(data, si.dtype, si.lanes)
        res = simulate(self.build_dir, beats, frames, simulator=self.simulator, seed=self.seed,
                       in_gaps=self.stalls, out_backpressure=self.stalls)  # fmt: skip
        self.last = res
        per_out = so.beats_per_frame
        if not res.completed:
            got = f"gave {len(res.out_beats)} of {frames * per_out} beats"
            raise TransportTimeout("output stream (simulated m_axis)", got)
        if len(res.out_beats) != frames * per_out or any(b < 0 for b in res.out_beats):
            raise AccelError(
                f"{self.build_dir}: the simulated output stream has {len(res.out_beats)} beats "
                f"(expected {frames * per_out}) or X/Z beats; the RTL is broken."
            )
        want_last = [(f + 1) * per_out - 1 for f in range(frames)]
        if res.tlast_positions != want_last:
            raise AccelError(
                f"{self.build_dir}: simulated TLAST at beats {res.tlast_positions[:8]}, expected {want_last[:8]} "
                "(last beat of every frame); a DMA would split the frames wrongly."
            )
        out = to_bytes(res.out_beats, so.dtype, so.lanes)
        return out[:receive_bytes]

    def close(self) -> None:
        pass


class ReferenceTransport:
    """DMA stand-in computing the output stream with the NumPy reference of ``graph`` (packing from ``manifest``)."""

    def __init__(self, graph: Any, manifest: BuildManifest) -> None:
        if not isinstance(manifest, BuildManifest):
            raise AccelError(f"ReferenceTransport takes a BuildManifest, not {type(manifest).__name__}; read one with "
                             "accel.deploy.manifest.load_build or accel.deploy.driver.load_metadata.")  # fmt: skip
        self.graph, self.manifest = graph, manifest

    def transfer(self, data: bytes, receive_bytes: int, frames: int, timeout_s: float) -> bytes:
        from accel.reference import execute

        si, so = self.manifest.input, self.manifest.output
        raw = unpack(from_bytes(data, si.dtype, si.lanes), (frames, *si.shape), si.dtype, si.lanes)
        y = execute(self.graph, raw).outputs[self.graph.outputs[0]]
        y = y.reshape((frames, *so.shape))
        return to_bytes(pack(y, so.dtype, so.lanes), so.dtype, so.lanes)[:receive_bytes]

    def close(self) -> None:
        pass
