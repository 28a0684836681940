"""Helpers shared by the quota and ingest tests: a driven clock and settings without a .env."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from stockpipe.alphavantage import Function
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.testing.payloads import generate_series

# 18:00 in New York on Wednesday 2024-05-08, after the close: the latest completed session.
WEDNESDAY_EVENING = datetime(2024, 5, 8, 22, 0, tzinfo=UTC)
TARGET = date(2024, 5, 8)
HISTORY = 150  # sessions in the fake's `full` answers: more than compact's 100, and quick


class FakeClock:
    """A Clock whose sleep() advances time at once and remembers how long it was asked to wait."""

    def __init__(self, start: datetime = WEDNESDAY_EVENING) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 6))
            self._now += timedelta(seconds=max(0.0, seconds))

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


def make_settings(**env: Any) -> Settings:
    """Settings from explicit values only (by variable name), ignoring any .env file."""
    values: dict[str, Any] = {
        "API_KEY": "test-key-not-secret-0001",
        "API_POLITE_DELAY_SEC": 0,
        "API_CALLS_PER_MINUTE": 1000,
        # One request at a time: these tests pin the order of calls (test_in_flight.py runs
        # many at once).
        "API_MAX_IN_FLIGHT": 1,
        "API_DAILY_BUDGET": 25,
        "API_MAX_RETRIES": 2,
    }
    values.update(env)
    return Settings.load(_env_file=None, **values)


Row = tuple[date, Decimal, Decimal, Decimal, Decimal, int]


def expected_rows(symbol: str, *, end: date = TARGET, outputsize: str = "full") -> list[Row]:
    """The daily bars the fake serves for `symbol`, oldest first, as stock_data should hold them."""
    series = generate_series(
        symbol, Function.DAILY, end=end, history_length=HISTORY, outputsize=outputsize
    )
    return sorted(
        (
            date.fromisoformat(day),
            Decimal(f["1. open"]),
            Decimal(f["2. high"]),
            Decimal(f["3. low"]),
            Decimal(f["4. close"]),
            int(f["5. volume"]),
        )
        for day, f in series.items()
    )


def stored_rows(db: Database, symbol: str) -> list[Row]:
    """stock_data rows of `symbol`, oldest first, dated by their New York trading date."""

    def read(conn: Any) -> list[Row]:
        rows = conn.execute(
            "SELECT (ts AT TIME ZONE 'America/New_York')::date, open, high, low, close, volume,"
            " (ts AT TIME ZONE 'America/New_York')::time"
            " FROM stock_data WHERE symbol = %s ORDER BY ts",
            (symbol,),
        ).fetchall()
        assert all(row[6] == time(0) for row in rows), "ts must be midnight in New York"
        return [tuple(row[:6]) for row in rows]

    return db.run(read)


def ledger_count(db: Database) -> int:
    row = db.run(lambda conn: conn.execute("SELECT count(*) FROM api_call_ledger").fetchone())
    return int(row[0])
