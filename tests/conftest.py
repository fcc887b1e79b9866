"""pytest setup for tests/: each test gets its own shared synthesis cache (accel.rtl.synth.shared_cache_dir).

Why: ``accel report`` also keeps yosys results in a cache shared by every build directory (by default under
``~/.cache/accel``); a test that counts what a first report synthesises must not find entries that an earlier
test, or an earlier run of the suite, left there.
"""

import pytest


@pytest.fixture(autouse=True)
def _own_synthesis_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(tmp_path_factory.mktemp("accel_cache")))
