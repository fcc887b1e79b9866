"""Tables that stay readable at any terminal width: too many columns for one table become several tables.

Why: rich shrinks a table that is wider than the terminal by cutting its cells to "…", and at 80 columns the
``inspect`` and ``report`` tables lost their numbers that way.  A number cut short is worse than none, so
:func:`print_table` never lets rich shrink a cell: it measures every column and, when they do not fit side by
side, packs them into consecutive tables of whole columns, each repeating the key column (the node name) so a
reader can match the rows.  A console wide enough (or a pipe, which the commands give 250 columns) still gets
the one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: a row that starts a new section (the totals under a line)
SECTION = None


@dataclass(frozen=True)
class Column:
    """A column's header and alignment (``"left"`` for names, ``"right"`` for numbers)."""

    header: str
    justify: str = "left"


def _width(column: Column, cells: list[str]) -> int:
    """The widest line among the column's header and cells (rich gives a column its widest line)."""
    return max([len(line) for c in [column.header, *cells] for line in str(c).splitlines() or [""]])


#: what rich adds to each column of the default box style: one padding space either side and one rule
_COLUMN_FRAME = 3


def column_groups(widths: list[int], total: int, key: int = 1) -> list[list[int]]:
    """Indices of the columns of each table: the first ``key`` columns in every table, the others in their order,
    as many per table as fit in ``total`` characters (at least one each, even when that one does not fit)."""
    keys = list(range(key))
    base = 1 + sum(widths[k] + _COLUMN_FRAME for k in keys)
    groups: list[list[int]] = []
    current: list[int] = []
    used = base
    for k in range(key, len(widths)):
        need = widths[k] + _COLUMN_FRAME
        if current and used + need > total:
            groups.append(keys + current)
            current, used = [], base
        current.append(k)
        used += need
    if current or not groups:
        groups.append(keys + current)
    return groups


def print_table(console: Any, title: str | None, columns: list[Column], rows: list[list[str] | None],
                *, key: int = 1) -> None:  # fmt: skip
    """Print ``rows`` (lists of cell strings; :data:`SECTION` starts a new section) under ``columns`` on a rich
    ``console``, split into as many tables as its width needs (:func:`column_groups`), every cell whole.  The
    first ``key`` columns are in every table; another column that is empty in every row is left out."""
    from rich.table import Table

    data = [r for r in rows if r is not SECTION]
    # a column with no value in any row (e.g. measured cycles before a co-simulation) says nothing: left out
    keep = [k for k in range(len(columns)) if k < key or any(r[k] for r in data)]
    columns = [columns[k] for k in keep]
    rows = [r if r is SECTION else [r[k] for k in keep] for r in rows]
    data = [r for r in rows if r is not SECTION]
    widths = [_width(c, [r[k] for r in data]) for k, c in enumerate(columns)]
    groups = column_groups(widths, console.width, key)
    for n, group in enumerate(groups):
        head = title if len(groups) == 1 else f"{title} ({n + 1}/{len(groups)})" if title else None
        table = Table(title=head)
        for k in group:
            # never "…": a cell too wide for the terminal folds onto the next line, whole
            table.add_column(columns[k].header, justify=columns[k].justify, overflow="fold",  # type: ignore[arg-type]
                             no_wrap=k >= key, min_width=min(widths[k], console.width // 2))  # fmt: skip
        for r in rows:
            if r is SECTION:
                table.add_section()
            else:
                table.add_row(*(r[k] for k in group))
        console.print(table)
