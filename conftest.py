"""pytest setup for the whole repository: the suite co-simulates with Icarus unless ``ACCEL_SIM`` says otherwise.

Why: accel's default simulator is Verilator where it is installed (:func:`accel.rtl.simulator.default_simulator`),
which pays for its speed on long runs with a C++ compile of every build (tens of seconds), while the suite
co-simulates many small builds a few frames each, where Icarus compiles in about a second.  Tests that need
Verilator name it; ``ACCEL_SIM=verilator make test`` runs the rest with it too.  Set in ``os.environ`` so that
the CLI subprocesses the tests start inherit it.
"""

import os

os.environ.setdefault("ACCEL_SIM", "icarus")
