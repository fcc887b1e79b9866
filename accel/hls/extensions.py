"""accel's additions to hls4ml, registered through hls4ml's own extension mechanism.

hls4ml 1.3.0 averages by dividing an ``ap_fixed`` accumulator by the pixel count
and then assigning the quotient to the result type: two roundings, wrong
whenever the count is not a power of two (and off by the first truncation even
when it is, if the accumulator is narrow).  accel's Graph defines ``avgpool`` and
``global_avgpool`` as one exact ``round(sum / N)`` (:func:`accel.fixed.round_divide`),
so they are lowered to the layer ``AccelAvgPool`` defined here.  hls4ml's io_stream max
pooling only supports pool == stride without padding, so other max pools are lowered to
``AccelMaxPool`` (padding never wins).  hls4ml has no arg-max: the ``argmax`` op (a classifier's
``--softmax argmax`` head) is lowered to ``AccelArgMax``.  The kernels are in
``hls_templates/nnet_accel_pool.h`` (io_parallel and io_stream).  accel's ``threshold`` op (QKeras's
power-of-two and sign activations as a step function of raw values) has no hls4ml counterpart and is lowered
to ``AccelThreshold`` (``hls_templates/nnet_accel_threshold.h``).  Nor has it a zero insertion (the first step
of accel's transposed convolution): the ``zero_insert`` op is lowered to ``AccelZeroInsert``
(``hls_templates/nnet_accel_zero_insert.h``).

:func:`register` is idempotent and is called by :func:`accel.hls.convert`.
"""

from __future__ import annotations

import hls4ml
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.layers import Layer, register_layer
from hls4ml.model.types import FixedPrecisionType

from accel.fixed import Rounding
from accel.resources import templates_dir

#: the template directory (C++ kernels accel hands to hls4ml): hls_templates/, installed or in the source tree
TEMPLATE_DIR = templates_dir()
POOL_HEADER = TEMPLATE_DIR / "nnet_accel_pool.h"
THRESHOLD_HEADER = TEMPLATE_DIR / "nnet_accel_threshold.h"
ZERO_INSERT_HEADER = TEMPLATE_DIR / "nnet_accel_zero_insert.h"

ROUNDING_CODE = {Rounding.TRUNCATE: 0, Rounding.ROUND_HALF_UP: 1, Rounding.ROUND_HALF_EVEN: 2}


class AccelAvgPool(Layer):
    """Average pooling without padding whose result is ``round(sum / count)`` rounded once, exactly.

    Attributes come from the Graph node (``accel.hls.lower``): geometry, the
    rounding code and whether a ReLU precedes the rounding.  The result type
    (with its overflow mode) is the layer's ``result`` precision.
    """

    _expected_attributes = []  # attributes are set by accel's lowering, not parsed from Keras

    def initialize(self) -> None:
        shape = [self.attributes["out_height"], self.attributes["out_width"], self.attributes["n_filt"]]
        self.add_output_variable(shape)


class AccelMaxPool(AccelAvgPool):
    """Max pooling with any window, stride and padding (padded positions never win)."""


class AccelArgMax(AccelAvgPool):
    """The index of each pixel's largest channel (ties: the lowest), ``(H, W, C) -> (H, W, 1)``; hls4ml has no
    arg-max layer.  Only the geometry attributes of the shared config are used."""

    def initialize(self) -> None:
        self.add_output_variable([self.attributes["out_height"], self.attributes["out_width"], 1])


_CONFIG = """struct config{index} : nnet::accel_pool_config {{
    static const unsigned in_height = {in_height};
    static const unsigned in_width = {in_width};
    static const unsigned n_filt = {n_filt};
    static const unsigned pool_height = {pool_height};
    static const unsigned pool_width = {pool_width};
    static const unsigned stride_height = {stride_height};
    static const unsigned stride_width = {stride_width};
    static const unsigned out_height = {out_height};
    static const unsigned out_width = {out_width};
    static const unsigned pad_top = {pad_top};
    static const unsigned pad_left = {pad_left};
    static const int in_frac = {in_frac};
    static const int out_frac = {out_frac};
    static const unsigned rounding = {rounding};
    static const bool relu = {relu};
}};
"""


def _frac(precision) -> int:
    if not isinstance(precision, FixedPrecisionType):
        raise TypeError(f"AccelAvgPool needs fixed-point types, got {precision}")
    return precision.width - precision.integer


class AccelPoolConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__((AccelAvgPool, AccelMaxPool, AccelArgMax))

    def format(self, node) -> str:
        params = {"pad_top": 0, "pad_left": 0, "rounding": 0, "relu": "false", "pool_height": 1, "pool_width": 1,
                  "stride_height": 1, "stride_width": 1}  # fmt: skip
        params.update(self._default_config_params(node))
        params["in_frac"] = _frac(node.get_input_variable().type.precision)
        params["out_frac"] = _frac(node.get_output_variable().type.precision)
        return _CONFIG.format(**params)


class AccelPoolFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__((AccelAvgPool, AccelMaxPool, AccelArgMax), include_header=[f"nnet_utils/{POOL_HEADER.name}"])

    def format(self, node) -> str:
        params = self._default_function_params(node)
        params["kind"] = {"AccelMaxPool": "maxpool", "AccelArgMax": "argmax"}.get(node.class_name, "avgpool")
        return "nnet::accel_{kind}_cl<{input_t}, {output_t}, {config}>({input}, {output});".format(**params)


class AccelThreshold(Layer):
    """accel's ``threshold`` op: ``levels[number of thresholds <= x]`` per element (raw integer tables, one or
    one per channel)."""

    _expected_attributes = []  # attributes are set by accel's lowering, not parsed from Keras

    def initialize(self) -> None:
        self.add_output_variable(list(self.get_input_variable().shape))


_THRESHOLD_CONFIG = """struct config{index} : nnet::accel_threshold_config {{
    static const unsigned n_elem = {n_elem};
    static const unsigned n_chan = {n_chan};
    static const unsigned n_thr = {n_thr};
    static const unsigned n_tab = {n_tab};
    static const int in_frac = {in_frac};
    static const int out_frac = {out_frac};
    static long long threshold(unsigned row, unsigned i) {{
        static const long long t[{n_tab}][{n_thr}] = {{{thresholds}}};
        return t[row][i];
    }}
    static long long level(unsigned row, unsigned i) {{
        static const long long v[{n_tab}][{n_lvl}] = {{{levels}}};
        return v[row][i];
    }}
}};
"""


def _rows(table: list[list[int]]) -> str:
    """A 2-D C++ initialiser of 64-bit integers."""
    return ", ".join("{" + ", ".join(f"{int(v)}LL" for v in row) + "}" for row in table)


class AccelThresholdConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__(AccelThreshold)

    def format(self, node) -> str:
        """``thresholds`` / ``levels`` are lists of rows (one, or one per channel; accel.ops.threshold)."""
        thr, lvl = node.get_attr("thresholds"), node.get_attr("levels")
        return _THRESHOLD_CONFIG.format(
            index=node.index, n_elem=node.get_attr("n_elem"), n_chan=node.get_attr("n_chan"), n_thr=len(thr[0]),
            n_lvl=len(lvl[0]), n_tab=len(thr), in_frac=_frac(node.get_input_variable().type.precision),
            out_frac=_frac(node.get_output_variable().type.precision), thresholds=_rows(thr), levels=_rows(lvl),
        )  # fmt: skip


class AccelThresholdFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__(AccelThreshold, include_header=[f"nnet_utils/{THRESHOLD_HEADER.name}"])

    def format(self, node) -> str:
        params = self._default_function_params(node)
        return "nnet::accel_threshold_cl<{input_t}, {output_t}, {config}>({input}, {output});".format(**params)


class AccelZeroInsert(Layer):
    """accel's ``zero_insert`` op: ``stride - 1`` zero rows / columns between neighbouring ones (geometry from
    accel's lowering)."""

    _expected_attributes = []  # attributes are set by accel's lowering, not parsed from Keras

    def initialize(self) -> None:
        a = self.attributes
        self.add_output_variable([a["out_height"], a["out_width"], a["n_chan"]])


_ZERO_INSERT_CONFIG = """struct config{index} : nnet::accel_zero_insert_config {{
    static const unsigned in_height = {in_height};
    static const unsigned in_width = {in_width};
    static const unsigned n_chan = {n_chan};
    static const unsigned stride_height = {stride_height};
    static const unsigned stride_width = {stride_width};
    static const unsigned out_height = {out_height};
    static const unsigned out_width = {out_width};
}};
"""


class AccelZeroInsertConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__(AccelZeroInsert)

    def format(self, node) -> str:
        return _ZERO_INSERT_CONFIG.format(**self._default_config_params(node))


class AccelZeroInsertFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__(AccelZeroInsert, include_header=[f"nnet_utils/{ZERO_INSERT_HEADER.name}"])

    def format(self, node) -> str:
        params = self._default_function_params(node)
        return "nnet::accel_zero_insert_cl<{input_t}, {output_t}, {config}>({input}, {output});".format(**params)


_registered = False


def register() -> None:
    """Register accel's layers, templates and C++ sources with hls4ml's Vivado and Vitis backends (once)."""
    global _registered
    if _registered:
        return
    register_layer("AccelAvgPool", AccelAvgPool)
    register_layer("AccelMaxPool", AccelMaxPool)
    register_layer("AccelArgMax", AccelArgMax)
    register_layer("AccelThreshold", AccelThreshold)
    register_layer("AccelZeroInsert", AccelZeroInsert)
    for backend_name in ("Vivado", "Vitis"):
        backend = hls4ml.backends.get_backend(backend_name)
        for template in (AccelPoolConfigTemplate, AccelPoolFunctionTemplate, AccelThresholdConfigTemplate,
                         AccelThresholdFunctionTemplate, AccelZeroInsertConfigTemplate,
                         AccelZeroInsertFunctionTemplate):  # fmt: skip
            backend.register_template(template)
        backend.register_source(POOL_HEADER)
        backend.register_source(THRESHOLD_HEADER)
        backend.register_source(ZERO_INSERT_HEADER)
    _registered = True
