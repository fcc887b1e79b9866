"""The accel model zoo: small quantised QKeras networks of the pointwise/depthwise family.

Each model is a builder function registered with `@zoo_model("name")`; `build(name, seed)` returns a
fresh `keras.Model` whose weights are a pure function of the seed (or, for `digits`, the trained weights
shipped in `models/digits_weights.npz`).  Most models are deliberately small (8x8 to 16x16 inputs, 8-32
channels) because they are co-simulated in Verilog; `ds_cnn_kws` and the three `MLPERF_TINY` models follow
their published MLPerf Tiny shapes.  Every builder uses the QKeras subset the accel frontend converts exactly
(see docs).

This folder is the package `models` in the source tree and installs as `accel.zoo` (pyproject.toml maps it),
so the zoo imports itself only relatively; accel reaches it through `accel.resources.zoo()`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from accel import AccelError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any family module imports TensorFlow

if TYPE_CHECKING:  # Keras is imported by the family modules, not at registry level.
    from tensorflow import keras

Builder = Callable[[int], "keras.Model"]

_REGISTRY: dict[str, Builder] = {}

#: The MLPerf Tiny reference networks of `mlperf_tiny.py`: 0.26 M to 12.5 M MACs each, where the small models
#: have thousands.  Tests that run every zoo model many times (200 HLS samples in both io types, 20 RTL frames)
#: run the others (`small_names()`); these get their own, fewer-sample checks (see tests/test_hls.py and
#: rtl_tests/network/test_network.py).  ds_cnn_kws predates this list and stays in every test.
MLPERF_TINY = ("vww_mobilenet_v1", "ic_resnet8", "ad_autoencoder")


def zoo_model(name: str) -> Callable[[Builder], Builder]:
    """Register a builder `fn(seed) -> keras.Model` under `name` (names are unique)."""

    def register(fn: Builder) -> Builder:
        if name in _REGISTRY:
            raise AccelError(f"model zoo: the name {name!r} is registered twice; every zoo model needs its own name.")
        _REGISTRY[name] = fn
        return fn

    return register


def names() -> list[str]:
    """Names of all zoo models, in registration order."""
    _load_families()
    return list(_REGISTRY)


def small_names() -> list[str]:
    """Names of the zoo models that every parametrised test runs in full: all but `MLPERF_TINY`."""
    return [n for n in names() if n not in MLPERF_TINY]


def build(name: str, seed: int = 0) -> keras.Model:
    """Build the zoo model `name`; its weights depend only on `seed` (digits: on the shipped weights)."""
    _load_families()
    if name not in _REGISTRY:
        raise AccelError(f"model zoo: there is no model named {name!r}; the known models are {', '.join(_REGISTRY)}.")
    return _REGISTRY[name](seed)


_LOADED = False
# Family modules, imported in this order (which is the order of names()).
_FAMILIES = ("heads", "mobilenet", "ds_cnn", "squeezenet", "inception", "shufflenet", "digits", "mlperf_tiny")


def _load_families() -> None:
    """Import the family modules (they register themselves); deferred so `import models` stays cheap."""
    global _LOADED
    if _LOADED:
        return
    for module in _FAMILIES:
        importlib.import_module(f".{module}", __name__)  # relative: the zoo is `models` here, `accel.zoo` installed
    _LOADED = True
