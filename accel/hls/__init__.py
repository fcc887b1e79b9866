"""accel.hls: hls4ml firmware whose every type is the Graph's, proven by C simulation.

``convert`` lowers the Graph (the authority on every type: it has folded
batch-norm, split separable convolutions and typed each tensor exactly) to an
hls4ml layer list (:mod:`accel.hls.lower`) and hands it to hls4ml's own
``ModelGraph``: hls4ml's optimiser passes, templates, writer and g++ C simulation
do the rest.  Every layer's result, accumulator, weight and bias precision is set
explicitly from the Graph, so nothing falls back to hls4ml's ``fixed<16,6>``
default.  ``verify_against_hls`` compiles that model and compares it with
:func:`accel.reference.execute` bit for bit.
"""

from __future__ import annotations

from .convert import IO_TYPES, STRATEGIES, convert, hls_config
from .lower import Lowered, lower, precision
from .verify import verify_against_hls

__all__ = ["IO_TYPES", "STRATEGIES", "Lowered", "convert", "hls_config", "lower", "precision", "verify_against_hls"]
