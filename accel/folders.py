"""Output folders: one accel run per folder at a time, scratch folders that leave nothing behind.

Why: a verify without ``--output-dir`` used to leave its ``/tmp/accel_*`` build behind (gigabytes piled up over a
CI's runs), and two runs writing one folder at once killed each other half-way with a compiler's error about a file
the other had just replaced.  Every command that writes a folder goes through :func:`work_folder`:

- no folder given: a fresh temporary folder, removed when the run ends (also on an error or Ctrl-C);
- a folder given: created if needed and locked for the run (``flock`` on the folder itself, so no lock file is
  left in it); a second run on the same folder stops at once with one sentence instead of corrupting the first.

The lock is advisory and local (``flock``): it keeps accel runs apart, not other programs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accel import AccelError


@contextmanager
def locked(folder: Path, option: str = "--output-dir") -> Iterator[Path]:
    """Create ``folder`` if needed and hold an exclusive lock on it until the block ends.

    ``option`` names the command-line option the folder came from, for the refusal sentence.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AccelError(f"{option} {folder} is in use by another accel run; wait for it to finish or give "
                             "another folder.") from None  # fmt: skip
        yield folder
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def work_folder(folder: str | Path | None, prefix: str, option: str = "--output-dir") -> Iterator[Path]:
    """The folder a run writes to: ``folder`` locked (:func:`locked`), or a temporary one removed afterwards."""
    if folder is None:
        tmp = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        with locked(Path(folder), option) as held:
            yield held


def clear_folder(folder: Path) -> None:
    """Remove everything inside ``folder`` (the folder itself stays, with its lock)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _check_clearable(folder: Path) -> None:
    """Refuse to ``--force``-clear a folder that holds the current folder or is the home folder: a wrong ``-o``
    must not wipe the user's work."""
    here = Path.cwd().resolve()
    target = folder.resolve()
    if target == Path.home().resolve() or target == here or target in here.parents:
        raise AccelError(f"-o {folder} holds the current folder or is the home folder; --force clears only a "
                         "build folder, so give a folder of its own.")  # fmt: skip


def _refusal(folder: Path, model: str, backend: str) -> str | None:
    """Why building ``model`` for ``backend`` into ``folder`` needs ``--force``; None when it does not."""
    from accel.deploy.manifest import MANIFEST, load_build

    if not folder.is_dir() or not any(folder.iterdir()):
        return None
    if not (folder / MANIFEST).is_file():
        return f"-o {folder} is not empty and holds no accel build"
    try:
        old = load_build(folder)
    except AccelError:
        return f"-o {folder} holds an accel build this version cannot read"
    if old.backend != backend or old.model != model:
        return f"-o {folder} holds the {old.backend} build of {old.model}"
    return None


@contextmanager
def staged_build(folder: Path, model: str, backend: str, force: bool = False) -> Iterator[Path]:
    """Build into a staging folder beside ``folder`` and put the result in ``folder`` only when the build succeeds.

    Why: a build that fails or is interrupted half-way must leave neither a half-written folder nor a previous
    build spoiled by half of a new one.  ``folder`` is locked for the whole build (:func:`locked`).  A folder
    holding another model's or another backend's build, or files that are not an accel build, is refused
    unless ``force`` (then it is cleared); a previous build of the same model and backend is replaced.
    Paths in an error raised inside the block name ``folder``, not the staging folder.
    """
    created = not folder.exists()
    with locked(folder, "-o"):
        try:
            yield from _stage(folder, model, backend, force)
        except BaseException:
            if created:  # a build that did not land leaves no empty folder behind either
                shutil.rmtree(folder, ignore_errors=True)
            raise


def _stage(folder: Path, model: str, backend: str, force: bool) -> Iterator[Path]:
    """:func:`staged_build`'s body, with ``folder`` locked."""
    why = _refusal(folder, model, backend)
    if why is not None:
        if not force:
            raise AccelError(f"{why}; give an empty folder, or --force to clear it and build {backend} {model} "
                             "there.")  # fmt: skip
        _check_clearable(folder)
    place = folder.resolve()
    staging = Path(tempfile.mkdtemp(prefix=f".{place.name}.partial-", dir=place.parent))
    try:
        try:
            yield staging
        except AccelError as exc:
            raise AccelError(str(exc).replace(str(staging), str(folder))) from exc
        clear_folder(folder)
        for entry in staging.iterdir():
            entry.rename(folder / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
