"""Lower an accel Graph to an hls4ml layer list with every type taken from the Graph.

The Graph is the authority: it has already folded batch-norm, split separable
convolutions and typed every tensor exactly.  Each Graph node becomes one hls4ml
layer named after the node (so hls4ml's trace keys are node names), sometimes
preceded by helper layers named ``<node>__<what>``.  The rewrites here close
hls4ml 1.3.0 gaps without changing a single value:

* grouped convolutions, depthwise with ``depth_multiplier > 1`` and depthwise under
  io_parallel + Resource (none supported by hls4ml) become ordinary convolutions
  with block-diagonal weights (the zero taps change neither value nor accumulator);
* channel shuffle becomes a 1x1 convolution with a 0/1 permutation matrix;
* adds and concatenations of more than two tensors become chains of two-input ones
  with exact intermediate types;
* average pools become accel's ``AccelAvgPool`` (one exact rounding, see extensions);
* max pools hls4ml cannot stream (pool != stride) or pads with zeros become ``AccelMaxPool``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from accel import AccelError
from accel.fixed import FixedType, Overflow, Rounding
from accel.ir import Graph, Node

from .extensions import ROUNDING_CODE


@dataclass
class Lowered:
    """An hls4ml layer list plus the per-layer precisions that make it equal to the Graph."""

    layers: list[dict] = field(default_factory=list)
    #: hls4ml layer name -> {"result"|"accum"|"weight"|"bias": precision string}
    precisions: dict[str, dict[str, str]] = field(default_factory=dict)
    #: hls4ml layer name -> Graph node (or input tensor) whose output it is
    tensor_of_layer: dict[str, str] = field(default_factory=dict)
    #: Graph tensor -> hls4ml layer name
    layer_of_tensor: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def precision(t: FixedType, rounding: Rounding | None = None, overflow: Overflow | None = None) -> str:
    """hls4ml precision string of a Graph type, with rounding/overflow modes only when they matter."""
    if rounding is None and overflow is None:
        return t.hls
    rnd = (rounding or Rounding.TRUNCATE).value
    sat = (overflow or Overflow.WRAP).value
    return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.integer},{rnd},{sat}>"


def _ident(name: str) -> str:
    """A C++ identifier for a node name (hls4ml uses layer names as variable names; 'input' is reserved)."""
    s = re.sub(r"\W", "_", name)
    if s == "input":
        return "input_"
    return s if re.match(r"[A-Za-z_]", s) else f"t_{s}"


def _to_float(raw: np.ndarray, t: FixedType) -> np.ndarray:
    if t.width > 53:
        raise AccelError(f"type {t.hls} is wider than 53 bits; hls4ml takes weights as float64 and would round them.")
    return t.to_float(raw)


#: accel's workarounds of hls4ml gaps; a test disables each one to show hls4ml alone is wrong or fails
WORKAROUNDS = ("avgpool", "depthwise", "maxpool")


class _Lowering:
    def __init__(self, graph: Graph, io_type: str, strategy: str, disable: tuple[str, ...] = ()) -> None:
        unknown = set(disable) - set(WORKAROUNDS)
        if unknown:
            raise AccelError(f"unknown hls4ml workarounds {sorted(unknown)}; known: {', '.join(WORKAROUNDS)}.")
        self.g = graph
        self.io_type = io_type
        self.strategy = strategy
        self.disable = frozenset(disable)
        self.out = Lowered()
        self.names: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------
    def layer_name(self, tensor: str) -> str:
        return self.out.layer_of_tensor[tensor]

    def emit(self, layer: dict, result: str, tensor: str | None = None, **types: str) -> str:
        name = layer["name"]
        if any(lay["name"] == name for lay in self.out.layers):
            raise AccelError(f"two hls4ml layers would be named '{name}'; rename the Keras layers so they differ.")
        self.out.layers.append(layer)
        self.out.precisions[name] = {"result": result, **types}
        if tensor is not None:
            self.out.tensor_of_layer[name] = tensor
            self.out.layer_of_tensor[tensor] = name
        return name

    def conv(self, node: Node, weight: np.ndarray, wtype: FixedType, depthwise: bool) -> None:
        x = self.g.tensors[node.inputs[0]]
        y = self.g.tensors[node.name]
        src = self.layer_name(node.inputs[0])
        pads = tuple(node.attrs["pads"])
        h, w, c = x.shape
        kh, kw = node.attrs["kernel"]
        sh, sw = node.attrs["stride"]
        layer = {
            "class_name": "DepthwiseConv2D" if depthwise else "Conv2D", "name": _ident(node.name), "inputs": [src],
            "data_format": "channels_last", "in_height": h, "in_width": w, "n_chan": c, "n_filt": y.shape[2],
            "filt_height": kh, "filt_width": kw, "stride_height": sh, "stride_width": sw,
            "out_height": y.shape[0], "out_width": y.shape[1],
            "pad_top": pads[0], "pad_bottom": pads[1], "pad_left": pads[2], "pad_right": pads[3],
            "bias_data": _to_float(node.params["bias"], node.param_types["bias"]),
        }  # fmt: skip
        wf = _to_float(weight, wtype)
        if depthwise:
            layer["depthwise_data"] = wf
            layer["depth_multiplier"] = int(weight.shape[3])
        else:
            layer["weight_data"] = wf
        self.emit(
            layer, y.dtype.hls, node.name,
            accum=y.dtype.hls, weight=wtype.hls, bias=node.param_types["bias"].hls,
        )  # fmt: skip

    # -- ops ---------------------------------------------------------------
    def op_conv2d(self, node: Node) -> None:
        w = node.params["weight"]
        groups = node.attrs["groups"]
        if groups > 1:
            w = _block_diagonal(w, groups)
        self.conv(node, w, node.param_types["weight"], depthwise=False)

    def op_depthwise_conv2d(self, node: Node) -> None:
        w = node.params["weight"]
        mult = w.shape[3]
        native_ok = mult == 1 and not (self.io_type == "io_parallel" and self.strategy == "Resource")
        if native_ok or "depthwise" in self.disable:
            self.conv(node, w, node.param_types["weight"], depthwise=True)
            return
        # hls4ml supports neither depth_multiplier > 1 nor io_parallel + Resource depthwise:
        # the same arithmetic as a grouped (groups = C) ordinary convolution.
        kh, kw, c, m = w.shape
        full = np.zeros((kh, kw, c, c * m), dtype=np.int64)
        for ch in range(c):
            full[:, :, ch, ch * m : (ch + 1) * m] = w[:, :, ch, :]
        self.conv(node, full, node.param_types["weight"], depthwise=False)

    def op_channel_shuffle(self, node: Node) -> None:
        x = self.g.tensors[node.inputs[0]]
        c = x.shape[2]
        g = node.attrs["groups"]
        perm = np.arange(c).reshape(g, c // g).T.ravel()  # output channel j reads input channel perm[j]
        w = np.zeros((1, 1, c, c), dtype=np.int64)
        w[0, 0, perm, np.arange(c)] = 1
        layer = {
            "class_name": "Conv2D", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "data_format": "channels_last", "in_height": x.shape[0], "in_width": x.shape[1], "n_chan": c,
            "n_filt": c, "filt_height": 1, "filt_width": 1, "stride_height": 1, "stride_width": 1,
            "out_height": x.shape[0], "out_width": x.shape[1],
            "pad_top": 0, "pad_bottom": 0, "pad_left": 0, "pad_right": 0,
            "weight_data": w.astype(np.float64), "bias_data": np.zeros(c),
        }  # fmt: skip
        t = x.dtype.hls
        self.emit(layer, t, node.name, accum=t, weight="ap_ufixed<1,1>", bias="ap_ufixed<1,1>")

    def op_quantize(self, node: Node) -> None:
        a = node.attrs
        layer = {
            "class_name": "Activation", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "activation": "relu" if a["relu"] else "linear",
        }  # fmt: skip
        self.emit(layer, precision(a["out_type"], a["rounding"], a["overflow"]), node.name)

    def _avg(self, node: Node, pool: tuple[int, int], stride: tuple[int, int]) -> None:
        a = node.attrs
        x = self.g.tensors[node.inputs[0]]
        y = self.g.tensors[node.name]
        count_bits = (pool[0] * pool[1]).bit_length()
        shift = max(y.dtype.frac - x.dtype.frac, 0) + max(x.dtype.frac - y.dtype.frac, 0)
        if x.dtype.width + count_bits + shift + 2 > 63:
            raise AccelError(
                f"node {node.name}: averaging {x.dtype.hls} over {pool[0] * pool[1]} pixels into {y.dtype.hls} "
                "needs more than 63 bits in accel's exact average kernel; narrower types are supported."
            )
        layer = {
            "class_name": "AccelAvgPool", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "in_height": x.shape[0], "in_width": x.shape[1], "n_filt": x.shape[2],
            "pool_height": pool[0], "pool_width": pool[1], "stride_height": stride[0], "stride_width": stride[1],
            "out_height": y.shape[0], "out_width": y.shape[1],
            "rounding": ROUNDING_CODE[a["rounding"]], "relu": bool(a["relu"]),
        }  # fmt: skip
        result = precision(y.dtype, a["rounding"], a["overflow"])
        if "avgpool" in self.disable:
            self._native_avg(node, layer, result)
            return
        self.emit(layer, result, node.name)

    def _native_avg(self, node: Node, layer: dict, result: str) -> None:
        """hls4ml's own average pooling, with the best types it can be given: an exact sum accumulator."""
        x = self.g.tensors[node.inputs[0]]
        count = layer["pool_height"] * layer["pool_width"]
        acc = FixedType(x.dtype.signed, x.dtype.width + count.bit_length(), x.dtype.integer + count.bit_length())
        layer = dict(layer, data_format="channels_last", pad_top=0, pad_bottom=0, pad_left=0, pad_right=0)
        if node.op == "global_avgpool":
            layer.update(class_name="GlobalAveragePooling2D", keepdims=True)
        else:
            layer.update(class_name="AveragePooling2D")
        if node.attrs["relu"]:
            raise AccelError(f"node {node.name}: hls4ml's own average pooling has no ReLU.")
        self.emit(layer, result, node.name, accum=acc.hls)

    def op_avgpool(self, node: Node) -> None:
        self._avg(node, tuple(node.attrs["pool"]), tuple(node.attrs["stride"]))

    def op_global_avgpool(self, node: Node) -> None:
        h, w, _ = self.g.tensors[node.inputs[0]].shape
        self._avg(node, (h, w), (h, w))

    def op_maxpool(self, node: Node) -> None:
        x = self.g.tensors[node.inputs[0]]
        y = self.g.tensors[node.name]
        pads = tuple(node.attrs["pads"])
        ph, pw = node.attrs["pool"]
        sh, sw = node.attrs["stride"]
        h, w, c = x.shape
        layer = {
            "class_name": "MaxPooling2D", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "data_format": "channels_last", "in_height": h, "in_width": w, "n_filt": c,
            "pool_height": ph, "pool_width": pw, "stride_height": sh, "stride_width": sw,
            "out_height": y.shape[0], "out_width": y.shape[1],
            "pad_top": pads[0], "pad_bottom": pads[1], "pad_left": pads[2], "pad_right": pads[3],
        }  # fmt: skip
        # hls4ml's own max pooling is used where it is exact: no padding (it would pad with zeros, which can
        # win over negative values), and in io_stream only pool == stride (its only streaming form).
        native_ok = not any(pads) and (self.io_type == "io_parallel" or (ph, pw) == (sh, sw))
        if not native_ok and "maxpool" not in self.disable:
            layer["class_name"] = "AccelMaxPool"
        self.emit(layer, y.dtype.hls, node.name, accum=x.dtype.hls)

    def _chain(self, node: Node, class_name: str, op: str, extra: dict) -> None:
        """Two-input hls4ml merges; intermediate types come from the op's own exact type inference."""
        from accel.ir import OPS

        opdef = OPS[node.op]
        srcs = list(node.inputs)
        acc_tensor = srcs[0]
        acc_spec = self.g.tensors[acc_tensor]
        acc_layer = self.layer_name(acc_tensor)
        for i, nxt in enumerate(srcs[1:], start=1):
            last = i == len(srcs) - 1
            specs = [acc_spec, self.g.tensors[nxt]]
            if last:
                out_t = self.g.tensors[node.name].dtype
            else:
                _, out_t = opdef.infer(node, specs)
            name = _ident(node.name) if last else f"{_ident(node.name)}__part{i}"
            layer = {"class_name": class_name, "name": name, "op": op, "inputs": [acc_layer, self.layer_name(nxt)]}
            layer.update(extra)
            acc_layer = self.emit(layer, out_t.hls, node.name if last else None)
            if not last:
                from accel.ir import TensorSpec

                shape = list(acc_spec.shape)
                if node.op == "concat":
                    shape[2] += self.g.tensors[nxt].shape[2]
                acc_spec = TensorSpec(name, tuple(shape), out_t)

    def op_add(self, node: Node) -> None:
        self._chain(node, "Merge", "add", {})

    def op_concat(self, node: Node) -> None:
        self._chain(node, "Concatenate", "concatenate3d", {"axis": -1})

    def op_pad(self, node: Node) -> None:
        x = self.g.tensors[node.inputs[0]]
        h, w, c = x.shape
        pt, pb, pl, pr = node.attrs["pads"]
        layer = {
            "class_name": "ZeroPadding2D", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "data_format": "channels_last", "in_height": h, "in_width": w, "n_chan": c,
            "out_height": h + pt + pb, "out_width": w + pl + pr,
            "pad_top": pt, "pad_bottom": pb, "pad_left": pl, "pad_right": pr,
        }  # fmt: skip
        self.emit(layer, x.dtype.hls, node.name)

    def op_reshape(self, node: Node) -> None:
        y = self.g.tensors[node.name]
        layer = {
            "class_name": "Reshape", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "target_shape": list(y.shape),
        }  # fmt: skip
        self.emit(layer, y.dtype.hls, node.name)

    def op_upsample(self, node: Node) -> None:
        x = self.g.tensors[node.inputs[0]]
        y = self.g.tensors[node.name]
        fh, fw = node.attrs["factor"]
        layer = {
            "class_name": "UpSampling2D", "name": _ident(node.name), "inputs": [self.layer_name(node.inputs[0])],
            "data_format": "channels_last", "in_height": x.shape[0], "in_width": x.shape[1], "n_chan": x.shape[2],
            "height_factor": fh, "width_factor": fw, "out_height": y.shape[0], "out_width": y.shape[1],
            "algorithm": "nearest", "align_corners": False,
        }  # fmt: skip
        self.emit(layer, y.dtype.hls, node.name)

    # -- driver --------------------------------------------------------------
    def run(self) -> Lowered:
        for t in self.g.inputs:
            spec = self.g.tensors[t]
            layer = {"class_name": "InputLayer", "name": _ident(t), "input_shape": list(spec.shape)}
            self.emit(layer, spec.dtype.hls, t)
            self.out.inputs.append(layer["name"])
        for node in self.g.nodes:
            handler = getattr(self, f"op_{node.op}", None)
            if handler is None:
                raise AccelError(
                    f"node {node.name}: op '{node.op}' has no hls4ml lowering; supported ops: "
                    f"{', '.join(sorted(n[3:] for n in dir(self) if n.startswith('op_')))}."
                )
            handler(node)
        self.out.outputs = [self.layer_name(t) for t in self.g.outputs]
        return self.out


def _block_diagonal(w: np.ndarray, groups: int) -> np.ndarray:
    """Grouped conv weight (kh, kw, cin/g, cout) as an ordinary conv weight (kh, kw, cin, cout)."""
    kh, kw, cin_g, cout = w.shape
    cout_g = cout // groups
    full = np.zeros((kh, kw, cin_g * groups, cout), dtype=np.int64)
    for g in range(groups):
        cols = slice(g * cout_g, (g + 1) * cout_g)
        full[:, :, g * cin_g : (g + 1) * cin_g, cols] = w[:, :, :, cols]
    return full


def lower(
    graph: Graph, io_type: str = "io_stream", strategy: str = "Latency", disable: tuple[str, ...] = ()
) -> Lowered:
    """The hls4ml layer list and precisions equal to ``graph`` (see the module docstring for the rewrites).

    ``disable`` names workarounds (:data:`WORKAROUNDS`) to leave out, so tests can
    show what hls4ml 1.3.0 does without them.
    """
    return _Lowering(graph, io_type, strategy, tuple(disable)).run()
