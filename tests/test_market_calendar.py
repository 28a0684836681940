"""The exchange calendar decides when a symbol is up to date, so its edges are pinned here."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from stockpipe.market_calendar import (
    latest_completed_session,
    period_end,
    period_last_session,
    period_start,
    periods_between,
    session_hours,
    sessions_between,
)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-27T10:00+00:00", date(2026, 11, 25)),  # before the open, Thanksgiving before
        ("2026-11-27T17:59+00:00", date(2026, 11, 25)),  # a minute before the early close
        ("2026-11-27T18:00+00:00", date(2026, 11, 27)),  # early close at 13:00 Eastern
        ("2026-11-28T12:00+00:00", date(2026, 11, 27)),  # Saturday
        ("2026-11-30T14:00+00:00", date(2026, 11, 27)),  # Monday morning, market open
        ("2026-11-30T21:00+00:00", date(2026, 11, 30)),  # Monday after the close
    ],
    ids=[
        "before the open the last session is two days back over a holiday",
        "the early close has not happened yet",
        "a session is complete at its early close",
        "on a weekend the last session is Friday",
        "while the market is open the previous session is the latest complete one",
        "after the close today's session is complete",
    ],
)
def test_latest_completed_session(now: str, expected: date) -> None:
    assert latest_completed_session(datetime.fromisoformat(now)) == expected


def test_sessions_between_skips_weekends_and_holidays() -> None:
    assert sessions_between(date(2026, 11, 25), date(2026, 11, 30)) == [
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]
    assert sessions_between(date(2026, 11, 30), date(2026, 11, 25)) == []


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    assert period_start(date(2024, 5, 8), "week") == date(2024, 5, 6)
    assert period_end(date(2024, 5, 8), "week") == date(2024, 5, 12)
    assert period_start(date(2024, 2, 29), "month") == date(2024, 2, 1)
    assert period_end(date(2024, 2, 3), "month") == date(2024, 2, 29)
    assert period_end(date(2024, 12, 3), "month") == date(2024, 12, 31)


def test_a_holiday_week_ends_on_its_last_session() -> None:
    assert period_last_session(date(2024, 3, 25), "week") == date(2024, 3, 28)  # Good Friday
    assert period_last_session(date(2026, 2, 2), "month") == date(2026, 2, 27)  # 28th: Saturday
    assert periods_between(date(2024, 3, 27), date(2024, 4, 2), "week") == [
        date(2024, 3, 25),
        date(2024, 4, 1),
    ]


def test_session_hours_follow_the_clock_change_and_early_closes() -> None:
    assert session_hours(date(2024, 3, 8), extended=False) == (
        datetime(2024, 3, 8, 14, 30, tzinfo=UTC),
        datetime(2024, 3, 8, 21, 0, tzinfo=UTC),
    )
    assert session_hours(date(2024, 3, 11), extended=True) == (
        datetime(2024, 3, 11, 8, 0, tzinfo=UTC),
        datetime(2024, 3, 12, 0, 0, tzinfo=UTC),
    )
    # The day after Thanksgiving closes at 13:00; after-hours end four hours later.
    assert session_hours(date(2024, 11, 29), extended=True)[1] == datetime(
        2024, 11, 29, 22, 0, tzinfo=UTC
    )
