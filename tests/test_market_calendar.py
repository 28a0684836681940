"""The exchange calendar decides when a symbol is up to date, so its edges are pinned here."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from stockpipe.market_calendar import latest_completed_session, sessions_between


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
