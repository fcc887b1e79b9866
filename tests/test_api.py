"""The Python API (accel/api.py): docs/api.md's example runs as written, and its refusals are sentences."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import accel
from accel import AccelError

ROOT = Path(__file__).resolve().parent.parent


def _doc_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), flags=re.S)
    assert len(blocks) == 1, "docs/api.md has one example"
    return blocks[0]


@pytest.mark.slow
@pytest.mark.hls
@pytest.mark.rtl
def test_the_documented_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(_doc_example(), "docs/api.md", "exec"), {})
    config = (tmp_path / "build" / "api_hls" / "hls4ml" / "hls4ml_config.yml").read_text()
    assert "Strategy: Resource" in config and "ReuseFactor: 4" in config  # hls4ml's knobs reached the project
    assert (tmp_path / "build" / "api_rtl" / "build.json").is_file()


def test_convert_is_reached_from_the_package() -> None:
    m = accel.convert("digits")
    assert isinstance(m, accel.AccelModel) and m.graph.name == "digits"
    with pytest.raises(AttributeError):
        _ = accel.no_such_name


def test_predict_refuses_inputs_off_the_grid_and_raw_out_of_range() -> None:
    m = accel.convert("digits")
    spec = m.input_spec
    with pytest.raises(AccelError, match="is not exactly representable in ap_ufixed<8,0>"):
        m.predict(np.full((1, *spec.shape), 0.3))
    with pytest.raises(AccelError, match=r"raw inputs must be integers of ap_ufixed<8,0> \(0..255\)"):
        m.predict(np.full((1, *spec.shape), 256), raw=True)
    with pytest.raises(AccelError, match=r"does not match the input \(8, 8, 1\)"):
        m.predict(np.zeros((2, 4, 4, 1)))


def test_one_frame_and_a_batch_agree() -> None:
    m = accel.convert("digits")
    spec = m.input_spec
    raw = np.random.default_rng(1).integers(spec.dtype.min_raw, spec.dtype.max_raw + 1, size=(3, *spec.shape))
    batch = m.predict(raw, raw=True)
    assert all((m.predict(raw[k], raw=True)[0] == batch[k]).all() for k in range(3))


def test_hls_knobs_are_refused_for_the_rtl_backend_and_checked(tmp_path: Path) -> None:
    m = accel.convert("digits")
    with pytest.raises(AccelError, match="strategy and reuse_factor are hls4ml's options"):
        m.build(backend="rtl", out_dir=tmp_path / "r", reuse_factor=2)
    with pytest.raises(AccelError, match="strategy 'Fast' is not one of hls4ml's: Latency, Resource"):
        m.build(backend="hls", out_dir=tmp_path / "h", strategy="Fast")
    assert not (tmp_path / "r").exists() and not (tmp_path / "h").exists()


def test_a_model_object_converts_like_its_file(tmp_path: Path) -> None:
    from models import build

    keras_model = build("digits")
    by_object = accel.convert(keras_model)
    path = tmp_path / "digits.h5"
    keras_model.save(path)
    by_file = accel.convert(path)
    spec = by_object.input_spec
    raw = np.random.default_rng(2).integers(spec.dtype.min_raw, spec.dtype.max_raw + 1, size=(5, *spec.shape))
    assert (by_object.predict(raw, raw=True) == by_file.predict(raw, raw=True)).all()
