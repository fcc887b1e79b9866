"""accel's Python API, in hls4ml's manner: one entry point, :func:`convert`, and the object it returns.

An hls4ml user writes ``hls_model = hls4ml.converters.convert_from_keras_model(model, ...)`` and then
``compile()``, ``predict()``, ``trace()``, ``build()``.  accel's object works the same way, on the exact
integer graph instead of a C++ model::

    import accel

    m = accel.convert("model.h5", input_type="ap_fixed<16,6>", softmax="argmax")   # or a keras.Model, a zoo name
    m.inspect()                               # per-layer shapes, types, MACs, parameters (a dict)
    y = m.predict(x)                          # the exact reference: floats on the input grid in, floats out
    t = m.trace(x)                            # every tensor of the graph, by name
    m.verify(against="qkeras", samples=100)   # or "hls" (strategy=, reuse_factor=) or "rtl"; a JSON-ready dict
    m.build(backend="hls", out_dir="build/hls", strategy="Resource", reuse_factor=4)
    m.build(backend="rtl", out_dir="build/rtl", board="pynq-z2", budget=0.5)

Every method is one of the CLI's steps (:mod:`accel.steps`), so the API and the ``accel`` command cannot
drift apart; docs/api.md is the reference and its example runs in the test suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accel import AccelError
from accel.steps import build as build_step
from accel.steps import inspect_graph, load_model
from accel.steps import verify as verify_step

#: hls4ml's strategies, as its HLSConfig spells them
STRATEGIES = ("Latency", "Resource")


@dataclass
class AccelModel:
    """A converted model: the Keras model (None when converted from a Graph) and its exact integer Graph."""

    keras_model: Any
    graph: Any
    #: the frontend options it was converted with, recorded in every build (``accel verify BUILD_DIR``)
    input_type: str | None = None
    softmax: str | None = None
    #: the MODEL argument it came from (a zoo name or a file), "" for an object
    source: str = ""

    @property
    def input_spec(self) -> Any:
        return self.graph.tensors[self.graph.inputs[0]]

    @property
    def output_spec(self) -> Any:
        return self.graph.tensors[self.graph.outputs[0]]

    def inspect(self) -> dict[str, Any]:
        """Per-layer table (shapes, fixed-point types, MACs, parameters) and totals, as `accel inspect --json`."""
        return inspect_graph(self.graph)

    def _raw_input(self, x: Any, raw: bool) -> np.ndarray:
        spec = self.input_spec
        arr = np.asarray(x)
        if arr.shape == tuple(spec.shape):
            arr = arr[None]
        if arr.shape[1:] != tuple(spec.shape):
            raise AccelError(f"model {self.graph.name}: input of shape {arr.shape} does not match the input "
                             f"{spec.shape}; give (N, {', '.join(map(str, spec.shape))}) or one frame.")  # fmt: skip
        if raw:
            integers = np.issubdtype(arr.dtype, np.integer)
            if not integers or arr.min() < spec.dtype.min_raw or arr.max() > spec.dtype.max_raw:
                raise AccelError(f"model {self.graph.name}: raw inputs must be integers of {spec.dtype.hls} "
                                 f"({spec.dtype.min_raw}..{spec.dtype.max_raw}).")  # fmt: skip
            return arr.astype(np.int64)
        return spec.dtype.from_float(arr, what=f"model {self.graph.name}'s input")

    def predict(self, x: Any, raw: bool = False) -> np.ndarray:
        """The exact output of the reference for inputs ``x`` ((N, H, W, C) or one frame).

        Floats must lie on the input type's grid (nothing is rounded silently); ``raw=True`` takes and returns
        the integers of the fixed-point types instead (value = raw * 2**-frac).
        """
        from accel.reference import execute

        out = execute(self.graph, self._raw_input(x, raw)).outputs[self.graph.outputs[0]]
        return out if raw else self.output_spec.dtype.to_float(out)

    def trace(self, x: Any, raw: bool = False) -> dict[str, np.ndarray]:
        """Every tensor of the graph (by name) for inputs ``x``, as :meth:`predict` returns the output."""
        from accel.reference import execute

        tensors = execute(self.graph, self._raw_input(x, raw), trace=True).tensors
        if raw:
            return dict(tensors)
        return {name: self.graph.tensors[name].dtype.to_float(v) for name, v in tensors.items()}

    def verify(self, against: str = "qkeras", samples: int = 100, seed: int = 0, *, io: str = "stream",
               simulator: str | None = None, output_dir: str | Path | None = None, folding: str | None = None,
               budget: float | None = None, target_ii: int | None = None, strategy: str = "Latency",
               reuse_factor: int = 1) -> dict[str, Any]:  # fmt: skip
        """Compare the reference with QKeras, the HLS C simulation or the RTL co-simulation, exactly; the result
        as `accel verify --json` prints it (``mismatches`` 0 means every output value is equal)."""
        if against == "hls" and (strategy, reuse_factor) != ("Latency", 1):
            from accel.hls import verify_against_hls

            _check_hls_options(strategy, reuse_factor)
            result = verify_against_hls(self.keras_model, self.graph, samples, io_type=f"io_{io}", seed=seed,
                                        output_dir=output_dir, strategy=strategy,
                                        reuse_factor=reuse_factor)  # fmt: skip
            return {**result.to_json(), "io_type": f"io_{io}"}
        if against == "qkeras" and self.keras_model is None:
            raise AccelError(f"model {self.graph.name} was converted from a Graph; there is no QKeras model to "
                             "verify against (use against='hls' or 'rtl').")  # fmt: skip
        return verify_step(self.keras_model, self.graph, against, samples, seed, io=io, simulator=simulator,
                           folding=folding, output_dir=None if output_dir is None else str(output_dir),
                           budget=budget, target_ii=target_ii)  # fmt: skip

    def build(self, backend: str, out_dir: str | Path, *, board: str | None = None, part: str | None = None,
              clock_ns: float = 10.0, io: str = "stream", folding: str | None = None, budget: float | None = None,
              target_ii: int | None = None, strategy: str = "Latency", reuse_factor: int = 1,
              allow_overfit: bool = False, force: bool = False) -> dict[str, Any]:  # fmt: skip
        """Write the HLS or RTL project (and with ``board`` the Vivado flow) into ``out_dir``, as `accel build`
        does; the summary `accel build --json` prints.  ``strategy`` / ``reuse_factor`` are hls4ml's knobs
        (HLS backend); ``folding`` / ``budget`` / ``target_ii`` fold the RTL design."""
        hls_options: Mapping[str, Any] = {}
        if (strategy, reuse_factor) != ("Latency", 1):
            if backend != "hls":
                raise AccelError("strategy and reuse_factor are hls4ml's options (backend='hls'); the RTL backend "
                                 "is folded with folding, budget or target_ii.")  # fmt: skip
            _check_hls_options(strategy, reuse_factor)
            hls_options = {"strategy": strategy, "reuse_factor": reuse_factor}
        return build_step(self.keras_model, self.graph, backend, Path(out_dir), board=board, part=part,
                          clock_ns=clock_ns, io=io, folding=folding, budget=budget, target_ii=target_ii,
                          source=self.source or None, allow_overfit=allow_overfit, input_type=self.input_type,
                          softmax=self.softmax, force=force, hls_options=hls_options)  # fmt: skip


def _check_hls_options(strategy: str, reuse_factor: int) -> None:
    if strategy not in STRATEGIES:
        raise AccelError(f"strategy {strategy!r} is not one of hls4ml's: {', '.join(STRATEGIES)}.")
    if not isinstance(reuse_factor, int) or reuse_factor < 1:
        raise AccelError(f"reuse_factor {reuse_factor!r} must be a whole number of 1 or more.")


def convert(model: Any, *, input_type: str | None = None, softmax: str | None = None) -> AccelModel:
    """Convert a QKeras model exactly: ``model`` is a ``keras.Model``, a path to a saved model (.h5), or the name
    of a zoo model; ``input_type`` types an input with no quantizer after it (hls4ml's ``'ap_fixed<16,6>'``);
    ``softmax`` ('argmax' or 'drop') handles a final softmax.  Refusals are one-sentence ``AccelError``s."""
    if isinstance(model, (str, Path)):
        keras_model, graph = load_model(str(model), input_type=input_type, softmax=softmax)
        return AccelModel(keras_model, graph, input_type, softmax, str(model))
    from accel.frontend import load_graph

    keras_model, graph = load_graph(model, input_type=input_type, softmax=softmax)
    return AccelModel(keras_model, graph, input_type, softmax)
