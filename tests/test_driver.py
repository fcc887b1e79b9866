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
from pathlib import Path

import numpy as np
import pytest

from accel import AccelError
from accel.deploy.dma import DmaGeometry
from accel.deploy.driver import Accelerator, PynqDmaTransport, TransportTimeout, load_metadata
from accel.deploy.manifest import BuildManifest, IpInfo, Ports, RtlFacts, StreamSpec, stream_spec
from accel.deploy.stream import pack, to_bytes
from accel.fixed import FixedType, Overflow
from accel.ir import GraphBuilder
from accel.reference import execute
from accel.rtl.sim_transport import ReferenceDevice, ReferenceTransport, SimulatedBoardTransport

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


# -- the board transport, against the simulated PYNQ (accel.deploy.dma_model) ------------------------------------------
def test_board_transport_streams_within_the_dma_rules(tmp_path: Path) -> None:
    """A chunk goes in one MM2S transfer and comes back in one S2MM transfer (TLAST passed through), and only the
    bytes that move are flushed and invalidated."""
    g, m = small_graph()
    t = ReferenceTransport(g, m)
    acc = Accelerator(tmp_path / "tiny.bit", transport=t, metadata=m, chunk_frames=64)
    x = rand_raw(70, seed=3)
    assert np.array_equal(acc.predict(x), execute(g, x).outputs["s"])
    ib, ob = m.input.bytes_per_frame, m.output.bytes_per_frame
    assert (ib, ob) == (32, 32)
    send, recv = t.dma.sendchannel.log, t.dma.recvchannel.log
    # chunks of 64 and 6 frames: one send and one receive per chunk
    assert [n for _, n in send] == [64 * ib, 6 * ib]
    assert [n for _, n in recv] == [64 * ob, 6 * ob]
    assert t.stats.flushed == 70 * ib and t.stats.invalidated == 70 * ob


def unaligned_case() -> tuple[object, BuildManifest]:
    """(1, 1, 5) ap_int<8> -> itself: 5-byte output frames, which a 4-byte-aligned S2MM cannot take back to back."""
    t = FixedType(True, 8, 8)
    b = GraphBuilder("odd")
    b.input("x", (1, 1, 5), t)
    g = b.build([b.add("q", "quantize", ["x"], {"out_type": t, "overflow": Overflow.SATURATE})])
    return g, tiny_manifest("odd", stream_spec("input", (1, 1, 5), t, 1), stream_spec("output", (1, 1, 5), t, 1))


def per_frame_receive(t: PynqDmaTransport, data: bytes, frames: int) -> bytes:
    """The driver's transfer before this rule-keeping one: the receive re-armed per frame at ``f * out_frame_bytes``
    of one buffer, each send and receive waited for in turn."""
    ib, ob = t.in_frame_bytes, t.out_frame_bytes
    inb, outb = t._allocate(shape=(frames * ib,), dtype=np.uint8), t._allocate(shape=(frames * ob,), dtype=np.uint8)
    inb[:] = np.frombuffer(data, dtype=np.uint8)
    inb.flush()
    send, recv = t.dma.sendchannel, t.dma.recvchannel
    for f in range(frames):
        recv.transfer(outb, start=f * ob, nbytes=ob)
        send.transfer(inb, start=f * ib, nbytes=ib)
        send.wait()
        recv.wait()
    return bytes(outb)


def test_per_frame_receive_breaks_the_rules_the_streaming_driver_keeps(tmp_path: Path) -> None:
    g, m = unaligned_case()
    x = np.arange(-40, 40, dtype=np.int64).reshape(16, 1, 1, 5)
    data = to_bytes(pack(x, m.input.dtype, 1), m.input.dtype, 1)
    old = ReferenceTransport(g, m)
    assert old.geometry.recv_align == 4  # the board flow's S2MM: 32-bit memory side, no realignment engine
    with pytest.raises(RuntimeError, match="DMA does not support unaligned transfers"):
        per_frame_receive(old, data, 16)
    assert old.dma.recvchannel.log == [(old.dma.recvchannel.log[0][0], 5)]  # frame 0 went; frame 1 at +5 refused
    new = ReferenceTransport(g, m)
    acc = Accelerator(tmp_path / "odd.bit", transport=new, metadata=m)
    assert np.array_equal(acc.predict(x), x)
    assert [n for _, n in new.dma.recvchannel.log] == [16 * 5]  # the batch in one aligned receive
    assert new.stats.invalidated == 16 * 5 and new.stats.flushed == 16 * 5


def test_rules_of_the_simulated_dma() -> None:
    """Each rule refused as PYNQ or the DMA would: length register, re-arm while busy, past the end, halted."""
    g, m = unaligned_case()
    t = ReferenceTransport(g, m)
    send, recv = t.dma.sendchannel, t.dma.recvchannel
    buf = t._allocate(shape=(64,), dtype=np.uint8)
    big = t._allocate(shape=(1 << 26,), dtype=np.uint8)
    with pytest.raises(ValueError, match="exceeds the maximum DMA buffer size 67108863"):
        send.transfer(big)
    recv.transfer(buf, 0, 8)
    with pytest.raises(RuntimeError, match="recvchannel not idle"):
        recv.transfer(buf, 8, 8)
    with pytest.raises(RuntimeError, match="outside the 64-byte array"):
        send.transfer(buf, 60, 8)
    with pytest.raises(RuntimeError, match="cannot finish"):
        recv.wait()  # nothing sent: PYNQ would spin for ever
    # a 5-byte packet into a 4-byte receive: the DMA halts with an error
    t2 = ReferenceTransport(g, m)
    s2, r2 = t2.dma.sendchannel, t2.dma.recvchannel
    b2 = t2._allocate(shape=(8,), dtype=np.uint8)
    r2.transfer(b2, 0, 4)
    s2.transfer(b2, 0, 5)
    assert r2.error and not r2.running
    with pytest.raises(RuntimeError, match="not started"):
        r2.transfer(b2, 0, 4)


def test_batch_split_by_the_length_register(tmp_path: Path) -> None:
    """At most 127 bytes per transfer (a 7-bit length register): 5-byte frames go 24 at a time (120 bytes, so that
    starts stay 4-aligned); 6-byte input and 2-byte output frames with 8-byte alignment and 100 bytes at most go
    16 at a time (96 and 32 bytes); every output frame still exact."""
    geo = DmaGeometry(send_align=4, recv_align=4, max_bytes=127)
    assert geo.batch_plan(70, 5, 5) == [(0, 24), (24, 24), (48, 22)]
    assert DmaGeometry(8, 8, 100).batch_plan(40, 6, 2) == [(0, 16), (16, 16), (32, 8)]
    assert DmaGeometry(4, 16, 1023).batch_plan(9, 4, 2) == [(0, 9)]  # one pair: only the starts need aligning
    with pytest.raises(AccelError, match="one frame is 128 bytes, more than one DMA transfer may move"):
        geo.batch_plan(1, 128, 1)
    g, m = unaligned_case()
    t = SimulatedBoardTransport(ReferenceDevice(g, m), m, geometry=geo)
    acc = Accelerator(tmp_path / "odd.bit", transport=t, metadata=m, chunk_frames=70)
    x = np.arange(70 * 5, dtype=np.int64).reshape(70, 1, 1, 5) % 256 - 128
    assert np.array_equal(acc.predict(x), x)
    assert [n for _, n in t.dma.sendchannel.log] == [120, 120, 110]
    assert [n for _, n in t.dma.recvchannel.log] == [120, 120, 110]
    assert t.stats.flushed == 350 and t.stats.invalidated == 350


def test_geometry_from_the_hwh_parameters() -> None:
    """The driver reads the DMA's widths as PYNQ does, from the .hwh parameters."""
    params = {"c_include_sg": "0", "c_m_axi_mm2s_data_width": "64", "c_m_axi_s2mm_data_width": "32",
              "c_include_s2mm_dre": "0", "c_sg_length_width": "23"}  # fmt: skip
    assert DmaGeometry.from_parameters(params) == DmaGeometry(8, 4, (1 << 23) - 1)
    assert DmaGeometry.from_parameters(dict(params, c_include_s2mm_dre="1")).recv_align == 1
    assert DmaGeometry.for_streams(24, 16) == DmaGeometry(4, 4, (1 << 26) - 1)  # 24 bits: a 32-bit DMA stream
    assert DmaGeometry.for_streams(128, 8) == DmaGeometry(16, 4, (1 << 26) - 1)
    with pytest.raises(AccelError, match="scatter-gather or micro mode"):
        DmaGeometry.from_parameters(dict(params, c_include_sg="1"))


def test_cache_is_modelled(tmp_path: Path) -> None:
    """A driver that forgot to flush would send stale bytes; one that forgot to invalidate would read them."""
    g, m = unaligned_case()
    t = ReferenceTransport(g, m)
    buf = t._allocate(shape=(16,), dtype=np.uint8)
    buf[:] = 7
    assert bytes(buf._base_root._memory) == bytes(16)  # written by the CPU, not yet in memory
    buf[4:8].flush()
    assert bytes(buf._base_root._memory) == bytes(4) + bytes([7] * 4) + bytes(8)
    assert buf[4:8].physical_address == buf.physical_address + 4
    buf._base_root._memory[:] = 9  # the DMA writes memory
    buf[8:12].invalidate()
    assert buf.tolist() == [7] * 8 + [9] * 4 + [7] * 4
    assert t.stats.flushed == 4 and t.stats.invalidated == 4


def test_waiting_for_the_send_first_deadlocks(tmp_path: Path) -> None:
    """With a batch larger than the frames the accelerator can hold, a host that sends before arming the receive
    and waits for the send never finishes: the model refuses the wait, as the board would hang in it.  Two frames
    (what the accelerator holds) do finish."""
    g, m = unaligned_case()
    t = ReferenceTransport(g, m, in_flight=2)
    inb = t._allocate(shape=(8 * t.in_frame_bytes,), dtype=np.uint8)
    t.dma.sendchannel.transfer(inb[: 2 * t.in_frame_bytes])
    t.dma.sendchannel.wait()
    t2 = ReferenceTransport(g, m, in_flight=2)
    t2.dma.sendchannel.transfer(t2._allocate(shape=(8 * t2.in_frame_bytes,), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="cannot finish"):
        t2.dma.sendchannel.wait()


def test_board_transport_times_out_when_nothing_comes_back(tmp_path: Path) -> None:
    g, m = small_graph()

    class Silent:
        def consume(self, data: bytes) -> list[bytes]:
            return []  # a stuck accelerator: takes input, never answers

    t = SimulatedBoardTransport(Silent(), m)
    acc = Accelerator(tmp_path / "tiny.bit", transport=t, metadata=m, timeout_s=0.3)
    t0 = time.monotonic()
    with pytest.raises(AccelError, match=r"tiny\.bit: the output stream \(DMA S2MM\) did not finish frames 0 to 0"):
        acc.predict(rand_raw(1))
    assert time.monotonic() - t0 < 1.5


def test_board_transport_reports_a_dma_error(tmp_path: Path) -> None:
    g, m = small_graph()

    class Long:
        def consume(self, data: bytes) -> list[bytes]:
            return [bytes(33)]  # one byte more than the 32-byte output frame before TLAST

    acc = Accelerator(tmp_path / "tiny.bit", transport=SimulatedBoardTransport(Long(), m), metadata=m, timeout_s=2)
    with pytest.raises(AccelError, match=r"the output stream \(DMA S2MM\) reported a DMA error on frames 0 to 0"):
        acc.predict(rand_raw(1))

    class Short:
        def consume(self, data: bytes) -> list[bytes]:
            return [bytes(31)]

    acc = Accelerator(tmp_path / "tiny.bit", transport=SimulatedBoardTransport(Short(), m), metadata=m, timeout_s=2)
    with pytest.raises(AccelError, match=r"the output stream ended \(TLAST\) after 31 of 32 bytes for frames 0 to 0"):
        acc.predict(rand_raw(1))


def test_board_transport_raises_when_the_tlast_gpio_is_set(tmp_path: Path) -> None:
    """A build whose top has ``tlast_err``: the driver reads the overlay's AXI GPIO after each batch; clear, the run
    is exact; once the (simulated) accelerator sets it, every batch raises one sentence, as the bit is sticky."""
    from dataclasses import replace

    g, m = small_graph()
    m = replace(m, ports=Ports("clk", "rst", False, "s_axis", "m_axis", "tlast_err"))

    class Misframed(ReferenceDevice):
        frames_ok = 2  # the error rises during the third consume

        def consume(self, data: bytes) -> list[bytes]:
            self.frames_ok -= 1
            self.tlast_err = self.frames_ok < 0
            return super().consume(data)

    t = SimulatedBoardTransport(Misframed(g, m), m)
    assert t.tlast_gpio is not None and t.tlast_gpio.read(0) == 0
    acc = Accelerator(tmp_path / "tiny.bit", transport=t, metadata=m, chunk_frames=3)
    x = rand_raw(6, seed=1)
    assert np.array_equal(acc.predict(x), execute(g, x).outputs["s"])  # two batches of 3, the bit clear
    for _ in range(2):
        with pytest.raises(AccelError, match=r"^tiny\.bit: the accelerator's tlast_err is set after frames 0 to 2: "
                                             r"a stream inside it \(or its input\) carried TLAST off a frame's last "
                                             r"beat"):  # fmt: skip
            acc.predict(x)
    # a build without the output: nothing is read (the HLS top has none)
    plain = SimulatedBoardTransport(Misframed(g, small_graph()[1]), small_graph()[1])
    assert plain.tlast_gpio is None


def test_board_transport_needs_the_tlast_gpio_the_build_states(tmp_path: Path) -> None:
    from accel.deploy.dma_model import SimPynq

    g, m = small_graph()
    pynq = SimPynq(ReferenceDevice(g, m), DmaGeometry.for_streams(16, 8))
    with pytest.raises(AccelError, match=r"^b\.bit: the overlay has no axi_gpio_tlast2, the AXI GPIO on the "):
        PynqDmaTransport(Path("b.bit"), 32, 32, pynq=pynq, tlast_gpio="axi_gpio_tlast2")


def test_benchmark_reports_host_cycles(tmp_path: Path) -> None:
    g, m = small_graph()
    acc = Accelerator(tmp_path / "tiny.bit", transport=ReferenceTransport(g, m), metadata=m)
    bench = acc.benchmark(n=40)
    assert bench["frames"] == 40 and bench["frames_per_s"] > 0
    assert set(bench["stages_s"]) == {"pack", "transfer", "unpack"}
    # host time excludes the simulated hardware's: positive, below the wall time
    assert 0 < bench["host_s_per_frame"] * 40 < bench["seconds"]
    assert bench["host_cycles_per_frame"] == pytest.approx(bench["host_s_per_frame"] * 1e8)  # 10 ns clock
    assert 0 < bench["dma_host_cycles_per_frame"] < bench["host_cycles_per_frame"]


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
@pytest.mark.parametrize(("name", "frames"), [("digits", 64), ("pointwise_head", 3)])
def test_driver_streams_a_batch_through_the_rtl_cosim(tmp_path: Path, name: str, frames: int) -> None:
    """The board's DMA code, within PYNQ's rules, against the co-simulated RTL (random valid gaps and
    backpressure): a batch exact, raw and float, in one MM2S transfer (TLAST on its last beat only) and one S2MM
    transfer, which ends at the one TLAST the RTL drove, on the batch's last beat.  digits: 1 lane of
    ap_ufixed<8,0> in, 64 frames, 10-byte output frames (the per-frame receive of the old driver is refused on the
    same transport: frame 1's start is unaligned);
    pointwise_head: 3 signed 8-bit lanes (24-bit beats, a width converter on the board) in, 14-bit out."""
    import models
    from accel.frontend import to_graph
    from accel.rtl.network import build_rtl
    from accel.rtl.sim_transport import SimTransport

    g = to_graph(models.build(name), name)
    d = tmp_path / f"{name}_rtl"
    build_rtl(g, d)
    sim = SimTransport(d)
    spy = Spy(sim)
    acc = Accelerator(d, transport=spy, timeout_s=900)  # metadata: the build's own build.json
    ib, ob = acc.in_frame_bytes, acc.out_frame_bytes
    rng = np.random.default_rng(11)
    x = rng.integers(acc.in_type.min_raw, acc.in_type.max_raw + 1, size=(frames, *acc.in_shape), dtype=np.int64)
    x[0].flat[0], x[0].flat[-1] = acc.in_type.min_raw, acc.in_type.max_raw
    want = execute(g, x).outputs[g.outputs[0]].reshape((frames, *acc.out_shape))
    assert np.array_equal(acc.predict(x), want)
    # 8-bit elements, beats of whole bytes: the byte image is each element's low byte in row-major order
    assert acc.in_type.width == 8 and acc.in_lanes * 8 == 8 * acc.manifest.input.beat_bytes
    assert spy.calls[0][0] == (x & 0xFF).astype(np.uint8).tobytes()
    assert [n for _, n in sim.dma.sendchannel.log] == [frames * ib]
    assert [n for _, n in sim.dma.recvchannel.log] == [frames * ob]
    assert sim.stats.flushed == frames * ib and sim.stats.invalidated == frames * ob
    per_out = acc.manifest.output.beats_per_frame
    assert sim.last.tlast_positions == [frames * per_out - 1]
    yf = acc.predict(acc.in_type.to_float(x[1]))
    assert np.array_equal(yf, acc.out_type.to_float(want[1]))
    if name != "digits":
        return
    assert ob % sim.geometry.recv_align != 0  # digits' output frames are not aligned to the S2MM width
    # the old driver's per-frame receive, same transport and rules: frame 1's receive starts unaligned
    old = SimTransport(d)
    data = to_bytes(pack(x[:4], acc.in_type, acc.in_lanes), acc.in_type, acc.in_lanes)
    with pytest.raises(RuntimeError, match="DMA does not support unaligned transfers"):
        per_frame_receive(old, data, 4)
