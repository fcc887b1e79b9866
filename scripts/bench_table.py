"""The plain-text table the benchmark scripts print (first column left-aligned, numbers right-aligned).

Why plain text and not rich: benchmark output is pasted into docs and issue notes, where a fixed-width table with
no box characters reads best.
"""

from __future__ import annotations


def text_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """``columns`` are ``(key, heading, format)``; a dashed rule under the headings."""
    cells = [[head for _, head, _ in columns]] + [[fmt.format(r[key]) for key, _, fmt in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
