"""Reads of a bars table that the planner, the CLI and the tests need: newest, oldest, counts.

Every function takes the table's `BarsTable` spec (stock_data by default) and, for the intraday
table, the interval: a 5min and a 1min series of one symbol are two histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from stockpipe.market_calendar import NEW_YORK_KEY
from stockpipe.series import DAILY_TABLE, BarsTable
from stockpipe.store.bars_sql import table_sql
from stockpipe.store.db import Database


def _scope(table: BarsTable, interval: str | None) -> tuple[str, list[object]]:
    if table.per_interval:
        if interval is None:
            raise ValueError(f"{table.name} needs an interval")
        return " AND interval = %s", [interval]
    return "", []


def latest_bar_ts(
    db: Database, symbol: str, *, table: BarsTable = DAILY_TABLE, interval: str | None = None
) -> datetime | None:
    """Newest stored bar time of `symbol`, or None when it has none."""
    where, params = _scope(table, interval)
    query = f"SELECT max(ts) FROM {table.name} WHERE symbol = %s{where}"
    return _scalar_ts(db, query, [symbol, *params])


def first_bar_ts(
    db: Database, symbol: str, *, table: BarsTable = DAILY_TABLE, interval: str | None = None
) -> datetime | None:
    """Oldest stored bar time of `symbol`, or None when it has none."""
    where, params = _scope(table, interval)
    query = f"SELECT min(ts) FROM {table.name} WHERE symbol = %s{where}"
    return _scalar_ts(db, query, [symbol, *params])


def latest_bar_ts_by_symbol(
    db: Database,
    symbols: Sequence[str],
    *,
    table: BarsTable = DAILY_TABLE,
    interval: str | None = None,
) -> dict[str, datetime | None]:
    """Newest stored bar time of each symbol (None for those with none), in one query."""
    params: list[object]
    if table is DAILY_TABLE:
        query, params = table_sql(table).stored_max, [list(symbols)]
    else:
        where, scope = _scope(table, interval)
        query = (
            f"SELECT s, (SELECT max(ts) FROM {table.name} WHERE symbol = s{where})"
            " FROM unnest(%s::text[]) AS s"
        )
        params = [*scope, list(symbols)]
    rows = db.run(lambda conn: conn.execute(query, params).fetchall())
    return {str(symbol): ts for symbol, ts in rows}


def bar_count(
    db: Database,
    symbol: str | None = None,
    *,
    table: BarsTable = DAILY_TABLE,
    interval: str | None = None,
) -> int:
    """Number of stored bars, of one symbol or of all."""
    where, params = _scope(table, interval) if interval is not None else ("", [])
    if symbol is None:
        query = f"SELECT count(*) FROM {table.name} WHERE TRUE{where}"
    else:
        query, params = (
            f"SELECT count(*) FROM {table.name} WHERE symbol = %s{where}",
            [
                symbol,
                *params,
            ],
        )
    row = db.run(lambda conn: conn.execute(query, params).fetchone())
    return int(row[0]) if row else 0


def _scalar_ts(db: Database, query: str, params: list[object]) -> datetime | None:
    row = db.run(lambda conn: conn.execute(query, params).fetchone())
    value = row[0] if row else None
    return value if isinstance(value, datetime) else None


@dataclass(frozen=True, slots=True)
class BarSummary:
    """What `stockpipe status` shows of one symbol's stored bars."""

    rows: int
    first_ts: datetime
    last_ts: datetime
    provisional: int  # rows of a period still open when fetched (weekly, monthly)
    dates: list[date]  # the distinct New York dates holding a bar, oldest first


def bar_summary(
    db: Database,
    symbols: Sequence[str],
    *,
    table: BarsTable = DAILY_TABLE,
    interval: str | None = None,
) -> dict[str, BarSummary]:
    """Per symbol with bars: counts, first and last bar, and the dates holding one. The daily
    status takes all of it from the gap read (stockpipe.store.sessions) instead."""
    if table.per_interval:
        return _intraday_summary(db, symbols, table, interval)
    provisional = "count(*) FILTER (WHERE provisional)" if table.per_period else "0"
    query = (
        f"SELECT symbol, count(*), min(ts), max(ts), {provisional},"
        " array_agg(DISTINCT (ts AT TIME ZONE %(tz)s)::date)"
        f" FROM {table.name} WHERE symbol = ANY(%(symbols)s) GROUP BY symbol"
    )
    params = {"tz": NEW_YORK_KEY, "symbols": list(symbols)}
    rows = db.run(lambda conn: conn.execute(query, params).fetchall())
    return {
        str(row[0]): BarSummary(int(row[1]), row[2], row[3], int(row[4]), sorted(set(row[5])))
        for row in rows
    }


# Intraday: the count, first and last bar come from the index alone (no time zone conversion
# per row), and the dates holding a bar from one index probe per stored date: from a bar, the
# first bar at or after the next New York midnight. Converting and sorting every stored time
# took 53-99 s for 1,000 symbols x 25,000 bars; this costs the index entries and a probe a day.
_INTRADAY_COUNTS = """
SELECT symbol, count(*), min(ts), max(ts) FROM {table}
WHERE symbol = ANY(%(symbols)s) AND interval = %(interval)s
GROUP BY symbol
"""
_INTRADAY_DATES = """
WITH RECURSIVE day AS (
    SELECT s.symbol, (SELECT min(b.ts) FROM {table} AS b
                      WHERE b.symbol = s.symbol AND b.interval = %(interval)s) AS ts
    FROM unnest(%(symbols)s::text[]) AS s(symbol)
    UNION ALL
    SELECT d.symbol, (SELECT min(b.ts) FROM {table} AS b
                      WHERE b.symbol = d.symbol AND b.interval = %(interval)s
                        AND b.ts >= next.midnight)
    FROM day AS d
    CROSS JOIN LATERAL (
        SELECT ((d.ts AT TIME ZONE %(tz)s)::date + 1)::timestamp AT TIME ZONE %(tz)s
    ) AS next(midnight)
    WHERE d.ts IS NOT NULL
)
SELECT symbol, array_agg((ts AT TIME ZONE %(tz)s)::date ORDER BY ts) FROM day
WHERE ts IS NOT NULL
GROUP BY symbol
"""


def _intraday_summary(
    db: Database, symbols: Sequence[str], table: BarsTable, interval: str | None
) -> dict[str, BarSummary]:
    if interval is None:
        raise ValueError(f"{table.name} needs an interval")
    params = {"tz": NEW_YORK_KEY, "symbols": list(symbols), "interval": interval}
    counts = db.run(
        lambda c: c.execute(_INTRADAY_COUNTS.format(table=table.name), params).fetchall()
    )
    dates = dict(
        db.run(lambda c: c.execute(_INTRADAY_DATES.format(table=table.name), params).fetchall())
    )
    return {
        str(symbol): BarSummary(int(rows), first, last, 0, list(dates.get(symbol) or ()))
        for symbol, rows, first, last in counts
    }
