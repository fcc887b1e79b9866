"""The PYNQ driver: exact byte path, float/raw batches, board DMA code against a fake pynq, time-outs.

The expected outputs always come from :func:`accel.reference.execute`; the expected byte images are built
by hand with NumPy (independent of the packer), so a driver that bypassed or misused the packer fails.
The end-to-end test runs the driver against the RTL co-simulation of a real build (``SimTransport``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.driver import Accelerator, TransportTimeout, load_metadata
from accel.deploy.manifest import BuildManifest, IpInfo, Ports, RtlFacts, StreamSpec, stream_spec
from accel.fixed import FixedType, Overflow
from accel.ir import GraphBuilder
from accel.reference import execute
from accel.rtl.sim_transport import ReferenceTransport

X_T = FixedType(True, 8, 3)


def tiny_manifest(model: str, inp: StreamSpec, out: StreamSpec) -> BuildManifest:
    """An RTL build manifest with the given streams and nothing else the driver would need (no layers)."""
    return BuildManifest(
        backend="rtl", model=model, part="xc7z020clg400-1", clock_ns=10.0, top="accel_top", input=inp, output=out,
        ports=Ports("clk", "rst", False, "s_axis", "m_axis"),
        ip=IpInfo("accel:accel:accel_top:1.0", "ip", "vivado -mode batch -source vivado/package_ip.tcl"), files=(),
        rtl=RtlFacts(rtl_sources=(), filelist="rtl/filelist.f", rom_files=(), rom_paths="", expected_ii_cycles=0,
                     multipliers=0, folding={}, layers=()),
    )  # fmt: skip


def small_graph() -> tuple[object, BuildManifest]:
    """(4, 4, 2) ap_fixed<8,3> -> saturate to ap_fixed<6,2> -> add(q, q): a tiny exact graph, no TensorFlow."""
    b = GraphBuilder("tiny")
    b.input("x", (4, 4, 2), X_T)
    b.add("q", "quantize", ["x"], {"out_type": FixedType(True, 6, 2), "overflow": Overflow.SATURATE})
    g = b.build([b.add("s", "add", ["q", "q"])])
    out = g.tensors["s"]
    return g, tiny_manifest("tiny", stream_spec("input", (4, 4, 2), X_T, 2), stream_spec("output", out.shape,
                                                                                         out.dtype, 1))


def rand_raw(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(X_T.min_raw, X_T.max_raw + 1, size=(n, 4, 4, 2), dtype=np.int64)
    x.flat[0], x.flat[1] = X_T.min_raw, X_T.max_raw
    return x


class Spy:
    """Wraps a transport and keeps every call's bytes."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, []

    def transfer(self, data, receive_bytes, frames, timeout_s):
        out = self.inner.transfer(data, receive_bytes, frames, timeout_s)
        self.calls.append((data, receive_bytes, frames, out))
        return out

    def close(self) -> None:
        pass


def test_predict_raw_and_float_equal_reference(tmp_path: Path) -> None:
    g, m = small_graph()
    spy = Spy(ReferenceTransport(g, m))
    acc = Accelerator(tmp_path / "tiny.bit", transport=spy, metadata=m, chunk_frames=2)
    x = rand_raw(5)
    want = execute(g, x).outputs["s"]
    got = acc.predict(x)
    assert got.dtype.kind == "i" and np.array_equal(got, want)
    # bytes on the wire: lanes 2 of 8-bit two's complement, row-major, one byte per element (built by hand)
    sent = b"".join(c[0] for c in spy.calls)
    assert sent == (x & 0xFF).astype(np.uint8).tobytes()
    assert [c[2] for c in spy.calls] == [2, 2, 1]  # chunks of chunk_frames
    # floats in -> floats out, exactly the reference's values
    out_t = g.tensors["s"].dtype
    yf = acc.predict(X_T.to_float(x))
    assert np.array_equal(yf, out_t.to_float(want))
    # one (H, W, C) frame -> one output frame
    assert np.array_equal(acc.predict(x[3]), want[3])


def test_predict_refuses_bad_inputs(tmp_path: Path) -> None:
    g, m = small_graph()
    acc = Accelerator(tmp_path / "tiny.bit", transport=ReferenceTransport(g, m), metadata=m)
    xf = X_T.to_float(rand_raw(1))
    xf[0, 0, 0, 0] += 2.0**-6  # half an LSB of ap_fixed<8,3> (5 fractional bits): off the grid
    with pytest.raises(AccelError, match="not exactly representable in ap_fixed<8,3>"):
        acc.predict(xf)
    with pytest.raises(AccelError, match=r"does not match the accelerator's \(4, 4, 2\)"):
        acc.predict(np.zeros((2, 4, 4, 3), dtype=np.int64))
    with pytest.raises(AccelError, match="do not fit ap_fixed<8,3>"):
        acc.predict(np.full((1, 4, 4, 2), 128, dtype=np.int64))


def test_short_answer_is_an_error(tmp_path: Path) -> None:
    g, m = small_graph()

    class Short:
        def transfer(self, data, receive_bytes, frames, timeout_s):
            return b"\0" * (receive_bytes - 1)

        def close(self):
            pass

    acc = Accelerator(tmp_path / "tiny.bit", transport=Short(), metadata=m)
    with pytest.raises(AccelError, match="returned 31 bytes for 1 frames, expected 32"):
        acc.predict(rand_raw(1))


def test_transport_that_never_answers_times_out(tmp_path: Path) -> None:
    g, m = small_graph()
    never = threading.Event()

    class Hang:
        def transfer(self, data, receive_bytes, frames, timeout_s):
            never.wait()  # a DMA that never completes and a transport that ignores its deadline

        def close(self):
            pass

    acc = Accelerator(tmp_path / "tiny.bit", transport=Hang(), metadata=m, timeout_s=0.3)
    t0 = time.monotonic()
    with pytest.raises(AccelError, match=r"tiny\.bit: the accelerator did not return the output stream"):
        acc.predict(rand_raw(2))
    assert time.monotonic() - t0 < 1.5
    never.set()

    class Late:
        def transfer(self, data, receive_bytes, frames, timeout_s):
            raise TransportTimeout("output stream (DMA S2MM)", "did not finish frame 0")

        def close(self):
            pass

    acc = Accelerator(tmp_path / "tiny.bit", transport=Late(), metadata=m, timeout_s=0.3)
    with pytest.raises(AccelError, match=r"tiny\.bit: the output stream \(DMA S2MM\) did not finish frame 0"):
        acc.predict(rand_raw(1))


# -- the board transport, against a fake pynq -------------------------------------------------------------------
class FakeBuffer(np.ndarray):
    def flush(self):
        pass

    def invalidate(self):
        pass

    def freebuffer(self):
        pass


def fake_pynq(graph, manifest, *, hang: bool = False):
    """A pynq module whose Overlay has an axi_dma_0 in simple mode; the 'hardware' is the reference."""
    ref = ReferenceTransport(graph, manifest)
    ib, ob = manifest.input.bytes_per_frame, manifest.output.bytes_per_frame
    log = []

    class Channel:
        def __init__(self) -> None:
            self.idle, self.error, self.target = True, False, None

    class Dma:
        def __init__(self) -> None:
            self.sendchannel, self.recvchannel = Channel(), Channel()
            send, recv = self.sendchannel, self.recvchannel

            def recv_transfer(array, start=0, nbytes=0):
                recv.idle, recv.target = False, (array, start, nbytes)
                log.append(("recv", start, nbytes))

            def send_transfer(array, start=0, nbytes=0):
                log.append(("send", start, nbytes))
                assert nbytes == ib and recv.target is not None, "one whole frame per transfer, receive armed first"
                if hang:
                    send.idle = False
                    return
                out = ref.transfer(bytes(array[start : start + nbytes]), ob, 1, 1.0)
                arr, rstart, rn = recv.target
                assert rn == ob
                arr[rstart : rstart + rn] = np.frombuffer(out, dtype=np.uint8)
                recv.idle = True

            send.transfer, recv.transfer = send_transfer, recv_transfer

    class Overlay:
        def __init__(self, path: str) -> None:
            self.path = path
            self.axi_dma_0 = Dma()

    mod = types.ModuleType("pynq")
    mod.Overlay = Overlay
    mod.allocate = lambda shape, dtype: np.zeros(shape, dtype=dtype).view(FakeBuffer)
    return mod, log


def test_pynq_transport_frame_by_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g, m = small_graph()
    mod, log = fake_pynq(g, m)
    monkeypatch.setitem(sys.modules, "pynq", mod)
    bit = tmp_path / "tiny.bit"
    bit.write_bytes(b"bit")
    (tmp_path / "tiny.json").write_text(json.dumps(m.to_json()))  # metadata found next to the bitfile
    acc = Accelerator(bit)
    x = rand_raw(3, seed=4)
    assert np.array_equal(acc.predict(x), execute(g, x).outputs["s"])
    ib, ob = m.input.bytes_per_frame, m.output.bytes_per_frame
    assert log == [e for f in range(3) for e in (("recv", f * ob, ob), ("send", f * ib, ib))]
    bench = acc.benchmark(n=20)
    assert bench["frames"] == 20 and bench["inferences_per_s"] > 0
    assert set(bench["stages_s"]) == {"pack", "transfer", "unpack"}


def test_pynq_transport_times_out_when_dma_never_idles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g, m = small_graph()
    mod, _ = fake_pynq(g, m, hang=True)
    monkeypatch.setitem(sys.modules, "pynq", mod)
    bit = tmp_path / "tiny.bit"
    bit.write_bytes(b"bit")
    acc = Accelerator(bit, metadata=m, timeout_s=0.3)
    t0 = time.monotonic()
    with pytest.raises(AccelError, match=r"tiny\.bit: the input stream \(DMA MM2S\) did not finish frame 0"):
        acc.predict(rand_raw(1))
    assert time.monotonic() - t0 < 1.5


def test_imports_without_pynq_and_says_so(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['pynq'] = None\n"
        "import accel, accel.deploy.driver, accel.rtl.sim_transport, accel.deploy.board, accel.deploy.package\n"
        "from accel import AccelError\n"
        f"open({str(tmp_path / 'x.bit')!r}, 'wb').write(b'b')\n"
        "try:\n"
        f"    accel.deploy.driver.Accelerator({str(tmp_path / 'x.bit')!r}, metadata={small_graph()[1].to_json()!r})\n"
        "except AccelError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "the pynq package is not installed" in out


def test_metadata_lookup(tmp_path: Path) -> None:
    g, m = small_graph()
    with pytest.raises(AccelError, match="no model metadata found"):
        load_metadata(tmp_path / "a.bit")
    (tmp_path / "build.json").write_text(json.dumps(m.to_json()))
    assert load_metadata(tmp_path / "a.bit") == m  # build.json found above the bitfile, parsed and checked
    assert load_metadata(tmp_path / "a.bit", m.to_json()) == m
    bad = dict(m.to_json(), input={"shape": [4, 4, 2]})
    with pytest.raises(AccelError, match=r"^the metadata passed in lacks input\.name; a schema-2 build manifest"):
        load_metadata(tmp_path / "a.bit", bad)
    (tmp_path / "build.json").write_text(json.dumps(dict(m.to_json(), schema=None)))
    with pytest.raises(AccelError, match=r"build\.json was written by an older accel"):
        load_metadata(tmp_path / "a.bit")


# -- the driver against the simulated hardware ---------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.rtl
@pytest.mark.parametrize("name", ["digits", "pointwise_head"])
def test_driver_against_rtl_cosim(tmp_path: Path, name: str) -> None:
    """The driver's bytes -> beats -> Icarus co-simulation of the generated RTL (random valid gaps and
    backpressure) -> beats -> bytes -> decoded outputs: equal to the reference, raw and float.
    digits: 1 lane of ap_ufixed<8,0> in; pointwise_head: 3 signed 8-bit lanes (24-bit beats) in, 14-bit out."""
    import models
    from accel.frontend import to_graph
    from accel.rtl.network import build_rtl
    from accel.rtl.sim_transport import SimTransport

    g = to_graph(models.build(name), name)
    d = tmp_path / f"{name}_rtl"
    build_rtl(g, d)
    sim = Spy(SimTransport(d))
    acc = Accelerator(d, transport=sim, timeout_s=600)  # metadata: the build's own build.json
    rng = np.random.default_rng(7)
    x = rng.integers(acc.in_type.min_raw, acc.in_type.max_raw + 1, size=(3, *acc.in_shape), dtype=np.int64)
    x[0].flat[0], x[0].flat[-1] = acc.in_type.min_raw, acc.in_type.max_raw
    want = execute(g, x).outputs[g.outputs[0]].reshape((3, *acc.out_shape))
    got = acc.predict(x)
    assert np.array_equal(got, want)
    # 8-bit elements, beats of whole bytes: the byte image is each element's low byte in row-major order
    assert acc.in_type.width == 8 and acc.in_lanes * 8 == 8 * acc.manifest.input.beat_bytes
    assert sim.calls[0][0] == (x & 0xFF).astype(np.uint8).tobytes()
    per_out = acc.manifest.output.beats_per_frame
    assert sim.inner.last.tlast_positions == [per_out - 1, 2 * per_out - 1, 3 * per_out - 1]
    yf = acc.predict(acc.in_type.to_float(x[1]))
    assert np.array_equal(yf, acc.out_type.to_float(want[1]))
