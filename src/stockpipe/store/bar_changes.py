"""Reading the audit of corrected bars (table stock_data_changes, written by a trigger on
stock_data, migration 0011): which stored bar a re-fetch changed, from what to what, when, in
which run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stockpipe.store.db import Database


@dataclass(frozen=True, slots=True)
class BarChange:
    symbol: str
    ts: datetime
    changed_at: datetime
    run_id: str | None
    old_values: dict[str, Any]  # only the columns that changed
    new_values: dict[str, Any]

    def describe(self, *, with_raw: bool = False) -> str:
        """`close 101.5 -> 101.7, volume 10 -> 12`; the raw JSON only when asked for or when
        nothing else changed."""
        names = [name for name in self.new_values if name != "raw"]
        if with_raw or not names:
            names = list(self.new_values)
        return ", ".join(
            f"{name} {self.old_values.get(name)} -> {self.new_values.get(name)}" for name in names
        )


def recent_bar_changes(
    db: Database, symbols: Sequence[str] | None = None, *, limit: int = 20
) -> list[BarChange]:
    """The newest recorded changes of `symbols` (None: of every symbol), newest first; within
    one run, newest bar first."""
    where, params = ("WHERE symbol = ANY(%s)", [list(symbols)]) if symbols is not None else ("", [])
    query = (
        "SELECT symbol, ts, changed_at, run_id, old_values, new_values FROM stock_data_changes"
        f" {where} ORDER BY changed_at DESC, ts DESC, id DESC LIMIT %s"
    )
    rows = db.run(lambda conn: conn.execute(query.encode(), [*params, limit]).fetchall())
    return [BarChange(*row) for row in rows]
