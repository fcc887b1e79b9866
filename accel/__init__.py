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
