"""The fake's vendor-missing sessions: a halted symbol's daily series simply lacks those days,
set through the Python API or the HTTP control API."""

from __future__ import annotations

from datetime import date
from typing import Any

import requests

from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.testing import FakeAlphaVantage

SERIES = "Time Series (Daily)"


def _daily(fake: FakeAlphaVantage, symbol: str, outputsize: str = "compact") -> dict[str, Any]:
    params = {
        "function": "TIME_SERIES_DAILY",
        "symbol": symbol,
        "outputsize": outputsize,
        "apikey": fake.api_key,
    }
    answer = requests.get(fake.url, params=params, timeout=30).json()
    series = answer[SERIES]
    assert isinstance(series, dict)
    return series


def test_a_symbols_missing_sessions_are_absent_and_compact_still_serves_100_bars(
    fake_av: FakeAlphaVantage,
) -> None:
    before = _daily(fake_av, "IBM")
    halted = sorted(before)[50:52]
    fake_av.set_missing_sessions("ibm", [date.fromisoformat(day) for day in halted])

    after = _daily(fake_av, "IBM")

    assert len(after) == 100
    assert not set(halted) & set(after)
    # The latest 100 bars the vendor has: two older ones come into the window.
    full = _daily(fake_av, "IBM", "full")
    assert set(after) == set(sorted(full)[-100:])
    assert len(set(after) - set(before)) == 2 and not set(halted) & set(full)
    assert {day: after[day] for day in before if day in after} == {
        day: bar for day, bar in before.items() if day not in halted
    }
    assert _daily(fake_av, "MSFT") == _daily(fake_av, "MSFT")  # other symbols keep theirs


def test_missing_sessions_are_set_and_cleared_over_http(fake_av: FakeAlphaVantage) -> None:
    control = fake_av.url.replace("/query", "/_control")
    day = sessions_between(date(2000, 1, 1), latest_completed_session())[-10]

    answer = requests.post(
        f"{control}/missing", json={"symbol": "IBM", "days": [day.isoformat()]}, timeout=5
    )

    assert answer.status_code == 200
    assert day.isoformat() not in _daily(fake_av, "IBM")
    bad = requests.post(f"{control}/missing", json={"symbol": "IBM", "days": ["x"]}, timeout=5)
    assert bad.status_code == 400
    requests.post(f"{control}/missing", json={"symbol": "IBM", "days": []}, timeout=5)
    assert day.isoformat() in _daily(fake_av, "IBM")
