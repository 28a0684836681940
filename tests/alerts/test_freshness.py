"""Stale windows: the clock starts at the close of the first session without a bar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from stockpipe.alerts import StaleSymbol
from stockpipe.alerts.freshness import daily_freshness, series_freshness, stale_symbol
from stockpipe.market_calendar import PeriodKind, latest_completed_session
from stockpipe.store import Database
from stockpipe.store.partitions import ensure_months, month_start

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


# Good Friday (2026-04-03) closes the exchange: that week's last session is Thursday 04-02,
# closing 20:00 UTC, so a weekly row holding it is due 36 h later, 2026-04-04 08:00 UTC.
GOOD_FRIDAY_EVE, WEEK_BEFORE = date(2026, 4, 2), date(2026, 3, 27)
# October 2026 ends on a Saturday: its last session is Friday 10-30 (closing 20:00 UTC, EDT).
# 36 h later is 2026-11-01 08:00 UTC, across the end of daylight saving time.
OCT_LAST_SESSION, SEP_LAST_SESSION = date(2026, 10, 30), date(2026, 9, 30)
PERIODS: dict[str, PeriodKind] = {"weekly": "week", "monthly": "month"}


@pytest.mark.parametrize(
    ("series", "newest", "now", "expected"),
    [
        ("weekly", WEEK_BEFORE, utc(2026, 4, 4, 7, 59), None),
        ("weekly", WEEK_BEFORE, utc(2026, 4, 4, 8), ("2026-04-02", 1)),
        ("weekly", date(2026, 4, 1), utc(2026, 4, 4, 8), ("2026-04-02", 1)),
        ("weekly", GOOD_FRIDAY_EVE, utc(2026, 4, 9, 12), None),
        ("weekly", date(2026, 4, 7), utc(2026, 4, 9, 12), None),
        ("weekly", date(2026, 3, 20), utc(2026, 4, 1, 12), ("2026-03-27", 1)),
        ("weekly", date(2026, 3, 13), utc(2026, 4, 4, 8), ("2026-03-20", 3)),
        ("monthly", date(2026, 10, 29), utc(2026, 11, 1, 7, 59), None),
        ("monthly", date(2026, 10, 29), utc(2026, 11, 1, 8), ("2026-10-30", 1)),
        ("monthly", SEP_LAST_SESSION, utc(2026, 10, 20, 12), None),
        ("monthly", date(2026, 8, 31), utc(2026, 10, 20, 12), ("2026-09-30", 1)),
        ("monthly", OCT_LAST_SESSION, utc(2026, 11, 25, 12), None),
        ("intraday", FRI, utc(2026, 11, 11, 8, 59), None),
        ("intraday", FRI, utc(2026, 11, 11, 9), ("2026-11-09", 2)),
    ],
    ids=[
        "the good friday week's row missing 36 h less a minute after thursday's close is not stale",
        "the good friday week's row missing 36 h after thursday's close is stale",
        "that week's row fetched on wednesday does not hold thursday: stale",
        "the good friday week's row dated thursday is fresh through the next week",
        "the next week's open row counts as holding what it holds",
        "a week missing is stale from its friday's close, the open week not counted",
        "three weeks missing count as three, the clock started at the first",
        "october's row from thursday is not stale a minute before 36 h after friday 10-30 closed",
        "october's row from thursday is stale 36 real hours after 10-30 closed, across dst",
        "september's closing row is fresh while october is open",
        "august's row on october 20 misses september's last session",
        "october's row dated its last session is fresh in november",
        "friday's intraday bars with monday missing are fresh until 36 h after monday's close",
        "friday's intraday bars with monday missing are stale 36 h after monday's close",
    ],
)
def test_each_series_is_held_to_its_own_period(
    series: str, newest: date, now: datetime, expected: tuple[str, int] | None
):
    kind = PERIODS.get(series)
    target = latest_completed_session(now)

    found = stale_symbol(series, "IBM", newest, target, window_hours=36, now=now, kind=kind)

    if expected is None:
        assert found is None
    else:
        since, behind = expected
        assert found == StaleSymbol(series, "IBM", newest, date.fromisoformat(since), behind)


def _bars(db: Database, table: str, rows: list[tuple[str, str, str]]) -> None:
    """(symbol, New York time, extra) rows; extra is the period start or the interval."""
    extra = "interval" if table == "stock_data_intraday" else "period_start"
    if table == "stock_data_intraday":  # the monthly partitions a load makes first
        months = {month_start(date.fromisoformat(row[1][:10])) for row in rows}
        db.run(lambda conn: ensure_months(conn, months))
    db.run(
        lambda conn: [
            conn.execute(
                f"INSERT INTO {table} (symbol, ts, open, high, low, close, volume, raw, {extra})"
                " VALUES (%s, (%s::timestamp AT TIME ZONE 'America/New_York'), 1, 1, 1, 1, 1,"
                " '{}', %s)",
                row,
            )
            for row in rows
        ]
    )


def test_weekly_freshness_reads_the_newest_row_of_each_symbol(db: Database):
    _bars(
        db,
        "stock_data_weekly",
        [
            ("IBM", "2026-03-27", "2026-03-23"),
            ("IBM", "2026-04-01", "2026-03-30"),
            ("MSFT", "2026-03-27", "2026-03-23"),
            ("MSFT", "2026-04-02", "2026-03-30"),
        ],
    )

    report = series_freshness(
        db, "weekly", ["IBM", "MSFT", "AAPL"], window_hours=36, now=utc(2026, 4, 6, 12)
    )

    assert report.table == "stock_data_weekly"
    assert report.latest == {"IBM": date(2026, 4, 1), "MSFT": GOOD_FRIDAY_EVE, "AAPL": None}
    assert report.stale == (StaleSymbol("weekly", "IBM", date(2026, 4, 1), GOOD_FRIDAY_EVE, 1),)


def test_intraday_freshness_counts_only_the_configured_interval_by_new_york_date(db: Database):
    _bars(
        db,
        "stock_data_intraday",
        [
            ("IBM", "2026-11-06 19:55", "5min"),  # after hours: 00:55 UTC on saturday
            ("IBM", "2026-11-09 15:59", "1min"),
            ("MSFT", "2026-11-09 15:55", "5min"),
        ],
    )

    report = series_freshness(
        db, "intraday", ["IBM", "MSFT"], window_hours=36, now=utc(2026, 11, 11, 9), interval="5min"
    )

    assert report.table == "stock_data_intraday (5min)"
    assert report.latest == {"IBM": FRI, "MSFT": MON}
    assert report.stale == (StaleSymbol("intraday", "IBM", FRI, MON, 2),)
