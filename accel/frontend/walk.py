"""Walking a Keras model: the handler registry, the conversion context and :func:`to_graph`.

Handlers are plain functions registered by the Keras class names they accept
(hls4ml style); each reads one layer and adds IR nodes through the
:class:`Context`.  The walk visits ``model.layers`` in their (topological) order.

This module keeps the registry but never imports the handlers: ``accel.frontend``'s
``__init__`` imports :mod:`accel.frontend.layers`, so importing anything of the frontend
registers them, and walk <-> layers is no import cycle (tests/test_layering.py).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import accel.ops  # noqa: F401  (registers the ops)
from accel import AccelError
from accel.fixed import FixedType, union
from accel.ir import Graph, GraphBuilder

Handler = Callable[["Context", Any], None]
HANDLERS: dict[str, Handler] = {}

#: float32's significand: tensors needing more bits may be rounded by QKeras itself
FLOAT32_BITS = 24
#: the input type hls4ml assumes for a model without an input quantizer (its default precision), named in advice
HLS4ML_INPUT_TYPE = "ap_fixed<16,6>"
#: what ``softmax=`` (``--softmax``) accepts for a final softmax: "drop" ends the graph at the logits before it,
#: "argmax" replaces it by the index of the largest logit (the class it ranks first)
SOFTMAX_HEADS = ("drop", "argmax")
#: the advice every refusal of a model without an input quantizer ends with (a fix that exists: the option)
NO_INPUT_TYPE_ADVICE = (
    f"give its type with --input-type '{HLS4ML_INPUT_TYPE}' (hls4ml's default input type; input_type= in Python) "
    "or put a QActivation with quantized_bits or quantized_relu right after the input"
)


class AccelPrecisionWarning(UserWarning):
    """QKeras' float32 arithmetic may round somewhere in this graph; the integer reference is then the exact result."""


def handler(*classes: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the converter of the named Keras layer classes."""

    def register(fn: Handler) -> Handler:
        for cls in classes:
            if cls in HANDLERS:
                raise RuntimeError(f"two frontend handlers for {cls}")
            HANDLERS[cls] = fn
        return fn

    return register


def supported_layers() -> list[str]:
    """The Keras class names the frontend converts (the registered handlers)."""
    return sorted(HANDLERS)


@dataclass(frozen=True)
class Pending:
    """A Keras value that is not an accel tensor yet: a step of the channel-shuffle pattern.

    ``Reshape(H, W, g, C/g)`` gives a 'split', ``Permute((1, 2, 4, 3))`` a 'permuted';
    ``Reshape(H, W, C)`` of a 'permuted' becomes a ``channel_shuffle`` node.
    """

    kind: str
    tensor: str
    groups: int
    layer: str


class Context:
    """Conversion state: the graph being built and which accel tensor each Keras layer's output is."""

    def __init__(self, model: Any, name: str, input_type: FixedType | None = None, softmax: str | None = None) -> None:
        self.model = model
        self.builder = GraphBuilder(name)
        #: the type given to the model input (--input-type); None: the first QActivation defines it
        self.input_type = input_type
        #: what to do with a final softmax (--softmax); None: refuse it
        self.softmax = softmax
        self.output_layers = {t._keras_history.layer.name for t in model.outputs}
        self.out: dict[str, str | Pending] = {}
        self.skip: set[str] = set()  # layers already fused into an earlier node
        self.consumers: dict[str, list[Any]] = {}
        for layer in model.layers:
            for src in self.inbound(layer):
                self.consumers.setdefault(src.name, []).append(layer)

    # -- reading the Keras graph -----------------------------------------
    @staticmethod
    def inbound(layer: Any) -> list[Any]:
        """The layers whose outputs ``layer`` reads (in argument order)."""
        if type(layer).__name__ == "InputLayer":
            return []
        try:
            tensors = layer.input
        except AttributeError as exc:
            raise AccelError(
                f"layer {layer.name} ({type(layer).__name__}) is used more than once or not connected; "
                "supported: each layer called exactly once in one functional/Sequential model."
            ) from exc
        import tensorflow as tf

        return [t._keras_history.layer for t in tf.nest.flatten(tensors)]

    @staticmethod
    def reads_model_input(layer: Any) -> bool:
        return any(type(src).__name__ == "InputLayer" for src in Context.inbound(layer))

    def input_tensors(self, layer: Any) -> list[str]:
        """The accel tensors a layer reads; refuses raw model inputs and channel-shuffle intermediates."""
        names = []
        for src in self.inbound(layer):
            if type(src).__name__ == "InputLayer":
                names.append(self.model_input(src, layer))
                continue
            value = self.out.get(src.name)
            if value is None:
                raise AccelError(f"layer {layer.name} reads layer {src.name}, which produced no tensor accel knows.")
            if isinstance(value, Pending):
                raise AccelError(
                    f"layer {layer.name} ({type(layer).__name__}) reads the 4-D output of {value.layer}; 4-D "
                    "Reshape/Permute are supported only as the channel shuffle Reshape(H,W,g,C/g) -> "
                    "Permute((1,2,4,3)) -> Reshape(H,W,C)."
                )
            names.append(value)
        return names

    def model_input(self, src: Any, reader: Any) -> str:
        """The graph input of the Keras input ``src`` typed by ``input_type`` (made once, named after ``src``);
        without ``input_type`` the model input has no fixed-point type and ``reader`` is refused."""
        if self.input_type is None:
            raise AccelError(
                f"layer {reader.name} ({type(reader).__name__}) reads the model input directly, so the input has no "
                f"fixed-point type; {NO_INPUT_TYPE_ADVICE}."
            )
        if src.name not in self.out:
            shape = keras_shape_to_hwc(src.name, tuple(src.output.shape[1:]))
            self.set(src, self.builder.input(src.name, shape, self.input_type))
        return self.out[src.name]  # type: ignore[return-value]

    def softmax_head(self, layer: Any, x: str) -> str:
        """A softmax (a Softmax/Activation layer's or one fused into ``layer``) applied to the logits ``x``, where
        it ends the model: ``softmax='drop'`` removes it (the graph ends at ``x``), ``'argmax'`` replaces it by an
        ``argmax`` node (the class index; named after a softmax layer, ``<layer>_argmax`` when fused).  Refused
        without the option and anywhere else."""
        where = f"layer {layer.name} ({type(layer).__name__})"
        if layer.name not in self.output_layers or self.consumers.get(layer.name):
            raise AccelError(f"{where} applies a softmax inside the network, whose float32 exponentials have no exact "
                             "fixed-point form; supported: a softmax only as the model's last layer, replaced with "
                             "--softmax argmax or removed with --softmax drop.")  # fmt: skip
        if self.softmax is None:
            raise AccelError(f"{where} ends the model in a softmax, whose float32 exponentials have no exact "
                             "fixed-point form; give --softmax argmax (the predicted class index, exact since "
                             "softmax keeps the logits' order) or --softmax drop (the logits; softmax= in Python).")
        if self.softmax == "drop":
            return x
        name = f"{layer.name}_argmax" if x == layer.name else layer.name
        return self.add(name, "argmax", [x], layer, matches_source=False)

    def input_tensor(self, layer: Any) -> str:
        names = self.input_tensors(layer)
        if len(names) != 1:
            raise AccelError(f"layer {layer.name} ({type(layer).__name__}) must have one input, got {len(names)}.")
        return names[0]

    def pending_input(self, layer: Any) -> Pending | None:
        srcs = self.inbound(layer)
        if len(srcs) == 1 and isinstance(self.out.get(srcs[0].name), Pending):
            return self.out[srcs[0].name]  # type: ignore[return-value]
        return None

    # -- writing the graph -------------------------------------------------
    def set(self, layer: Any, value: str | Pending) -> None:
        self.out[layer.name] = value

    def add(self, name: str, op: str, inputs: list[str], layer: Any, matches_source: bool = True, **kw: Any) -> str:
        return self.builder.add(name, op, inputs, source=layer.name, matches_source=matches_source, **kw)

    def spec(self, tensor: str):
        return self.builder.spec(tensor)


def input_type_of(value: FixedType | str | None) -> FixedType | None:
    """``input_type=`` as a FixedType: hls4ml's spelling (``'ap_fixed<16,6>'``) or a FixedType; None stays None."""
    if value is None or isinstance(value, FixedType):
        return value
    if not re.fullmatch(r"\s*ap_u?fixed<\s*\d+\s*,\s*-?\d+\s*>\s*", str(value)):
        raise AccelError(f"input type '{value}' (--input-type, input_type=) is not a fixed-point type; give one as "
                         f"hls4ml spells it, e.g. --input-type '{HLS4ML_INPUT_TYPE}' or 'ap_ufixed<8,0>'.")
    try:
        return FixedType.parse(str(value))
    except AccelError as exc:  # a well-formed spelling of an impossible type (too wide, a 1-bit signed one)
        raise AccelError(f"input type '{value}' (--input-type, input_type=) is not usable: {exc}") from None


def check_softmax(softmax: str | None) -> None:
    """``softmax=`` must name a head accel builds (:data:`SOFTMAX_HEADS`) or be None."""
    if softmax is not None and softmax not in SOFTMAX_HEADS:
        raise AccelError(f"softmax head '{softmax}' (--softmax, softmax=) is unknown; supported: "
                         f"{', '.join(SOFTMAX_HEADS)}.")  # fmt: skip


def to_graph(model: Any, name: str | None = None, *, input_type: FixedType | str | None = None,
             softmax: str | None = None) -> Graph:  # fmt: skip
    """Convert a QKeras/Keras model into an exact :class:`accel.ir.Graph` (see accel.frontend).

    ``input_type`` (``'ap_fixed<16,6>'``, hls4ml's spelling, or a FixedType) types the model input, for models
    with no quantizer right after it; a model that has one then quantizes the typed input, as hls4ml does.
    ``softmax='argmax'`` replaces a final softmax by an ``argmax`` node (the class index); ``'drop'`` removes it,
    so the graph ends at the logits.
    """
    itype = input_type_of(input_type)
    check_softmax(softmax)
    if not hasattr(model, "layers") or not hasattr(model, "outputs"):
        raise AccelError(f"{model!r} is not a Keras model; supported: a keras.Model or a .h5 file.")
    if not model.inputs or not model.outputs:
        raise AccelError(f"model {model.name} is not built (no inputs/outputs); supported: a model with an Input.")
    check_one_input(model)
    ctx = Context(model, name or model.name, itype, softmax)
    for layer in model.layers:
        if layer.name in ctx.skip:
            continue
        cls = type(layer).__name__
        if cls not in HANDLERS:
            raise AccelError(
                f"layer {layer.name} ({cls}) is not supported; supported layers: {', '.join(supported_layers())}."
            )
        HANDLERS[cls](ctx, layer)
    outputs = []
    for t in model.outputs:
        src = t._keras_history.layer
        value = ctx.out.get(src.name)
        if not isinstance(value, str):
            raise AccelError(f"model output {src.name} ({type(src).__name__}) is not a complete accel tensor.")
        outputs.append(value)
    if not ctx.builder._inputs:
        raise AccelError(f"model {model.name} has no input quantizer, so its input has no fixed-point type; "
                         f"{NO_INPUT_TYPE_ADVICE}.")  # fmt: skip
    passed = [t for t in outputs if t in ctx.builder._inputs]
    if passed:
        raise AccelError(f"model {model.name} computes nothing: its output {passed[0]} is its input (only layers "
                         "that move no data, such as Dropout or Flatten, lie between them); supported: a model with "
                         "at least one layer that computes.")  # fmt: skip
    graph = ctx.builder.build(outputs)
    warn_float32_precision(graph)
    return graph


def check_one_input(model: Any) -> None:
    """The comparisons (accel.compare), hls4ml's top function and accel's RTL top take one input stream and give one
    output stream, so a model with several inputs or outputs is refused here, before ``inspect`` could show a graph
    that ``verify`` and ``build`` then refuse."""
    for what, tensors in (("inputs", model.inputs), ("outputs", model.outputs)):
        if len(tensors) != 1:
            names = ", ".join(t._keras_history.layer.name for t in tensors)
            kind = "Input" if what == "inputs" else "output"
            raise AccelError(f"model {model.name} has {len(tensors)} {what} ({names}); supported: a model with "
                             f"exactly one {kind}, since accel's verification and its HLS and RTL designs take one "
                             "input stream and give one output stream.")


def _needed_bits(graph: Graph, node) -> int:
    """Significand bits QKeras' float32 needs for this node's arithmetic to be exact."""
    out_t = graph.tensors[node.output].dtype
    ins = [graph.tensors[t].dtype for t in node.inputs]
    bits = _mag(out_t)
    if node.op == "quantize":  # use_ste computes x + (xq - x): needs both grids and x's range
        bits = max(bits, _mag(union(ins[0], out_t)))
    elif node.op in ("avgpool", "global_avgpool"):
        h, w = graph.tensors[node.inputs[0]].shape[:2]
        n = math.prod(node.attrs["pool"]) if node.op == "avgpool" else h * w
        bits = max(bits, _mag(ins[0]) + math.ceil(math.log2(n)), _mag(union(ins[0], out_t)))
    return bits


def _mag(t: FixedType) -> int:
    return t.width - (1 if t.signed else 0)


def warn_float32_precision(graph: Graph) -> None:
    """Warn once when some tensor may not be exact in QKeras' float32 (ARCHITECTURE contract 1)."""
    wide = [(n.name, _needed_bits(graph, n)) for n in graph.nodes]
    wide += [(t, _mag(graph.tensors[t].dtype)) for t in graph.inputs]
    wide = [(n, b) for n, b in wide if b > FLOAT32_BITS]
    if wide:
        listed = ", ".join(f"{n} ({b} bits)" for n, b in wide[:5]) + (" ..." if len(wide) > 5 else "")
        warnings.warn(
            f"graph {graph.name}: {listed} need more than float32's {FLOAT32_BITS}-bit significand, so QKeras' "
            "float32 arithmetic may round there; accel's integer reference defines the exact result.",
            AccelPrecisionWarning,
            stacklevel=3,
        )


def keras_shape_to_hwc(name: str, shape: tuple) -> tuple[int, int, int]:
    """Map a Keras per-sample shape to accel's (H, W, C): vectors are (1, 1, N), matrices (1, A, B)."""
    if any(s is None for s in shape):
        raise AccelError(f"layer {name} has shape {tuple(shape)} with an undefined dimension (None); supported: a "
                         "fixed per-sample shape, e.g. Input((49, 10, 1)), since the hardware is built for one size.")
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        return (1, 1, shape[0])
    if len(shape) == 2:
        return (1, shape[0], shape[1])
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    raise AccelError(f"layer {name} has shape {shape}; supported: (N,), (A, B) or (H, W, C) per sample.")

