"""The fit check of ``accel build --backend rtl``: the per-block cost model, its agreement with yosys, the refusal.

The cost model (``Block.cost()``, accel/rtl/blocks/cost.py) is checked three ways: its memory and multiplier rules
against what yosys did on the calibration set (numbers observed with ``scripts/calibrate_cost.py``, without
running yosys here), its totals against yosys itself on a few configurations (slow, needs a native yosys) within
the error docs/hardware.md states, and its use: a 4096x4096 dense layer is refused before anything is written,
builds with ``allow_overfit``, and every zoo model still builds.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import calibrate_cost  # noqa: E402

import accel.rtl.blocks as blocks_pkg  # noqa: E402
from accel import AccelError  # noqa: E402
from accel.deploy.manifest import MEMORY_KINDS, BuildManifest, load_build  # noqa: E402
from accel.fixed import FixedType  # noqa: E402
from accel.ir import Graph, GraphBuilder  # noqa: E402
from accel.rtl.blocks import cost as cost_model  # noqa: E402
from accel.rtl.blocks.base import Block  # noqa: E402
from accel.rtl.network import build_rtl  # noqa: E402

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="needs a native yosys (make system)")

W4 = FixedType(True, 4, 1)
B8 = FixedType(True, 8, 3)
X8 = FixedType(True, 8, 3)
_DENSE: dict[int, Graph] = {}
#: docs/hardware.md, "Fit check": LUT and FF of a block within this fraction of yosys (DSP and BRAM36 exact)
LUT_FF_ERROR = 0.25
#: the message of a refused design: resource, estimate, capacity, the layer holding most of it and where
REFUSAL = re.compile(r"graph (\w+): the RTL design needs an estimated ([\d,.]+) (LUTs|BRAM36) \(the xc7z020 has "
                     r"([\d,]+)\); layer (\w+) holds ([\d,.]+) of them in weights; fold less, quantise narrower, "
                     r"or pass --allow-overfit\.")  # fmt: skip
#: a dense layer's 4-bit weights in block RAM need at least this many BRAM36 (36 Kbit each), whatever the packing
def bram36_floor(n: int) -> float:
    return n * n * 4 / 36_864


def dense(n: int) -> Graph:
    """input (1, 1, n) -> a 1x1 conv (a dense layer) ``fc`` with random 4-bit weights; built once per size."""
    if n not in _DENSE:
        rng = np.random.default_rng(0)
        b = GraphBuilder(f"dense{n}")
        x = b.input("x", (1, 1, n), X8)
        w = rng.integers(W4.min_raw, W4.max_raw + 1, (1, 1, n, n))
        bias = rng.integers(B8.min_raw, B8.max_raw + 1, (n,))
        b.add("fc", "conv2d", [x], {"kernel": (1, 1)}, {"weight": w, "bias": bias}, {"weight": W4, "bias": B8})
        _DENSE[n] = b.build(["fc"])
    return _DENSE[n]


# -- the model's rules, as yosys applied them to the calibration set -----------------------------------------------
def block_classes() -> set[type]:
    """Every block description in accel/rtl/blocks (a Block subclass naming a library module)."""
    import importlib
    import pkgutil

    found = set()
    for info in pkgutil.iter_modules(blocks_pkg.__path__):
        module = importlib.import_module(f"accel.rtl.blocks.{info.name}")
        found |= {c for _, c in inspect.getmembers(module, inspect.isclass)
                  if issubclass(c, Block) and c is not Block and "module" in vars(c)}  # fmt: skip
    return found


def test_every_block_declares_its_cost_and_the_calibration_set_covers_it() -> None:
    configs = calibrate_cost.configurations()
    assert block_classes() == {type(b) for b in configs}, "a block without a calibration configuration"
    for b in configs:
        c = b.cost()
        assert all(v >= 0 for v in c.resources().values()), b.name
        assert c.lut > 0 and c.ff > 0, b.name
        assert all(m.kind in cost_model.MEMORY_KINDS for m in c.memory), b.name
    assert cost_model.MEMORY_KINDS == MEMORY_KINDS  # the manifest's copy (it may not import the blocks)


@pytest.mark.parametrize(("words", "width", "registered", "single", "kind", "bram36"), [
    (1028, 33, True, False, "bram", 1.5),  # fifo_1028x32: a RAMB36 and a RAMB18 along the depth
    (3584, 32, True, False, "bram", 3.5),  # win_56x56x64: three RAMB36, one RAMB18
    (2048, 65, True, False, "bram", 4.0),  # fifo_2048x64: four RAMB36 512x72
    (130, 17, True, False, "bram", 0.5),  # fifo_130x16: three RAM64M deep cost more than a RAMB18
    (256, 9, True, False, "lutram", 0.0),  # fifo_256x8: twelve RAM64M
    (64, 65, True, False, "lutram", 0.0),  # fifo_64x64: 22 RAM64M beat a RAMB36
    (512, 9, False, True, "lutram", 0.0),  # a max pool's row buffer, read combinationally: RAM256X1S
    (1, 152, False, False, "ff", 0.0),  # a one-word accumulator memory: registers
])  # fmt: skip
def test_memories_map_as_yosys_mapped_them(words: int, width: int, registered: bool, single: bool, kind: str,
                                           bram36: float) -> None:  # fmt: skip
    c = cost_model.ram("m", words, width, registered_read=registered, single_port=single)
    (m,) = c.memory
    assert (m.kind, c.bram36) == (kind, bram36)


def test_lutram_sites_as_yosys_counted_them() -> None:
    """fifo_256x8 became 12 RAM64M (48 sites), up_16x16x32's 1024 x 8 banks 48 RAM64M, a 512 x 9 row buffer
    18 RAM256X1S (72 sites); the read muxes come on top."""
    assert cost_model.ram("q", 256, 9, registered_read=True).lut == 48 + 9
    assert cost_model.ram("b", 1024, 8, registered_read=False).lut == 4 * 48 + 8 * 5
    assert cost_model.ram("r", 512, 9, registered_read=False, single_port=True).lut == 72 + 9


def test_rom_luts_as_yosys_counted_them() -> None:
    """mvu_64x64's 256 x 128 weight ROM: exactly 512 LUT6 (with 256 MUXF7, 128 MUXF8); a two-word ROM is wiring."""
    assert cost_model.rom_luts(256, 128) == 512
    assert cost_model.rom_luts(2, 100) == 0
    assert cost_model.rom_luts(65, 3) == 6
    assert 1.2 < cost_model.rom_luts(1024, 1) / 16 < 1.3  # mvu_256x256's 1024-word columns: ~1.25x


@pytest.mark.parametrize(("words", "width", "kind", "bram36"), [
    (256, 36, "bram", 0.5), (4096, 4, "bram", 0.5), (1024, 36, "bram", 1.0), (8192, 8, "bram", 2.0),
    (1024, 4, "lut-rom", 0.0), (256, 128, "lut-rom", 0.0), (128, 16, "lut-rom", 0.0),
])  # fmt: skip
def test_a_rom_read_into_a_register_maps_as_yosys_mapped_it(words: int, width: int, kind: str, bram36: float) -> None:
    """A standalone ``q <= rom[a]`` of random words through synth_xilinx (yosys 0.23): block RAM where one holds
    more than 64 bits per memory_libmap cost unit, LUTs otherwise."""
    c = cost_model.rom("w", words, width, registered_read=True)
    (m,) = c.memory
    assert (m.kind, c.bram36) == (kind, bram36)
    assert c.lut == (cost_model.rom_luts(words, width) if kind == "lut-rom" else 0)


@pytest.mark.parametrize(("a", "b", "dsp"), [
    (9, 5, 1),  # 8-bit input x 4-bit weight (mvu_9x8)
    (5, 5, 1),  # unsigned 4-bit x 4-bit (dwu_c8_pe1)
    (5, 4, 0),  # unsigned 4-bit x 3-bit (mobilenet_v2_block's project layer, mvu_32x8_s1p1_4x3)
    (5, 3, 0),  # 4-bit x 2-bit (mvu_32x32_s2p2_4x2)
    (4, 4, 0),  # 3-bit x 3-bit (mvu_16x16_s4p2_3x3)
    (16, 17, 1),  # the global average pool's reciprocal multiply (gap_5x25x64)
])  # fmt: skip
def test_multipliers_go_to_dsp_as_mul2dsp_took_them(a: int, b: int, dsp: int) -> None:
    assert cost_model.dsp_per_multiplier(a, b) == dsp


@pytest.mark.parametrize(("name", "dsp", "lut_ff"), [
    ("mvu_64x64_s8p8_8x8_dsp2", 32, (1834, 2572)),  # ds_cnn_kws-like: 32 pairs, one DSP48E1 each
    ("mvu_40x40_s4p5_8x8_dsp2", 12, (807, 879)),  # PE 5: 2 pairs and the unpacked fifth channel, x 4 lanes
    ("mvu_16x16_s2p2_4x4_dsp2", 2, (211, 201)),  # 4-bit operands: S = 8, A = 5 + 8 bits
    ("mvu_64x64_s8p8_8x8_lut", 0, (8314, 5484)),  # 64 LUT multipliers of 8 x 8 bits
    ("dwu_c64_pe8_8x8_lut", 0, (1598, 1017)),
])  # fmt: skip
def test_multiplier_styles_cost_what_yosys_made_of_them(name: str, dsp: int, lut_ff: tuple[int, int]) -> None:
    """yosys' counts of calibration configurations of the styles dsp2 and lut (scripts/calibrate_cost.py):
    DSP48E1 exact, LUT and FF within the documented error."""
    (block,) = [b for b in calibrate_cost.configurations() if b.name == name]
    c = block.cost()
    assert c.dsp == dsp
    for model, yosys in zip((c.lut, c.ff), lut_ff, strict=True):
        assert abs(model / yosys - 1) <= LUT_FF_ERROR, (name, model, yosys)


# -- the model against yosys ------------------------------------------------------------------------------------------
@pytest.mark.slow
@needs_yosys
def test_cost_model_agrees_with_yosys_within_the_documented_error(tmp_path: Path) -> None:
    names = {"mvu_64x64_s4p4_8x8", "dwu_c64_pe2_8x8", "win_25x5x64_3x3_p2", "fifo_1028x32", "gap_5x25x64_l4",
             "wd_25x5x64_8to2", "mvu_16x16_s2p2_4x4_dsp2", "dwu_c16_pe2_m2_4x4_lut"}  # fmt: skip
    chosen = [b for b in calibrate_cost.configurations() if b.name in names]
    rows = calibrate_cost.compare(chosen, calibrate_cost.synthesise(chosen, jobs=1, work=tmp_path))
    for r in rows:
        assert r["error"] is None, r
        print(r["name"], "model", r["model"], "yosys", r["yosys"])
        assert r["model"]["DSP"] == r["yosys"]["DSP"] and r["model"]["BRAM"] == r["yosys"]["BRAM"], r["name"]
        for res in ("LUT", "FF"):
            assert abs(r["model"][res] / r["yosys"][res] - 1) <= LUT_FF_ERROR, (r["name"], res, r["model"], r["yosys"])
        # the clock check's per-module bound holds on the timing estimate of the same netlist
        assert r["estimate_ns"] is not None and r["estimate_ns"] <= r["bound_ns"], (r["name"], r["estimate_ns"])


# -- the refusal --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_4096x4096_dense_layer_is_refused_before_writing_and_builds_when_allowed(tmp_path: Path) -> None:
    graph = dense(4096)
    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    for out in (fresh, existing):
        with pytest.raises(AccelError) as exc:
            build_rtl(graph, out)
        msg = str(exc.value)
        match = REFUSAL.fullmatch(msg)
        assert match, msg
        # the weight ROM is read into a register, so its 64 Mbit go to block RAM, which the part has 140 of
        assert match.group(1, 3, 4, 5) == ("dense4096", "BRAM36", "140", "fc")
    assert not fresh.exists()
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]

    manifest = build_rtl(graph, fresh, allow_overfit=True)
    fit = manifest["fit"]
    assert (fit["fits"], fit["allow_overfit"]) == (False, True)
    assert fit["verdict"].startswith("does not fit the xc7z020: BRAM ")
    estimate, held = float(match.group(2).replace(",", "")), float(match.group(6).replace(",", ""))
    assert fit["total"]["bram36"] == estimate >= bram36_floor(4096) > 140
    (layer,) = manifest["layers"]
    assert layer["cost"]["bram36"] == held <= estimate
    mvu = next(i for i in layer["instances"] if i["module"] == "accel_mvu")
    weights = next(m for m in mvu["memory"] if m["name"] == "weights")
    assert (weights["kind"], weights["bits"]) == ("bram", 4096 * 4096 * 4)
    assert weights["bram36"] > 0.5 * held  # the weights are most of the layer, as the sentence says


def test_the_cli_refuses_with_one_line_and_builds_with_allow_overfit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    import accel.cli as cli

    graph = dense(2048)  # 16 Mbit of weights: at least 455 BRAM36 of the part's 140
    monkeypatch.setattr(cli, "load_model", lambda spec, **frontend: (None, graph))
    out = tmp_path / "out"
    assert cli.main(["build", "dense", "--backend", "rtl", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("accel: error: graph dense2048: the RTL design needs an estimated ")
    assert REFUSAL.fullmatch(err.removeprefix("accel: error: ").strip())
    assert not out.exists()

    assert cli.main(["build", "dense", "--backend", "rtl", "-o", str(out), "--allow-overfit"]) == 0
    text = capsys.readouterr().out
    line = next(s for s in text.splitlines() if s.startswith("resource estimate"))
    assert re.search(r"LUT [\d,]+ of 53,200, FF [\d,]+ of 106,400, DSP \d+ of 220, BRAM36 [\d.]+ of 140; does not "
                     r"fit the xc7z020: BRAM \d+% \(built anyway: --allow-overfit\)\.$", line), line
    assert load_build(out).rtl.fit.allow_overfit is True
    assert "--allow-overfit" in _build_help(cli)


def _build_help(cli: object) -> str:
    parser = cli.build_parser()  # type: ignore[attr-defined]
    sub = next(a for a in parser._actions if a.choices and "build" in a.choices)  # noqa: SLF001 (argparse's own API)
    return sub.choices["build"].format_help()


def test_a_part_of_unknown_capacity_is_not_refused(tmp_path: Path) -> None:
    m = build_rtl(dense(2048), tmp_path, part="xc7k70tfbg676-1")
    fit = m["fit"]
    assert (fit["capacity"], fit["utilisation_percent"], fit["fits"]) == (None, None, None)
    assert fit["verdict"].startswith("capacity of part xc7k70tfbg676-1 unknown")
    assert fit["total"]["bram36"] >= bram36_floor(2048) > 140  # the same design the xc7z020 refuses


def test_build_json_records_cost_per_instance_and_layer_and_old_files_still_read(tmp_path: Path) -> None:
    build_rtl(dense(256), tmp_path)
    m = load_build(tmp_path)
    assert BuildManifest.from_json(m.to_json()) == m
    fit = m.rtl.fit
    assert fit.fits is True and fit.capacity.device == "xc7z020" and fit.capacity.bram36 == 140
    for layer in m.rtl.layers:
        for res in ("lut", "ff", "dsp", "bram36"):
            assert getattr(layer.cost, res) == pytest.approx(sum(getattr(i.cost, res) for i in layer.instances),
                                                             abs=0.1 * len(layer.instances))  # fmt: skip
    assert fit.total.lut == pytest.approx(sum(layer.cost.lut for layer in m.rtl.layers), abs=0.5)
    kinds = {(i.module, mem.name): mem.kind for layer in m.rtl.layers for i in layer.instances for mem in i.memory}
    # 256 x 256 4-bit weights (256 Kbit) read into a register: block RAM
    assert kinds[("accel_mvu", "weights")] == "bram" and kinds[("accel_fifo", "queue")] in ("lutram", "bram")

    data = json.loads((tmp_path / "build.json").read_text())  # as written before the fit check existed
    del data["fit"]
    for layer in data["layers"]:
        del layer["cost"]
        for inst in layer["instances"]:
            del inst["cost"], inst["memory"]
    old = BuildManifest.from_json(data)
    assert old.rtl.fit is None and old.rtl.layers[0].cost is None and old.rtl.layers[0].instances[0].memory == ()

    data = m.to_json()
    data["layers"][0]["instances"][0]["cost"]["luts"] = 1  # still strict about unknown keys
    with pytest.raises(AccelError, match=r"layers\[0\]\.instances\[0\]\.cost\.luts is not a field"):
        BuildManifest.from_json(data)


# -- the zoo --------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_zoo_model_fits_and_ds_cnn_matches_its_yosys_totals(tmp_path: Path) -> None:
    """Every zoo model builds (each fits the xc7z020 today); ds_cnn_kws's default build (the fastest within 85% of
    the part: II 8,000, the pointwise layers packing two products per DSP48E1, conv1_bn in LUT multipliers) against
    the yosys totals docs/hardware.md quotes from ``accel report`` (LUT 34,673, FF 31,497, DSP 179, BRAM36 56)."""
    import models
    from accel.steps import load_model

    totals = {}
    for name in models.names():
        _, graph = load_model(name)
        fit = build_rtl(graph, tmp_path / name)["fit"]
        assert fit["fits"] is True, (name, fit["verdict"])
        totals[name] = fit["total"]
        print(f"{name:<20} cost model: " + ", ".join(f"{k} {v:g}" for k, v in fit["total"].items()))
    ds = totals["ds_cnn_kws"]
    assert (ds["dsp"], ds["bram36"]) == (179, 56)
    assert abs(ds["lut"] / 34_673 - 1) <= LUT_FF_ERROR and abs(ds["ff"] / 31_497 - 1) <= LUT_FF_ERROR
