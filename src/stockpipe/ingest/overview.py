"""What is stored, per symbol: rows, first and last bar, missing sessions, last ingest result.

Backs `stockpipe status`; "missing" is measured against the NYSE calendar, so weekends and
holidays never count as holes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from stockpipe.ingest.state import SymbolState, load_states
from stockpipe.market_calendar import sessions_between
from stockpipe.store import Database


@dataclass(frozen=True, slots=True)
class SymbolOverview:
    symbol: str
    rows: int
    first_bar: date | None
    last_bar: date | None
    missing_inside: int  # sessions between the first and the last bar with no row
    missing_after: int  # sessions after the last bar up to the latest completed session
    state: SymbolState | None

    @property
    def missing(self) -> int | None:
        """Sessions without a bar; None when nothing is stored (there is no range yet)."""
        return None if self.rows == 0 else self.missing_inside + self.missing_after


def stored_symbols(db: Database) -> list[str]:
    """Every symbol with bars or an ingest result, sorted."""
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT DISTINCT symbol FROM stock_data UNION SELECT symbol FROM symbol_state"
            " ORDER BY 1"
        ).fetchall()
    )
    return [str(row[0]) for row in rows]


def symbol_overview(db: Database, symbols: Sequence[str], *, target: date) -> list[SymbolOverview]:
    """One overview per symbol, in the given order; `target` is the latest completed session."""
    wanted = list(dict.fromkeys(symbols))

    def read(conn: psycopg.Connection[Any]) -> dict[str, list[date]]:
        rows = conn.execute(
            "SELECT symbol, array_agg((ts AT TIME ZONE 'America/New_York')::date ORDER BY ts)"
            " FROM stock_data WHERE symbol = ANY(%s) GROUP BY symbol",
            (wanted,),
        ).fetchall()
        return {str(row[0]): list(row[1]) for row in rows}

    dates_by_symbol = db.run(read)
    states = load_states(db, wanted)
    overviews = []
    for symbol in wanted:
        dates = dates_by_symbol.get(symbol, [])
        first, last = (dates[0], dates[-1]) if dates else (None, None)
        inside = after = 0
        if first is not None and last is not None:
            stored = set(dates)
            inside = sum(1 for day in sessions_between(first, last) if day not in stored)
            after = len([day for day in sessions_between(last, target) if day > last])
        overviews.append(
            SymbolOverview(symbol, len(dates), first, last, inside, after, states.get(symbol))
        )
    return overviews
