"""Stale windows: the clock starts at the close of the first session without a bar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from stockpipe.alerts import StaleSymbol
from stockpipe.alerts.freshness import daily_freshness, stale_symbol
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database

FRI, MON, TUE = date(2026, 11, 6), date(2026, 11, 9), date(2026, 11, 10)
WED_BEFORE_THANKSGIVING = date(2026, 11, 25)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("newest", "now", "expected"),
    [
        (FRI, utc(2026, 11, 8, 12), None),
        (FRI, utc(2026, 11, 10, 8, 59), None),
        (FRI, utc(2026, 11, 11, 9, 1), StaleSymbol("daily", "IBM", FRI, MON, 2)),
        (MON, utc(2026, 11, 11, 9, 1), None),
        (WED_BEFORE_THANKSGIVING, utc(2026, 11, 28, 21), None),
        (None, utc(2026, 11, 30, 12), None),
    ],
    ids=[
        "friday's bar on sunday is fresh: no session closed since",
        "monday's bar missing 36 h minus a minute after its close is not stale yet",
        "monday's bar missing 36 h and a minute after its close is stale",
        "monday's bar in hand on wednesday morning leaves tuesday inside its window",
        "thanksgiving is no session: friday's bar is due, not thursday's",
        "a symbol with no bar at all is left to the run and streak alerts",
    ],
)
def test_a_symbol_is_stale_only_once_its_window_has_passed(
    newest: date | None, now: datetime, expected: StaleSymbol | None
):
    target = latest_completed_session(now)

    assert stale_symbol("daily", "IBM", newest, target, window_hours=36, now=now) == expected


def test_daily_freshness_reads_the_newest_bar_of_each_configured_symbol(db: Database):
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw) VALUES"
            " ('IBM', '2026-11-06 00:00 America/New_York', 1, 1, 1, 1, 1, '{}'),"
            " ('MSFT', '2026-11-05 00:00 America/New_York', 1, 1, 1, 1, 1, '{}'),"
            " ('MSFT', '2026-11-10 00:00 America/New_York', 1, 1, 1, 1, 1, '{}')"
        )
    )

    report = daily_freshness(db, ["IBM", "MSFT", "AAPL"], window_hours=36, now=utc(2026, 11, 12))

    assert report.latest == {"IBM": FRI, "MSFT": TUE, "AAPL": None}
    assert report.stale == (StaleSymbol("daily", "IBM", FRI, MON, 3),)
