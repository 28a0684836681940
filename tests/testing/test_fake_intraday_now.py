"""The fake serves no intraday bar after now, as the real API: the latest session's after-hours
bars (to 20:00 New York, hours after its close) appear as they end, not all at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from stockpipe.alphavantage import Function
from stockpipe.market_calendar import NEW_YORK, new_york_date, sessions_between
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import generate_series

SESSION = date(2024, 5, 8)  # a Wednesday, a full session


def _newest(series: dict[str, dict[str, str]]) -> str:
    return next(iter(series))


@pytest.mark.parametrize(
    ("interval", "newest"),
    [
        pytest.param("1min", "2024-05-08 17:29:00", id="1min: the bar ending at 17:30"),
        pytest.param("30min", "2024-05-08 17:00:00", id="30min: the bar ending at 17:30"),
        pytest.param("60min", "2024-05-08 16:00:00", id="60min: 17:00-18:00 has not ended"),
    ],
)
def test_after_hours_bars_are_served_once_they_have_ended(interval: str, newest: str) -> None:
    half_past_five = datetime(2024, 5, 8, 17, 30, tzinfo=NEW_YORK)
    series = generate_series(
        "IBM", Function.INTRADAY, end=SESSION, history_length=100, interval=interval,
        until=half_past_five,
    )  # fmt: skip
    assert _newest(series) == newest


def test_without_until_the_whole_extended_session_is_served() -> None:
    series = generate_series(
        "IBM", Function.INTRADAY, end=SESSION, history_length=100, interval="60min"
    )
    assert _newest(series) == "2024-05-08 19:00:00"


def test_a_session_that_has_not_begun_has_no_bar() -> None:
    before_dawn = datetime(2024, 5, 8, 3, 59, tzinfo=NEW_YORK)
    series = generate_series(
        "IBM", Function.INTRADAY, end=SESSION, history_length=100, interval="60min",
        until=before_dawn,
    )  # fmt: skip
    assert _newest(series) == "2024-05-07 19:00:00"


def test_the_server_serves_no_bar_that_ends_after_now(fake_av: FakeAlphaVantage) -> None:
    # Steered to a session still to come, the server still serves nothing later than now.
    today = new_york_date(datetime.now(UTC))
    next_session = sessions_between(today + timedelta(days=1), today + timedelta(days=10))[0]
    fake_av.configure(end_date=next_session)
    params = {
        "function": "TIME_SERIES_INTRADAY", "symbol": "IBM", "interval": "60min",
        "outputsize": "full", "apikey": fake_av.api_key,
    }  # fmt: skip
    answer = requests.get(fake_av.url, params=params, timeout=30).json()
    starts = [datetime.fromisoformat(key) for key in answer["Time Series (60min)"]]
    ends = [(start + timedelta(hours=1)).replace(tzinfo=NEW_YORK) for start in starts]
    assert starts, "the sessions of the trailing 30 days are served"
    assert max(ends) <= datetime.now(UTC)
