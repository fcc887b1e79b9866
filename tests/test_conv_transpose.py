"""Transposed convolution (QKeras ``QConv2DTranspose``, Keras ``Conv2DTranspose``): exact against TensorFlow,
QKeras, the hls4ml C simulation (io_stream and io_parallel) and the RTL co-simulation.

The frontend lowers it to ``zero_insert`` then a padded stride-1 ``conv2d`` with the kernel flipped and its
channel axes swapped (accel/frontend/lowering.py ``transpose_conv``); the op ``zero_insert`` on its own is in
tests/test_conformance.py and its RTL block (``accel_upsample`` with ``ZERO = 1``) in rtl_tests/upsample.  Here:
the lowering equals TensorFlow's own ``Conv2DTranspose`` on integer tensors (no rounding anywhere, so equality
is exact) for kernels smaller than, equal to and larger than the stride, odd sizes and non-square strides;
QKeras models with quantizers and a following QActivation are exact end to end; bad layers are refused with
one sentence naming the layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2DTranspose, quantized_bits, quantized_relu  # noqa: E402

from accel import AccelError, kernels  # noqa: E402
from accel.frontend import qkeras_tf_compat, to_graph  # noqa: E402
from accel.frontend.lowering import transpose_conv  # noqa: E402
from accel.verify import verify_against_qkeras  # noqa: E402

L = tf.keras.layers
ROOT = Path(__file__).resolve().parent.parent
qkeras_tf_compat()  # QKeras 0.9's QConv2DTranspose needs it on TensorFlow 2.14

# (input (h, w, c), filters, kernel, strides, padding)
GEOMETRIES = [
    ((4, 5, 2), 3, (3, 3), (2, 2), "same"),
    ((4, 5, 2), 3, (2, 2), (2, 2), "valid"),
    ((5, 3, 3), 2, (3, 3), (1, 1), "same"),
    ((5, 3, 3), 2, (3, 3), (1, 1), "valid"),
    ((3, 5, 2), 2, (3, 2), (2, 3), "same"),
    ((3, 5, 2), 2, (3, 2), (2, 3), "valid"),
    ((3, 3, 1), 2, (1, 1), (2, 2), "valid"),  # kernel smaller than the stride
    ((3, 4, 2), 2, (2, 1), (3, 2), "same"),
    ((2, 3, 2), 1, (5, 4), (2, 3), "same"),  # kernel larger than the stride, odd excess
    ((2, 3, 2), 1, (5, 4), (2, 3), "valid"),
    ((1, 1, 3), 2, (4, 4), (4, 4), "same"),
]


def _ids(case) -> str:
    shape, f, k, s, p = case
    return f"{'x'.join(map(str, shape))}_k{k[0]}{k[1]}_s{s[0]}{s[1]}_{p}"


@pytest.mark.parametrize("case", GEOMETRIES, ids=[_ids(c) for c in GEOMETRIES])
def test_lowering_equals_tensorflow_on_integers(case) -> None:
    """Integer inputs and kernel (|values| < 8): TensorFlow's float result is exact, so the lowering (zero
    insertion, the derived padding, the flipped kernel) must equal it element for element, shape included."""
    shape, filters, kernel, strides, padding = case
    layer = L.Conv2DTranspose(filters, kernel, strides=strides, padding=padding, use_bias=False)
    layer.build((None, *shape))
    rng = np.random.default_rng(sum(shape) + 10 * filters)
    w = rng.integers(-7, 8, size=(*kernel, filters, shape[2]))
    layer.kernel.assign(w.astype(np.float32))
    x = rng.integers(-7, 8, size=(3, *shape))
    expected = layer(x.astype(np.float32)).numpy()
    assert np.all(expected == np.round(expected))
    weight, k, pads = transpose_conv(layer, shape, w, strides)
    z = kernels.zero_insert(x, strides)
    got = kernels.conv2d(z, weight, np.zeros(filters, dtype=np.int64), stride=(1, 1), pads=pads)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected.astype(np.int64))


def _model(shape=(5, 6, 3), kernel=(3, 3), strides=(2, 2), padding="same", use_bias=True,
           bias_quantizer=True) -> tf.keras.Model:  # fmt: skip
    """input quantizer -> QConv2DTranspose (quantized kernel and bias) -> QActivation -> a second, stride-1
    QConv2DTranspose with a fused activation."""
    x = tf.keras.Input(shape, name="img")
    h = QActivation(quantized_bits(6, 2, alpha=1), name="inq")(x)
    h = QConv2DTranspose(4, kernel, strides=strides, padding=padding, use_bias=use_bias, name="up",
                         kernel_quantizer=quantized_bits(5, 0, alpha=1),
                         bias_quantizer=quantized_bits(6, 2, alpha=1) if bias_quantizer else None)(h)  # fmt: skip
    h = QActivation(quantized_relu(6, 3), name="act")(h)
    y = QConv2DTranspose(2, (2, 2), padding="same", name="smooth", kernel_quantizer=quantized_bits(4, 0, alpha=1),
                         bias_quantizer=quantized_bits(6, 2, alpha=1), activation=quantized_bits(8, 3, alpha=1))(h)
    m = tf.keras.Model(x, y, name="upnet")
    rng = np.random.default_rng(7)
    for v in m.weights:
        v.assign(rng.normal(0, 0.4, v.shape).astype(np.float32))
    if not bias_quantizer and use_bias:  # an unquantized bias must be exact: put it on a grid
        b = m.get_layer("up").bias
        b.assign(np.round(b.numpy() * 4) / 4)
    return m


MODELS = {
    "k3_s2_same": {},
    "k2_s2_valid": {"kernel": (2, 2), "padding": "valid"},
    "k3_s1_valid_odd": {"shape": (5, 3, 3), "strides": (1, 1), "padding": "valid"},
    "k3x2_s2x3_same_nobias": {"shape": (3, 4, 2), "kernel": (3, 2), "strides": (2, 3), "use_bias": False},
    "k3_s3_valid_float_bias": {"shape": (3, 3, 2), "strides": (3, 3), "padding": "valid", "bias_quantizer": False},
}


@pytest.mark.parametrize("name", list(MODELS))
def test_model_is_exact_against_qkeras(name: str) -> None:
    m = _model(**MODELS[name])
    g = to_graph(m)
    ops = [n.op for n in g.nodes]
    assert "conv2d" in ops and ("zero_insert" in ops) == (MODELS[name].get("strides", (2, 2)) != (1, 1))
    assert g.tensors["smooth"].shape == tuple(m.output_shape[1:])
    r = verify_against_qkeras(m, g, 300, seed=1)
    assert (r.samples, r.mismatches) == (300, 0), r.first_divergence


@pytest.mark.slow
def test_saved_model_verifies_from_the_command_line(tmp_path: Path) -> None:
    """A saved .h5 QConv2DTranspose model, verified by ``accel verify`` in a fresh process: loading it runs QKeras's
    ``call``, which needs :func:`qkeras_tf_compat` on TensorFlow 2.14 (load_keras applies it)."""
    path = tmp_path / "upnet.h5"
    _model(shape=(3, 4, 2)).save(str(path))
    argv = [sys.executable, "-m", "accel.cli", "verify", str(path), "--against", "qkeras", "--samples", "100", "--json"]
    r = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert (result["samples"], result["mismatches"]) == (100, 0)


def test_plain_keras_layer_is_lowered_like_the_qkeras_one() -> None:
    """A Keras Conv2DTranspose has no kernel quantizer: refused by the sentence for any unquantized kernel."""
    x = tf.keras.Input((3, 3, 2))
    h = QActivation(quantized_bits(6, 2, alpha=1))(x)
    m = tf.keras.Model(x, L.Conv2DTranspose(2, 3, strides=2, name="tc")(h))
    with pytest.raises(AccelError, match=r"layer tc \(Conv2DTranspose\) kernel has no quantizer; supported: "
                                         r"QConv2DTranspose with kernel_quantizer set"):
        to_graph(m)


@pytest.mark.parametrize("kw,match", [
    ({"dilation_rate": (2, 2)}, r"layer bad has dilation_rate \(2, 2\); supported: \(1, 1\)\."),
    ({"output_padding": (1, 1), "strides": (2, 2)}, r"layer bad \(Conv2DTranspose\) has output_padding \(1, 1\); "
                                                     r"supported: None"),
])  # fmt: skip
def test_bad_transposed_convs_are_refused(kw, match) -> None:
    x = tf.keras.Input((4, 4, 2))
    h = QActivation(quantized_bits(6, 2, alpha=1))(x)
    m = tf.keras.Model(x, L.Conv2DTranspose(2, 3, name="bad", **kw)(h))
    with pytest.raises(AccelError, match=match):
        to_graph(m)


#: the backends get a square and a non-square transposed conv (each followed by a stride-1 one)
BACKEND_MODELS = ["k3_s2_same", "k3x2_s2x3_same_nobias"]


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("name", BACKEND_MODELS)
@pytest.mark.parametrize("io_type", ["io_stream", "io_parallel"])
def test_model_is_exact_against_hls(io_type: str, name: str, tmp_path: Path) -> None:
    from accel.hls import verify_against_hls

    m = _model(**(MODELS[name] | {"shape": MODELS[name].get("shape", (4, 5, 2))}))
    r = verify_against_hls(m, to_graph(m), 20, io_type=io_type, seed=2, output_dir=tmp_path)
    assert (r.samples, r.mismatches) == (20, 0), r.first_divergence


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("name", BACKEND_MODELS)
def test_model_is_exact_against_rtl(name: str, tmp_path: Path) -> None:
    from accel.rtl.verify import verify_against_rtl

    m = _model(**(MODELS[name] | {"shape": MODELS[name].get("shape", (4, 5, 2))}))
    r = verify_against_rtl(m, to_graph(m), 3, seed=3, output_dir=tmp_path)
    assert (r.samples, r.mismatches, r.problems) == (3, 0, []), r.first_divergence
