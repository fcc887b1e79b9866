"""One small module per RTL block: a frozen dataclass of its parameters with ``validate()``,
``verilog_parameters()``, ``write_files(dir)`` and ``expected_cycles_per_frame()``.

The network generator instantiates blocks from these; the testbenches in ``rtl_tests/`` build the
Verilog with exactly the parameters these return, so the two cannot drift apart.
"""
