"""One small module per RTL block: a frozen dataclass of its parameters with ``validate()``,
``verilog_parameters()``, ``write_files(dir)`` and ``expected_cycles_per_frame()``.

Blocks with ROMs (``mvu``, ``dwu``) take the directory that ``write_files`` wrote into as
``verilog_parameters(directory)`` so the ``.mem`` paths in the parameters point there.

Blocks: ``fifo.Fifo``, ``requant.Requant``, ``window.Window`` (im2col stream, lanes unchanged),
``mvu.Mvu`` (1x1 conv / dense directly, KxK conv behind ``Window`` with SIMD = window lanes),
``dwu.Dwu`` (behind ``Window`` with PE = window lanes).

The network generator instantiates blocks from these; the testbenches in ``rtl_tests/`` build the
Verilog with exactly the parameters these return, so the two cannot drift apart.
"""
