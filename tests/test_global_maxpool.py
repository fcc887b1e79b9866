"""GlobalMaxPooling2D in a QKeras model: exact against QKeras, the hls4ml C simulation (io_stream and io_parallel)
and the RTL co-simulation.  The op itself (reference, HLS, RTL on its own examples) is in tests/test_conformance.py;
here a convolution with a strongly negative bias makes some channels negative over the whole frame, where a pool
that pads or starts its maximum at zero would return 0 instead of the (negative) maximum."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2D, QDense, quantized_bits  # noqa: E402

from accel.frontend import to_graph  # noqa: E402
from accel.reference import execute  # noqa: E402
from accel.verify import random_inputs, verify_against_qkeras  # noqa: E402

L = tf.keras.layers


def _model(keepdims: bool = False) -> tf.keras.Model:
    """9x7x3 -> 3x3 conv (6 channels; the first two with small weights, biased far below zero) -> GlobalMaxPooling2D
    -> QDense."""
    x = tf.keras.Input((9, 7, 3), name="img")
    h = QActivation(quantized_bits(8, 2, alpha=1), name="inq")(x)
    h = QConv2D(6, 3, padding="same", kernel_quantizer=quantized_bits(6, 0, alpha=1), name="conv",
                bias_quantizer=quantized_bits(8, 2, alpha=1), activation=quantized_bits(7, 2, alpha=1))(h)  # fmt: skip
    h = L.GlobalMaxPooling2D(keepdims=keepdims, name="gmax")(h)
    y = QDense(4, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(8, 2, alpha=1),
               name="fc")(h)  # fmt: skip
    m = tf.keras.Model(x, y, name="gmaxnet")
    rng = np.random.default_rng(1)
    for w in m.weights:
        w.assign(rng.normal(0, 0.3, w.shape).astype(np.float32))
    conv = m.get_layer("conv")
    conv.kernel.assign(conv.kernel * np.array([0.1, 0.1, 1, 1, 1, 1], np.float32))  # small sums on those two
    conv.bias.assign(np.array([-3.5, -3.0, 0.5, 0.0, -0.5, 1.0], np.float32))
    return m


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_max_model_is_exact_against_qkeras(keepdims: bool) -> None:
    m = _model(keepdims)
    g = to_graph(m)
    gmax = g.node("gmax")
    assert gmax.op == "global_maxpool" and g.tensors["gmax"].dtype == g.tensors["conv"].dtype  # max keeps the type
    maxima = execute(g, random_inputs(g, 200, 1), trace=True).tensors["gmax"]
    assert (maxima[..., :2] < 0).mean() > 0.5  # the case that needs a real maximum, not one starting at 0
    r = verify_against_qkeras(m, g, 500, seed=1)
    assert (r.samples, r.mismatches) == (500, 0), r.first_divergence


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_stream", "io_parallel"])
def test_global_max_model_is_exact_against_hls(io_type: str, tmp_path: Path) -> None:
    from accel.hls import verify_against_hls

    m = _model()
    r = verify_against_hls(m, to_graph(m), 20, io_type=io_type, seed=2, output_dir=tmp_path)
    assert (r.samples, r.mismatches) == (20, 0), r.first_divergence


@pytest.mark.rtl
@pytest.mark.slow
def test_global_max_model_is_exact_against_rtl(tmp_path: Path) -> None:
    from accel.rtl.verify import verify_against_rtl

    m = _model()
    r = verify_against_rtl(m, to_graph(m), 3, seed=3, output_dir=tmp_path)
    assert (r.samples, r.mismatches, r.problems) == (3, 0, []), r.first_divergence
