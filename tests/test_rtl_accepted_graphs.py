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
