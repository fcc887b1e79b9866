"""QKeras activations that are step functions, not roundings: tabulated from QKeras itself.

``quantized_relu_po2`` and ``quantized_po2`` output powers of two (``2**round(log2 x)`` in float32),
``binary``, ``ternary``, ``binary_tanh`` and ``binary_sigmoid`` a sign times a fixed scale.  None is a
rounding onto a uniform grid, so accel's ``quantize`` op cannot state them; but on a fixed-point input
each is a piecewise-constant function of finitely many values.  :func:`step_table` runs the quantizer
in TensorFlow on *every* value the input type holds and keeps where the output changes (accel's
``threshold`` op), so the table is QKeras's own result, including float32 ``log`` rounding near the
midpoints between powers of two.  Two guards keep it equal to what QKeras computes inside a model:

* the input must fit float32 exactly (at most 24 significant bits), as QKeras then sees the values the
  table was made from;
* TensorFlow evaluates most elements of a tensor with vectorised code and the last few with scalar code,
  whose ``log`` may differ in the last bit; every value next to a change of output is evaluated both ways
  and a value whose result depends on it is refused (QKeras's own result then depends on its position).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.frontend.quantizers import common_checks, exact_raw, qname, run_quantizer
from accel.ops.threshold import MAX_THRESHOLDS

#: the quantizer classes accel tabulates as activations
STEP_ACTIVATIONS = ("quantized_relu_po2", "quantized_po2", "binary", "ternary")
#: binary/ternary that sample only in training (``K.learning_phase()`` 1): at inference they compute as
#: binary/ternary, and the table is made by running them as QKeras does at inference
STOCHASTIC_STEPS = ("stochastic_binary", "stochastic_ternary")
#: QKeras's sign functions (``QActivation('binary_tanh')``): -1/+1 and 0/1 by rounding a hard sigmoid
STEP_FUNCTIONS = ("binary_tanh", "binary_sigmoid")
#: widest input a table is made for: float32 holds it exactly, and 2**24 values take well under a second
MAX_INPUT_BITS = 24
#: widest output type (the RTL block's and the requantiser's output limit)
MAX_LEVEL_BITS = 32
#: most steps (thresholds) accepted: the threshold op's limit (a comparator per lane each in the RTL)
MAX_STEPS = MAX_THRESHOLDS
#: values on each side of a change of output that are also evaluated with TensorFlow's scalar code
NEIGHBOURS = 8
_CHUNK = 1 << 20
#: copies of each checked value in the vector-code tensor (more than any SIMD width, so the first is never in
#: the scalar tail)
_COPIES = 64


def _is_step_function(q: Any) -> bool:
    return callable(q) and getattr(q, "__name__", None) in STEP_FUNCTIONS and \
        getattr(q, "__module__", "") == "qkeras.quantizers"  # fmt: skip


def is_step_activation(q: Any) -> bool:
    """A QKeras quantizer (object, function or string) accel tabulates."""
    if isinstance(q, str):
        name = q.split("(")[0].strip()
        return name in STEP_ACTIVATIONS + STEP_FUNCTIONS + STOCHASTIC_STEPS
    return _is_step_function(q) or any(cls.__name__ in STEP_ACTIVATIONS for cls in type(q).__mro__)


def _label(q: Any) -> str:
    return q.__name__ if _is_step_function(q) else str(q)


def _quantizer(q: Any, where: str) -> Any:
    from qkeras.quantizers import get_quantizer

    if isinstance(q, str):
        q = get_quantizer(q)
    if _is_step_function(q):
        return q
    if qname(q) not in STEP_ACTIVATIONS + STOCHASTIC_STEPS:
        raise AccelError(
            f"{where}: activation {q} ({qname(q)}) is a variant accel does not tabulate; supported: "
            f"{', '.join(STEP_ACTIVATIONS + STOCHASTIC_STEPS + STEP_FUNCTIONS)}."
        )
    common_checks(q, where)
    if qname(q) in ("binary", "ternary") + STOCHASTIC_STEPS and isinstance(q.alpha, str):
        raise AccelError(
            f"{where}: activation {q} has alpha={q.alpha!r}, a scale QKeras computes from each batch, so the output "
            "of one value depends on the others; supported: binary/ternary activations with alpha None or a number."
        )
    return q


def step_table(q: Any, in_type: FixedType, where: str) -> tuple[np.ndarray, np.ndarray, FixedType]:
    """(thresholds as raw ``in_type`` values, levels as raw values, the levels' exact type) of QKeras's ``q``.

    ``levels[k]`` is QKeras's output for inputs with exactly ``k`` thresholds at or below them.
    """
    q = _quantizer(q, where)
    name = _label(q)
    if in_type.width - in_type.signed > MAX_INPUT_BITS:
        raise AccelError(
            f"{where}: activation {name} reads {in_type.hls}, more bits than float32 holds exactly, so QKeras would "
            f"see rounded inputs; supported: inputs of at most {MAX_INPUT_BITS} significant bits (narrow the layer "
            "before it with a quantizer)."
        )
    starts: list[int] = []  # raw inputs where the output changes
    levels: list[float] = []
    for lo in range(in_type.min_raw, in_type.max_raw + 1, _CHUNK):
        raw = np.arange(lo, min(lo + _CHUNK, in_type.max_raw + 1), dtype=np.int64)
        out = run_quantizer(q, in_type.to_float(raw).astype(np.float32))
        if not levels:
            levels.append(float(out[0]))
        prev = np.concatenate([[np.float32(levels[-1])], out[:-1]])
        for i in np.flatnonzero(out != prev):
            starts.append(int(raw[i]))
            levels.append(float(out[i]))
        if len(starts) > MAX_STEPS:
            raise AccelError(
                f"{where}: activation {name} takes more than {MAX_STEPS + 1} different values on {in_type.hls}; "
                f"supported: at most {MAX_STEPS + 1} (a smaller exponent range or a narrower input)."
            )
    _check_position_independent(q, name, in_type, starts, levels, where)
    try:
        level_raw, out_type = exact_raw(np.array(levels), f"{where} activation {name} output", max_width=MAX_LEVEL_BITS)
    except AccelError as exc:
        mags = np.abs(np.array(levels))[np.array(levels) != 0]
        raise AccelError(
            f"{where}: activation {name} outputs values from {mags.min():g} to {mags.max():g} on {in_type.hls} (the "
            f"smallest for inputs below Keras' epsilon, 0 and negatives included), which no {MAX_LEVEL_BITS}-bit "
            "fixed-point type holds; supported: outputs that fit 32 bits (fewer exponent bits, such as "
            "quantized_relu_po2(4, max_value))."
        ) from exc
    thresholds = np.array(starts, dtype=np.int64)
    if thresholds.size == 0:  # a constant output: the op needs one threshold, here with equal levels around it
        thresholds = np.array([in_type.max_raw], dtype=np.int64)
        level_raw = np.array([level_raw[0], level_raw[0]], dtype=np.int64)
    return thresholds, np.asarray(level_raw, dtype=np.int64), out_type


def _check_position_independent(q: Any, name: str, in_type: FixedType, starts: list[int], levels: list[float],
                                where: str) -> None:  # fmt: skip
    """Values near each change of output must give the table's level both inside a long tensor (vector code; the
    table's own last elements were computed by scalar code) and alone in a tensor (scalar code)."""
    if not starts:
        return
    raws = np.array(sorted({r for s in starts for r in range(s - NEIGHBOURS, s + NEIGHBOURS)
                            if in_type.min_raw <= r <= in_type.max_raw}), dtype=np.int64)  # fmt: skip
    expected = np.array(levels, dtype=np.float32)[np.searchsorted(np.array(starts), raws, side="right")]
    values = in_type.to_float(raws).astype(np.float32)
    inside = run_quantizer(q, np.repeat(values, _COPIES))[::_COPIES]  # each value's first copy: far from the tail
    for k, v in enumerate(values):
        alone = run_quantizer(q, v.reshape(1))[0]
        if not alone == inside[k] == expected[k]:
            raise AccelError(
                f"{where}: activation {name} gives {float(alone)} for the input {float(v)} alone but "
                f"{float(inside[k])} inside a larger tensor (TensorFlow's scalar and vector code differ there), so "
                "QKeras's own result depends on the value's position; supported: inputs where QKeras is "
                "deterministic (another input type)."
            )
