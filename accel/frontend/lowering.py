"""Small lowerings shared by the layer handlers.

* quantized weights and biases, taken exactly as QKeras uses them at inference;
* batch-norm folding, reproducing QKeras' own ``call(training=False)`` computation;
* a conv with its fused activation -> conv node + separate ``quantize`` node;
* separable -> depthwise + pointwise, dense -> 1x1 conv (in accel.frontend.layers);
* a transposed conv -> ``zero_insert`` + a padded ``conv2d`` with the kernel flipped (:func:`transpose_conv`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.frontend.quantizers import (
    MAX_FLOAT_WEIGHT_BITS,
    SUPPORTED_WEIGHT_QUANTIZERS,
    activation_requant,
    check_weight_quantizer,
    exact_raw,
    is_float_scaled,
    is_softmax,
    run_quantizer,
)
from accel.frontend.step import is_step_activation, step_table
from accel.frontend.walk import Context
from accel.ops.common import same_pads

#: widest bias accel accepts without a bias quantizer (its float values must still be exact)
MAX_UNQUANTIZED_BIAS_BITS = 32


def quantized_weight(layer: Any, values: Any, quantizer: Any, role: str) -> tuple[np.ndarray, FixedType]:
    """Run the layer's weight quantizer on ``values`` (as ``call`` does) and convert the result exactly."""
    where = f"layer {layer.name} ({type(layer).__name__}) {role}"
    if quantizer is None:
        raise AccelError(f"{where} has no quantizer; supported: {_quantizer_argument(layer, role)} to "
                         f"{SUPPORTED_WEIGHT_QUANTIZERS}.")  # fmt: skip
    check_weight_quantizer(quantizer, where)
    if not is_float_scaled(quantizer):
        return exact_raw(run_quantizer(quantizer, values), f"{where} value")
    try:
        return exact_raw(run_quantizer(quantizer, values), f"{where} value", max_width=MAX_FLOAT_WEIGHT_BITS)
    except AccelError as exc:
        raise AccelError(f"{where} uses {quantizer}, whose float32 values need more than {MAX_FLOAT_WEIGHT_BITS} "
                         "bits to hold exactly (their exponents spread too far); supported: values that fit "
                         f"{MAX_FLOAT_WEIGHT_BITS} bits, such as a power-of-two scale (alpha='auto_po2').") from exc


def _quantizer_argument(layer: Any, role: str) -> str:
    """Where a weight quantizer goes for this layer: its QKeras argument, on the QKeras class of a plain Keras layer
    (a keras Conv2D has no kernel_quantizer to give)."""
    cls = type(layer).__name__
    part = next((p for p in ("depthwise", "pointwise") if p in role), "kernel")
    return f"{part}_quantizer set" if cls.startswith("Q") else f"Q{cls} with {part}_quantizer set"


def quantized_bias(layer: Any, values: Any, quantizer: Any, channels: int) -> tuple[np.ndarray, FixedType]:
    """The bias QKeras adds: quantized if it has a quantizer, else its float values, which must be exact and narrow."""
    if values is None:
        return exact_raw(np.zeros(channels), "zero bias")
    if quantizer is not None:
        return quantized_weight(layer, values, quantizer, "bias")
    floats = np.asarray(values.numpy() if hasattr(values, "numpy") else values, dtype=np.float32)
    where = f"layer {layer.name} ({type(layer).__name__}) bias without bias_quantizer"
    try:
        return exact_raw(floats, where, max_width=MAX_UNQUANTIZED_BIAS_BITS)
    except AccelError as exc:
        raise AccelError(
            f"{where} has values that need more than {MAX_UNQUANTIZED_BIAS_BITS} bits to hold exactly; "
            "supported: a bias_quantizer (quantized_bits) or an exactly representable bias."
        ) from exc


def check_conv_geometry(layer: Any) -> None:
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise AccelError(f"layer {layer.name} uses {layer.data_format}; supported: channels_last.")
    if tuple(getattr(layer, "dilation_rate", (1, 1))) != (1, 1):
        raise AccelError(f"layer {layer.name} has dilation_rate {layer.dilation_rate}; supported: (1, 1).")


def window_pads(layer: Any, in_shape: tuple[int, int, int], kernel, stride) -> tuple[int, int, int, int]:
    """Explicit (top, bottom, left, right) zero padding of a Keras 'same' or 'valid' window."""
    padding = layer.padding
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        pt, pb = same_pads(in_shape[0], kernel[0], stride[0])
        pl, pr = same_pads(in_shape[1], kernel[1], stride[1])
        return (pt, pb, pl, pr)
    raise AccelError(f"layer {layer.name} has padding '{padding}'; supported: 'same', 'valid'.")


def transpose_conv_axis(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int, int]:
    """One axis of a Keras ``Conv2DTranspose`` (``output_padding=None``, no dilation) as zero insertion then a
    stride-1 'valid' conv: (output length, the conv's kernel, zeros before, zeros after).

    Keras's output length (``conv_utils.deconv_output_length``): ``size*stride + max(kernel - stride, 0)`` for
    'valid', ``size*stride`` for 'same'.  TensorFlow computes the transposed conv as the gradient of a conv of
    that output, whose 'same' padding puts ``max(kernel - stride, 0) // 2`` zeros before; input pixel ``i``
    then adds ``x[i] * w[t]`` at output ``i*stride + t - before``.  Zero insertion puts ``x[i]`` at
    ``i*stride``, so a conv with the flipped kernel and ``kernel - 1 - before`` zeros in front computes the
    same sums; the zeros after make its output the Keras length.  A kernel smaller than the stride is
    zero-extended to the stride (the extra taps add nothing and the output length is the same), which keeps
    both paddings below the kernel, as the RTL window needs.
    """
    out = size * stride + (max(kernel - stride, 0) if padding == "valid" else 0)
    k = max(kernel, stride)
    before = max(kernel - stride, 0) // 2 if padding == "same" else 0
    lo = k - 1 - before
    hi = out + k - 1 - ((size - 1) * stride + 1) - lo
    return out, k, lo, hi


def transpose_conv(layer: Any, in_shape: tuple[int, int, int], weight: np.ndarray, stride: tuple[int, int]
                   ) -> tuple[np.ndarray, tuple[int, int], tuple[int, int, int, int]]:  # fmt: skip
    """A transposed conv's kernel ``(kh, kw, filters, in_channels)`` as the equivalent conv's: (weight
    ``(kh', kw', in_channels, filters)``, kernel ``(kh', kw')``, pads (top, bottom, left, right)) for the
    zero-inserted input (see :func:`transpose_conv_axis`)."""
    if layer.padding not in ("same", "valid"):
        raise AccelError(f"layer {layer.name} has padding '{layer.padding}'; supported: 'same', 'valid'.")
    _, kh, pt, pb = transpose_conv_axis(in_shape[0], weight.shape[0], stride[0], layer.padding)
    _, kw, pl, pr = transpose_conv_axis(in_shape[1], weight.shape[1], stride[1], layer.padding)
    full = np.zeros((kh, kw, *weight.shape[2:]), dtype=weight.dtype)
    full[: weight.shape[0], : weight.shape[1]] = weight
    return full[::-1, ::-1].transpose(0, 1, 3, 2).copy(), (kh, kw), (pt, pb, pl, pr)


def emit_conv(
    ctx: Context,
    layer: Any,
    x: str,
    op: str,
    weight: tuple[np.ndarray, FixedType],
    bias: tuple[np.ndarray, FixedType],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
    name: str,
    matches_source: bool,
    groups: int | None = None,
) -> str:
    attrs: dict[str, Any] = {"kernel": tuple(kernel), "stride": tuple(stride), "pads": tuple(pads)}
    if groups is not None:
        attrs["groups"] = int(groups)
    return ctx.add(
        name,
        op,
        [x],
        layer,
        matches_source=matches_source,
        attrs=attrs,
        params={"weight": weight[0], "bias": bias[0]},
        param_types={"weight": weight[1], "bias": bias[1]},
    )


def own_node_name(layer: Any, suffix: str) -> str:
    """The name of the node computing ``layer`` before its fused activation: the layer's own when the activation
    adds no node (none, or a softmax head that is dropped or refused), else ``<layer>_<suffix>``."""
    return f"{layer.name}_{suffix}" if has_activation(layer) and not is_softmax(layer.activation) else layer.name


def has_activation(layer: Any) -> bool:
    act = getattr(layer, "activation", None)
    return act is not None and getattr(act, "__name__", None) != "linear"


def emit_activation(ctx: Context, layer: Any, x: str, activation: Any, name: str) -> str:
    """A QKeras activation (fused or a QActivation) as a separate ``quantize`` node ('linear' adds nothing, nor
    does a final softmax with ``--softmax drop``, see :meth:`Context.softmax_head`), or a power-of-two or sign
    activation as a ``threshold`` node tabulated from QKeras (:mod:`accel.frontend.step`)."""
    where = f"layer {layer.name} ({type(layer).__name__})"
    if is_softmax(activation):
        return ctx.softmax_head(layer, x)
    if is_step_activation(activation):
        in_type = ctx.spec(x).dtype
        thresholds, levels, out_type = step_table(activation, in_type, where)
        return ctx.add(name, "threshold", [x], layer, attrs={"out_type": out_type},
                       params={"thresholds": thresholds, "levels": levels},
                       param_types={"thresholds": in_type, "levels": out_type})  # fmt: skip
    rq = activation_requant(activation, where)
    if rq is None:
        return x
    out_type = rq.out_type if rq.out_type is not None else ctx.spec(x).dtype
    attrs = rq.attrs() | {"out_type": out_type}
    return ctx.add(name, "quantize", [x], layer, attrs=attrs)


def emit_conv_with_activation(ctx: Context, layer: Any, x: str, op: str, weight, bias, kernel, stride, pads,
                              groups: int | None = None) -> str:  # fmt: skip
    """The conv node, then the fused activation as its own node; the last node carries the layer's name (a dropped
    softmax head leaves the conv node last: named after the layer, but not matching its softmaxed Keras output)."""
    fused = has_activation(layer)
    conv_name = own_node_name(layer, "conv")
    y = emit_conv(ctx, layer, x, op, weight, bias, kernel, stride, pads, conv_name, not fused, groups)
    if fused:
        y = emit_activation(ctx, layer, y, layer.activation, layer.name)
    return y


def folded_batchnorm(layer: Any, kernel: Any, depthwise: bool) -> tuple[Any, Any]:
    """QKeras' inference-time folding of ``QConv2DBatchnorm`` / ``QDepthwiseConv2DBatchnorm``.

    This is the computation of their ``call(training=False)`` written out with the
    same TensorFlow float32 ops in the same order, so the folded kernel and bias
    are bit-identical to what QKeras then quantizes.
    """
    import tensorflow as tf

    bn = layer.batchnorm
    if bn.beta is None:
        raise AccelError(f"layer {layer.name} has a batch norm without beta (center=False); supported: center=True.")
    if getattr(layer, "folding_mode", "ema_stats_folding") not in ("ema_stats_folding", "batch_stats_folding"):
        raise AccelError(f"layer {layer.name} has folding_mode {layer.folding_mode!r}; supported: "
                         "'ema_stats_folding' or 'batch_stats_folding'.")  # fmt: skip
    bias = layer.bias if layer.use_bias else 0
    inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon)
    if bn.gamma is not None:
        inv *= bn.gamma
    folded_bias = inv * (bias - bn.moving_mean) + bn.beta
    if depthwise:
        shape = kernel.get_shape().as_list()
        inv = tf.reshape(inv, [shape[2], shape[3]])
    folded_kernel = inv * kernel
    return folded_kernel, folded_bias
