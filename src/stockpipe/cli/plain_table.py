"""A table printed as plain lines, for outputs too long for rich: rich measures, wraps and
pads every cell, which took 10 s (40 s under load) for `stockpipe status` of 10,000 symbols.
The same cells between the same `│` rules, one line a row, nothing folded."""

from __future__ import annotations

from collections.abc import Sequence

# Above this many rows a command prints its table with `plain_table` instead of rich.
RICH_UP_TO = 500


def plain_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[str]
) -> str:
    """`title`, a header and one line per row; the columns named in `right` right-aligned."""
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if name in right else cell.ljust(width)
            for cell, width, name in zip(cells, widths, columns, strict=True)
        ]
        return "│ " + " │ ".join(parts) + " │"

    rule = "├" + "┼".join("─" * (width + 2) for width in widths) + "┤"
    return "\n".join([title, line(columns), rule, *(line(row) for row in rows)])
