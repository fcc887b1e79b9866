"""QKeras quantizers -> exact accel types.

Two kinds of quantizer appear in a QKeras model:

* **activation quantizers** (``QActivation``, a layer's fused ``activation``) are
  restated as a requantisation (:class:`Requant`): ``quantized_bits`` and
  ``quantized_relu`` round half to even (``tf.round``) onto a fixed grid and clip,
  which is exactly ``ap_[u]fixed`` with ``AP_RND_CONV`` and saturation;
* **weight quantizers** are *run* (in TensorFlow, on the stored float weights, as
  the layer's ``call`` does), and the float32 values they produce are converted to
  raw integers exactly (:func:`exact_raw`).  No weight is ever rounded by accel.
  With a power-of-two scale (``alpha``), ``quantized_bits``, ``binary``, ``ternary`` and ``quantized_po2`` give
  short dyadic numbers (a grid, ±1 or {-1, 0, 1} times a power of two, or signed powers of two), so the exact
  type is narrow; a float scale (``alpha='auto'``, a least-squares mean, or another number) and
  ``quantized_ulaw`` give float32 numbers, taken exactly within 32 bits, whose float32 sums QKeras may round
  (bounded by :mod:`accel.float32`).

Every setting that cannot be restated exactly is refused with an AccelError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding

SUPPORTED_ACTIVATIONS = "quantized_bits (alpha None or 1), quantized_relu, 'relu', 'linear'"
#: why a step activation (accel.frontend.step; a threshold node elsewhere) cannot be a requantisation: it is reached
#: only where one is needed, the model input and an average fused with the activation after it
_STEP_REASON = (" here (a step function, not a rounding onto a fixed-point grid, so it cannot define the input type "
                "or be fused into an average)")  # fmt: skip
ACTIVATION_REASONS = {name: _STEP_REASON for name in ("quantized_po2", "quantized_relu_po2", "binary", "ternary")}
SUPPORTED_WEIGHT_QUANTIZERS = (
    "quantized_bits, binary and ternary (or stochastic_binary, stochastic_ternary) with alpha None, 'auto', "
    "'auto_po2' or a positive number; quantized_po2; quantized_ulaw"
)
#: widest exact type accel takes for the float32 values of a float-scaled or mu-law weight quantizer (the RTL's
#: element width): a 24-bit significand plus the spread of the values' exponents
MAX_FLOAT_WEIGHT_BITS = 32


@dataclass(frozen=True)
class Requant:
    """A requantisation: the attributes of accel's ``quantize`` op."""

    out_type: FixedType
    rounding: Rounding = Rounding.ROUND_HALF_EVEN
    overflow: Overflow = Overflow.SATURATE
    relu: bool = False

    def attrs(self) -> dict[str, Any]:
        return {"out_type": self.out_type, "rounding": self.rounding, "overflow": self.overflow, "relu": self.relu}


def qname(q: Any) -> str:
    return type(q).__name__


def _plain(v: Any) -> Any:
    """Quantizer fields may be tf.Variables (use_variables=True); read their values."""
    return v.numpy() if hasattr(v, "numpy") else v


#: quantizers whose ``use_stochastic_rounding=True`` only matters in training: QKeras 0.9 rounds them
#: stochastically only under ``K.learning_phase()`` 1 (``_round_through``, ``_clip_power_of_two``); at inference
#: (learning phase 0, as in ``model.predict`` and when accel runs a quantizer) they round as without the flag
INFERENCE_ROUNDING = ("quantized_bits", "quantized_relu", "quantized_po2", "quantized_relu_po2")


def common_checks(q: Any, where: str) -> None:
    if getattr(q, "use_stochastic_rounding", False) and qname(q) not in INFERENCE_ROUNDING:
        raise AccelError(
            f"{where}: {q} uses stochastic rounding, which QKeras applies to {qname(q)} in ways accel does not "
            f"restate; supported: use_stochastic_rounding=False (or True on {', '.join(INFERENCE_ROUNDING)}, "
            "which round to nearest at inference)."
        )
    if float(_plain(getattr(q, "qnoise_factor", 1.0))) != 1.0:
        raise AccelError(f"{where}: {q} has qnoise_factor != 1 (a training-time blend); supported: qnoise_factor=1.")
    integer = getattr(q, "integer", 0)
    if integer is not None and not isinstance(integer, str) and int(_plain(integer)) < 0:
        raise AccelError(f"{where}: {q} has a negative integer ({int(_plain(integer))}), which QKeras itself cannot "
                         "run (TensorFlow's integer Pow to a negative power); supported: integer >= 0.")


def _is_unit_alpha(alpha: Any) -> bool:
    if alpha is None:
        return True
    if isinstance(alpha, str):
        return False
    try:
        return float(np.asarray(alpha).reshape(-1)[0]) == 1.0 and np.asarray(alpha).size == 1
    except (TypeError, ValueError):
        return False


def quantized_bits_type(q: Any, where: str) -> tuple[FixedType, Overflow]:
    """The exact type of ``quantized_bits(bits, integer, symmetric, keep_negative)`` and its clipping.

    QKeras computes ``clip(round(x * 2**(bits-k-integer)), lo, 2**(bits-k) - 1) * 2**(integer-bits+k)``
    with ``k = keep_negative`` and ``lo = -2**(bits-1) + symmetric`` (signed) or 0: a signed
    ``ap_fixed<bits, integer+1>`` (symmetric: clip to ``[-max, max]``) or an unsigned
    ``ap_ufixed<bits, integer>``.
    """
    bits, integer = int(_plain(q.bits)), int(_plain(q.integer))
    keep_negative = bool(q.keep_negative)
    if bits - keep_negative <= 0:
        raise AccelError(f"{where}: {q} is a 1-bit sign quantizer; supported: quantized_bits with 2 or more bits.")
    if keep_negative:
        overflow = Overflow.SATURATE_SYMMETRIC if q.symmetric else Overflow.SATURATE
        return FixedType(True, bits, integer + 1), overflow
    return FixedType(False, bits, integer), Overflow.SATURATE


def is_softmax(act: Any) -> bool:
    """Whether an activation (a string, Keras' function or QActivation's quantizer) is a softmax."""
    return act == "softmax" or getattr(act, "__name__", None) == "softmax"


def activation_requant(q: Any, where: str) -> Requant | None:
    """Restate an activation (quantizer object, Keras function or string) as a Requant.

    Returns None for 'linear'; 'relu' is handled by the caller (it keeps the input type).
    """
    from qkeras.quantizers import get_quantizer, quantized_bits, quantized_relu

    if isinstance(q, str):
        if q in ("linear", "relu"):
            return None if q == "linear" else Requant(out_type=None, relu=True)  # type: ignore[arg-type]
        try:
            q = get_quantizer(q)
        except Exception as exc:  # noqa: BLE001  (QKeras raises several kinds)
            raise AccelError(
                f"{where}: activation '{q}' is not understood; supported: {SUPPORTED_ACTIVATIONS}."
            ) from exc
    fname = getattr(q, "__name__", None)
    if callable(q) and fname in ("linear", "relu") and not isinstance(q, (quantized_bits, quantized_relu)):
        return None if fname == "linear" else Requant(out_type=None, relu=True)  # type: ignore[arg-type]
    if isinstance(q, quantized_relu) and type(q) is quantized_relu:
        common_checks(q, where)
        if q.use_sigmoid or float(q.negative_slope) != 0.0 or q.relu_upper_bound is not None:
            raise AccelError(
                f"{where}: {q} uses use_sigmoid, negative_slope or relu_upper_bound, which have no exact "
                f"fixed-point form here; supported: {SUPPORTED_ACTIVATIONS}."
            )
        bits, integer = int(_plain(q.bits)), int(_plain(q.integer))
        return Requant(FixedType(False, bits, integer), relu=True)
    if isinstance(q, quantized_bits) and type(q) is quantized_bits:
        common_checks(q, where)
        if not _is_unit_alpha(q.alpha):
            raise AccelError(
                f"{where}: activation quantizer {q} has alpha={q.alpha!r}, a data-dependent or non-unit scale; "
                f"supported activations: {SUPPORTED_ACTIVATIONS}."
            )
        out_type, overflow = quantized_bits_type(q, where)
        return Requant(out_type, overflow=overflow)
    why = ACTIVATION_REASONS.get(qname(q), "")
    raise AccelError(
        f"{where}: activation {q if not callable(q) or fname is None else fname} ({qname(q)}) is not supported{why}; "
        f"supported: {SUPPORTED_ACTIVATIONS}."
    )


def adaptive_activation_quantizer(layer: Any) -> Any:
    """The fixed quantizer a ``QAdaptiveActivation`` applies at inference.

    Why it is one: QKeras 0.9's layer moves its integer bits with an exponential moving average of the activations
    only in training; at inference it quantizes with ``quantized_relu`` or ``quantized_bits`` of ``total_bits`` bits,
    ``alpha`` 1 and the integer bits it holds now (its ``quantizer.integer`` variable, reset from the moving
    averages, which ``get_weights`` leaves out of a saved model, at every call).  ``is_quantized_clip=False`` only
    changes the straight-through term ``x + (xq - x)``, which the float32 check of the graph covers (its ``quantize``
    node needs the input's range as well as the output's).  One integer count per channel (``per_channel=True``) is
    refused: accel's ``quantize`` has one type per tensor.
    """
    from qkeras.quantizers import quantized_bits, quantized_relu

    where = f"layer {layer.name} (QAdaptiveActivation)"
    integer = np.asarray(_plain(layer.quantizer.integer)).reshape(-1)
    if layer.per_channel and integer.size > 1 and np.unique(integer).size > 1:
        raise AccelError(f"{where} has per_channel=True with integer bits {integer.tolist()} that differ by channel; "
                         "supported: per_channel=False (one quantizer for the whole tensor).")  # fmt: skip
    from qkeras.quantizers import _get_integer_bits

    settled = np.asarray(_get_integer_bits(min_value=layer.ema_min, max_value=layer.ema_max, bits=layer.total_bits,
                                           symmetric=layer.symmetric, keep_negative=layer.keep_negative,
                                           is_clipping=layer.po2_rounding)).reshape(-1)  # fmt: skip
    if not np.array_equal(np.broadcast_to(settled, integer.shape), integer):
        raise AccelError(f"{where} holds {integer.tolist()} integer bits but its moving averages give "
                         f"{settled.tolist()}, to which its next call moves them, so QKeras's output depends on how "
                         "often the model ran; supported: a layer whose integer bits agree with its moving averages "
                         "(run the model once before converting).")  # fmt: skip
    bits, ibits = int(layer.total_bits), int(integer[0])
    if qname(layer.quantizer) == "quantized_relu":
        return quantized_relu(bits, ibits, negative_slope=float(layer.quantizer.negative_slope),
                              relu_upper_bound=layer.quantizer.relu_upper_bound)  # fmt: skip
    return quantized_bits(bits, ibits, keep_negative=True, symmetric=bool(layer.symmetric), alpha=1)


def _is_scale(alpha: Any) -> bool:
    """Weight scales accel takes: none, QKeras's own fits ('auto', 'auto_po2'), or positive finite numbers (one, or
    an array of them)."""
    if alpha is None or isinstance(alpha, str):
        return alpha in (None, "auto", "auto_po2")
    try:
        a = np.asarray(alpha, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return False
    return bool(a.size and np.all(np.isfinite(a)) and np.all(a > 0))


def is_float_scaled(q: Any) -> bool:
    """Whether a weight quantizer's values may be any float32 numbers rather than short dyadic ones: a float
    (least-squares 'auto' or a number that is not a power of two) scale, or mu-law levels."""
    if qname(q) == "quantized_ulaw":
        return True
    alpha = getattr(q, "alpha", None)
    if alpha is None or isinstance(alpha, str):
        return alpha == "auto"
    return not bool(np.all(np.frexp(np.asarray(alpha, dtype=np.float64).reshape(-1))[0] == 0.5))


def check_weight_quantizer(q: Any, where: str) -> None:
    """Refuse weight quantizers whose output accel cannot take as exact fixed-point values.

    The accepted ones are deterministic at inference (``stochastic_binary``/``stochastic_ternary`` sample only
    in training and then compute as ``binary``/``ternary``); their float32 outputs are converted exactly by
    :func:`exact_raw`.  Most are short dyadic numbers (a uniform grid, {-1, 0, 1} or {0, 1} times a power of two,
    signed powers of two).  A float scale (``alpha='auto'``, a least-squares mean, or a number that is not a power
    of two) and ``quantized_ulaw``'s mu-law levels give float32 numbers with up to 24 significant bits: accel takes
    them exactly too (within :data:`MAX_FLOAT_WEIGHT_BITS`, checked by the caller), while QKeras's float32 sums of
    them may round, which ``verify --against qkeras`` bounds (accel.float32) and the frontend warns of.
    """
    from qkeras import quantizers as qq

    if q is None:
        raise AccelError(f"{where} has no quantizer; supported: {SUPPORTED_WEIGHT_QUANTIZERS}.")
    kind = type(q)
    if isinstance(q, (qq.stochastic_binary, qq.stochastic_ternary)):
        # they sample only under K.learning_phase() 1; at inference they run binary/ternary.__call__ unchanged
        kind = qq.binary if isinstance(q, qq.stochastic_binary) else qq.ternary
    if kind not in (qq.quantized_bits, qq.binary, qq.ternary, qq.quantized_po2, qq.quantized_ulaw):
        raise AccelError(f"{where} uses {qname(q)}, which is not supported; supported: {SUPPORTED_WEIGHT_QUANTIZERS}.")
    common_checks(q, where)
    if not _is_scale(getattr(q, "alpha", None)):  # quantized_po2 and quantized_ulaw have none
        raise AccelError(f"{where} uses {q} with alpha={q.alpha!r}, which is not a scale; supported: "
                         f"{SUPPORTED_WEIGHT_QUANTIZERS}.")  # fmt: skip
    if kind is qq.quantized_bits:
        quantized_bits_type(q, where)


def run_quantizer(q: Any, values: Any) -> np.ndarray:
    """Apply a QKeras quantizer in TensorFlow to float32 values, exactly as a layer's ``call`` does."""
    import tensorflow as tf

    return np.asarray(q(tf.convert_to_tensor(values, dtype=tf.float32)).numpy(), dtype=np.float32)


def exact_raw(values: np.ndarray, what: str, max_width: int = 62) -> tuple[np.ndarray, FixedType]:
    """Raw integers and the narrowest FixedType that hold float values exactly (no rounding).

    Each nonzero float is ``m * 2**e`` with ``m`` an odd integer; the grid is the finest
    ``2**e`` needed, found with frexp.
    """
    v = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise AccelError(f"{what} contains non-finite values; only finite values are accepted.")
    frac = 0
    nz = v[v != 0]
    if nz.size:
        mant, exp = np.frexp(nz)  # nz = mant * 2**exp, 0.5 <= |mant| < 1, 53-bit mantissa
        m53 = np.ldexp(mant, 53).astype(np.int64)  # exact integer mantissa
        tz = np.array([(int(m) & -int(m)).bit_length() - 1 for m in m53.ravel()], dtype=np.int64)
        frac = int(np.max(53 - tz - exp))  # value = (m53 >> tz) * 2**(exp - 53 + tz)
    raw_f = np.ldexp(v, frac)
    if raw_f.size and np.abs(raw_f).max() >= 2.0**62:
        raise AccelError(f"{what} needs more than 62 bits to hold exactly; supported: narrower values.")
    raw = raw_f.astype(np.int64)
    lo, hi = int(raw.min(initial=0)), int(raw.max(initial=0))
    t = FixedType.covering(lo, hi, frac)
    if t.width > max_width:
        raise AccelError(
            f"{what} needs {t.width} bits ({t.hls}) to be held exactly; supported: at most {max_width} bits."
        )
    return raw, t


def magnitude_bits(t: FixedType) -> int:
    """Significand bits a float needs to hold every value of ``t`` exactly (float32 has 24)."""
    return t.width - (1 if t.signed else 0)


def log2_exact(n: int) -> int:
    return int(math.log2(n)) if n > 0 and n & (n - 1) == 0 else -1
