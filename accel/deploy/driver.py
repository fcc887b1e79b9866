"""PYNQ driver of an accel accelerator: ``Accelerator(bitfile).predict(x)`` on the board.

Why it looks like this
----------------------
* **One byte path.**  Inputs are packed with :mod:`accel.deploy.stream` (``frames_to_bytes``, the vectorised
  ``pack`` -> ``to_bytes``) and outputs decoded with ``frames_from_bytes``: the module the testbenches and the
  co-simulation use, so the bytes the driver hands the DMA are the bytes the verified hardware consumes.
* **A transport seam.**  Moving bytes is a :class:`Transport`: :class:`PynqDmaTransport` on the board (the only
  place that imports ``pynq``, so accel imports without it), :class:`accel.rtl.sim_transport.SimTransport`
  (RTL co-simulation) and :class:`~accel.rtl.sim_transport.ReferenceTransport` (NumPy reference) here.
* **The build's own manifest.**  Shapes, types and packing come from the typed build manifest
  (:class:`accel.deploy.manifest.BuildManifest`, bundled as ``<name>.json``), checked when it is loaded.
* **Time-outs, not hangs.**  Every transfer runs under a deadline; a DMA that never goes idle (wrong bitstream,
  stuck accelerator) raises :class:`accel.AccelError` naming the bitfile and the stream that did not answer.
* **Exact inputs.**  Float inputs must lie on the input type's grid (:meth:`FixedType.from_float` refuses
  anything else); integer inputs are raw values and give raw outputs.

The DMA is in simple mode; the accelerator passes TLAST through per frame, so the board transport moves a batch
in one send and one receive (see :class:`PynqDmaTransport` and :mod:`accel.deploy.dma`).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from accel import AccelError
from accel.deploy.dma import TLAST_GPIO, DmaGeometry
from accel.deploy.manifest import BuildManifest
from accel.deploy.stream import frames_from_bytes, frames_to_bytes


class TransportTimeout(Exception):
    """Raised by a transport when a stream does not complete before its deadline (``stream`` names it)."""

    def __init__(self, stream: str, detail: str = "") -> None:
        super().__init__(f"{stream} {detail}".strip())
        self.stream = stream
        self.detail = detail


class Transport(Protocol):
    """Moves the byte image of ``frames`` whole frames to the accelerator and returns its output bytes.

    ``transfer`` must return exactly ``receive_bytes`` bytes or raise; it should raise :class:`TransportTimeout`
    when the hardware does not answer within ``timeout_s`` (the driver also enforces the deadline itself).
    """

    def transfer(self, data: bytes, receive_bytes: int, frames: int, timeout_s: float) -> bytes: ...

    def close(self) -> None: ...


class PynqDmaTransport:
    """The board transport: a PYNQ overlay with an AXI DMA in simple mode, a batch per transfer within PYNQ's rules.

    How a batch moves (the rules and why: :mod:`accel.deploy.dma`): the frames sit back to back in one input and
    one output buffer; the receive of the whole batch is armed first, then the send of its input, so the
    accelerator never waits on the host within a batch.  The accelerator passes TLAST through per frame, so the
    batch's input (TLAST on its last beat, put there by MM2S) comes back as one S2MM packet.  A batch beyond the
    length register goes as several such pairs, every start aligned.  Only the bytes that move are flushed and
    invalidated (buffer slices are passed; a PYNQ slice keeps its physical address).

    ``tlast_gpio``: the overlay's AXI GPIO on the accelerator's sticky ``tlast_err`` output (:mod:`accel.rtl.tlast`;
    "" for an accelerator without one); it is read after every batch, and a set bit raises :class:`accel.AccelError`:
    a stream inside the accelerator (or its input) carried TLAST off a frame's last beat, so frames may be shifted.
    Only a reset clears it: reload the overlay.

    Needs PYNQ 2.7 or newer.  ``pynq`` is the module to use (default: ``import pynq``; tests pass the simulated
    one of :mod:`accel.deploy.dma_model`).  After a time-out the DMA may still be running; reload the overlay.
    """

    def __init__(self, bitfile: Path, in_frame_bytes: int, out_frame_bytes: int, *, dma: str = "axi_dma_0",
                 pynq: Any = None, tlast_gpio: str = "") -> None:  # fmt: skip
        if pynq is None:
            try:
                import pynq  # only on the board
            except ImportError:
                raise AccelError(
                    f"{bitfile}: the pynq package is not installed; the DMA transport runs on a PYNQ board "
                    "(elsewhere pass transport=SimTransport(build_dir) or ReferenceTransport(...))."
                ) from None
        self.bitfile = Path(bitfile)
        self.overlay = pynq.Overlay(str(bitfile))
        if not hasattr(self.overlay, dma):
            raise AccelError(f"{bitfile}: the overlay has no {dma}; accel bitstreams name their DMA {dma}.")
        self.dma = getattr(self.overlay, dma)
        if tlast_gpio and not hasattr(self.overlay, tlast_gpio):
            raise AccelError(f"{bitfile}: the overlay has no {tlast_gpio}, the AXI GPIO on the accelerator's tlast_err "
                             "output that its build states; rebuild the bitstream with `accel board`.")  # fmt: skip
        self.tlast_gpio = getattr(self.overlay, tlast_gpio) if tlast_gpio else None
        self.geometry = DmaGeometry.from_parameters(getattr(self.dma, "description", {}).get("parameters", {}))
        self._allocate = pynq.allocate
        self.in_frame_bytes, self.out_frame_bytes = int(in_frame_bytes), int(out_frame_bytes)
        self._in = self._out = None
        self._frames = 0

    def _buffers(self, frames: int) -> tuple[Any, Any]:
        if frames > self._frames:
            self.close()
            self._in = self._allocate(shape=(frames * self.in_frame_bytes,), dtype=np.uint8)
            self._out = self._allocate(shape=(frames * self.out_frame_bytes,), dtype=np.uint8)
            self._frames = frames
        return self._in, self._out

    def _wait(self, channel: Any, stream: str, frames: tuple[int, int], deadline: float) -> None:
        """Poll until ``channel`` is idle; a DMA error or the deadline raise :class:`TransportTimeout`."""
        first, count = frames
        while not channel.idle:
            if getattr(channel, "error", False):
                raise TransportTimeout(stream, f"reported a DMA error on frames {first} to {first + count - 1}")
            if time.monotonic() > deadline:
                raise TransportTimeout(stream, f"did not finish frames {first} to {first + count - 1}")
        if getattr(channel, "error", False):  # an S2MM error also ends the transfer: idle and halted
            raise TransportTimeout(stream, f"reported a DMA error on frames {first} to {first + count - 1}")

    def transfer(self, data: bytes, receive_bytes: int, frames: int, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        ib, ob = self.in_frame_bytes, self.out_frame_bytes
        inb, outb = self._buffers(frames)
        inb[: len(data)] = np.frombuffer(data, dtype=np.uint8)
        send, recv = self.dma.sendchannel, self.dma.recvchannel
        for first, count in self.geometry.batch_plan(frames, ib, ob):
            out_view = outb[first * ob : (first + count) * ob]
            recv.transfer(out_view)  # armed before the first byte goes in
            send.transfer(inb[first * ib : (first + count) * ib])  # flushes exactly these bytes
            self._wait(send, "input stream (DMA MM2S)", (first, count), deadline)
            self._wait(recv, "output stream (DMA S2MM)", (first, count), deadline)
            recv.wait()  # idle already: returns at once, invalidating exactly this batch's output bytes
            got = getattr(recv, "transferred", count * ob)
            if got != count * ob:
                raise AccelError(
                    f"{self.bitfile}: the output stream ended (TLAST) after {got} of {count * ob} bytes for frames "
                    f"{first} to {first + count - 1}; the accelerator must pass TLAST through per frame (bitstreams "
                    "built before accel did so end every frame): rebuild it, or check it matches this model."
                )
            if self.tlast_gpio is not None and int(self.tlast_gpio.read(0)) & 1:  # GPIO_DATA: the sticky error bit
                raise AccelError(
                    f"{self.bitfile}: the accelerator's tlast_err is set after frames {first} to {first + count - 1}: "
                    "a stream inside it (or its input) carried TLAST off a frame's last beat, so these and later "
                    "frames may be shifted; reload the overlay to reset it, and check the bitstream matches this model."
                )
        return bytes(outb[: frames * ob])[:receive_bytes]

    def close(self) -> None:
        for buf in (self._in, self._out):
            if buf is not None and hasattr(buf, "freebuffer"):
                buf.freebuffer()
        self._in = self._out = None
        self._frames = 0


Metadata = BuildManifest | dict[str, Any] | str | Path | None


def load_metadata(bitfile: Path, metadata: Metadata = None) -> BuildManifest:
    """The model metadata, a build manifest: given (typed or as its JSON), or ``<bitfile>.json`` / ``build.json``
    beside or above the bitfile."""
    bitfile = Path(bitfile)
    if isinstance(metadata, BuildManifest):
        return metadata
    if isinstance(metadata, dict):
        meta, where = metadata, "the metadata passed in"
    else:
        if metadata is not None:
            candidates = [Path(metadata)]
        elif bitfile.is_dir():
            candidates = [bitfile / "build.json"]
        else:
            candidates = [bitfile.with_suffix(".json"), *(p / "build.json" for p in list(bitfile.parents)[:3])]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise AccelError(
                f"{bitfile}: no model metadata found (looked for {', '.join(str(p) for p in candidates)}); "
                "copy the bundle's metadata JSON next to the bitstream or pass metadata=."
            )
        try:
            meta = json.loads(found.read_text())
        except ValueError as exc:
            raise AccelError(f"{found} is not valid JSON ({exc}); regenerate it with `accel package`.") from None
        where = str(found)
    return BuildManifest.from_json(meta, where)


class Accelerator:
    """An accel accelerator: ``predict`` float or raw-integer batches, ``benchmark`` the byte path."""

    def __init__(
        self,
        bitfile: str | Path,
        *,
        transport: Transport | None = None,
        timeout_s: float = 5.0,
        metadata: Metadata = None,
        chunk_frames: int = 256,
    ) -> None:
        self.bitfile = Path(bitfile)
        self.manifest = load_metadata(self.bitfile, metadata)
        self.timeout_s = float(timeout_s)
        self.chunk_frames = max(1, int(chunk_frames))
        spec_in, spec_out = self.manifest.input, self.manifest.output
        self.in_shape, self.out_shape = spec_in.shape, spec_out.shape
        self.in_type, self.out_type = spec_in.dtype, spec_out.dtype
        self.in_lanes, self.out_lanes = spec_in.lanes, spec_out.lanes
        self.in_frame_bytes, self.out_frame_bytes = spec_in.bytes_per_frame, spec_out.bytes_per_frame
        if transport is None:
            if not self.bitfile.is_file():
                raise AccelError(f"{self.bitfile} does not exist; give the .bit file (with its .hwh beside it).")
            transport = PynqDmaTransport(self.bitfile, self.in_frame_bytes, self.out_frame_bytes,
                                         tlast_gpio=TLAST_GPIO if self.manifest.ports.tlast_err else "")
        self.transport = transport

    # -- conversions ---------------------------------------------------------------------------------
    def to_raw(self, x: Any) -> tuple[np.ndarray, bool]:
        """Raw int64 (N, H, W, C) input and whether the caller gave raw integers (True) or floats (False)."""
        arr = np.asarray(x)
        if arr.dtype.kind in "iu":
            raw, is_raw = arr.astype(np.int64), True
        elif arr.dtype.kind == "f":
            raw, is_raw = self.in_type.from_float(arr, what=f"input of {self.manifest.model}"), False
        else:
            raise AccelError(f"input of dtype {arr.dtype} is not supported; give floats or raw integers.")
        if raw.shape == self.in_shape:
            raw = raw[None]
        if raw.ndim != 4 or raw.shape[1:] != self.in_shape:
            raise AccelError(
                f"input of shape {arr.shape} does not match the accelerator's {self.in_shape}; give (H, W, C) or "
                f"(N, H, W, C) = (N, {', '.join(map(str, self.in_shape))})."
            )
        return raw, is_raw

    # -- running -------------------------------------------------------------------------------------
    def _transfer(self, data: bytes, frames: int) -> bytes:
        """One transport call under the deadline, whatever the transport does (a thread watches it)."""
        want = frames * self.out_frame_bytes
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["out"] = self.transport.transfer(data, want, frames, self.timeout_s)
            except BaseException as exc:  # handed to the caller's thread
                box["err"] = exc

        t = threading.Thread(target=work, name="accel-transfer", daemon=True)
        t.start()
        t.join(self.timeout_s * 1.05 + 0.1)  # a little slack so the transport's own time-out message wins
        if t.is_alive():
            raise AccelError(
                f"{self.bitfile}: the accelerator did not return the output stream ({want} bytes for {frames} "
                f"frames) within {self.timeout_s:g} s; check that this bitstream is loaded and its DMA is idle."
            )
        if "err" in box:
            err = box["err"]
            if isinstance(err, TransportTimeout):
                raise AccelError(
                    f"{self.bitfile}: the {err.stream} {err.detail or 'did not answer'} within {self.timeout_s:g} s; "
                    "reload the overlay and check the bitstream matches this model."
                ) from None
            if isinstance(err, AccelError):
                raise err
            raise AccelError(f"{self.bitfile}: the transfer failed ({type(err).__name__}: {err}).") from err
        out = box["out"]
        if len(out) != want:
            raise AccelError(
                f"{self.bitfile}: the output stream returned {len(out)} bytes for {frames} frames, expected {want}."
            )
        return out

    def run_raw(self, raw: np.ndarray, stages: dict[str, float] | None = None) -> np.ndarray:
        """Raw (N, H, W, C) in -> raw (N, *out_shape) out, through pack -> transport -> unpack."""
        n = raw.shape[0]
        outs = []
        for s in range(0, n, self.chunk_frames):
            chunk = raw[s : s + self.chunk_frames]
            t0 = time.perf_counter()
            data = frames_to_bytes(chunk, self.in_type, self.in_lanes)
            t1 = time.perf_counter()
            out = self._transfer(data, len(chunk))
            t2 = time.perf_counter()
            outs.append(frames_from_bytes(out, (len(chunk), *self.out_shape), self.out_type, self.out_lanes))
            t3 = time.perf_counter()
            if stages is not None:
                stages["pack"] = stages.get("pack", 0.0) + t1 - t0
                stages["transfer"] = stages.get("transfer", 0.0) + t2 - t1
                stages["unpack"] = stages.get("unpack", 0.0) + t3 - t2
        return np.concatenate(outs) if outs else np.zeros((0, *self.out_shape), dtype=np.int64)

    def predict(self, x: Any) -> np.ndarray:
        """Outputs for a batch: floats for float inputs (exact, on the input grid), raw ints for integer inputs."""
        raw, is_raw = self.to_raw(x)
        y = self.run_raw(raw)
        single = np.asarray(x).ndim == 3
        y = y[0] if single else y
        return y if is_raw else self.out_type.to_float(y)

    def benchmark(self, n: int = 1000, *, seed: int = 0) -> dict[str, Any]:
        """Run ``n`` random in-range raw frames: frames/s and seconds per stage (pack, transfer, unpack).

        Through a simulated transport (one with ``device_s``, the seconds its simulated hardware took) it also
        reports the host's own time per frame in clock cycles at the build's clock: all of it
        (``host_cycles_per_frame``) and the part spent arming and polling the DMA (``dma_host_cycles_per_frame``),
        next to the accelerator's II (``ii_cycles``, RTL builds).  The accelerator streams a batch at its II; the
        host's time adds between batches.
        """
        rng = np.random.default_rng(seed)
        raw = rng.integers(self.in_type.min_raw, self.in_type.max_raw + 1, size=(n, *self.in_shape), dtype=np.int64)
        stages: dict[str, float] = {}
        device_before = getattr(self.transport, "device_s", None)
        t0 = time.perf_counter()
        self.run_raw(raw, stages)
        total = time.perf_counter() - t0
        rate = n / total if total > 0 else float("inf")
        rtl = self.manifest.rtl
        result: dict[str, Any] = {
            "frames": n,
            "seconds": total,
            "frames_per_s": rate,
            "inferences_per_s": rate,
            "stages_s": stages,
            "per_frame_us": {k: 1e6 * v / n for k, v in stages.items()},
            "clock_ns": self.manifest.clock_ns,
            "ii_cycles": rtl.expected_ii_cycles if rtl is not None and rtl.expected_ii_cycles else None,
        }
        if device_before is not None and n > 0:
            device_s = self.transport.device_s - device_before
            per_cycle = 1e9 / self.manifest.clock_ns / n
            result["host_s_per_frame"] = (total - device_s) / n
            result["host_cycles_per_frame"] = (total - device_s) * per_cycle
            # the part spent arming and polling the DMA while frames stream: above the II, the accelerator waits
            result["dma_host_cycles_per_frame"] = (stages["transfer"] - device_s) * per_cycle
        return result

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Accelerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
