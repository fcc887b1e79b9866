"""accel.resources in the source tree: the checkout's folders, and a clear refusal of anything else.

The installed side (package data ``accel/hls_templates/`` and ``accel.zoo``) is tested by tests/test_wheel.py,
which installs a wheel; here accel runs from the checkout, as the rest of the suite does.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from accel import AccelError, resources

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Both lookups are cached for the process; each test starts and ends with an empty cache."""
    resources.templates_dir.cache_clear()
    resources.zoo.cache_clear()
    yield
    resources.templates_dir.cache_clear()
    resources.zoo.cache_clear()


def test_source_tree_templates_and_zoo_are_the_checkouts_folders() -> None:
    assert resources.templates_dir() == ROOT / "hls_templates"
    assert (resources.templates_dir() / "pynq" / "block_design.tcl").is_file()
    zoo = resources.zoo()
    if zoo.__name__ == "accel.zoo":  # an editable install of this checkout maps models/ to accel.zoo
        assert Path(zoo.__file__).resolve() == ROOT / "models" / "__init__.py"
    else:
        assert zoo is sys.modules["models"] and Path(zoo.__file__).resolve() == ROOT / "models" / "__init__.py"
    assert "digits" in zoo.names()


def test_a_foreign_models_package_is_not_taken_for_the_zoo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = types.ModuleType("models")
    other.__file__ = str(tmp_path / "models" / "__init__.py")
    monkeypatch.setattr(resources, "ZOO_INSTALLED", "accel._not_installed_zoo")
    monkeypatch.setitem(sys.modules, "models", other)
    with pytest.raises(AccelError, match=r"model zoo is missing: accel\._not_installed_zoo is not installed and "
                                         r"`import models` found .*, not .*models; reinstall accel"):  # fmt: skip
        resources.zoo()


def test_missing_templates_are_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(resources, "SOURCE_ROOT", tmp_path)
    with pytest.raises(AccelError, match=r"templates are missing: neither .* nor .*hls_templates \(the source tree\)"):
        resources.templates_dir()
