"""Graphs the frontend accepts that the RTL backend once could not build (issue "Every graph the frontend accepts
works on every backend"): each builds, lints and is bit-exact in co-simulation against the NumPy reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import Graph, GraphBuilder
from tests.test_rtl_network import lint, needs_iverilog, needs_verilator, simulate


def conv_then_activation(name: str, x_type: FixedType, w_type: FixedType, weight: np.ndarray,
                         out_type: FixedType) -> Graph:  # fmt: skip
    """A 1x1 conv of ``weight`` (cin, cout) on a 3x2 frame, then a saturating quantised activation."""
    cin, cout = weight.shape
    b = GraphBuilder(name)
    x = b.input("x", (3, 2, cin), x_type)
    attrs = {"kernel": (1, 1), "stride": (1, 1), "pads": (0, 0, 0, 0), "groups": 1}
    c = b.add("conv", "conv2d", [x], attrs, {"weight": weight.reshape(1, 1, cin, cout), "bias": np.zeros(cout, int)},
              {"weight": w_type, "bias": FixedType(True, 2, 1)})  # fmt: skip
    q = b.add("act", "quantize", [c], {"out_type": out_type, "rounding": Rounding.ROUND_HALF_EVEN,
                                       "overflow": Overflow.SATURATE, "relu": False})  # fmt: skip
    return b.build([q])


@needs_iverilog
@needs_verilator
def test_an_accumulator_narrower_than_the_activation_after_it(tmp_path: Path) -> None:
    """Sparse 2-bit weights on a 3-bit input: the exact accumulator is 5 bits, the activation after it 10, so the
    requantiser widens (it failed to compile: a negative replication count)."""
    w = np.array([[1, 0], [0, -1], [0, 0]])
    g = conv_then_activation("narrow_accumulator", FixedType(True, 3, 2), FixedType(True, 2, 1), w,
                             FixedType(True, 10, 6))  # fmt: skip
    assert g.tensors["conv"].dtype.width < g.tensors["act"].dtype.width
    simulate(g, tmp_path, frames=2)
    assert lint(tmp_path / "rtl") == ""


@needs_iverilog
@needs_verilator
def test_an_accumulator_wider_than_32_bits_before_a_requantiser(tmp_path: Path) -> None:
    """16-bit inputs and weights over 64 channels need an accumulator of more than 32 bits (it was refused)."""
    rng = np.random.default_rng(3)
    w_type = FixedType(True, 16, 2)
    w = rng.integers(w_type.min_raw, w_type.max_raw + 1, (64, 3))
    w[0] = w_type.min_raw  # the extremes reach the accumulator's range
    g = conv_then_activation("wide_accumulator", FixedType(True, 16, 4), w_type, w, FixedType(True, 8, 5))
    assert g.tensors["conv"].dtype.width > 32
    simulate(g, tmp_path, frames=2)
    assert lint(tmp_path / "rtl") == ""


@pytest.mark.parametrize("width", [33, 48, 62])
def test_requantiser_takes_any_accumulator_width(width: int) -> None:
    from accel.rtl.blocks.requant import Requant

    Requant("q", FixedType(True, width, 8), FixedType(True, 8, 4), Rounding.TRUNCATE, Overflow.WRAP, False,
            (1, 1, 2)).validate()  # fmt: skip


def test_a_type_wider_than_62_bits_names_the_node() -> None:
    """32-bit inputs and weights over 64 channels would need a 70-bit accumulator: refused naming the node."""
    from accel import AccelError

    b = GraphBuilder("too_wide")
    x = b.input("x", (2, 2, 64), FixedType(True, 32, 16))
    w = np.full((1, 1, 64, 2), -(1 << 31), dtype=np.int64)
    attrs = {"kernel": (1, 1), "stride": (1, 1), "pads": (0, 0, 0, 0), "groups": 1}
    with pytest.raises(AccelError, match=r"^node conv1 \(conv2d\): fixed-point type ap_fixed<70,23> has width 70; "
                                         r"supported widths are 1 to 62 bits\.$"):  # fmt: skip
        b.add("conv1", "conv2d", [x], attrs, {"weight": w, "bias": np.zeros(2, int)},
              {"weight": FixedType(True, 32, 1), "bias": FixedType(True, 2, 1)})  # fmt: skip


S6 = FixedType(True, 6, 2)


def _pad_graph(name: str) -> Graph:
    """The pads the RTL backend cannot fold into a window, each made by an accel_pad block."""
    rng = np.random.default_rng(5)
    w3 = FixedType(True, 4, 1)
    b = GraphBuilder(name)
    x = b.input("x", (5, 4, 2), S6)
    if name == "pad_two_readers":  # one pad read by a conv and by an add
        p = b.add("p", "pad", [x], {"pads": (1, 0, 0, 1)})
        c = b.add("c", "conv2d", [p], {"kernel": (1, 1)}, {"weight": rng.integers(-8, 8, (1, 1, 2, 2)),
                                                          "bias": np.zeros(2, int)}, {"weight": w3, "bias": S6})
        q = b.add("q", "quantize", [c], {"out_type": S6, "rounding": Rounding.ROUND_HALF_EVEN,
                                         "overflow": Overflow.SATURATE, "relu": False})  # fmt: skip
        return b.build([b.add("a", "add", [p, q])])
    if name == "pad_as_output":
        return b.build([b.add("p", "pad", [x], {"pads": (2, 1, 0, 3)})])
    if name == "pad_wider_than_the_kernel":  # ZeroPadding2D((2, 0), (1, 1)) then a 3x3 'same' depthwise conv
        p = b.add("p", "pad", [x], {"pads": (2, 0, 1, 1)})
        return b.build([b.add("dw", "depthwise_conv2d", [p], {"kernel": (3, 3), "pads": (1, 1, 1, 1)},
                              {"weight": rng.integers(-8, 8, (3, 3, 2, 1)), "bias": np.zeros(2, int)},
                              {"weight": w3, "bias": S6})])  # fmt: skip
    # a signed max pool that pads itself ('same', 3x3/1) behind a ZeroPadding2D: two kinds of padding
    p = b.add("p", "pad", [x], {"pads": (0, 1, 1, 0)})
    return b.build([b.add("mp", "maxpool", [p], {"pool": (3, 3), "stride": (1, 1), "pads": (1, 1, 1, 1)})])


@needs_iverilog
@needs_verilator
@pytest.mark.parametrize("name", ["pad_two_readers", "pad_as_output", "pad_wider_than_the_kernel",
                                  "pad_then_signed_same_maxpool"])  # fmt: skip
def test_a_pad_that_cannot_fold_is_a_block(name: str, tmp_path: Path) -> None:
    """Each was refused or crashed (several readers: a ValueError in rtl/network.py; padding reaching the
    kernel: an IndexError in the window's cycle model); now an accel_pad block streams it, exact."""
    g = _pad_graph(name)
    manifest, _ = simulate(g, tmp_path, frames=3, stall=True)
    modules = [i["module"] for layer in manifest["layers"] for i in layer["instances"]]
    assert "accel_pad" in modules, modules
    assert lint(tmp_path / "rtl") == ""
