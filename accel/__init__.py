"""accel: quantised QKeras pointwise/depthwise CNNs to bit-exact FPGA hardware.

The package is layered (see docs/architecture.md): `fixed` (the one fixed-point
type system) <- `ir` (typed integer dataflow graph and op registry) <- `reference`
(NumPy integer executor) and `frontend` (QKeras -> Graph) <- backends and the CLI.
"""

__version__ = "0.1.0"


class AccelError(Exception):
    """A user-facing error: one sentence naming the layer or file, what is wrong, what is supported.

    The CLI prints the message and exits non-zero without a traceback, so the
    message must stand on its own.
    """


def __getattr__(name: str):  # PEP 562: ``accel.convert`` without importing the frontend at ``import accel``
    """``accel.convert`` and ``accel.AccelModel`` (:mod:`accel.api`), imported on first use.

    Why lazily: ``accel`` is the bottom of the package's layers (docs/architecture.md) and imports nothing of
    its own; the API sits at the top and pulls in TensorFlow, so ``import accel`` stays instant and acyclic.
    """
    if name in ("convert", "AccelModel"):
        import importlib

        return getattr(importlib.import_module("accel.api"), name)
    raise AttributeError(f"module 'accel' has no attribute {name!r}")
