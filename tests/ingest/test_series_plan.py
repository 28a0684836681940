"""Planning weekly, monthly and intraday calls: pure rules over the stored newest bar, the
clock and the exchange calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from stockpipe.ingest.series_plan import (
    bars_between,
    latest_complete_bar,
    plan_intraday,
    plan_period,
)
from stockpipe.market_calendar import NEW_YORK

FIVE = timedelta(minutes=5)


def new_york(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


@pytest.mark.parametrize(
    ("latest", "target", "call", "gap"),
    [
        pytest.param(date(2024, 5, 8), date(2024, 5, 8), False, 0, id="the open week holding the latest session is up to date"),  # noqa: E501
        pytest.param(date(2024, 5, 7), date(2024, 5, 8), True, 1, id="the open week dated a session earlier is refreshed"),  # noqa: E501
        pytest.param(date(2024, 5, 3), date(2024, 5, 8), True, 2, id="a closed week and the new one are fetched"),  # noqa: E501
        pytest.param(None, date(2024, 5, 8), True, -1, id="nothing stored takes the whole history"),
    ],
)  # fmt: skip
def test_a_period_series_calls_until_its_newest_bar_holds_the_latest_session(
    latest: date | None, target: date, call: bool, gap: int
) -> None:
    plan = plan_period("IBM", "week", latest_stored=latest, target=target)
    assert (plan.needs_call, plan.gap) == (call, gap)


def test_a_period_series_marked_for_a_refetch_calls_although_up_to_date() -> None:
    day = date(2024, 5, 8)
    plan = plan_period("IBM", "month", latest_stored=day, target=day, refetch=True)
    assert (plan.needs_call, plan.output_size) == (True, "full")


@pytest.mark.parametrize(
    ("now", "extended", "session", "start"),
    [
        pytest.param(new_york(date(2024, 5, 8), 11, 7), True, date(2024, 5, 8), new_york(date(2024, 5, 8), 11, 0), id="during trading the newest complete bar started at 11:00"),  # noqa: E501
        pytest.param(new_york(date(2024, 5, 8), 9, 0), False, date(2024, 5, 7), new_york(date(2024, 5, 7), 15, 55), id="before the regular open the previous session's last bar counts"),  # noqa: E501
        pytest.param(new_york(date(2024, 5, 8), 5, 0), True, date(2024, 5, 8), new_york(date(2024, 5, 8), 4, 55), id="pre-market bars count with extended hours"),  # noqa: E501
        pytest.param(new_york(date(2024, 5, 11), 12, 0), True, date(2024, 5, 10), new_york(date(2024, 5, 10), 19, 55), id="on a Saturday Friday's last extended bar counts"),  # noqa: E501
        pytest.param(new_york(date(2024, 11, 29), 18, 0), False, date(2024, 11, 29), new_york(date(2024, 11, 29), 12, 55), id="an early close ends the session at 13:00"),  # noqa: E501
    ],
)  # fmt: skip
def test_the_newest_complete_bar_follows_the_session_hours(
    now: datetime, extended: bool, session: date, start: datetime
) -> None:
    assert latest_complete_bar(now, FIVE, extended=extended) == (session, start)


def test_bars_between_counts_only_session_hours() -> None:
    friday_close = new_york(date(2024, 5, 10), 15, 55)
    monday_open = new_york(date(2024, 5, 13), 10, 0)
    # Monday 09:30 .. 10:00: seven bars; nothing on the weekend.
    assert bars_between(friday_close, monday_open, FIVE, extended=False) == 7


@pytest.mark.parametrize(
    ("latest", "size"),
    [
        pytest.param(new_york(date(2024, 5, 8), 10, 55), None, id="within one interval of the newest bar: no call"),  # noqa: E501
        pytest.param(new_york(date(2024, 5, 8), 10, 45), "compact", id="a few bars missing: compact"),  # noqa: E501
        pytest.param(new_york(date(2024, 5, 6), 10, 45), "full", id="two sessions missing: full"),
        pytest.param(None, "full", id="nothing stored: full"),
    ],
)  # fmt: skip
def test_intraday_takes_compact_only_when_the_gap_fits(
    latest: datetime | None, size: str | None
) -> None:
    now = new_york(date(2024, 5, 8), 11, 7)
    plan = plan_intraday(
        "IBM", latest_stored=latest, now=now, interval="5min", extended=True, policy="auto"
    )
    assert plan.output_size == size
    assert plan.target == date(2024, 5, 8)
    assert plan.target_ts == new_york(date(2024, 5, 8), 11, 0)
