"""accel.frontend: a QKeras/Keras model -> an exact, typed :class:`accel.ir.Graph`.

QKeras is the specification.  Activation quantizers become ``quantize`` nodes
with the same rounding (half to even, as ``tf.round``) and clipping; weight
quantizers are run exactly as the layer's ``call`` runs them and their float32
results are converted to raw integers without rounding; batch norm is folded by
QKeras' own inference computation.  Anything that cannot be restated exactly
raises :class:`accel.AccelError` naming the layer.

Choices worth knowing:

* the first QActivation after the input defines the input tensor (named after it); a
  symmetric quantizer additionally becomes a ``quantize`` node of that name, because
  its clip to ``[-max, max]`` excludes the type's most negative raw value;
* ``input_type`` (``--input-type``, e.g. ``'ap_fixed<16,6>'``, the type hls4ml assumes)
  types the model input itself (the tensor named after the Keras ``InputLayer``), for the
  many published models without an input quantizer; a model that has one then quantizes
  the typed input like any other activation, as hls4ml does (exact: grid values in);
* a softmax has no exact fixed-point form, but it keeps the logits' order: a final one (a
  ``Softmax``/``Activation('softmax')`` layer or one fused into the last layer) becomes an
  exact ``argmax`` node with ``softmax='argmax'`` (the class index) or is removed with
  ``softmax='drop'`` (the graph ends at the logits); anywhere else it is refused;
* a separate (Q)BatchNormalization between a linear conv/dense layer and a quantizing
  QActivation (binary, ternary, quantized_relu, ...) is folded with it into per-channel
  thresholds on the layer's accumulator, tabulated by running the model's own batch-norm
  layer and quantizer (:mod:`accel.frontend.batchnorm`); anywhere else its float32 scale
  cannot be folded into quantized weights exactly, and the refusal names the fold for the
  layer before it (QConv2DBatchnorm/QDepthwiseConv2DBatchnorm quantize the folded weights
  themselves; a dense or separable layer goes through a 1x1 QConv2DBatchnorm: QKeras 0.9
  has no QDenseBatchnorm);
* a transposed conv becomes zero insertion then a padded stride-1 conv with the flipped
  kernel (the padding gives Keras's output size), so no new arithmetic is involved;
* a model with several inputs is refused (every backend streams one input);
* an average over a non-power-of-two count has no exact type, so the quantizing
  activation after it is fused into the pool node (one exact rounding of ``sum / N``);
* where a tensor may need more than float32's 24-bit significand, an
  :class:`AccelPrecisionWarning` says QKeras itself may round there.

Public API: :func:`load_keras`, :func:`to_graph`, :func:`load_graph`,
:class:`AccelPrecisionWarning`, :func:`supported_layers`, :func:`qkeras_tf_compat`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from accel import AccelError  # noqa: E402
from accel.frontend import batchnorm, layers  # noqa: E402, F401  (register the handlers; walk.py keeps the registry)
from accel.frontend.walk import AccelPrecisionWarning, supported_layers, to_graph  # noqa: E402
from accel.ir import Graph  # noqa: E402

__all__ = ["AccelPrecisionWarning", "load_graph", "load_keras", "qkeras_tf_compat", "supported_layers", "to_graph"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def qkeras_tf_compat() -> None:
    """Let QKeras 0.9's ``QConv2DTranspose`` run on TensorFlow 2.14: its ``call`` uses ``array_ops.stack``,
    which TensorFlow 2.14 moved to ``array_ops_stack`` (the same function, ``tf.stack``), so building or loading
    such a model raises ``AttributeError``.  This puts the name back where QKeras looks (only when it is
    missing; nothing else changes).  :func:`load_keras` calls it; call it before building such a model."""
    from tensorflow.python.ops import array_ops, array_ops_stack

    if not hasattr(array_ops, "stack"):
        array_ops.stack = array_ops_stack.stack


def load_keras(path: str | Path) -> Any:
    """Load a Keras ``.h5`` model with QKeras' custom objects; every failure is an AccelError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise AccelError(f"model file {p} does not exist or is not a file; supported: a Keras .h5 model file.")
    try:
        with p.open("rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise AccelError(f"model file {p} cannot be read ({exc.strerror}); supported: a readable .h5 file.") from exc
    if magic != _HDF5_MAGIC:
        raise AccelError(f"model file {p} is not an HDF5 file; supported: a Keras model saved as .h5.")
    import h5py

    try:
        with h5py.File(p, "r") as f:
            is_keras = "model_config" in f.attrs
    except (OSError, RuntimeError, KeyError, ValueError) as exc:  # h5py raises RuntimeError for corrupt metadata
        raise AccelError(f"model file {p} is not a readable HDF5 file; supported: a Keras .h5 model.") from exc
    if not is_keras:
        raise AccelError(f"model file {p} is an HDF5 file but holds no Keras model (no model_config); "
                         "supported: a file written by model.save('....h5').")  # fmt: skip
    import tensorflow as tf
    from qkeras.utils import _add_supported_quantized_objects

    qkeras_tf_compat()
    custom: dict[str, Any] = {}
    _add_supported_quantized_objects(custom)
    try:
        return tf.keras.models.load_model(str(p), custom_objects=custom, compile=False)
    except Exception as exc:  # noqa: BLE001  (Keras raises many kinds for broken files)
        msg = f"model file {p} could not be loaded as a Keras/QKeras model: {exc}".rstrip(".")
        raise AccelError(msg + ".") from exc


def load_graph(model_or_path: Any, name: str | None = None, *, input_type: Any = None,
               softmax: str | None = None) -> tuple[Any, Graph]:  # fmt: skip
    """A model object or an .h5 path -> (the Keras model, its accel Graph); ``input_type`` and ``softmax`` as
    for :func:`to_graph`."""
    if isinstance(model_or_path, (str, Path)):
        model = load_keras(model_or_path)
        name = name or Path(model_or_path).stem
    else:
        model = model_or_path
    return model, to_graph(model, name, input_type=input_type, softmax=softmax)
