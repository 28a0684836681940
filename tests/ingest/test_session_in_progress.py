"""A bar of a session still trading is provisional in every series: never stored as final, and
stored once a run after the close fetches it. Alpha Vantage serves it during the session, dated
by the session (today) or, in replies recorded in 2017, keyed with the time of its values
("2017-04-27 12:11:00" beside "2017-04-26")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from stockpipe.alphavantage import Function
from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import SymbolStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import FakeClock, expected_rows, stored_rows
from tests.ingest.series_helpers import stored_period_rows

FRIDAY = date(2024, 5, 10)
THURSDAY = date(2024, 5, 9)
LATE_MORNING = datetime(2024, 5, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York: still trading
EVENING = datetime(2024, 5, 10, 22, 0, tzinfo=UTC)  # 18:00 in New York: closed
WAITS = f"the bar of {FRIDAY} waits for its session's close (still trading)"


def _bar(close: str) -> dict[str, str]:
    return {
        "1. open": "10.0000",
        "2. high": "11.0000",
        "3. low": "9.0000",
        "4. close": close,
        "5. volume": "1000",
    }


def test_a_daily_bar_of_the_session_in_progress_is_stored_only_after_the_close(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(end_date=FRIDAY.isoformat())  # the reply already holds Friday's bar

    morning = ingest_symbols(make_context(at=FakeClock(LATE_MORNING)), ["IBM"])

    [result] = morning.results
    assert (result.status, result.calls, result.latest_bar, result.message) == (
        SymbolStatus.LOADED, 1, THURSDAY, WAITS,
    )  # fmt: skip
    assert stored_rows(db, "IBM") == expected_rows("IBM", end=FRIDAY)[:-1]

    evening = ingest_symbols(make_context(at=FakeClock(EVENING)), ["IBM"])

    [result] = evening.results
    assert (result.status, result.calls, result.latest_bar, result.inserted) == (
        SymbolStatus.LOADED, 1, FRIDAY, 1,
    )  # fmt: skip
    assert stored_rows(db, "IBM") == expected_rows("IBM", end=FRIDAY)


# A weekly or monthly reply's in-session bar stands for its whole period so far: Thursday's
# value of the week is in no bar.
NO_THURSDAY = f"{WAITS}; Alpha Vantage has no bar for {THURSDAY} yet"
# (function, series, history before Friday's bar, the morning's message, the row Friday's
# final bar makes: period start and provisional, None for daily)
SERIES = [
    pytest.param(Function.DAILY, "daily", ("2024-05-09", "2024-05-08"), WAITS, None, id="daily"),
    pytest.param(Function.WEEKLY, "weekly", ("2024-05-03", "2024-04-26"), NO_THURSDAY, (date(2024, 5, 6), False), id="weekly: Friday closes the week"),  # noqa: E501
    pytest.param(Function.MONTHLY, "monthly", ("2024-04-30", "2024-03-28"), NO_THURSDAY, (date(2024, 5, 1), True), id="monthly: the month stays open"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("function", "series", "history", "message", "final_row"), SERIES)
def test_a_2017_reply_keying_the_session_with_a_time_is_provisional_not_malformed(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    function: Function,
    series: str,
    history: tuple[str, ...],
    message: str,
    final_row: tuple[date, bool] | None,
) -> None:
    earlier = {day: _bar("10.5000") for day in history}
    fake.set_series("IBM", function, {"2024-05-10 11:00:00": _bar("10.2500"), **earlier})

    morning = ingest_symbols(make_context(at=FakeClock(LATE_MORNING)), ["IBM"], series=series)

    [result] = morning.results
    assert (result.status, result.skipped, result.message) == (SymbolStatus.LOADED, {}, message)
    assert result.latest_bar == date.fromisoformat(history[0])

    fake.set_series("IBM", function, {"2024-05-10": _bar("10.7500"), **earlier})
    evening = ingest_symbols(make_context(at=FakeClock(EVENING)), ["IBM"], series=series)

    [result] = evening.results
    assert (result.status, result.latest_bar, result.message) == (SymbolStatus.LOADED, FRIDAY, "")
    if final_row is None:
        last = stored_rows(db, "IBM")[-1]
        assert (last[0], last[4]) == (FRIDAY, Decimal("10.7500"))
    else:
        table = f"stock_data_{series}"
        row = stored_period_rows(db, table, "IBM")[-1]
        period, provisional = final_row
        assert (row[0], row[1], row[5], row[7]) == (period, FRIDAY, Decimal("10.7500"), provisional)
