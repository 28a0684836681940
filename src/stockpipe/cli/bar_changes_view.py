"""The table `stockpipe status --changes` prints: the latest corrected bars."""

from __future__ import annotations

from rich.table import Table

from stockpipe.cli.moments import local_time, trading_date
from stockpipe.store.bar_changes import BarChange

SHOWN = 20  # the latest ones; stock_data_changes holds them all


def bar_changes_table(changes: list[BarChange]) -> Table:
    title = f"stock_data_changes: the latest {SHOWN} corrected bars (newest first)"
    table = Table(title=title, title_justify="left")
    for name in ("symbol", "bar", "changed at", "run"):
        table.add_column(name)
    table.add_column("old -> new", overflow="fold")
    for change in changes:
        table.add_row(
            change.symbol,
            trading_date(change.ts),
            local_time(change.changed_at),
            (change.run_id or "-")[:12],
            change.describe(),
        )
    if not changes:
        table.add_row("-", "-", "-", "-", "no stored bar was ever changed by a re-fetch")
    return table
