"""Where accel's data files and model zoo are: installed from a wheel, or in the source tree.

Why one module: the repository keeps ``hls_templates/`` and the zoo ``models/`` as top-level folders, but a
wheel installs them inside the package (pyproject.toml maps them): the templates as the package data
``accel/hls_templates/`` and the zoo as ``accel.zoo`` (a top-level ``models`` package would collide with other
projects).  Code that counted parent directories from its own file found the folders only in a checkout, so
every user in accel asks here instead.  In the source tree (``PYTHONPATH`` at the checkout, or an editable
install) the folders are found next to the ``accel/`` folder.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType

from accel import AccelError

#: the checkout that holds ``accel/`` when accel runs from the source tree (in a wheel: site-packages)
SOURCE_ROOT = Path(__file__).resolve().parent.parent
#: the zoo's import name when installed, and in the source tree
ZOO_INSTALLED, ZOO_SOURCE = "accel.zoo", "models"


@cache
def templates_dir() -> Path:
    """The folder of the HLS and board templates (``accel_top.*.tmpl``, ``csim/``, ``pynq/``)."""
    installed = resources.files("accel") / "hls_templates"
    if isinstance(installed, Path) and installed.is_dir():  # a wheel's package data
        return installed
    source = SOURCE_ROOT / "hls_templates"
    if source.is_dir():
        return source
    raise AccelError(
        f"accel's templates are missing: neither {installed} (an installed wheel) nor {source} (the source tree) "
        "is a folder; reinstall accel or run it from a complete checkout."
    )


@cache
def zoo() -> ModuleType:
    """The model zoo package (``names()``, ``build(name, seed)``): ``accel.zoo`` installed, else ``models``.

    The source tree's ``models`` is accepted only from this checkout's ``models/`` folder, so that another
    project's top-level ``models`` package is never taken for the zoo.
    """
    try:
        return importlib.import_module(ZOO_INSTALLED)
    except ModuleNotFoundError as exc:
        if exc.name != ZOO_INSTALLED:  # the zoo exists but something it imports is missing: say that
            raise
    folder = SOURCE_ROOT / ZOO_SOURCE
    try:
        module = importlib.import_module(ZOO_SOURCE)
    except ModuleNotFoundError as exc:
        if exc.name != ZOO_SOURCE:
            raise
        module = None
    found = Path(module.__file__).resolve().parent if module is not None and module.__file__ else None
    if found != folder:
        where = f"`import {ZOO_SOURCE}` found {found}" if module is not None else f"`import {ZOO_SOURCE}` failed"
        raise AccelError(
            f"accel's model zoo is missing: {ZOO_INSTALLED} is not installed and {where}, not {folder}; "
            "reinstall accel, or run it from its checkout (the checkout's folder first on PYTHONPATH)."
        )
    return module
