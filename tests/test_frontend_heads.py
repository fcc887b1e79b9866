"""Published models go in (issue 13, items 1-2): ``--input-type`` for a model without an input quantizer and
``--softmax argmax|drop`` for a model ending in a softmax.

The models are built here with QKeras layers (no quantizer after the input, as in most published QKeras models)
and checked through the ``accel`` command: exact against QKeras, the hls4ml C simulation and the RTL
co-simulation; refused with one sentence naming the option when it is missing.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu  # noqa: E402

import accel.verify  # noqa: E402
from accel import AccelError  # noqa: E402
from accel.cli import main  # noqa: E402
from accel.fixed import FixedType  # noqa: E402
from accel.frontend import to_graph  # noqa: E402
from accel.reference import execute  # noqa: E402
from accel.verify import verify_against_qkeras  # noqa: E402

L = tf.keras.layers
HLS4ML_DEFAULT = "ap_fixed<16,6>"


def _kq() -> quantized_bits:
    return quantized_bits(4, 0, alpha=1)


def _bq() -> quantized_bits:
    return quantized_bits(8, 3, alpha=1)


def _randomize(model: tf.keras.Model, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(0, 0.5, w.shape).astype(np.float32))


def no_input_quantizer_model(head: str | None = None, seed: int = 1) -> tf.keras.Model:
    """QConv2D 1x1 reading the raw input, a QActivation, then (optionally) a QDense with a softmax ``head``:
    'layer' (Activation('softmax')), 'softmax' (keras Softmax), 'qact' (QActivation('softmax')), 'fused'
    (QDense(activation='softmax'))."""
    inp = tf.keras.Input((4, 4, 3), name="pixels")
    x = QConv2D(4, 1, kernel_quantizer=_kq(), bias_quantizer=_bq(), name="conv")(inp)
    x = QActivation(quantized_relu(6, 2), name="act")(x)
    if head is not None:
        x = L.Flatten(name="flat")(x)
        x = QDense(5, kernel_quantizer=_kq(), bias_quantizer=_bq(), name="logits",
                   activation="softmax" if head == "fused" else None)(x)  # fmt: skip
        if head == "layer":
            x = L.Activation("softmax", name="probs")(x)
        elif head == "softmax":
            x = L.Softmax(name="probs")(x)
        elif head == "qact":
            x = QActivation("softmax", name="probs")(x)
    model = tf.keras.Model(inp, x, name=f"noinq_{head or 'plain'}")
    _randomize(model, seed)
    return model


@pytest.fixture(scope="module")
def h5_files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("published")
    files = {}
    for head in (None, "layer", "fused"):
        path = d / f"noinq_{head or 'plain'}.h5"
        no_input_quantizer_model(head).save(str(path))
        files[head or "plain"] = str(path)
    return files


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- --input-type ---------------------------------------------------------------------------------------------------


def test_model_without_input_quantizer_is_refused_naming_the_option(h5_files, capsys) -> None:
    code, _, err = _run(["inspect", h5_files["plain"]], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "layer conv (QConv2D) reads the model input" in lines[0]
    assert "--input-type 'ap_fixed<16,6>'" in lines[0]
    with pytest.raises(AccelError, match="--input-type 'ap_fixed<16,6>'"):
        to_graph(no_input_quantizer_model())


@pytest.mark.parametrize("spelling", [HLS4ML_DEFAULT, "ap_ufixed<8,0>", " ap_fixed< 12 , 3 > "])
def test_input_type_types_the_model_input(spelling: str) -> None:
    graph = to_graph(no_input_quantizer_model(), input_type=spelling)
    assert graph.inputs == ("pixels",)
    assert graph.tensors["pixels"].dtype == FixedType.parse(spelling)
    assert graph.nodes[0].inputs == ("pixels",) and graph.nodes[0].source == "conv"


@pytest.mark.parametrize("spelling", [HLS4ML_DEFAULT, "ap_ufixed<8,0>", "ap_fixed<10,2>"])
def test_input_type_is_exact_against_qkeras(spelling: str) -> None:
    model = no_input_quantizer_model()
    graph = to_graph(model, input_type=spelling)
    result = verify_against_qkeras(model, graph, samples=500, seed=3)
    assert result.mismatches == 0, result.to_json()
    # the first layer really sees the whole grid: the finest fractional bit and values near both ends of the range
    raw = accel.verify.random_inputs(graph, 500, 3)
    t = FixedType.parse(spelling)
    span = t.max_raw - t.min_raw
    assert raw.min() < t.min_raw + span / 20 and raw.max() > t.max_raw - span / 20 and np.any(raw % 2)


def test_verify_against_qkeras_from_the_command_line(h5_files, capsys) -> None:
    code, out, _ = _run(["verify", h5_files["plain"], "--input-type", HLS4ML_DEFAULT, "--against", "qkeras",
                         "--samples", "300", "--json"], capsys)  # fmt: skip
    result = json.loads(out)
    assert code == 0 and result["mismatches"] == 0 and result["samples"] == 300, out


def test_a_wrong_input_type_would_be_a_mismatch() -> None:
    """The comparison can fail: a graph typed ap_fixed<16,6> whose input is fed to QKeras on another grid."""
    model = no_input_quantizer_model()
    graph = to_graph(model, input_type=HLS4ML_DEFAULT)
    raw = accel.verify.random_inputs(graph, 50, 0)
    ref = execute(graph, raw).outputs[graph.outputs[0]]
    keras = model.predict(FixedType.parse("ap_fixed<16,7>").to_float(raw).astype(np.float32), verbose=0)
    got, ok = accel.verify.float_to_raw(keras.reshape(50, -1), graph.tensors[graph.outputs[0]].dtype)
    assert not (ok.all() and np.array_equal(got, ref.reshape(50, -1)))


def test_input_type_before_an_input_quantizer_quantizes_the_typed_input() -> None:
    """As hls4ml does: the input layer has the given type and the QActivation after it is an ordinary quantize."""
    inp = tf.keras.Input((3, 3, 2), name="x")
    h = QActivation(quantized_bits(6, 2, alpha=1), name="inq")(inp)
    model = tf.keras.Model(inp, QConv2D(3, 1, kernel_quantizer=_kq(), bias_quantizer=_bq(), name="c")(h))
    _randomize(model, 2)
    assert to_graph(model).inputs == ("inq",)  # without the option the quantizer defines the input, as before
    graph = to_graph(model, input_type=HLS4ML_DEFAULT)
    assert graph.inputs == ("x",) and graph.tensors["x"].dtype == FixedType.parse(HLS4ML_DEFAULT)
    assert [(n.name, n.op) for n in graph.nodes] == [("inq", "quantize"), ("c", "conv2d")]
    assert verify_against_qkeras(model, graph, samples=500, seed=1).mismatches == 0


@pytest.mark.parametrize(("spelling", "words"), [
    ("ap_fixed<16>", "is not a fixed-point type"), ("float32", "is not a fixed-point type"),
    ("ap_fixed<70,6>", "supported widths"), ("ap_fixed<1,1>", "at least 2 bits"),
])  # fmt: skip
def test_bad_input_type_is_one_sentence_naming_the_option(spelling: str, words: str, capsys) -> None:
    code, _, err = _run(["inspect", "digits", "--input-type", spelling], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("accel: error: "), err
    assert "--input-type" in lines[0] and words in lines[0], lines[0]
    with pytest.raises(AccelError, match="input_type="):
        to_graph(no_input_quantizer_model(), input_type=spelling)


def test_hls4ml_input_layer_gets_the_input_type() -> None:
    """The hls4ml config types the input layer with the given type (convert only; the C simulation is below)."""
    from accel.hls.convert import hls_config
    from accel.hls.lower import lower

    graph = to_graph(no_input_quantizer_model(), input_type="ap_fixed<13,5>")
    config = hls_config(graph, lower(graph, "io_stream", "Latency", ()))
    assert config["LayerName"]["pixels"]["Precision"]["result"] == "ap_fixed<13,5>"


@pytest.mark.slow
@pytest.mark.parametrize(("head", "io"), [("drop", "stream"), ("argmax", "stream"), ("argmax", "parallel")])
def test_input_type_and_head_are_exact_against_the_hls_c_simulation(h5_files, capsys, tmp_path, head: str,
                                                                     io: str) -> None:  # fmt: skip
    code, out, _ = _run(["verify", h5_files["layer"], "--input-type", HLS4ML_DEFAULT, "--softmax", head,
                         "--against", "hls", "--io", io, "--samples", "20", "--output-dir", str(tmp_path), "--json"],
                        capsys)  # fmt: skip
    result = json.loads(out)
    assert code == 0 and result["mismatches"] == 0 and result["samples"] == 20, out


@pytest.mark.slow
def test_input_type_is_exact_against_the_rtl_cosimulation_and_the_build_remembers_it(h5_files, capsys,
                                                                                      tmp_path) -> None:  # fmt: skip
    for head in ("drop", "argmax"):
        code, out, _ = _run(["verify", h5_files["fused"], "--input-type", HLS4ML_DEFAULT, "--softmax", head,
                             "--against", "rtl", "--samples", "3", "--json"], capsys)  # fmt: skip
        result = json.loads(out)
        assert code == 0 and result["mismatches"] == 0 and result["samples"] == 3, out
    build = tmp_path / "b"
    code, out, _ = _run(["build", h5_files["fused"], "--input-type", "ap_fixed< 16,6>", "--softmax", "drop",
                         "--backend", "rtl", "-o", str(build), "--json"], capsys)  # fmt: skip
    assert code == 0, out
    manifest = json.loads((build / "build.json").read_text())
    assert manifest["input"]["type"] == HLS4ML_DEFAULT and manifest["output"]["name"] == "logits"
    assert (manifest["input_type"], manifest["softmax"]) == (HLS4ML_DEFAULT, "drop")
    code, out, _ = _run(["verify", str(build), "--against", "rtl", "--samples", "2", "--json"], capsys)
    assert code == 0 and json.loads(out)["mismatches"] == 0, out
    code, _, err = _run(["verify", str(build), "--against", "rtl", "--input-type", HLS4ML_DEFAULT], capsys)
    assert code == 2 and "--input-type applies only to `accel verify MODEL`" in err, err


# -- --softmax drop ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", ["layer", "softmax", "qact", "fused"])
def test_softmax_drop_ends_the_graph_at_the_logits_exactly(head: str) -> None:
    model = no_input_quantizer_model(head)
    graph = to_graph(model, input_type=HLS4ML_DEFAULT, softmax="drop")
    last = graph.node(graph.outputs[0])
    assert graph.outputs == ("logits",) and last.op == "conv2d" and last.source == "logits"
    assert last.matches_source == (head != "fused")  # Keras' own 'logits' output is softmaxed when fused
    result = verify_against_qkeras(model, graph, samples=500, seed=4)
    assert result.mismatches == 0, result.to_json()


@pytest.mark.parametrize("head", ["layer", "fused"])
def test_comparing_with_the_softmax_output_would_fail(head: str, monkeypatch) -> None:
    """verify really compares with QKeras' logits: given the model's own (softmax) output instead, it fails."""
    model = no_input_quantizer_model(head)
    graph = to_graph(model, input_type=HLS4ML_DEFAULT, softmax="drop")
    monkeypatch.setattr(accel.verify, "keras_outputs_model", lambda m, g: m)
    assert verify_against_qkeras(model, graph, samples=50, seed=4).mismatches == 50


def test_model_is_unchanged_by_the_logits_probe() -> None:
    model = no_input_quantizer_model("fused")
    x = np.random.default_rng(0).uniform(-4, 4, (8, 4, 4, 3)).astype(np.float32)
    before = model.predict(x, verbose=0)
    accel.verify.keras_outputs_model(model, to_graph(model, input_type=HLS4ML_DEFAULT, softmax="drop"))
    after = model.predict(x, verbose=0)
    assert np.array_equal(before, after) and np.allclose(after.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("head", ["layer", "softmax", "qact", "fused"])
def test_final_softmax_without_the_option_is_refused_naming_it(head: str) -> None:
    with pytest.raises(AccelError, match="ends the model in a softmax") as info:
        to_graph(no_input_quantizer_model(head), input_type=HLS4ML_DEFAULT)
    assert "--softmax argmax" in str(info.value) and "--softmax drop" in str(info.value)
    assert ("probs" if head in ("layer", "softmax", "qact") else "logits") in str(info.value)


def test_softmax_inside_the_network_is_refused_even_with_drop() -> None:
    inp = tf.keras.Input((4, 4, 3))
    x = L.Activation("softmax", name="inner")(inp)
    model = tf.keras.Model(inp, QConv2D(2, 1, kernel_quantizer=_kq(), name="c")(x))
    with pytest.raises(AccelError, match=r"^layer inner \(Activation\) applies a softmax inside the network.*"
                                         r"--softmax argmax or removed with --softmax drop\.$"):  # fmt: skip
        to_graph(model, input_type=HLS4ML_DEFAULT, softmax="drop")


@pytest.mark.parametrize("head", ["layer", "softmax", "qact", "fused"])
def test_softmax_argmax_is_the_class_qkeras_predicts(head: str) -> None:
    """The arg-max head equals the arg-max of QKeras' logits (what verify compares) and the class QKeras' own
    softmax output ranks first, on every sample."""
    model = no_input_quantizer_model(head)
    graph = to_graph(model, input_type=HLS4ML_DEFAULT, softmax="argmax")
    (out,) = graph.outputs
    node = graph.node(out)
    assert node.op == "argmax" and out == ("logits_argmax" if head == "fused" else "probs")
    assert graph.tensors[out].shape == (1, 1, 1) and graph.tensors[out].dtype == FixedType(False, 3, 3)
    result = verify_against_qkeras(model, graph, samples=500, seed=5)
    assert result.mismatches == 0, result.to_json()
    raw = accel.verify.random_inputs(graph, 500, 5)
    probs = model.predict(graph.tensors[graph.inputs[0]].dtype.to_float(raw).astype(np.float32), verbose=0)
    classes = execute(graph, raw).outputs[out].reshape(-1)
    assert np.array_equal(classes, np.argmax(probs, axis=-1)) and len(np.unique(classes)) > 2


def test_argmax_ties_go_to_the_lowest_index_as_in_numpy() -> None:
    """Equal logits (a narrow logits type makes them common): the lowest index wins, in the reference and in
    the comparison with QKeras."""
    inp = tf.keras.Input((2,), name="x")
    logits = QDense(4, kernel_quantizer=quantized_bits(2, 1, alpha=1), use_bias=False, name="logits")(inp)
    model = tf.keras.Model(inp, L.Activation("softmax", name="probs")(logits))
    model.get_layer("logits").kernel.assign(np.array([[1, 1, 0, 1], [0, 0, 1, 0]], np.float32))
    graph = to_graph(model, input_type="ap_ufixed<2,2>", softmax="argmax")
    raw = np.array([[[[1, 1]]], [[[0, 3]]], [[[2, 0]]], [[[0, 0]]]])
    assert execute(graph, raw).outputs["probs"].reshape(-1).tolist() == [0, 2, 0, 0]
    assert verify_against_qkeras(model, graph, samples=64, seed=0).mismatches == 0


def test_inspect_with_both_options(h5_files, capsys) -> None:
    code, out, _ = _run(["inspect", h5_files["layer"], "--input-type", "ap_ufixed<8,0>", "--softmax", "drop",
                         "--json"], capsys)  # fmt: skip
    info = json.loads(out)
    assert code == 0 and info["inputs"] == ["pixels"] and info["outputs"] == ["logits"]
    assert info["layers"][0]["output_type"] == "ap_ufixed<8,0>"


def test_manifest_records_nothing_when_no_option_is_given(tmp_path: Path) -> None:
    """Builds of models with their own input quantizer keep working without the options (empty in build.json)."""
    from accel.deploy.manifest import load_build
    from accel.steps import build, load_model

    model, graph = load_model("pointwise_head")
    build(model, graph, "rtl", tmp_path)
    manifest = load_build(tmp_path)
    assert (manifest.input_type, manifest.softmax) == ("", "")


def test_pytest_plugin_passes_the_frontend_options(h5_files) -> None:
    from accel.pytest_plugin import run_verify

    (result,) = run_verify(h5_files["layer"], samples=50, input_type=HLS4ML_DEFAULT, softmax="drop")
    assert result["mismatches"] == 0 and result["samples"] == 50


def test_a_zoo_build_with_an_input_type_is_packaged_from_the_same_graph(tmp_path: Path) -> None:
    """package() regenerates a zoo model's graph for the board self-test with the options the build recorded."""
    from accel.deploy.manifest import load_build
    from accel.deploy.package import _zoo_graph
    from accel.steps import build, load_model

    model, graph = load_model("pointwise_head", input_type="ap_fixed<12,4>")
    build(model, graph, "rtl", tmp_path, input_type="ap_fixed<12,4>")
    manifest = load_build(tmp_path)
    again = _zoo_graph(manifest)
    assert manifest.input.dtype == FixedType.parse("ap_fixed<12,4>")
    assert again.tensors[again.inputs[0]].dtype == manifest.input.dtype and again.inputs == graph.inputs


def test_digits_with_an_argmax_head_keeps_its_quantised_accuracy() -> None:
    """The trained digits model with a softmax appended, converted with --softmax argmax: the reference's class
    indices on the 450 test images score what QKeras scored (models/digits_metrics.json), image by image."""
    import models
    from models import digits

    base = models.build("digits")
    model = tf.keras.Model(base.inputs, L.Activation("softmax", name="probs")(base.output))
    graph = to_graph(model, "digits_argmax", softmax="argmax")
    _, _, x_te, y_te = digits.load_split()
    spec = graph.tensors[graph.inputs[0]]
    raw = spec.dtype.from_float(x_te)
    classes = execute(graph, raw).outputs["probs"].reshape(-1)
    qkeras_classes = np.argmax(model.predict(x_te, verbose=0), axis=-1)
    assert np.array_equal(classes, qkeras_classes)
    assert int(np.sum(classes == y_te)) == digits.load_metrics()["quantized_test_correct"] == 434


def test_argmax_refuses_a_softmax_over_another_axis() -> None:
    inp = tf.keras.Input((4, 4, 3))
    x = QConv2D(5, 1, kernel_quantizer=_kq(), name="c")(inp)
    model = tf.keras.Model(inp, L.Softmax(axis=1, name="probs")(x))
    with pytest.raises(AccelError, match=r"^layer probs \(Softmax\) normalises over axis 1, not the last one"):
        to_graph(model, input_type=HLS4ML_DEFAULT, softmax="argmax")
    assert to_graph(model, input_type=HLS4ML_DEFAULT, softmax="drop").outputs == ("c",)
    per_pixel = tf.keras.Model(inp, L.Softmax(axis=3, name="probs")(x))  # the last axis, counting the batch
    graph = to_graph(per_pixel, input_type=HLS4ML_DEFAULT, softmax="argmax")
    assert graph.tensors["probs"].shape == (4, 4, 1)
    assert verify_against_qkeras(per_pixel, graph, samples=100, seed=0).mismatches == 0
