"""The accel model zoo: small quantised QKeras networks of the pointwise/depthwise family.

Each model is a builder function registered with `@zoo_model("name")`; `build(name, seed)` returns a
fresh `keras.Model` whose weights are a pure function of the seed (or, for `digits`, the trained weights
shipped in `models/digits_weights.npz`).  The models are deliberately small (8x8 to 16x16 inputs, 8-32
channels) because they are co-simulated in Verilog; only `ds_cnn_kws` follows its published MLPerf Tiny
shape.  Every builder uses the QKeras subset the accel frontend converts exactly (see docs).

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


def build(name: str, seed: int = 0) -> keras.Model:
    """Build the zoo model `name`; its weights depend only on `seed` (digits: on the shipped weights)."""
    _load_families()
    if name not in _REGISTRY:
        raise AccelError(f"model zoo: there is no model named {name!r}; the known models are {', '.join(_REGISTRY)}.")
    return _REGISTRY[name](seed)


_LOADED = False
# Family modules, imported in this order (which is the order of names()).
_FAMILIES = ("heads", "mobilenet", "ds_cnn", "squeezenet", "inception", "shufflenet", "digits")


def _load_families() -> None:
    """Import the family modules (they register themselves); deferred so `import models` stays cheap."""
    global _LOADED
    if _LOADED:
        return
    for module in _FAMILIES:
        importlib.import_module(f".{module}", __name__)  # relative: the zoo is `models` here, `accel.zoo` installed
    _LOADED = True
