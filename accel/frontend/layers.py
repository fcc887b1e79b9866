"""Layer handlers: one plain function per family of Keras layer classes.

Each Q-layer handler reuses the float geometry (kernel, stride, padding) and adds
only its quantizers; lowerings live in :mod:`accel.frontend.lowering`.  The handlers
register themselves in :data:`accel.frontend.walk.HANDLERS` when ``accel.frontend``
imports this module; walk.py never imports it, so the two form no import cycle.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accel import AccelError
from accel.fixed import FixedType
from accel.frontend.lowering import (
    check_conv_geometry,
    emit_activation,
    emit_conv,
    emit_conv_with_activation,
    folded_batchnorm,
    has_activation,
    own_node_name,
    quantized_bias,
    quantized_weight,
    transpose_conv,
    window_pads,
)
from accel.frontend.quantizers import activation_requant, adaptive_activation_quantizer, is_softmax
from accel.frontend.step import is_step_activation
from accel.frontend.walk import NO_INPUT_TYPE_ADVICE, Context, Pending, handler, keras_shape_to_hwc
from accel.ops.common import exact_average_type

# -- input and activations ---------------------------------------------------


@handler("InputLayer")
def input_layer(ctx: Context, layer: Any) -> None:
    """The raw input has no type yet: ``input_type`` gives it one when a layer reads it (Context.model_input),
    otherwise the QActivation that reads it defines it."""


@handler("QActivation", "QAdaptiveActivation", "Activation", "ReLU", "Softmax")
def activation(ctx: Context, layer: Any) -> None:
    """An activation layer as a ``quantize`` node; right after the input without ``input_type``, the input's type."""
    act = _activation_of(layer)
    if type(layer).__name__ == "Softmax" and ctx.softmax == "argmax":
        _check_softmax_axis(layer)
    if Context.reads_model_input(layer) and ctx.input_type is None:
        _model_input(ctx, layer, act)
        return
    x = ctx.input_tensor(layer)
    ctx.set(layer, emit_activation(ctx, layer, x, act, layer.name))


def _check_softmax_axis(layer: Any) -> None:
    """An arg-max head ranks the channels: a Softmax over another axis ranks something else."""
    rank = len(layer.input_shape)  # Keras counts the batch axis
    axes = [int(a) for a in (layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis])]
    if [a % rank for a in axes] != [rank - 1]:
        raise AccelError(f"layer {layer.name} (Softmax) normalises over axis {layer.axis}, not the last one, so "
                         "its arg-max is not the channel index --softmax argmax computes; supported: axis=-1 "
                         "(or --softmax drop, which ends the graph at the logits).")  # fmt: skip


def _activation_of(layer: Any) -> Any:
    cls = type(layer).__name__
    if cls == "QActivation":
        return layer.quantizer
    if cls == "QAdaptiveActivation":
        return adaptive_activation_quantizer(layer)
    if cls == "Softmax":
        return "softmax"
    if cls == "ReLU":
        if layer.max_value is not None or float(layer.negative_slope) != 0 or float(layer.threshold) != 0:
            raise AccelError(
                f"layer {layer.name} (ReLU) has max_value/negative_slope/threshold; supported: plain ReLU."
            )
        return "relu"
    return layer.activation


def _model_input(ctx: Context, layer: Any, act: Any) -> None:
    """The first QActivation defines the graph input: its quantizer's type, the tensor named after it."""
    if is_step_activation(act):  # e.g. quantized_relu_po2: QKeras applies it to the input as it is
        raise AccelError(f"layer {layer.name} ({type(layer).__name__}) reads the model input with a step function "
                         f"({act}), which has no fixed-point input type of its own; {NO_INPUT_TYPE_ADVICE} (with "
                         "--input-type the layer is applied to the typed input as QKeras applies it).")  # fmt: skip
    rq = None if is_softmax(act) else activation_requant(act, f"layer {layer.name} ({type(layer).__name__})")
    if rq is None or rq.out_type is None:
        raise AccelError(f"layer {layer.name} ({type(layer).__name__}) reads the model input but is not a quantizer, "
                         f"so the input has no fixed-point type; {NO_INPUT_TYPE_ADVICE}.")  # fmt: skip
    shape = keras_shape_to_hwc(layer.name, layer.input_shape[1:])
    if rq.overflow.name == "SATURATE_SYMMETRIC":
        # the type's most negative value is not a value of the quantizer: keep the clip as a node
        raw = ctx.builder.input(f"{layer.name}_in", shape, rq.out_type)
        ctx.set(layer, ctx.add(layer.name, "quantize", [raw], layer, attrs=rq.attrs()))
    else:
        ctx.set(layer, ctx.builder.input(layer.name, shape, rq.out_type))


# -- convolutions ----------------------------------------------------------------


def _pair(v: Any) -> tuple[int, int]:
    v = tuple(int(i) for i in (v if isinstance(v, (tuple, list)) else (v, v)))
    return v  # type: ignore[return-value]


def _bias_of(layer: Any, channels: int) -> tuple[np.ndarray, FixedType]:
    values = layer.bias if layer.use_bias else None
    return quantized_bias(layer, values, getattr(layer, "bias_quantizer_internal", None), channels)


@handler("QConv2D", "Conv2D", "QConv2DBatchnorm")
def conv2d(ctx: Context, layer: Any) -> None:
    check_conv_geometry(layer)
    x = ctx.input_tensor(layer)
    kernel, stride = _pair(layer.kernel_size), _pair(layer.strides)
    pads = window_pads(layer, ctx.spec(x).shape, kernel, stride)
    quantizer = getattr(layer, "kernel_quantizer_internal", None)
    if type(layer).__name__ == "QConv2DBatchnorm":
        k, b = folded_batchnorm(layer, layer.kernel, depthwise=False)
        weight = quantized_weight(layer, k, quantizer, "folded kernel")
        bias = quantized_bias(layer, b, layer.bias_quantizer_internal, layer.filters)
    else:
        weight = quantized_weight(layer, layer.kernel, quantizer, "kernel")
        bias = _bias_of(layer, layer.filters)
    y = emit_conv_with_activation(ctx, layer, x, "conv2d", weight, bias, kernel, stride, pads, groups=layer.groups)
    ctx.set(layer, y)


@handler("QConv2DTranspose", "Conv2DTranspose")
def conv2d_transpose(ctx: Context, layer: Any) -> None:
    """Transposed conv -> ``zero_insert`` (none for stride 1) + a stride-1 ``conv2d`` with the flipped kernel and
    the padding that gives Keras's output (:func:`accel.frontend.lowering.transpose_conv`); QKeras quantizes the
    kernel and bias as QConv2D does."""
    check_conv_geometry(layer)
    if getattr(layer, "output_padding", None) is not None:
        raise AccelError(f"layer {layer.name} ({type(layer).__name__}) has output_padding {layer.output_padding}; "
                         "supported: None (the output size Keras derives from the strides and padding).")  # fmt: skip
    x = ctx.input_tensor(layer)
    stride = _pair(layer.strides)
    w_raw, w_type = quantized_weight(layer, layer.kernel, getattr(layer, "kernel_quantizer_internal", None), "kernel")
    weight, kernel, pads = transpose_conv(layer, ctx.spec(x).shape, w_raw, stride)
    if stride != (1, 1):
        x = ctx.add(f"{layer.name}_zero_insert", "zero_insert", [x], layer, matches_source=False,
                    attrs={"strides": stride})  # fmt: skip
    y = emit_conv_with_activation(ctx, layer, x, "conv2d", (weight, w_type), _bias_of(layer, layer.filters), kernel,
                                  (1, 1), pads, groups=1)  # fmt: skip
    ctx.set(layer, y)


@handler("QDepthwiseConv2D", "DepthwiseConv2D", "QDepthwiseConv2DBatchnorm")
def depthwise_conv2d(ctx: Context, layer: Any) -> None:
    check_conv_geometry(layer)
    x = ctx.input_tensor(layer)
    kernel, stride = _pair(layer.kernel_size), _pair(layer.strides)
    pads = window_pads(layer, ctx.spec(x).shape, kernel, stride)
    quantizer = getattr(layer, "depthwise_quantizer_internal", None)
    channels = ctx.spec(x).shape[2] * int(layer.depth_multiplier)
    if type(layer).__name__ == "QDepthwiseConv2DBatchnorm":
        k, b = folded_batchnorm(layer, layer.depthwise_kernel, depthwise=True)
        weight = quantized_weight(layer, k, quantizer, "folded depthwise kernel")
        bias = quantized_bias(layer, b, layer.bias_quantizer_internal, channels)
    else:
        weight = quantized_weight(layer, layer.depthwise_kernel, quantizer, "depthwise kernel")
        bias = _bias_of(layer, channels)
    ctx.set(layer, emit_conv_with_activation(ctx, layer, x, "depthwise_conv2d", weight, bias, kernel, stride, pads))


@handler("QSeparableConv2D", "SeparableConv2D")
def separable_conv2d(ctx: Context, layer: Any) -> None:
    """Separable -> depthwise (its depthwise_quantizer, no bias) + pointwise 1x1 conv (bias, activation)."""
    check_conv_geometry(layer)
    x = ctx.input_tensor(layer)
    kernel, stride = _pair(layer.kernel_size), _pair(layer.strides)
    pads = window_pads(layer, ctx.spec(x).shape, kernel, stride)
    mid = ctx.spec(x).shape[2] * int(layer.depth_multiplier)
    dw_w = quantized_weight(
        layer, layer.depthwise_kernel, getattr(layer, "depthwise_quantizer_internal", None), "depthwise kernel"
    )
    dw = emit_conv(ctx, layer, x, "depthwise_conv2d", dw_w, quantized_bias(layer, None, None, mid),
                   kernel, stride, pads, f"{layer.name}_dw", matches_source=False)  # fmt: skip
    pw_w = quantized_weight(
        layer, layer.pointwise_kernel, getattr(layer, "pointwise_quantizer_internal", None), "pointwise kernel"
    )
    fused = has_activation(layer)
    y = emit_conv(ctx, layer, dw, "conv2d", pw_w, _bias_of(layer, layer.filters), (1, 1), (1, 1), (0, 0, 0, 0),
                  own_node_name(layer, "pw"), matches_source=not fused, groups=1)  # fmt: skip
    if fused:
        y = emit_activation(ctx, layer, y, layer.activation, layer.name)
    ctx.set(layer, y)


@handler("QDense", "Dense")
def dense(ctx: Context, layer: Any) -> None:
    """Dense = 1x1 conv over the last axis: on (1, 1, N) after Flatten/GAP, or per pixel of (H, W, C)."""
    x = ctx.input_tensor(layer)
    cin = ctx.spec(x).shape[2]
    k = layer.kernel
    if int(k.shape[0]) != cin:
        raise AccelError(f"layer {layer.name} (Dense) expects {k.shape[0]} inputs on its last axis, got {cin}.")
    w_raw, w_type = quantized_weight(layer, k, getattr(layer, "kernel_quantizer_internal", None), "kernel")
    weight = (w_raw.reshape(1, 1, cin, layer.units), w_type)
    ctx.set(
        layer,
        emit_conv_with_activation(ctx, layer, x, "conv2d", weight, _bias_of(layer, layer.units), (1, 1), (1, 1),
                                  (0, 0, 0, 0), groups=1),
    )  # fmt: skip


# -- pooling -----------------------------------------------------------------------


@handler("MaxPooling2D")
def maxpool(ctx: Context, layer: Any) -> None:
    if layer.data_format != "channels_last":
        raise AccelError(f"layer {layer.name} uses {layer.data_format}; supported: channels_last.")
    x = ctx.input_tensor(layer)
    pool, stride = _pair(layer.pool_size), _pair(layer.strides)
    pads = window_pads(layer, ctx.spec(x).shape, pool, stride)
    ctx.set(layer, ctx.add(layer.name, "maxpool", [x], layer, attrs={"pool": pool, "stride": stride, "pads": pads}))


@handler("GlobalMaxPooling2D")
def global_maxpool(ctx: Context, layer: Any) -> None:
    """The maximum keeps the input's exact type, whatever it is."""
    if layer.data_format != "channels_last":
        raise AccelError(f"layer {layer.name} uses {layer.data_format}; supported: channels_last.")
    ctx.set(layer, ctx.add(layer.name, "global_maxpool", [ctx.input_tensor(layer)], layer))


@handler("AveragePooling2D", "GlobalAveragePooling2D", "QAveragePooling2D", "QGlobalAveragePooling2D")
def average_pool(ctx: Context, layer: Any) -> None:
    """Averages over a power-of-two count are exact; otherwise the activation that follows (the layer's own, or
    the next QActivation) is fused into the pool node, so ``sum / N`` is rounded once, exactly."""
    if layer.data_format != "channels_last":
        raise AccelError(f"layer {layer.name} uses {layer.data_format}; supported: channels_last.")
    x = ctx.input_tensor(layer)
    spec = ctx.spec(x)
    if "Global" in type(layer).__name__:
        op, attrs, count = "global_avgpool", {}, spec.shape[0] * spec.shape[1]
    else:
        if layer.padding != "valid":
            raise AccelError(
                f"layer {layer.name} ({type(layer).__name__}) has padding '{layer.padding}'; TensorFlow then divides "
                "by a count that varies at the borders; supported: padding='valid'."
            )
        pool, stride = _pair(layer.pool_size), _pair(layer.strides)
        op, attrs, count = "avgpool", {"pool": pool, "stride": stride}, math.prod(pool)
    _check_average_quantizer(layer, count)
    own = layer.activation if type(layer).__name__.startswith("Q") and has_activation(layer) else None
    exact = exact_average_type(spec.dtype, count)
    if exact is not None:
        name = own_node_name(layer, "avg") if own is not None else layer.name
        y = ctx.add(name, op, [x], layer, matches_source=own is None, attrs=attrs | {"out_type": exact})
        ctx.set(layer, emit_activation(ctx, layer, y, own, layer.name) if own is not None else y)
        return
    if own is not None:
        rq, target = activation_requant(own, f"layer {layer.name}"), layer
    else:
        users = ctx.consumers.get(layer.name, [])
        target = users[0] if len(users) == 1 and _is_qact(users[0]) else None
        rq = activation_requant(target.quantizer, f"layer {target.name}") if target is not None else None
    if rq is None or rq.out_type is None:
        own_option = " (or give the layer activation= with one)" if type(layer).__name__.startswith("Q") else ""
        raise AccelError(
            f"layer {layer.name} ({type(layer).__name__}) averages {count} values, not a power of two, so its "
            "output has no exact fixed-point type; supported: follow it directly (and only) by a QActivation "
            f"with quantized_bits or quantized_relu{own_option}, which accel fuses into one exact rounding."
        )
    if target is not layer:
        ctx.skip.add(target.name)
        ctx.set(layer, Pending("fused", x, 0, layer.name))
    ctx.set(target, ctx.add(target.name, op, [x], target, attrs=attrs | rq.attrs()))


def _check_average_quantizer(layer: Any, count: int) -> None:
    """QKeras' average_quantizer computes ``avg * N * q(1/N)``: exact only when ``q(1/N)`` is ``1/N`` itself."""
    q = getattr(layer, "average_quantizer_internal", None)
    if q is None:
        return
    from accel.frontend.quantizers import run_quantizer

    if count & (count - 1) or float(run_quantizer(q, np.float32(1.0 / count))) != 1.0 / count:
        raise AccelError(
            f"layer {layer.name} ({type(layer).__name__}) has average_quantizer {q}, which multiplies by a rounded "
            f"1/{count} in float32; supported: average_quantizer=None (or one that holds 1/{count} exactly for a "
            "power-of-two count), followed by a quantizing activation."
        )


def _is_qact(layer: Any) -> bool:
    return type(layer).__name__ == "QActivation"


# -- joins and data movement ----------------------------------------------------


@handler("Add")
def add(ctx: Context, layer: Any) -> None:
    ctx.set(layer, ctx.add(layer.name, "add", ctx.input_tensors(layer), layer))


@handler("Concatenate")
def concatenate(ctx: Context, layer: Any) -> None:
    inputs = ctx.input_tensors(layer)
    rank = len(layer.output_shape) - 1
    if layer.axis not in (-1, rank):
        raise AccelError(f"layer {layer.name} (Concatenate) joins on axis {layer.axis}; supported: the channel axis.")
    ctx.set(layer, ctx.add(layer.name, "concat", inputs, layer))


@handler("ZeroPadding2D")
def zero_padding(ctx: Context, layer: Any) -> None:
    (pt, pb), (pl, pr) = layer.padding
    x = ctx.input_tensor(layer)
    ctx.set(layer, ctx.add(layer.name, "pad", [x], layer, attrs={"pads": (pt, pb, pl, pr)}))


@handler("UpSampling2D")
def upsampling(ctx: Context, layer: Any) -> None:
    if layer.interpolation != "nearest":
        raise AccelError(f"layer {layer.name} uses {layer.interpolation} interpolation; supported: 'nearest'.")
    x = ctx.input_tensor(layer)
    ctx.set(layer, ctx.add(layer.name, "upsample", [x], layer, attrs={"factor": _pair(layer.size)}))


@handler("Dropout", "SpatialDropout2D")
def identity(ctx: Context, layer: Any) -> None:
    """Inference no-op: the layer's output is its input tensor."""
    ctx.set(layer, ctx.input_tensor(layer))


@handler("Flatten", "Reshape")
def reshape(ctx: Context, layer: Any) -> None:
    """Row-major reinterpretation; 4-D targets only as steps of the channel-shuffle pattern."""
    target = tuple(int(s) for s in layer.output_shape[1:])
    pending = ctx.pending_input(layer)
    if pending is not None:
        if pending.kind == "permuted" and len(target) == 3 and target == ctx.spec(pending.tensor).shape:
            y = ctx.add(layer.name, "channel_shuffle", [pending.tensor], layer, attrs={"groups": pending.groups})
            ctx.set(layer, y)
            return
        ctx.input_tensor(layer)  # raises the channel-shuffle explanation
    x = ctx.input_tensor(layer)
    shape = ctx.spec(x).shape
    if len(target) == 4:
        h, w, g, cg = target
        if (h, w, g * cg) != shape or type(layer).__name__ != "Reshape":
            raise AccelError(
                f"layer {layer.name} reshapes {shape} to {target}; supported: (H, W, g, C/g) for shuffles."
            )
        ctx.set(layer, Pending("split", x, g, layer.name))
        return
    new = keras_shape_to_hwc(layer.name, target)
    ctx.set(layer, x if new == shape else ctx.add(layer.name, "reshape", [x], layer, attrs={"shape": new}))


@handler("Permute")
def permute(ctx: Context, layer: Any) -> None:
    pending = ctx.pending_input(layer)
    if pending is None or pending.kind != "split" or tuple(layer.dims) != (1, 2, 4, 3):
        raise AccelError(
            f"layer {layer.name} (Permute{tuple(layer.dims)}) is supported only as the channel shuffle "
            "Reshape(H,W,g,C/g) -> Permute((1,2,4,3)) -> Reshape(H,W,C)."
        )
    ctx.set(layer, Pending("permuted", pending.tensor, pending.groups, layer.name))
