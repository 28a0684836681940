"""Reading the weekly, monthly and intraday tables back, and what the fake serves for them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson

from stockpipe.alphavantage import Function
from stockpipe.store import Database
from stockpipe.testing.payloads import generate_series
from tests.ingest.helpers import HISTORY

# (period_start, bar date in New York, open, high, low, close, volume, provisional, raw)
PeriodRow = tuple[date, date, Decimal, Decimal, Decimal, Decimal, int, bool, dict[str, str]]


def stored_period_rows(db: Database, table: str, symbol: str) -> list[PeriodRow]:
    def read(conn: Any) -> list[PeriodRow]:
        rows = conn.execute(
            "SELECT period_start, (ts AT TIME ZONE 'America/New_York')::date, open, high, low,"
            " close, volume, provisional, raw, (ts AT TIME ZONE 'America/New_York')::time"
            f" FROM {table} WHERE symbol = %s ORDER BY period_start",
            (symbol,),
        ).fetchall()
        assert all(str(row[9]) == "00:00:00" for row in rows), "ts must be midnight in New York"
        return [tuple(row[:9]) for row in rows]

    return db.run(read)


def served_period_bars(
    symbol: str, function: Function, end: date
) -> dict[date, tuple[Decimal, Decimal, Decimal, Decimal, int, dict[str, str]]]:
    """The fake's weekly/monthly answer by bar date: open, high, low, close, volume, raw."""
    series = generate_series(symbol, function, end=end, history_length=HISTORY)
    return {
        date.fromisoformat(day): (
            Decimal(f["1. open"]), Decimal(f["2. high"]), Decimal(f["3. low"]),
            Decimal(f["4. close"]), int(f.get("5. volume") or f["6. volume"]), f,
        )
        for day, f in series.items()
    }  # fmt: skip


IntradayRow = tuple[datetime, Decimal, Decimal, Decimal, Decimal, int, dict[str, str]]


def stored_intraday_rows(db: Database, symbol: str, interval: str) -> list[IntradayRow]:
    def read(conn: Any) -> list[IntradayRow]:
        rows = conn.execute(
            "SELECT ts, open, high, low, close, volume, raw FROM stock_data_intraday"
            " WHERE symbol = %s AND interval = %s ORDER BY ts",
            (symbol, interval),
        ).fetchall()
        return [(row[0].astimezone(UTC), *row[1:]) for row in rows]

    return db.run(read)


def raw_of(fields: dict[str, str]) -> dict[str, str]:
    """What `raw` holds for a served bar: its JSON object, as stored (jsonb)."""
    return dict(orjson.loads(orjson.dumps(fields)))
