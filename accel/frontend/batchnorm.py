"""A separate (Q)BatchNormalization between a linear conv/dense layer and a quantizing activation, folded into
per-channel thresholds (as hls4ml and FINN fold batch norm + sign), exactly.

Why it can be exact.  The layer before the batch normalization (QConv2D, QDepthwiseConv2D, QDense or their Keras
forms, without an activation) outputs its accumulator ``S``: a value on a fixed-point grid, held exactly by
float32 while it needs at most 24 significant bits, so QKeras's float32 conv computes it exactly.  Keras then
normalises each channel in float32 and the activation quantizes.  Each of those steps is a monotone float32
function of ``S`` (IEEE rounding is monotone; the sign of the channel's scale decides rising or falling), so per
channel ``act(BN(fl32(S)))`` is a step function of ``S``: per-channel thresholds on the accumulator and
per-channel levels, which accel's ``threshold`` op states exactly (2-D tables, :mod:`accel.ops.threshold`).

A wider accumulator (up to :data:`MAX_ACCUMULATOR_BITS`; float-scaled weights such as ``ternary(alpha='auto')``
give one) is tabulated the same way on its float32 rounding ``fl32(S)``, the value QKeras would hold if its sum
were exact.  QKeras's actual sum ``v`` then only lies within float32's error bound of ``S``
(:mod:`accel.float32`), and since the composite is monotone, its output lies between the table's values at the
bound's two ends: ``verify --against qkeras`` accepts it there (``float32_rounded``), anything else is a mismatch.

How it is tabulated.  Never from a re-derived formula (fused and non-fused kernels, QBatchNormalization's own
quantizers of gamma/beta/mean/variance and Eigen's rsqrt all differ in the last bit): the model's OWN batch-norm
layer object and the activation's QKeras quantizer are run on float32 values of ``S``, in a tensor of the rank the
model gives the batch norm (4-D after a conv, so the fused kernel runs; 2-D after a dense layer):

* every accumulator value of every channel when that is at most :data:`FULL_EVALUATION` values, which also
  checks that each channel's levels rise or fall monotonically;
* otherwise, per channel and per level, the first value where the output changes by bisection (valid because
  the composite is monotone), and the levels found must again rise or fall monotonically;

then, as :func:`accel.frontend.step._check_position_independent` does for TensorFlow's scalar and vector code,
the values next to every threshold are evaluated again both inside a long tensor and alone in a one-pixel tensor,
and must give the table's level both ways.

Refused, in one sentence naming the layer: an accumulator wider than :data:`MAX_ACCUMULATOR_BITS`, a function
that is not monotone, more steps than the op takes, levels no 32-bit type holds, a batch norm over another axis,
and every other batch-norm position (with the QKeras fold that exists for the layer before it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.frontend.lowering import has_activation
from accel.frontend.quantizers import activation_requant, exact_raw, run_quantizer
from accel.frontend.step import MAX_LEVEL_BITS, MAX_STEPS, _quantizer, is_step_activation
from accel.frontend.walk import Context, Pending, handler

#: widest accumulator tabulated: its raw values convert to float64 exactly, so the one cast to float32 rounds them
#: as TensorFlow's float32 does (no double rounding)
MAX_ACCUMULATOR_BITS = 53
#: accumulator values x channels evaluated at once, every one (above it: bisection per channel and level)
FULL_EVALUATION = 1 << 22
#: values on each side of a threshold evaluated again inside a long tensor and alone
NEIGHBOURS = 4
#: copies of each checked row in the long tensor (more than any SIMD width, so the first is never in the scalar tail)
_COPIES = 64
_CHUNK_ELEMENTS = 1 << 21

#: per linear layer kind, the QKeras 0.9 form that folds a batch normalization after it into quantized weights
#: (QKeras 0.9 has QConv2DBatchnorm and QDepthwiseConv2DBatchnorm only; dense and separable go through them)
BN_FOLDS = {
    "conv": "use QConv2DBatchnorm in place of the pair (the same arguments), which quantizes the folded kernel",
    "depthwise": "use QDepthwiseConv2DBatchnorm in place of the pair (the same arguments), which quantizes the "
                 "folded kernel",
    "dense": "QKeras 0.9 has no QDenseBatchnorm, so use QConv2DBatchnorm(units, 1) in place of the pair (a 1x1 "
             "convolution is a dense layer; give a vector input Reshape((1, 1, N)) before it and Flatten after)",
    "separable": "QKeras 0.9 has no separable batch-norm layer, so split it into QDepthwiseConv2D and a 1x1 "
                 "QConv2DBatchnorm (its pointwise part), which folds the batch normalization",
}  # fmt: skip
FOLD_KIND = {"QConv2D": "conv", "Conv2D": "conv", "QDepthwiseConv2D": "depthwise", "DepthwiseConv2D": "depthwise",
             "QDense": "dense", "Dense": "dense", "QSeparableConv2D": "separable", "SeparableConv2D": "separable"}
#: the kinds whose accel node outputs the layer's accumulator directly (a separable layer ends in its pointwise
#: node too, but is kept to the advice: its two quantized stages are not one accumulator of the Keras layer)
THRESHOLD_KINDS = ("conv", "depthwise", "dense")
#: what a batch norm may be followed by to become thresholds (named in refusals)
SUPPORTED_AFTER = ("followed directly (and only) by a QActivation with a quantizer (binary, binary_tanh, ternary, "
                   "quantized_relu, quantized_bits, quantized_po2, quantized_relu_po2, ...), which accel folds into "
                   "per-channel thresholds")  # fmt: skip


@handler("BatchNormalization", "QBatchNormalization")
def batchnorm(ctx: Context, layer: Any) -> None:
    """Linear conv/dense -> batch norm -> quantizing QActivation becomes the conv's accumulator -> a per-channel
    ``threshold`` node named after the QActivation; anything else is refused with the fold that exists."""
    src = Context.inbound(layer)[0]
    where = f"layer {layer.name} ({type(layer).__name__}) is a separate batch normalization"
    kind = FOLD_KIND.get(type(src).__name__)
    if kind is None:
        what = "the model input" if type(src).__name__ == "InputLayer" else f"{src.name} ({type(src).__name__})"
        raise AccelError(f"{where} after {what}; its float scale has no exact fixed-point form; supported: a batch "
                         "normalization only right after a convolution or dense layer, folded by QConv2DBatchnorm "
                         f"or QDepthwiseConv2DBatchnorm or {SUPPORTED_AFTER}, or none.")  # fmt: skip
    after = f"after {src.name} ({type(src).__name__})"
    if has_activation(src):
        raise AccelError(f"{where} {after}'s activation, so it cannot be folded into the weights and its float "
                         f"scale has no exact fixed-point form; move the activation after it and {BN_FOLDS[kind]}, "
                         "with the activation as its own.")  # fmt: skip
    users = ctx.consumers.get(layer.name, [])
    target = users[0] if len(users) == 1 and type(users[0]).__name__ == "QActivation" else None
    if kind not in THRESHOLD_KINDS or target is None or not _quantizes(target.quantizer):
        raise AccelError(f"{where} {after}; its float scale cannot be folded into quantized weights exactly, so "
                         f"{BN_FOLDS[kind]}" + ("." if kind not in THRESHOLD_KINDS else
                                                f", or keep it {SUPPORTED_AFTER}."))  # fmt: skip
    x = ctx.input_tensor(layer)
    act_where = f"layer {target.name} (QActivation) after batch normalization {layer.name}"
    thr, lvl, out_type = bn_step_table(layer, target.quantizer, ctx.spec(x).dtype, act_where)
    ctx.skip.add(target.name)
    ctx.set(layer, Pending("fused", x, 0, layer.name))
    ctx.set(target, ctx.add(target.name, "threshold", [x], target, attrs={"out_type": out_type},
                            params={"thresholds": thr, "levels": lvl},
                            param_types={"thresholds": ctx.spec(x).dtype, "levels": out_type}))  # fmt: skip


def _quantizes(q: Any) -> bool:
    """A QActivation quantizer whose output is a finite set of values (a step activation or a rounding), not
    'relu'/'linear' or a float function."""
    if is_step_activation(q):
        return True
    try:
        rq = activation_requant(q, "")
    except AccelError:
        return False
    return rq is not None and rq.out_type is not None


def _activation(q: Any, where: str) -> tuple[Any, FixedType | None]:
    """The quantizer to run (checked as the step tables and requantisations check it) and, for a rounding, the
    type QKeras's output has (the levels are given in it)."""
    if is_step_activation(q):
        return _quantizer(q, where), None
    from qkeras.quantizers import get_quantizer

    rq = activation_requant(q, where)
    return (get_quantizer(q) if isinstance(q, str) else q), rq.out_type


class _Composite:
    """``act(BN(S))`` on float32 values of raw accumulators, per channel, in the batch norm's rank."""

    def __init__(self, bn: Any, q: Any, acc: FixedType) -> None:
        self.bn, self.q, self.acc = bn, q, acc
        self.rank = len(bn.input_shape)
        self.channels = int(bn.input_shape[-1])

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """``raw`` (m, C): column c holds channel c's accumulators -> QKeras's outputs (m, C), float32."""
        import tensorflow as tf

        m = raw.shape[0]
        x = self.acc.to_float(raw).astype(np.float32).reshape((1,) * (self.rank - 2) + (m, self.channels))
        y = self.bn(tf.convert_to_tensor(x), training=False)
        return run_quantizer(self.q, y).reshape(m, self.channels)


def bn_step_table(bn: Any, q: Any, acc: FixedType, where: str) -> tuple[np.ndarray, np.ndarray, FixedType]:
    """(thresholds ``(C, T)`` as raw ``acc`` values, levels ``(C, T + 1)`` as raw values, the levels' type) of
    QKeras's ``q(bn(S))`` for every channel, rows padded to one length by repeating a threshold."""
    name = f"{bn.name} ({type(bn).__name__})"
    rank = len(bn.input_shape)
    axes = [int(a) % rank for a in (bn.axis if isinstance(bn.axis, (list, tuple)) else [bn.axis])]
    if axes != [rank - 1]:
        raise AccelError(f"layer {name} normalises over axis {bn.axis}, not the channels; supported: axis=-1.")
    if acc.width - acc.signed > MAX_ACCUMULATOR_BITS:
        raise AccelError(f"layer {name} reads an accumulator of {acc.hls}, more bits than accel tabulates the batch "
                         f"norm on exactly; supported: accumulators of at most {MAX_ACCUMULATOR_BITS} significant "
                         "bits (fewer or narrower weights or inputs).")  # fmt: skip
    act, out_type = _activation(q, where)
    f = _Composite(bn, act, acc)
    span = acc.max_raw - acc.min_raw + 1
    starts, levels = _full(f, acc) if span * f.channels <= FULL_EVALUATION else _bisect(f, acc)
    for c in range(f.channels):
        d = np.diff(levels[c])
        if not (np.all(d > 0) or np.all(d < 0)):
            raise AccelError(f"layer {name}: QKeras's output after it is not monotone in the accumulator on channel "
                             f"{c} ({', '.join(f'{v:g}' for v in levels[c][:8])} ...), so it is no step function of "
                             "it; supported: batch normalizations whose composite with the activation is monotone "
                             "per channel.")  # fmt: skip
        if len(starts[c]) > MAX_STEPS:
            raise AccelError(f"{where}: takes {len(starts[c]) + 1} values on channel {c}; supported: at most "
                             f"{MAX_STEPS + 1} per channel (a narrower activation).")  # fmt: skip
    _check_position_independent(f, acc, starts, levels, name)
    return _pad(starts, levels, acc, out_type, where)


def _rows(f: _Composite, raw: np.ndarray) -> np.ndarray:
    """``f`` on the same raw values in every channel, in chunks."""
    step = max(1, _CHUNK_ELEMENTS // f.channels)
    return np.concatenate([f(np.repeat(raw[i:i + step, None], f.channels, axis=1)) for i in range(0, len(raw), step)])


def _full(f: _Composite, acc: FixedType) -> tuple[list[list[int]], list[np.ndarray]]:
    raw = np.arange(acc.min_raw, acc.max_raw + 1, dtype=np.int64)
    out = _rows(f, raw)
    starts, levels = [], []
    for c in range(f.channels):
        col = out[:, c]
        change = np.flatnonzero(col[1:] != col[:-1]) + 1
        starts.append([int(raw[i]) for i in change])
        levels.append(np.concatenate([col[:1], col[change]]).astype(np.float64))
    return starts, levels


def _bisect(f: _Composite, acc: FixedType) -> tuple[list[list[int]], list[np.ndarray]]:
    """Per channel, from the lowest accumulator up: the first value whose output differs from the current level
    (bisection over all channels at once; the composite is monotone, so 'differs' is too)."""
    c = f.channels
    pos = np.full(c, acc.min_raw, dtype=np.int64)
    cur = f(pos[None, :])[0]
    top = f(np.full((1, c), acc.max_raw, dtype=np.int64))[0]
    starts: list[list[int]] = [[] for _ in range(c)]
    levels: list[list[float]] = [[float(v)] for v in cur]
    active = cur != top
    while active.any():
        lo, hi = pos.copy(), np.full(c, acc.max_raw, dtype=np.int64)  # f(lo) == cur, f(hi) != cur where active
        while np.any(active & (hi - lo > 1)):
            mid = np.where(active, (lo + hi) // 2, lo)
            differs = f(mid[None, :])[0] != cur
            hi = np.where(active & differs, mid, hi)
            lo = np.where(active & ~differs, mid, lo)
        new = f(hi[None, :])[0]
        for k in np.flatnonzero(active):
            starts[k].append(int(hi[k]))
            levels[k].append(float(new[k]))
            if len(starts[k]) > MAX_STEPS:
                active[k] = False
        pos = np.where(active, hi, pos)
        cur = np.where(active, new, cur)
        active &= cur != top
    return starts, [np.array(v) for v in levels]


def _check_position_independent(f: _Composite, acc: FixedType, starts: list[list[int]], levels: list[np.ndarray],
                                name: str) -> None:  # fmt: skip
    """Values next to each threshold must give the table's level inside a long tensor and alone in one pixel."""
    probes = [sorted({r for s in st for r in range(s - NEIGHBOURS, s + NEIGHBOURS) if acc.min_raw <= r <= acc.max_raw})
              for st in starts]  # fmt: skip
    m = max((len(p) for p in probes), default=0)
    if m == 0:
        return
    raw = np.array([p + [p[-1]] * (m - len(p)) if p else [acc.min_raw] * m for p in probes], dtype=np.int64).T
    expected = np.stack([np.float32(levels[c])[np.searchsorted(np.array(starts[c], dtype=np.int64), raw[:, c],
                                                               side="right")] for c in range(f.channels)], axis=1)
    inside = f(np.repeat(raw, _COPIES, axis=0))[::_COPIES]
    for i in range(m):
        alone = f(raw[i:i + 1])[0]
        bad = np.flatnonzero((alone != expected[i]) | (inside[i] != expected[i]))
        if bad.size:
            c = int(bad[0])
            raise AccelError(f"layer {name} with the activation after it gives {float(alone[c])} for the "
                             f"accumulator {float(acc.to_float(raw[i, c]))} of channel {c} alone but "
                             f"{float(inside[i, c])} inside a larger tensor (table: {float(expected[i, c])}), so "
                             "QKeras's own result depends on the value's position; supported: batch normalizations "
                             "where QKeras is deterministic.")  # fmt: skip


def _pad(starts: list[list[int]], levels: list[np.ndarray], acc: FixedType, out_type: FixedType | None,
         where: str) -> tuple[np.ndarray, np.ndarray, FixedType]:  # fmt: skip
    """Rows of one length T (at least 1): a shorter row repeats its last threshold (or the accumulator's maximum)
    and repeats its last level, so the skipped level between two equal thresholds is unreachable."""
    t = max(1, max(len(s) for s in starts))
    thr = np.empty((len(starts), t), dtype=np.int64)
    flt = np.empty((len(starts), t + 1), dtype=np.float64)
    for c, (s, v) in enumerate(zip(starts, levels, strict=True)):
        fill = s[-1] if s else acc.max_raw
        thr[c] = list(s) + [fill] * (t - len(s))
        flt[c] = list(v) + [v[-1]] * (t - len(s))
    if out_type is None:
        try:
            raw, out_type = exact_raw(flt, f"{where} output", max_width=MAX_LEVEL_BITS)
        except AccelError as exc:
            raise AccelError(f"{where}: outputs values that no {MAX_LEVEL_BITS}-bit fixed-point type holds; "
                             "supported: outputs that fit 32 bits (fewer exponent bits).") from exc  # fmt: skip
        return thr, raw.reshape(flt.shape), out_type
    raw = np.rint(np.ldexp(flt, out_type.frac)).astype(np.int64)
    if not np.array_equal(out_type.to_float(raw), flt) or raw.min() < out_type.min_raw or raw.max() > out_type.max_raw:
        raise AccelError(f"{where}: outputs values outside {out_type.hls}, the type its quantizer states; supported: "
                         "quantizers whose outputs are their type's values.")  # fmt: skip
    return thr, raw, out_type
