"""Weekly and monthly bars: one row per symbol and period, the open period replaced as its bar
moves, provisional until the period closed, and no call once the latest session is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from stockpipe.alphavantage import Function
from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.market_calendar import period_start
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import TARGET, FakeClock, ledger_count
from tests.ingest.series_helpers import raw_of, served_period_bars, stored_period_rows


def evening(day: date) -> FakeClock:
    """18:00 in New York (EDT): after the close of `day`."""
    return FakeClock(datetime(day.year, day.month, day.day, 22, 0, tzinfo=UTC))


def test_weekly_bars_are_stored_exactly_one_row_per_week_the_open_week_provisional(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    summary = ingest_symbols(make_context(), ["IBM"], series="weekly")

    [result] = summary.results
    served = served_period_bars("IBM", Function.WEEKLY, TARGET)
    assert (result.status, result.calls, result.inserted) == (SymbolStatus.LOADED, 1, len(served))
    assert result.latest_bar == TARGET
    rows = stored_period_rows(db, "stock_data_weekly", "IBM")
    assert rows == [
        (period_start(day, "week"), day, *values[:5], day == TARGET, raw_of(values[5]))
        for day, values in sorted(served.items())
    ]
    # Wednesday 2024-05-08: the week runs to Friday, so only its row is provisional.
    assert [row[1] for row in rows if row[7]] == [TARGET]
    assert [(c.function, c.outputsize) for c in fake.calls()] == [("TIME_SERIES_WEEKLY", None)]


def test_monthly_bars_are_stored_exactly_one_row_per_month(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(), ["MSFT"], series="monthly")

    served = served_period_bars("MSFT", Function.MONTHLY, TARGET)
    rows = stored_period_rows(db, "stock_data_monthly", "MSFT")
    assert rows == [
        (day.replace(day=1), day, *values[:5], day == TARGET, raw_of(values[5]))
        for day, values in sorted(served.items())
    ]
    assert rows[-1][:2] == (date(2024, 5, 1), TARGET)


def test_the_open_week_is_replaced_day_by_day_and_final_once_the_week_closed(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    monday, tuesday, next_monday = date(2024, 5, 6), date(2024, 5, 7), date(2024, 5, 13)
    this_week = (date(2024, 5, 6), date(2024, 4, 29))

    fake.configure(end_date=monday.isoformat())
    ingest_symbols(make_context(at=evening(monday)), ["IBM"], series="weekly")
    after_monday = stored_period_rows(db, "stock_data_weekly", "IBM")
    assert [(r[0], r[1], r[7]) for r in after_monday[-2:]] == [
        (this_week[1], date(2024, 5, 3), False),
        (this_week[0], monday, True),
    ]

    fake.configure(end_date=tuesday.isoformat())
    tuesday_run = ingest_symbols(make_context(at=evening(tuesday)), ["IBM"], series="weekly")
    [result] = tuesday_run.results
    assert (result.status, result.calls, result.inserted, result.updated) == (
        SymbolStatus.LOADED, 1, 0, 1,
    )  # fmt: skip
    after_tuesday = stored_period_rows(db, "stock_data_weekly", "IBM")
    assert len(after_tuesday) == len(after_monday)
    assert after_tuesday[:-1] == after_monday[:-1]
    served = served_period_bars("IBM", Function.WEEKLY, tuesday)[tuesday]
    assert after_tuesday[-1] == (monday, tuesday, *served[:5], True, raw_of(served[5]))

    again = ingest_symbols(make_context(at=evening(tuesday)), ["IBM"], series="weekly")
    assert [(r.status, r.calls) for r in again.results] == [(SymbolStatus.UP_TO_DATE, 0)]

    fake.configure(end_date=next_monday.isoformat())
    ingest_symbols(make_context(at=evening(next_monday)), ["IBM"], series="weekly")
    rows = stored_period_rows(db, "stock_data_weekly", "IBM")
    starts = [row[0] for row in rows]
    assert len(starts) == len(set(starts)) == len(after_tuesday) + 1
    assert [(r[0], r[1], r[7]) for r in rows[-2:]] == [
        (monday, date(2024, 5, 10), False),  # the closed week, dated by its Friday: final
        (next_monday, next_monday, True),
    ]
    assert (len(fake.calls()), ledger_count(db)) == (3, 3)


def test_a_holiday_week_closes_on_its_last_session_and_costs_no_second_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    # Good Friday 2024-03-29: the exchange is shut, the week's last session is Thursday.
    thursday, friday = date(2024, 3, 28), date(2024, 3, 29)
    fake.configure(end_date=thursday.isoformat())
    ingest_symbols(make_context(at=evening(thursday)), ["IBM"], series="weekly")
    last = stored_period_rows(db, "stock_data_weekly", "IBM")[-1]
    assert (last[0], last[1], last[7]) == (date(2024, 3, 25), thursday, False)

    friday_run = ingest_symbols(make_context(at=evening(friday)), ["IBM"], series="weekly")

    assert [(r.status, r.calls) for r in friday_run.results] == [(SymbolStatus.UP_TO_DATE, 0)]
    assert len(fake.calls()) == 1


def test_csv_and_json_store_the_same_weekly_values(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(API_DATATYPE="csv"), ["IBM"], series="weekly")
    from_csv = [row[:8] for row in stored_period_rows(db, "stock_data_weekly", "IBM")]
    db.run(lambda conn: conn.execute("TRUNCATE stock_data_weekly, symbol_state"))

    ingest_symbols(make_context(), ["IBM"], series="weekly")
    from_json = [row[:8] for row in stored_period_rows(db, "stock_data_weekly", "IBM")]

    assert from_csv == from_json
    assert len(from_json) == len(served_period_bars("IBM", Function.WEEKLY, TARGET))
    assert [c.datatype for c in fake.calls()] == ["csv", "json"]


def test_weekly_and_daily_are_remembered_apart(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    context = make_context()
    daily = ingest_symbols(context, ["IBM"])
    weekly = ingest_symbols(context, ["IBM"], series="weekly")
    daily_again = ingest_symbols(context, ["IBM"])

    assert [(r.status, r.calls) for r in daily.results] == [(SymbolStatus.LOADED, 1)]
    assert [(r.status, r.calls) for r in weekly.results] == [(SymbolStatus.LOADED, 1)]
    assert [(r.status, r.calls) for r in daily_again.results] == [(SymbolStatus.UP_TO_DATE, 0)]
    assert weekly.status is RunStatus.SUCCESS
    series = db.run(
        lambda conn: conn.execute(
            "SELECT series, last_status FROM symbol_state ORDER BY series"
        ).fetchall()
    )
    assert series == [("daily", "up_to_date"), ("weekly", "loaded")]
    # One budget: both series' calls are in the one ledger, under their own function.
    functions = db.run(
        lambda conn: conn.execute("SELECT function FROM api_call_ledger ORDER BY id").fetchall()
    )
    assert functions == [("TIME_SERIES_DAILY",), ("TIME_SERIES_WEEKLY",)]


def test_adjusted_weekly_bars_keep_the_adjusted_close_and_dividend(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(STOCK_ADJUSTED="true"), ["IBM"], series="weekly")

    served = served_period_bars("IBM", Function.WEEKLY_ADJUSTED, TARGET)
    stored = db.run(
        lambda conn: conn.execute(
            "SELECT (ts AT TIME ZONE 'America/New_York')::date, adjusted_close, dividend_amount,"
            " split_coefficient FROM stock_data_weekly WHERE symbol = 'IBM' ORDER BY ts"
        ).fetchall()
    )
    assert [(day, adjusted) for day, adjusted, _, _ in stored] == [
        (day, Decimal(values[5]["5. adjusted close"])) for day, values in sorted(served.items())
    ]
    assert all(split is None and dividend is not None for _, _, dividend, split in stored)
    assert [c.function for c in fake.calls()] == ["TIME_SERIES_WEEKLY_ADJUSTED"]


def test_adjusted_daily_on_a_free_key_fails_once_saying_a_premium_key_is_needed(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(free_tier=True)
    context = make_context(STOCK_ADJUSTED="true")

    first = ingest_symbols(context, ["IBM", "MSFT"])
    second = ingest_symbols(context, ["IBM", "MSFT"])

    assert [(r.status, r.calls) for r in first.results] == [
        (SymbolStatus.FAILED, 1),
        (SymbolStatus.FAILED, 0),
    ]
    assert first.results[0].message.startswith(
        "TIME_SERIES_DAILY_ADJUSTED needs a premium Alpha Vantage key"
    )
    assert [(r.status, r.calls) for r in second.results] == [(SymbolStatus.FAILED, 0)] * 2
    assert len(fake.calls()) == 1


def test_a_bar_of_a_session_still_trading_waits_for_a_run_after_the_close(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    friday = date(2024, 5, 10)
    fake.configure(end_date=friday.isoformat())  # Alpha Vantage already dates a bar Friday
    late_morning = FakeClock(datetime(2024, 5, 10, 15, 0, tzinfo=UTC))  # 11:00 in New York

    morning = ingest_symbols(make_context(at=late_morning), ["IBM"], series="weekly")
    assert [(r.status, r.calls, r.latest_bar) for r in morning.results] == [
        (SymbolStatus.LOADED, 1, date(2024, 5, 3))  # nothing of the week still trading
    ]
    assert stored_period_rows(db, "stock_data_weekly", "IBM")[-1][:2] == (
        date(2024, 4, 29),
        date(2024, 5, 3),
    )

    after_close = ingest_symbols(make_context(at=evening(friday)), ["IBM"], series="weekly")

    assert [(r.status, r.calls) for r in after_close.results] == [(SymbolStatus.LOADED, 1)]
    last = stored_period_rows(db, "stock_data_weekly", "IBM")[-1]
    assert (last[0], last[1], last[7]) == (date(2024, 5, 6), friday, False)


def test_every_series_spends_one_budget_and_its_deferred_symbols_go_first_next_time(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    budget = {"API_DAILY_BUDGET": 2}
    daily = ingest_symbols(make_context(**budget), ["IBM"])
    weekly = ingest_symbols(make_context(**budget), ["IBM", "MSFT", "AAPL"], series="weekly")

    assert [(r.status, r.calls) for r in daily.results] == [(SymbolStatus.LOADED, 1)]
    assert [(r.symbol, r.status, r.calls) for r in weekly.results] == [
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.DEFERRED, 0),
        ("AAPL", SymbolStatus.DEFERRED, 0),
    ]
    assert ledger_count(db) == 2

    clock.advance(days=1)  # Thursday evening: a new day's budget, and a new session
    fake.configure(end_date="2024-05-09")
    next_day = ingest_symbols(make_context(**budget), ["IBM", "MSFT", "AAPL"], series="weekly")

    assert [(r.symbol, r.status) for r in next_day.results] == [
        ("MSFT", SymbolStatus.LOADED),
        ("AAPL", SymbolStatus.LOADED),
        ("IBM", SymbolStatus.DEFERRED),
    ]
