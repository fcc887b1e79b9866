"""The model zoo: registry, deterministic seeded weights, healthy activations, the trained digits model,
and exact conversion of every zoo model by the accel frontend (0 mismatches against QKeras)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import models  # noqa: E402
from accel import AccelError  # noqa: E402

EXPECTED = [
    "pointwise_head",
    "mobilenet_v1_tiny",
    "ds_cnn_kws",
    "squeezenet_fire",
    "inception_module",
    "mobilenet_v2_block",
    "shufflenet_unit",
    "digits",
    "vww_mobilenet_v1",
    "ic_resnet8",
    "ad_autoencoder",
]
SEEDED = [n for n in EXPECTED if n != "digits"]

_CACHE: dict[tuple[str, int], object] = {}


def _build(name: str, seed: int = 0):
    """Build once per (name, seed) for the whole module: building is the slow part of these tests."""
    key = (name, seed)
    if key not in _CACHE:
        _CACHE[key] = models.build(name, seed)
    return _CACHE[key]


def _weights(model) -> list[np.ndarray]:
    return [w for layer in model.layers for w in layer.get_weights()]


def test_names_lists_every_model() -> None:
    assert sorted(models.names()) == sorted(EXPECTED)


def test_unknown_name_raises_accel_error_listing_known_names() -> None:
    with pytest.raises(AccelError) as exc:
        models.build("resnet152")
    msg = str(exc.value)
    assert "resnet152" in msg
    for name in EXPECTED:
        assert name in msg


def test_mlperf_tiny_models_are_registered_and_left_out_of_small_names() -> None:
    """The list tests use to give the large MLPerf Tiny networks fewer samples names registered models only."""
    assert list(models.MLPERF_TINY) == ["vww_mobilenet_v1", "ic_resnet8", "ad_autoencoder"]
    assert set(models.MLPERF_TINY) <= set(models.names())
    assert models.small_names() == [n for n in models.names() if n not in models.MLPERF_TINY]
    assert "ds_cnn_kws" in models.small_names()


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(AccelError, match="registered twice"):
        models.zoo_model("digits")(lambda seed: None)


@pytest.mark.parametrize("name", EXPECTED)
def test_builds_and_first_layer_is_input_quantizer(name: str) -> None:
    model = _build(name)
    assert model.name == name
    first = model.layers[1]
    assert first.__class__.__name__ == "QActivation", f"{name}: first layer after Input is {first.name}"
    # Every conv/dense carries kernel (and, where it has a bias, bias) quantizers.
    for layer in model.layers:
        if layer.__class__.__name__ in {"QConv2D", "QDense", "QConv2DBatchnorm"}:
            assert layer.kernel_quantizer is not None, layer.name
            assert not layer.use_bias or layer.bias_quantizer is not None, layer.name
        if layer.__class__.__name__ in {"QDepthwiseConv2D", "QDepthwiseConv2DBatchnorm"}:
            assert layer.depthwise_quantizer is not None, layer.name
            assert not layer.use_bias or layer.bias_quantizer is not None, layer.name


@pytest.mark.parametrize("name", SEEDED)
def test_seeded_weights_are_deterministic_and_seed_dependent(name: str) -> None:
    a, b, c = _build(name, 0), models.build(name, 0), _build(name, 1)
    wa, wb, wc = _weights(a), _weights(b), _weights(c)
    assert len(wa) == len(wb) == len(wc) > 0
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))
    # Every trainable tensor changes with the seed (the BN iteration counter is the only constant one).
    varying = [not np.array_equal(x, z) for x, z in zip(wa, wc, strict=True) if x.size > 1]
    assert varying and all(varying)


def test_batchnorm_folding_layers_are_used_with_nontrivial_statistics() -> None:
    """At least two zoo models fold batch norm, and their statistics are not the identity defaults."""
    users = []
    for name in SEEDED:
        for layer in _build(name).layers:
            if layer.__class__.__name__ in {"QConv2DBatchnorm", "QDepthwiseConv2DBatchnorm"}:
                bn = layer.batchnorm
                assert not np.allclose(bn.moving_variance.numpy(), 1.0), layer.name
                assert not np.allclose(bn.moving_mean.numpy(), 0.0), layer.name
                assert not np.allclose(bn.gamma.numpy(), 1.0), layer.name
                users.append(name)
    assert len(set(users)) >= 2


@pytest.mark.parametrize("name", SEEDED)
def test_activations_are_neither_saturated_nor_dead(name: str) -> None:
    """On random inputs every quantised activation saturates < 20% and is non-zero > 5% of the time."""
    from models._common import activation_stats, random_inputs

    model = _build(name)
    stats = activation_stats(model, random_inputs(model, 32, seed=3))
    assert len(stats) >= 3
    for layer, (saturated, nonzero) in stats.items():
        assert saturated < 0.2, f"{name}/{layer}: {saturated:.1%} saturated"
        assert nonzero > 0.05, f"{name}/{layer}: only {nonzero:.1%} non-zero"


def test_ds_cnn_kws_follows_the_mlperf_tiny_shape() -> None:
    model = _build("ds_cnn_kws")
    assert model.input_shape == (None, 49, 10, 1)
    assert model.output_shape == (None, 12)
    conv1 = model.get_layer("conv1_bn")
    assert conv1.kernel_size == (10, 4) and conv1.strides == (2, 2) and conv1.filters == 64
    assert conv1.output_shape == (None, 25, 5, 64)
    assert sum(layer.__class__.__name__ == "QDepthwiseConv2D" for layer in model.layers) == 4
    assert all(model.get_layer(f"pw{i}_bn").filters == 64 for i in range(1, 5))
    # 8-bit weights and activations everywhere.
    for layer in model.layers:
        for attr in ("kernel_quantizer_internal", "depthwise_quantizer_internal", "quantizer"):
            q = getattr(layer, attr, None)
            if q is not None and hasattr(q, "bits"):
                assert q.bits == 8, f"{layer.name}.{attr} has {q.bits} bits"


def _layers_of(model, cls: str) -> list:
    return [layer for layer in model.layers if type(layer).__name__ == cls]


def _assert_8_bit(model) -> None:
    """Every weight and activation quantizer of ``model`` has 8 bits (the MLPerf Tiny models are int8)."""
    for layer in model.layers:
        for attr in ("kernel_quantizer_internal", "depthwise_quantizer_internal", "quantizer"):
            q = getattr(layer, attr, None)
            if q is not None and hasattr(q, "bits"):
                assert q.bits == 8, f"{model.name}: {layer.name}.{attr} has {q.bits} bits"


def test_vww_mobilenet_v1_follows_the_mlperf_tiny_shape() -> None:
    """MobileNetV1 x0.25: 3x3/2 conv to 8, 13 dw/pw blocks (stride 2 in blocks 2, 4, 6, 12), GAP, 2 classes."""
    model = _build("vww_mobilenet_v1")
    assert model.input_shape == (None, 96, 96, 3) and model.output_shape == (None, 2)
    conv1 = model.get_layer("conv1_bn")
    assert conv1.kernel_size == (3, 3) and conv1.strides == (2, 2) and conv1.output_shape == (None, 48, 48, 8)
    dws = _layers_of(model, "QDepthwiseConv2DBatchnorm")
    assert len(dws) == 13
    assert [i + 1 for i, d in enumerate(dws) if d.strides == (2, 2)] == [2, 4, 6, 12]
    assert [model.get_layer(f"pw{i}_bn").filters for i in range(1, 14)] == [16, 32, 32, 64, 64] + [128] * 6 + [256] * 2
    assert model.get_layer("pw13_bn").output_shape == (None, 3, 3, 256)
    _assert_8_bit(model)


def test_ic_resnet8_follows_the_mlperf_tiny_shape() -> None:
    """ResNet-8: 3x3 conv 16, stacks 16/32/64 (stride 2 and 1x1 shortcut in 2 and 3), GAP over 8x8, 10 classes."""
    model = _build("ic_resnet8")
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert len(_layers_of(model, "Add")) == 3 and len(_layers_of(model, "QConv2DBatchnorm")) == 7
    for stack, (filters, side) in enumerate(((16, 32), (32, 16), (64, 8)), start=1):
        assert model.get_layer(f"stack{stack}_add").output_shape == (None, side, side, filters)
    shortcuts = [layer for layer in _layers_of(model, "QConv2D") if "shortcut" in layer.name]
    assert [(s.kernel_size, s.strides) for s in shortcuts] == [((1, 1), (2, 2))] * 2
    _assert_8_bit(model)


def test_ad_autoencoder_follows_the_mlperf_tiny_shape() -> None:
    """640 -> 128 x 4 -> 8 -> 128 x 4 -> 640, batch norm folded into every hidden layer, as 1x1 convs."""
    model = _build("ad_autoencoder")
    assert model.input_shape == (None, 1, 1, 640) and model.output_shape == (None, 1, 1, 640)
    hidden = _layers_of(model, "QConv2DBatchnorm")
    assert [h.filters for h in hidden] == [128] * 4 + [8] + [128] * 4
    assert all(h.kernel_size == (1, 1) for h in hidden) and model.get_layer("dense_out").filters == 640
    _assert_8_bit(model)


def test_shufflenet_unit_shuffles_channels() -> None:
    """The Reshape/Permute/Reshape triple is ShuffleNet's shuffle: out[i*g + j] = in[j*(C/g) + i]."""
    from tensorflow import keras

    model = _build("shufflenet_unit")
    sub = keras.Model(model.get_layer("shuffle_split").input, model.get_layer("shuffle_merge").output)
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 1, 16) * np.ones((1, 8, 8, 1), np.float32)
    y = sub.predict(x, verbose=0)
    g, k = 4, 4
    expected = [j * k + i for i in range(k) for j in range(g)]
    assert y[0, 3, 5].tolist() == expected


# --- digits: the trained model -------------------------------------------------------------------------------


def test_digits_reaches_its_stored_quantised_accuracy() -> None:
    from models import digits

    metrics = digits.load_metrics()
    _, _, x_te, y_te = digits.load_split()
    assert len(y_te) == metrics["split"]["n_test"]
    correct, acc = digits.accuracy(_build("digits"), x_te, y_te)
    assert correct == metrics["quantized_test_correct"]
    assert acc == metrics["quantized_test_accuracy"]
    assert acc > 0.85
    assert metrics["float_test_accuracy"] > 0.85


def test_digits_inputs_sit_exactly_on_the_input_grid() -> None:
    """Scaled pixels are multiples of 1/256 below 1, so the 8-bit input quantizer leaves them unchanged."""
    from models import digits

    x_tr, _, x_te, _ = digits.load_split()
    x = np.concatenate([x_tr, x_te])
    assert np.array_equal(x * 256, np.round(x * 256)) and x.min() >= 0 and x.max() < 1
    q = _build("digits").get_layer("in_q").quantizer
    assert np.array_equal(np.asarray(q(x[:64])), x[:64])


def test_digits_weights_are_small_and_checked(tmp_path) -> None:
    from models import digits

    assert digits.WEIGHTS.stat().st_size < 64 * 1024
    model = digits.architecture(quantized=True)
    with pytest.raises(AccelError, match="missing"):
        digits.load_weights(model, tmp_path / "none.npz")
    np.savez(tmp_path / "bad.npz", **{"conv1/0": np.zeros((1, 1, 1, 1), np.float32)})
    with pytest.raises(AccelError, match="does not match layer conv1"):
        digits.load_weights(model, tmp_path / "bad.npz")


# --- the accel frontend converts every zoo model exactly -------------------------------------------------------


def _verify(name: str, samples: int) -> None:
    from accel.frontend import to_graph
    from accel.verify import verify_against_qkeras

    model = _build(name)
    graph = to_graph(model, name)
    result = verify_against_qkeras(model, graph, samples, seed=7)
    assert result.samples == samples
    assert result.mismatches == 0, f"{name}: {result.mismatches} mismatching samples, first {result.first_divergence}"


@pytest.mark.parametrize("name", EXPECTED)
def test_frontend_converts_zoo_model_exactly(name: str) -> None:
    _verify(name, 200)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_accel_verify_against_qkeras_on_1000_samples(name: str, capsys) -> None:
    """The Foundation issue's acceptance command, as a user types it: `accel verify M --samples 1000 --json`."""
    import json

    from accel.cli import main

    capsys.readouterr()
    code = main(["verify", name, "--against", "qkeras", "--samples", "1000", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert (result["model"], result["against"], result["samples"]) == (name, "qkeras", 1000)
    assert code == 0 and result["mismatches"] == 0, result["first_divergence"]
