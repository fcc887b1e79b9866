"""Graph -> hls4ml ``ModelGraph`` with every precision from the Graph (see :mod:`accel.hls`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accel import AccelError
from accel.ir import Graph

from .lower import Lowered, lower

IO_TYPES = ("io_stream", "io_parallel")
#: hls4ml backends accel supports: Vitis (Vitis HLS, the default) and Vivado (the discontinued Vivado HLS <= 2020.1)
BACKENDS = ("Vitis", "Vivado")
STRATEGIES = ("Latency", "Resource")

def _io(io_type: str) -> str:
    full = io_type if io_type.startswith("io_") else f"io_{io_type}"
    if full not in IO_TYPES:
        raise AccelError(f"hls4ml io type '{io_type}' is not supported; supported: stream, parallel.")
    return full


def hls_config(
    graph: Graph,
    lowered: Lowered,
    strategy: str = "Latency",
    reuse_factor: int = 1,
    layer_reuse: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """hls4ml's HLSConfig with every layer's precision from the Graph and tracing on."""
    if strategy not in STRATEGIES:
        raise AccelError(f"hls4ml strategy '{strategy}' is not supported; supported: {', '.join(STRATEGIES)}.")
    if int(reuse_factor) < 1:
        raise AccelError(f"reuse factor {reuse_factor} is not supported; it must be a positive integer.")
    layer_reuse = dict(layer_reuse or {})
    per_layer: dict[str, dict[str, Any]] = {}
    for name, prec in lowered.precisions.items():
        per_layer[name] = {"Precision": dict(prec), "Trace": True}
    for node_name, rf in layer_reuse.items():
        if node_name not in lowered.layer_of_tensor:
            raise AccelError(
                f"reuse factor given for '{node_name}', which is not a node of graph {graph.name}; "
                "give reuse factors by node name."
            )
        if int(rf) < 1:
            raise AccelError(f"reuse factor {rf} for node {node_name} is not supported; it must be positive.")
        per_layer[lowered.layer_of_tensor[node_name]]["ReuseFactor"] = int(rf)
    return {
        # Any type not set below would default to this; an unmistakably narrow type makes such a gap show.
        "Model": {"Precision": "ap_fixed<2,1>", "ReuseFactor": int(reuse_factor), "Strategy": strategy},
        "LayerName": per_layer,
    }


def convert(
    model: Any,
    graph: Graph,
    io_type: str = "io_stream",
    strategy: str = "Latency",
    reuse_factor: int = 1,
    layer_reuse: Mapping[str, int] | None = None,
    output_dir: str | Path = "build/hls",
    project_name: str | None = None,
    part: str = "xc7z020clg400-1",
    clock_period: float = 10,
    backend: str = "Vitis",
    disable_workarounds: tuple[str, ...] = (),
):
    """An hls4ml ``ModelGraph`` computing exactly what ``graph`` computes (not yet compiled).

    ``model`` is the QKeras model the graph came from; it is not parsed again
    (hls4ml's own Keras parser lacks handlers and types the Graph already has) and
    may be None.  ``layer_reuse`` maps Graph node names to reuse factors.
    ``disable_workarounds`` (see :data:`accel.hls.lower.WORKAROUNDS`) exists so tests
    can show each hls4ml gap; leave it empty for exact firmware.
    """
    import hls4ml
    from hls4ml.model import ModelGraph

    from .extensions import register

    if backend not in BACKENDS:
        raise AccelError(f"hls4ml backend '{backend}' is not supported; supported: {', '.join(BACKENDS)}.")
    register()
    io_type = _io(io_type)
    lowered = lower(graph, io_type, strategy, disable_workarounds)
    config = hls4ml.utils.config.create_config(
        output_dir=str(output_dir),
        project_name=project_name or _project(graph.name),
        backend=backend,
        part=part,
        clock_period=clock_period,
        io_type=io_type,
    )
    config["HLSConfig"] = hls_config(graph, lowered, strategy, reuse_factor, layer_reuse)
    config["InputData"] = None
    config["OutputPredictions"] = None
    hmodel = ModelGraph.from_layer_list(config, lowered.layers, lowered.inputs, lowered.outputs)
    hmodel.accel_lowered = lowered
    hmodel.accel_graph = graph
    return hmodel


def _project(name: str) -> str:
    return "accel_" + re.sub(r"\W", "_", name)
