"""Intraday requests: one month of bars with `month=YYYY-MM` (the backfill's call), the
extended-hours switch, and their parameters as Alpha Vantage expects them."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from stockpipe.alphavantage import Function, SeriesRequest
from stockpipe.market_calendar import NEW_YORK, sessions_between
from stockpipe.testing import FakeAlphaVantage
from tests.alphavantage.helpers import client_for


def test_one_month_of_intraday_bars_comes_from_one_call(fake_av: FakeAlphaVantage) -> None:
    fake_av.configure(end_date="2024-04-30")
    request = SeriesRequest(
        "IBM", Function.INTRADAY, outputsize="full", interval="15min", month="2024-03"
    )

    with client_for(fake_av) as client:
        series = client.fetch(request)

    walls = [bar.ts.astimezone(NEW_YORK) for bar in series.bars]
    sessions = sessions_between(datetime(2024, 3, 1).date(), datetime(2024, 3, 31).date())
    assert {wall.date() for wall in walls} == set(sessions)
    assert len(series.bars) == len(sessions) * 64  # 04:00-20:00 in 15 minutes
    assert (min(walls).time(), max(walls).time()) == (time(4, 0), time(19, 45))
    assert all(bar.interval == "15min" for bar in series.bars)
    [call] = fake_av.calls()
    assert (call.function, call.month, call.interval, call.outputsize) == (
        "TIME_SERIES_INTRADAY", "2024-03", "15min", "full",
    )  # fmt: skip


def test_the_month_crossing_the_dst_change_keeps_exact_utc_instants(
    fake_av: FakeAlphaVantage,
) -> None:
    fake_av.configure(end_date="2024-04-30")
    request = SeriesRequest("IBM", Function.INTRADAY, interval="60min", month="2024-03")

    with client_for(fake_av) as client:
        stamps = {bar.ts for bar in client.fetch(request).bars}

    assert datetime(2024, 3, 8, 9, 0, tzinfo=UTC) in stamps  # 04:00 EST
    assert datetime(2024, 3, 11, 8, 0, tzinfo=UTC) in stamps  # 04:00 EDT
    assert datetime(2024, 3, 11, 9, 0, tzinfo=UTC) in stamps


@pytest.mark.parametrize(
    ("extended", "param"),
    [(True, "true"), (False, "false"), (None, None)],
    ids=["extended hours asked for", "regular hours asked for", "the API's default kept"],
)
def test_extended_hours_is_sent_as_alpha_vantage_spells_it(
    extended: bool | None, param: str | None
) -> None:
    request = SeriesRequest("IBM", Function.INTRADAY, interval="5min", extended_hours=extended)
    assert request.query_params().get("extended_hours") == param


def test_extended_hours_is_refused_outside_intraday() -> None:
    with pytest.raises(ValueError, match="extended_hours applies to intraday only"):
        SeriesRequest("IBM", Function.DAILY, extended_hours=True)
