"""Progress bars on stderr for the steps that take more than a couple of seconds (synthesis, simulation, builds).

Why one module: every command (``report``, ``verify``, ``build``, ``demo``, ``package``) has steps that run for
seconds to minutes, and a user who sees nothing for that long cannot tell work from a hang.  The bars go to
stderr, so stdout keeps the command's result; they are transient (nothing is left behind once a step ends);
they are off with ``--json`` (:func:`set_enabled`, called by the CLI: a machine reader wants one document and
no drawing) and draw nothing when stderr is not a terminal (rich's convention for a non-interactive console).

Only one rich live display can be on a terminal at a time, so a step inside another (the report's synthesis
inside the demo) becomes a second task of the bar already shown instead of a new display.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_STATE: dict[str, Any] = {"enabled": True, "active": None}


def set_enabled(enabled: bool) -> None:
    """Turn every bar on or off for this process (the CLI turns them off with ``--json``)."""
    _STATE["enabled"] = bool(enabled)


def enabled() -> bool:
    """Whether bars are drawn at all (see :func:`set_enabled`)."""
    return bool(_STATE["enabled"])


class Step:
    """One task of a bar: :meth:`advance` by finished units, :meth:`describe` to say what runs now.  A disabled
    step (no bar) takes the same calls and does nothing, so callers never test whether a bar is shown."""

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, n: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def describe(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=description)

    def total(self, total: float | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)


def _columns(total: float | None) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    if total is None:  # a step of unknown length: a spinner and the time it has taken
        return [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
    return [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn()]  # fmt: skip


@contextmanager
def step(description: str, total: float | None = None, *, console: Any = None) -> Iterator[Step]:
    """A transient bar (``total`` units) or spinner (``total`` None) for the duration of the ``with`` block.

    ``console``: the rich console to draw on (default: one on stderr).  Inside another step's block the task
    joins that step's bar and is removed when its block ends.
    """
    if not enabled():
        yield Step()
        return
    active = _STATE["active"]
    if active is not None:
        task = active.add_task(description, total=total)
        try:
            yield Step(active, task)
        finally:
            active.remove_task(task)
        return
    from rich.console import Console
    from rich.progress import Progress

    console = console or Console(stderr=True)
    if not console.is_terminal:  # rich's Live would still end with a newline on a pipe or a file
        yield Step()
        return
    bar = Progress(*_columns(total), console=console, transient=True)
    with bar:
        _STATE["active"] = bar
        try:
            yield Step(bar, bar.add_task(description, total=total))
        finally:
            _STATE["active"] = None
