"""A catalogue of bad inputs through the `accel` CLI: each one must end in ONE line `accel: error: ...`
on stderr that names the offending layer or file, a non-zero exit, and no traceback.

The bad models are built here with QKeras and saved to ``tmp_path`` as .h5 files.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from accel.cli import main  # noqa: E402

tf = pytest.importorskip("tensorflow")
qkeras = pytest.importorskip("qkeras")
keras = tf.keras
QActivation, QConv2D, QDense = qkeras.QActivation, qkeras.QConv2D, qkeras.QDense
quantized_bits, quantized_relu = qkeras.quantized_bits, qkeras.quantized_relu


def _save(model, path: Path) -> str:
    model.save(str(path))
    return str(path)


def _input_q(shape=(8, 8, 2)):
    inp = keras.Input(shape)
    return inp, QActivation(quantized_bits(8, 0, 1), name="in_q")(inp)


def _conv(name: str, **kw):
    kw.setdefault("kernel_quantizer", quantized_bits(4, 0, 1, alpha=1))
    kw.setdefault("bias_quantizer", quantized_bits(8, 3, 1))
    return QConv2D(4, 1, name=name, **kw)


def _model(build) -> keras.Model:
    inp, x = _input_q()
    return keras.Model(inp, build(x))


# Each case: (id, builder of argv given tmp_path, text that must appear in the message)
def _unsupported_layer(tmp: Path) -> list[str]:
    m = _model(lambda x: keras.layers.LocallyConnected2D(2, 3, name="locconv")(x))
    return ["inspect", _save(m, tmp / "t.h5")]


def _transpose_output_padding(tmp: Path) -> list[str]:
    m = _model(lambda x: keras.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1, name="upconv")(x))
    return ["inspect", _save(m, tmp / "tp.h5")]


def _lstm(tmp: Path) -> list[str]:
    inp = keras.Input((8, 4))
    x = QActivation(quantized_bits(8, 0, 1), name="in_q")(inp)
    m = keras.Model(inp, keras.layers.LSTM(3, name="rnn")(x))
    return ["inspect", _save(m, tmp / "lstm.h5")]


def _no_kernel_quantizer(tmp: Path) -> list[str]:
    m = _model(lambda x: _conv("conv_nq", kernel_quantizer=None)(x))
    return ["inspect", _save(m, tmp / "nq.h5")]


def _alpha(tmp: Path) -> list[str]:
    m = _model(lambda x: QActivation(quantized_bits(4, 0, 1, alpha="auto"), name="act_alpha")(_conv("conv")(x)))
    return ["inspect", _save(m, tmp / "alpha.h5")]


def _no_input_quantizer(tmp: Path) -> list[str]:
    inp = keras.Input((8, 8, 2))
    m = keras.Model(inp, _conv("conv_first")(inp))
    return ["inspect", _save(m, tmp / "noin.h5")]


def _final_softmax(tmp: Path) -> list[str]:
    inp = keras.Input((8, 8, 2))
    x = keras.layers.Flatten()(_conv("conv_first")(inp))
    m = keras.Model(inp, keras.layers.Activation("softmax", name="probs")(x))
    return ["inspect", _save(m, tmp / "head.h5"), "--input-type", "ap_fixed<16,6>"]


def _inner_softmax(tmp: Path) -> list[str]:
    m = _model(lambda x: _conv("conv_after")(keras.layers.Softmax(name="inner_softmax")(x)))
    return ["inspect", _save(m, tmp / "inner.h5"), "--softmax", "drop"]


def _wide_float_weights(tmp: Path) -> list[str]:
    # 0.3's 24-bit significand times a 16-bit grid, rounded to float32: 1e-4 and 0.29 lie 2**11 apart, so the
    # exact values need more than 32 bits
    m = _model(lambda x: _conv("conv_wide", kernel_quantizer=qkeras.quantized_bits(16, 0, 1, alpha=0.3))(x))
    w = m.get_layer("conv_wide").kernel.numpy()
    w.flat[:2] = [1e-4, 0.29]
    m.get_layer("conv_wide").kernel.assign(w)
    return ["inspect", _save(m, tmp / "wide.h5")]


def _avgpool_same(tmp: Path) -> list[str]:
    def build(x):
        x = keras.layers.AveragePooling2D(3, strides=2, padding="same", name="pool_same")(x)
        return QActivation(quantized_bits(8, 2, 1), name="pool_q")(x)

    return ["inspect", _save(_model(build), tmp / "avg.h5")]


def _non_hdf5(tmp: Path) -> list[str]:
    p = tmp / "notes.h5"
    p.write_text("this is not a model\n")
    return ["inspect", str(p)]


def _hdf5_not_keras(tmp: Path) -> list[str]:
    import h5py

    p = tmp / "data.h5"
    with h5py.File(p, "w") as f:
        f["x"] = [1, 2, 3]
    return ["inspect", str(p)]


def _undefined_size(tmp: Path) -> list[str]:
    inp = keras.Input((None, None, 2))
    x = QActivation(quantized_bits(8, 0, 1), name="in_any")(inp)
    return ["inspect", _save(keras.Model(inp, _conv("conv_any")(x)), tmp / "any.h5")]


def _negative_integer(tmp: Path) -> list[str]:
    conv = _conv("conv_negint", kernel_quantizer=quantized_bits(8, -2, 1, alpha=1))
    return ["inspect", _save(_model(conv), tmp / "negint.h5")]


def _bit_flipped(tmp: Path) -> list[str]:
    """A saved model with bytes flipped throughout its data (as a bad download or disk)."""
    path = Path(_save(_model(_conv("conv_ok")), tmp / "flipped.h5"))
    data = bytearray(path.read_bytes())
    for k in range(2048, len(data), 997):
        data[k] ^= 0x55
    path.write_bytes(bytes(data))
    return ["verify", str(path)]


def _not_a_build_folder(tmp: Path) -> list[str]:
    (tmp / "mine").mkdir()
    (tmp / "mine" / "notes.txt").write_text("not a build")
    return ["build", "digits", "--backend", "rtl", "-o", str(tmp / "mine")]


def _identity(tmp: Path) -> list[str]:
    inp = keras.Input((4, 4, 2))
    x = QActivation("quantized_relu(4, 2)", name="in_relu")(inp)  # types the input: no node of its own
    return ["inspect", _save(keras.Model(inp, keras.layers.Dropout(0.5, name="drop_only")(x)), tmp / "same.h5")]


def _file(tmp: Path) -> Path:
    """A plain file where a folder is asked for."""
    f = tmp / "afile"
    f.write_text("not a folder")
    return f


CASES = [
    ("unknown-zoo-name", lambda tmp: ["inspect", "no_such_model"], "no_such_model"),
    ("missing-file", lambda tmp: ["inspect", str(tmp / "missing.h5")], "missing.h5"),
    ("non-hdf5-file", _non_hdf5, "notes.h5"),
    ("hdf5-not-keras", _hdf5_not_keras, "data.h5"),
    ("unsupported-locallyconnected2d", _unsupported_layer, "locconv"),
    ("conv2dtranspose-output-padding", _transpose_output_padding, "upconv"),
    ("unsupported-lstm", _lstm, "rnn"),
    ("conv-without-kernel-quantizer", _no_kernel_quantizer, "conv_nq"),
    ("activation-with-a-per-batch-alpha", _alpha, "act_alpha"),
    ("no-input-quantizer", _no_input_quantizer, "conv_first"),
    ("no-input-quantizer-names-the-option", _no_input_quantizer, "--input-type 'ap_fixed<16,6>'"),
    ("bad-input-type", lambda tmp: ["inspect", "digits", "--input-type", "fixed16"], "--input-type"),
    ("final-softmax-names-the-option", _final_softmax, "--softmax argmax"),
    ("softmax-inside-the-network", _inner_softmax, "inner_softmax"),
    ("unknown-softmax-head", lambda tmp: ["inspect", "digits", "--softmax", "max"], "--softmax"),
    ("float-scaled-weights-over-32-bits", _wide_float_weights, "conv_wide"),
    ("avgpool-same-padding", _avgpool_same, "pool_same"),
    ("bad-samples", lambda tmp: ["verify", "digits", "--samples", "-3"], "--samples"),
    ("non-numeric-samples", lambda tmp: ["verify", "digits", "--samples", "many"], "--samples"),
    ("unknown-backend", lambda tmp: ["verify", "digits", "--against", "gpu"], "--against"),
    ("unknown-hls-io-type", lambda tmp: ["verify", "digits", "--against", "hls", "--io", "axi"], "--io"),
    ("build-without-backend", lambda tmp: ["build", "digits", "-o", str(tmp / "out")], "--backend"),
    ("unknown-board", lambda tmp: ["build", "digits", "--backend", "rtl", "--board", "zcu", "-o", str(tmp)], "zcu"),
    ("zero-clock-rtl", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(tmp), "--clock-ns", "0"], "clock"),
    ("bad-part-rtl", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(tmp), "--part", "z80"], "z80"),
    ("report-not-a-build", lambda tmp: ["report", str(tmp / "not_a_build")], "not_a_build"),
    ("package-not-a-build", lambda tmp: ["package", str(tmp / "not_a_build")], "not_a_build"),
    ("missing-folding-file", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(tmp / "o"), "--folding",
                                          str(tmp / "f.json")], "f.json"),
    ("unknown-command", lambda tmp: ["synthesize", "digits"], "synthesize"),
    ("negative-seed", lambda tmp: ["verify", "digits", "--seed", "-1"], "--seed"),
    ("output-is-a-file", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(_file(tmp))], "afile"),
    ("output-under-a-file", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(_file(tmp) / "x")],
     "afile"),
    ("verify-output-dir-is-a-file", lambda tmp: ["verify", "digits", "--against", "rtl", "--output-dir",
                                                 str(_file(tmp))], "afile"),
    ("demo-output-is-a-file", lambda tmp: ["demo", "-o", str(_file(tmp))], "afile"),
    ("undefined-input-size", _undefined_size, "in_any"),
    ("negative-quantizer-integer", _negative_integer, "conv_negint"),
    ("bit-flipped-model-file", _bit_flipped, "flipped.h5"),
    ("build-into-a-folder-that-is-not-a-build", _not_a_build_folder, "mine"),
    ("budget-over-one", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(tmp), "--budget", "2"],
     "--budget"),
    ("target-ii-zero", lambda tmp: ["verify", "digits", "--against", "rtl", "--target-ii", "0"], "--target-ii"),
    ("non-numeric-clock", lambda tmp: ["build", "digits", "--backend", "rtl", "-o", str(tmp), "--clock-ns", "fast"],
     "--clock-ns"),
    ("unknown-simulator", lambda tmp: ["verify", "digits", "--against", "rtl", "--sim", "modelsim"], "modelsim"),
    ("report-jobs-zero", lambda tmp: ["report", str(tmp), "--jobs", "0"], "--jobs"),
    ("non-numeric-seed", lambda tmp: ["verify", "digits", "--seed", "x"], "--seed"),
    ("model-that-computes-nothing", _identity, "computes nothing"),
]


def test_an_output_folder_the_system_refuses_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    """A folder the checks let through but the system refuses when it is made (as /proc/x for root): one line."""
    import accel.steps

    def refuse(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "gone"))

    monkeypatch.setattr(accel.steps, "build_rtl", refuse, raising=False)
    monkeypatch.setattr("accel.rtl.network.build_rtl", refuse)
    capsys.readouterr()
    assert main(["build", "digits", "--backend", "rtl", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"accel: error: cannot write or read {tmp_path / 'gone'}: No such file or directory; give a path "
                   "you can write to."], err


def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch) -> None:
    import accel.cli

    def interrupt(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(accel.cli, "cmd_inspect", interrupt)
    capsys.readouterr()
    assert main(["inspect", "digits"]) == 130
    assert capsys.readouterr().err == "accel: interrupted\n"


@pytest.mark.parametrize(("argv_of", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_error(tmp_path: Path, capsys, argv_of, names: str) -> None:
    argv = argv_of(tmp_path)
    capsys.readouterr()
    code = main(argv)  # an unexpected exception (a bug) propagates and fails the test with its traceback
    err = capsys.readouterr().err
    assert code == 2  # README: exit status 2 on any error (1 is reserved for differing outputs)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accel: error: "), err
    assert names in lines[0], f"the message should name {names!r}: {lines[0]}"
    assert "Traceback" not in err


@pytest.mark.parametrize(("make", "names"), [(_non_hdf5, "notes.h5"), (_unsupported_layer, "locconv")])
def test_error_from_a_real_process_is_one_line(tmp_path: Path, make, names: str) -> None:
    """In a fresh process TensorFlow's start-up logging must not add lines to stderr either."""
    import subprocess
    import sys

    argv = make(tmp_path)
    r = subprocess.run([sys.executable, "-m", "accel.cli", *argv], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accel: error: ") and names in lines[0], r.stderr
