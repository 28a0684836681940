"""Every SQL statement on `adjusted_refetch` (migration 0014): which symbol's stored adjusted
series must be fetched again in full after a corporate action. The rules that set and honour
the marks live in stockpipe.ingest (corporate_actions, run, steps); this module only stores
and reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import psycopg

from stockpipe.series import BarsTable
from stockpipe.store.db import Database


def mark_refetch(
    db: Database,
    symbol: str,
    series: Sequence[tuple[str, BarsTable]],
    *,
    reason: str,
    at: datetime,
) -> list[str]:
    """Mark each (series name, its table) that holds bars of `symbol`; a series with nothing
    stored needs no mark (its first fetch is a full one anyway). Returns the series marked."""

    def write(conn: psycopg.Connection[Any]) -> list[str]:
        marked = []
        for name, table in series:
            held = conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE symbol = %s)".encode(), [symbol]
            ).fetchone()
            if not (held and held[0]):
                continue
            conn.execute(
                "INSERT INTO adjusted_refetch (symbol, series, marked_at, reason)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (symbol, series) DO UPDATE"
                " SET marked_at = EXCLUDED.marked_at, reason = EXCLUDED.reason",
                [symbol, name, at, reason],
            )
            marked.append(name)
        return marked

    return db.run(write)


def load_refetch_marks(
    db: Database, symbols: Sequence[str], series: str
) -> dict[str, tuple[datetime, str]]:
    """(marked_at, reason) of the marked symbols among `symbols` for `series`."""
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT symbol, marked_at, reason FROM adjusted_refetch"
            " WHERE series = %s AND symbol = ANY(%s)",
            [series, list(symbols)],
        ).fetchall()
    )
    return {str(r[0]): (r[1], str(r[2])) for r in rows}


def clear_refetch(db: Database, symbol: str, series: str, marked_at: datetime) -> None:
    """Delete the mark a refetch honoured; a newer one (set while it ran) stays."""
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM adjusted_refetch WHERE symbol = %s AND series = %s AND marked_at <= %s",
            [symbol, series, marked_at],
        )
    )


def symbols_with_bars_around(db: Database, actions: Sequence[tuple[str, date]]) -> list[str]:
    """The symbols among (symbol, action date) whose daily bars lie on both sides of the date:
    exactly those whose stock_data_adjusted values the action moves (an ex-date with no bar
    before it, or none on or after it, adjusts nothing yet: migration 0011)."""
    if not actions:
        return []
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT DISTINCT a.symbol FROM unnest(%s::text[], %s::date[]) AS a(symbol, day)"
            " WHERE EXISTS (SELECT 1 FROM stock_data d WHERE d.symbol = a.symbol"
            "   AND d.ts < (a.day::timestamp AT TIME ZONE 'America/New_York'))"
            " AND EXISTS (SELECT 1 FROM stock_data d WHERE d.symbol = a.symbol"
            "   AND d.ts >= (a.day::timestamp AT TIME ZONE 'America/New_York'))"
            " ORDER BY 1",
            [[s for s, _ in actions], [d for _, d in actions]],
        ).fetchall()
    )
    return [str(r[0]) for r in rows]
