"""verify --against qkeras where QKeras' float32 rounds: within the error bound is ``float32_rounded``, not a
mismatch; beyond it, or anywhere float32 is exact, any difference is still a mismatch.

The bound is checked here against Higham's inner-product bound computed independently with exact fractions, and
QKeras' actual values are checked to lie within it; the models are built so that float32 really rounds (QKeras'
values differ from the exact ones before verify is asked).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402
from fractions import Fraction  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2D, QConv2DBatchnorm, quantized_bits  # noqa: E402

import accel.verify  # noqa: E402
from accel.float32 import float32_bounds, rounding_nodes  # noqa: E402
from accel.frontend import AccelPrecisionWarning, to_graph  # noqa: E402
from accel.junit import junit_xml  # noqa: E402
from accel.reference import execute  # noqa: E402
from accel.steps import describe_verify  # noqa: E402
from accel.verify import float_to_raw, random_inputs, verify_against_qkeras  # noqa: E402
from tests.test_verify import rebuild, three_layer_model  # noqa: E402

U = Fraction(1, 2**24)


def q(bits: int, integer: int) -> quantized_bits:
    return quantized_bits(bits, integer, alpha=1)


def convert(m: tf.keras.Model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccelPrecisionWarning)
        return to_graph(m)


def randomize(m: tf.keras.Model, seed: int) -> tf.keras.Model:
    rng = np.random.default_rng(seed)
    for w in m.weights:
        w.assign(rng.normal(0, 0.3, w.shape).astype(np.float32))
    return m


@pytest.fixture(scope="module")
def chained():
    """16-bit input and kernel over a 3x3x32 window (accumulator ~40 bits), a fine 20-bit quantizer after it (so
    float32's error moves some values across a rounding boundary), then an exact 4-bit 1x1 conv."""
    x = tf.keras.Input((5, 5, 32))
    h = QActivation(q(16, 4), name="inq")(x)
    a = QConv2D(8, 3, padding="same", kernel_quantizer=q(16, 0), bias_quantizer=q(6, 0), activation=q(20, 8),
                name="wide")(h)  # fmt: skip
    y = QConv2D(4, 1, kernel_quantizer=q(4, 0), bias_quantizer=q(4, 0), name="narrow")(a)
    m = randomize(tf.keras.Model(x, y), 0)
    return m, convert(m)


def keras_layer(m: tf.keras.Model, layer: str, g, raw: np.ndarray) -> np.ndarray:
    """QKeras' value of ``layer`` on raw inputs, as raw integers of the graph tensor of that name."""
    probe = tf.keras.Model(m.inputs, m.get_layer(layer).output)
    spec = g.tensors[g.inputs[0]]
    x = spec.dtype.to_float(raw).astype(np.float32)
    out = probe.predict(x, batch_size=len(raw), verbose=0)
    k, ok = float_to_raw(out.reshape(len(raw), -1), g.tensors[layer].dtype)
    assert ok.all()
    return k


def test_float32_rounds_here_and_verify_accepts_it_within_the_bound(chained) -> None:
    m, g = chained
    assert rounding_nodes(g) == ["wide_conv", "wide"]
    raw = random_inputs(g, 200, seed=0)
    exact = execute(g, raw, trace=True).tensors
    # float32 really rounds: QKeras' quantized output differs from the exact one (values crossed a boundary)
    assert (keras_layer(m, "wide", g, raw) != exact["wide"].reshape(200, -1)).any()
    r = verify_against_qkeras(m, g, 200, seed=0, batch_size=50)
    assert (r.mismatches, r.mismatched_values, r.first_divergence) == (0, 0, None)
    f = r.float32_rounded
    assert f["values"] > 0 and 0 < f["samples"] <= 200 and 0 < f["max_error_over_bound"] <= 1
    assert f["tensors"] == ["wide_conv", "wide"]
    assert "float32 rounded within its error bound" in describe_verify(r.to_json())


def test_bound_is_highams_inner_product_bound_and_holds_for_qkeras(chained) -> None:
    """bound = floor(gamma_{n+1} * (sum |w x| + |b|)) in steps of the accumulator, n = 3*3*32 products plus the
    bias (Higham (3.4): |fl(x.y) - x.y| <= gamma_n |x|.|y|, one more rounding for the bias add); computed here
    with Fractions from the raw integers, and QKeras' accumulator (the layer without its activation) within it."""
    m, g = chained
    raw = random_inputs(g, 2, seed=5)
    trace = execute(g, raw, trace=True).tensors
    lo, hi = float32_bounds(g, trace)["wide_conv"]
    node = g.node("wide_conv")
    xt, wt, bt, at = (g.tensors["inq"].dtype, node.param_types["weight"], node.param_types["bias"],
                      g.tensors["wide_conv"].dtype)  # fmt: skip
    x = np.pad(trace["inq"], ((0, 0), (1, 1), (1, 1), (0, 0))).astype(object)
    w, b = node.params["weight"].astype(object), node.params["bias"].astype(object)
    n = 3 * 3 * 32 + 1
    gamma = n * U / (1 - n * U)
    linear = accel.verify._before_activation(m.get_layer("wide"))
    acc = tf.keras.Model(m.inputs, linear).predict(xt.to_float(raw).astype(np.float32), verbose=0)
    for s, i, j, c in [(0, 0, 0, 0), (0, 2, 3, 5), (1, 4, 4, 7), (1, 1, 2, 3)]:
        mags = Fraction(int(np.abs(x[s, i : i + 3, j : j + 3, :] * w[:, :, :, c]).sum()), 2 ** (xt.frac + wt.frac))
        total = mags + Fraction(abs(int(b[c])), 2**bt.frac)
        steps = int(gamma * total * 2**at.frac)  # floor: the bound in accumulator steps
        exact = int(trace["wide_conv"][s, i, j, c])
        assert (int(hi[s, i, j, c]) - exact, exact - int(lo[s, i, j, c])) == (steps, steps)
        assert abs(Fraction(float(acc[s, i, j, c])) - Fraction(exact, 2**at.frac)) <= gamma * total


def test_qconv2d_batchnorm_without_bias_quantizer_is_not_a_false_alarm() -> None:
    """The issue's case: a folded float32 bias (no bias quantizer) on wide inputs; every batch split agrees."""
    x = tf.keras.Input((6, 6, 16))
    h = QActivation(q(12, 3), name="inq")(x)
    y = QConv2DBatchnorm(6, 3, kernel_quantizer=q(8, 0), name="convbn")(h)
    m = tf.keras.Model(x, y)
    bn = m.get_layer("convbn").batchnorm
    rng = np.random.default_rng(3)
    m.get_layer("convbn").kernel.assign(rng.normal(0, 0.3, (3, 3, 16, 6)).astype(np.float32))
    bn.moving_mean.assign(rng.normal(0, 1, 6).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.5, 2, 6).astype(np.float32))
    bn.gamma.assign(rng.uniform(0.5, 1.5, 6).astype(np.float32))
    bn.beta.assign(rng.normal(0, 1, 6).astype(np.float32))
    g = convert(m)
    assert rounding_nodes(g) == ["convbn"]
    raw = random_inputs(g, 200, seed=0)
    assert (keras_layer(m, "convbn", g, raw) != execute(g, raw).outputs["convbn"].reshape(200, -1)).any()
    for batch in (200, 7):
        r = verify_against_qkeras(m, g, 200, seed=0, batch_size=batch)
        assert r.mismatches == 0 and r.float32_rounded["values"] > 0


def test_a_difference_beyond_the_bound_is_a_mismatch(chained) -> None:
    """One step of the 6-bit bias (1/32, its lowest bit flipped) is far beyond float32's bound here (about 2**-9)."""
    m, g = chained
    bad = rebuild(g, "wide_conv", "bias", lambda b: b ^ 1)
    r = verify_against_qkeras(m, bad, 100, seed=1)
    assert r.mismatches > 0
    assert r.first_divergence["layer"] == "wide"


def test_a_reference_moved_past_the_bound_is_a_mismatch(monkeypatch) -> None:
    """A lone wide conv (its output is the accumulator): the reference's output moved by twice its bound plus one
    step, so no float32 summation order can give QKeras' value; every sample mismatches, nothing is accepted."""
    x = tf.keras.Input((6, 6, 32))
    h = QActivation(q(16, 4), name="inq")(x)
    m = randomize(tf.keras.Model(x, QConv2D(4, 3, kernel_quantizer=q(16, 0), bias_quantizer=q(6, 0),
                                            name="wide")(h)), 0)  # fmt: skip
    g = convert(m)
    assert verify_against_qkeras(m, g, 50, seed=2).float32_rounded["values"] > 0
    real = accel.verify.execute

    def moved(graph, raw, trace=False):
        result = real(graph, raw, trace=trace)
        lo, hi = float32_bounds(graph, result.tensors)["wide"]
        result.tensors["wide"] = result.tensors["wide"] + 2 * (hi - result.tensors["wide"]) + 1
        return result

    monkeypatch.setattr(accel.verify, "execute", moved)
    r = verify_against_qkeras(m, g, 50, seed=2)
    assert r.mismatches == 50 and r.float32_rounded["values"] == 0
    assert r.first_divergence["layer"] == "wide"


def test_one_step_off_where_float32_is_exact_is_a_mismatch(chained) -> None:
    """After the wide layer: the 4-bit conv's inputs are exact wherever no value crossed a boundary, so a one-step
    change of its bias is caught and named."""
    m, g = chained
    bad = rebuild(g, "narrow", "bias", lambda b: b ^ 1)
    r = verify_against_qkeras(m, bad, 100, seed=1)
    assert r.mismatches > 0
    assert r.first_divergence["layer"] == "narrow"


def test_a_model_within_24_bits_keeps_strict_equality() -> None:
    m = three_layer_model()
    g = to_graph(m)
    assert rounding_nodes(g) == []
    r = verify_against_qkeras(m, g, 100, seed=0)
    assert r.mismatches == 0 and r.float32_rounded == {"values": 0, "samples": 0, "max_error_over_bound": 0.0,
                                                       "tensors": []}  # fmt: skip
    bad = rebuild(g, "c3", "bias", lambda b: b ^ 1)  # one step of the bias
    r = verify_against_qkeras(m, bad, 100, seed=0)
    assert r.mismatches == 100 and r.float32_rounded["values"] == 0


def test_float32_rounded_in_the_sentence_and_the_junit_report() -> None:
    rounded = {"values": 12, "samples": 5, "max_error_over_bound": 0.25, "tensors": ["c1"]}
    ok = {"model": "m", "against": "qkeras", "samples": 9, "mismatches": 0, "mismatched_values": 0,
          "first_divergence": None, "elapsed_s": 1.0, "float32_rounded": rounded}  # fmt: skip
    assert describe_verify(ok) == ("m: 9 random samples against qkeras: all outputs bit-exact except 12 values in 5 "
                                   "samples that QKeras' float32 rounded within its error bound (at most 0.25 of the "
                                   "bound; float32 may round at c1) (1.0 s).")  # fmt: skip
    bad = {**ok, "mismatches": 1, "mismatched_values": 2,
           "first_divergence": {"layer": "c2", "node": "c2", "index": [3, 0, 0, 1], "expected": 1.0, "got": 2.0}}
    assert describe_verify(bad).endswith("got 2.0; besides, 12 values in 5 samples that QKeras' float32 rounded "
                                         "within its error bound (at most 0.25 of the bound; float32 may round at "
                                         "c1).")  # fmt: skip
    failure = junit_xml([bad]).getroot().find("testsuite/testcase/failure")
    assert "float32-rounded values (within float32's error bound, not mismatches): 12 in 5 samples" in failure.text
    assert "besides, 12 values" in failure.get("message")


def test_a_wide_input_rounded_by_float32_can_move_a_quantizer_by_one_step() -> None:
    """An ap_fixed<30,10> input is fed to Keras rounded to float32: 300 + 3/128 - 2**-20 becomes the tie
    300 + 3/128 (float32's step there is 2**-15), which rounds half-even to 300 + 2/64, while the exact value rounds
    to 300 + 1/64; the bounds allow both and nothing else.  A value float32 holds (1.5) gets no leeway."""
    from accel.fixed import FixedType
    from accel.ir import GraphBuilder

    b = GraphBuilder("wide_input")
    x = b.input("x", (1, 1, 2), FixedType(True, 30, 10))
    g = b.build([b.add("q", "quantize", [x], {"out_type": FixedType(True, 16, 10)})])
    assert rounding_nodes(g) == ["x", "q"]
    raw = np.array([[[[(300 * 128 + 3) * 2**13 - 1, 3 * 2**19]]]], dtype=np.int64)  # frac 20: 2**-20 steps
    bounds = float32_bounds(g, execute(g, raw, trace=True).tensors)
    lo, hi = bounds["q"]
    assert (lo.ravel().tolist(), hi.ravel().tolist()) == ([300 * 64 + 1, 96], [300 * 64 + 2, 96])
    assert (bounds["x"][1] - bounds["x"][0]).ravel().tolist() == [1, 0]


@pytest.mark.parametrize("levels", [[-1, 1], [1, -1]], ids=["rising", "falling"])
def test_a_threshold_maps_an_input_interval_to_both_of_its_levels(levels: list[int]) -> None:
    """2**26 - 1 needs 26 significant bits: float32 rounds it up to 2**26, a threshold, so QKeras may see either
    side of it; the bound of the step's output holds both levels, whether they rise or fall (a batch normalization
    with a negative scale before a sign activation gives falling levels)."""
    from accel import kernels
    from accel.fixed import FixedType
    from accel.ir import GraphBuilder

    b = GraphBuilder("step_of_a_wide_input")
    t, lt = FixedType(True, 30, 10), FixedType(True, 2, 2)
    x = b.input("x", (1, 1, 1), t)
    thr, lvl = np.array([1 << 26], dtype=np.int64), np.array(levels, dtype=np.int64)
    g = b.build([b.add("step", "threshold", [x], {"out_type": lt}, params={"thresholds": thr, "levels": lvl},
                       param_types={"thresholds": t, "levels": lt})])  # fmt: skip
    raw = np.full((1, 1, 1, 1), (1 << 26) - 1, dtype=np.int64)
    lo, hi = float32_bounds(g, {"x": raw, "step": kernels.threshold(raw, thr, lvl)})["step"]
    assert (int(lo.item()), int(hi.item())) == (-1, 1)
