"""``accel verify BUILD_DIR``: a build is checked as it is, its files left alone, and a fault planted in it is found.

Why these tests: verifying a model (``accel verify MODEL --against rtl``) builds a fresh design, so it
cannot vouch for the directory a user is about to synthesise.  These tests plant a fault in a build's
own files (one weight) and require the verifier of the build directory to see it and name the layer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from accel.compare import random_inputs
from accel.deploy.manifest import load_build, write_manifest
from accel.reference import execute

ACCEL = [sys.executable, "-m", "accel.cli"]


def _accel(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ACCEL, *args], capture_output=True, text=True)


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def rtl_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("digits_rtl")
    proc = _accel("build", "digits", "--backend", "rtl", "-o", str(d))
    assert proc.returncode == 0, proc.stderr
    return d


@pytest.mark.rtl
def test_rtl_build_dir_exact_and_untouched(rtl_build: Path) -> None:
    """The issue's command: 0 mismatches, every file under rtl/ byte-identical, measured.json written."""
    before = _hashes(rtl_build / "rtl")
    proc = _accel("verify", str(rtl_build), "--against", "rtl", "--samples", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["mismatches"] == 0 and result["problems"] == [] and result["samples"] == 20
    assert result["build_dir"] == str(rtl_build)
    # README's digits II: conv1 at its fastest folding (PE = its 8 output channels, SIMD = its one input channel)
    # takes the 9 taps of each of the 8 x 8 pixels one per cycle
    assert result["ii_cycles"] == result["expected_ii_cycles"] == 8 * 8 * 9
    assert _hashes(rtl_build / "rtl") == before
    measured = json.loads((rtl_build / "measured.json").read_text())
    assert measured["ii_cycles"] == 8 * 8 * 9 and measured["frames"] == 20


def flip_fc_weight(build: Path) -> None:
    """The planted fault of the RTL build tests: the lowest bit of the first weight word of digits' dense layer
    (``rtl/fc_mvu_weights.mem``) flipped.  With seed 0 it changes sample 11's output: verify 20 samples."""
    rom = build / "rtl" / "fc_mvu_weights.mem"
    words = rom.read_text().split("\n")
    first = words[0]
    words[0] = first[:-1] + format(int(first[-1], 16) ^ 0x1, "x")  # the lowest bit of one weight
    rom.write_text("\n".join(words))


@pytest.mark.rtl
def test_rtl_build_dir_planted_weight_is_found(rtl_build: Path, tmp_path: Path) -> None:
    """One weight of the dense layer changed in the build's ROM image: outputs differ and the layer is named."""
    d = tmp_path / "faulty"
    shutil.copytree(rtl_build, d, ignore=shutil.ignore_patterns("sim"))
    flip_fc_weight(d)
    proc = _accel("verify", str(d), "--against", "rtl", "--samples", "20", "--json")
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["mismatches"] > 0
    assert result["first_divergence"]["node"] == "fc"
    assert result["first_divergence"]["instance"] == "u_fc_mvu"


@pytest.mark.hls
@pytest.mark.slow
def test_hls_build_dir_exact_then_planted_weight_is_found(tmp_path: Path) -> None:
    """The HLS build's own top, C-simulated on fresh inputs: exact; then one weight edited in its firmware."""
    from accel.hls.build_check import verify_hls_build
    from accel.steps import load_model

    d = tmp_path / "h"
    proc = _accel("build", "digits", "--backend", "hls", "-o", str(d))
    assert proc.returncode == 0, proc.stderr
    proc = _accel("verify", str(d), "--against", "hls", "--samples", "40", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mismatches"] == 0
    # the dense layer's first weight, in the header synthesis reads and the text file the C simulation loads
    weights = d / "hls4ml" / "firmware" / "weights"
    for path, opener in ((weights / "w13.h", "= {"), (weights / "w13.txt", "")):
        text = path.read_text()
        start = text.index(opener) + len(opener) if opener else 0
        end = text.index(",", start)
        path.write_text(text[:start] + f"{float(text[start:end]) + 0.125:.3f}" + text[end:])
    _, graph = load_model("digits")
    result = verify_hls_build(graph, d, 40, seed=1)
    assert result.mismatches > 0
    raw = random_inputs(graph, 40, 1)
    ref = execute(graph, raw).outputs[graph.outputs[0]]
    n, *i = result.first_divergence["index"]
    out_type = graph.tensors[graph.outputs[0]].dtype
    assert result.first_divergence["expected"] == float(out_type.to_float(ref[n][tuple(i)]))


def test_build_dir_refusals(rtl_build: Path, tmp_path: Path) -> None:
    """Options that only make sense when building, another backend, and a build that names no model: one sentence."""
    cases = [
        (["verify", str(rtl_build), "--against", "rtl", "--folding", "f.json"], "--folding applies only to"),
        (["verify", str(rtl_build), "--against", "rtl", "--budget", "0.5"], "--budget applies only to"),
        (["verify", str(rtl_build), "--against", "rtl", "--target-ii", "900"], "--target-ii applies only to"),
        (["verify", str(rtl_build), "--against", "hls"], "is an rtl build; `--against hls` needs an hls build"),
        (["verify", str(rtl_build), "--against", "qkeras"], "is a build directory; it is verified against its own"),
    ]
    for args, text in cases:
        proc = _accel(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert text in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    d = tmp_path / "nosource"
    shutil.copytree(rtl_build, d, ignore=shutil.ignore_patterns("sim"))
    m = load_build(d)
    write_manifest(d, replace(m, source=""))
    proc = _accel("verify", str(d), "--against", "rtl", "--samples", "1")
    assert proc.returncode == 2 and "does not record the model it was built from" in proc.stderr
