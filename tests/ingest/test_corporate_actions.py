"""Corporate actions per symbol: their own cadence, the shared budget, one bad symbol alone,
changes reported, and adjusted prices equal to the ones Alpha Vantage's adjusted series gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from stockpipe.alphavantage import ActionFunction, Function, SeriesRequest
from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.corporate_actions import ActionStatus, refresh_corporate_actions
from stockpipe.ingest.results import RunStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage, Fault
from stockpipe.testing.payloads import action_rows
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import TARGET, FakeClock, ledger_count

SPLITS, DIVIDENDS = ActionFunction.SPLITS, ActionFunction.DIVIDENDS


def table(db: Database, query: str, *params: object) -> list[tuple[Any, ...]]:
    return db.run(lambda conn: conn.execute(query.encode(), params).fetchall())


def outcomes(summary: Any) -> list[tuple[str, str, ActionStatus, int]]:
    return [(r.symbol, r.function.value, r.status, r.calls) for r in summary.results]


def test_the_adjusted_view_equals_the_adjusted_close_alpha_vantage_serves(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    # A 3-for-1 split in the middle of the 150 stored sessions, plus the default dividends.
    fake.set_actions("SPLT", splits=[{"effective_date": "2024-03-15", "split_factor": "3.0000"}])
    ctx = make_context(API_OUTPUT_SIZE="full")
    ingest_symbols(ctx, ["SPLT", "IBM"])
    assert refresh_corporate_actions(ctx, ["SPLT", "IBM"]).status is RunStatus.SUCCESS
    for symbol in ("SPLT", "IBM"):
        served = ctx.client.fetch(SeriesRequest(symbol, Function.DAILY_ADJUSTED, "full")).bars
        expected = {bar.ts: bar.adjusted_close for bar in served}
        query = "SELECT ts, close FROM stock_data_adjusted WHERE symbol = %s"
        view = dict(table(db, query, symbol))
        assert len(view) == 150
        assert view == expected, symbol
    raw = dict(table(db, "SELECT ts::date, close FROM stock_data WHERE symbol = 'SPLT'"))
    before, after = raw[date(2024, 3, 14)], raw[date(2024, 3, 15)]
    assert Decimal(2) < before / after < Decimal(4), "the raw series drops at the split"


def test_new_actions_are_stored_once_and_not_fetched_again_before_they_are_due(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    first = refresh_corporate_actions(make_context(), ["IBM", "MSFT"])
    assert outcomes(first) == [
        ("IBM", "SPLITS", ActionStatus.LOADED, 1),
        ("IBM", "DIVIDENDS", ActionStatus.LOADED, 1),
        ("MSFT", "SPLITS", ActionStatus.LOADED, 1),
        ("MSFT", "DIVIDENDS", ActionStatus.LOADED, 1),
    ]
    splits, dividends = action_rows("IBM", TARGET)
    assert sum(1 for c in first.changes if c.symbol == "IBM") == len(splits) + len(dividends)
    assert {c.change for c in first.changes} == {"new"}
    again = refresh_corporate_actions(make_context(), ["IBM", "MSFT"])
    assert {r.status for r in again.results} == {ActionStatus.NOT_DUE}
    assert again.calls == 0 and ledger_count(db) == 4 and len(fake.calls()) == 4
    forced = refresh_corporate_actions(make_context(), ["IBM"], force=True)
    assert forced.calls == 2 and forced.changes == ()
    counted = table(db, "SELECT count(*) FROM stock_dividends WHERE symbol = 'IBM'")
    assert counted == [(len(dividends),)]


def test_none_dates_are_null_and_the_vendor_strings_are_kept(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    declared = {
        "ex_dividend_date": "2024-06-12",
        "declaration_date": "2024-05-01",
        "record_date": "None",
        "payment_date": "None",
        "amount": "0.4500",
    }
    fake.set_actions("IBM", dividends=[declared])
    refresh_corporate_actions(make_context(), ["IBM"])
    rows = table(
        db,
        "SELECT declaration_date, record_date, payment_date, amount::text, raw"
        " FROM stock_dividends WHERE symbol = 'IBM'",
    )
    assert rows == [(date(2024, 5, 1), None, None, "0.4500", declared)]


def test_a_restated_action_is_updated_and_reported_after_the_refresh_period(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    _, dividends = action_rows("IBM", TARGET)
    fake.set_actions("IBM", dividends=dividends)
    refresh_corporate_actions(make_context(), ["IBM"])
    restated = [dict(row) for row in dividends]
    restated[1]["amount"] = "0.5000"
    del restated[2]
    fake.set_actions("IBM", dividends=restated)
    clock.advance(days=6, hours=23)
    assert refresh_corporate_actions(make_context(), ["IBM"]).calls == 0
    clock.advance(hours=2)  # 7 days (CORPORATE_ACTIONS_REFRESH_DAYS) after the last success

    summary = refresh_corporate_actions(make_context(), ["IBM"])

    assert [c.describe() for c in summary.changes] == [
        f"IBM dividend {dividends[2]['ex_dividend_date']}: removed (was {dividends[2]['amount']})",
        f"IBM dividend {dividends[1]['ex_dividend_date']}: changed amount"
        f" {dividends[1]['amount']} -> 0.5000",
    ]
    amounts = table(db, "SELECT amount::text FROM stock_dividends ORDER BY ex_dividend_date DESC")
    assert [a for (a,) in amounts] == [row["amount"] for row in restated]
    assert (summary.results[0].function, summary.results[0].changes) == (SPLITS, ())


def test_a_rejected_symbol_fails_alone_and_waits_for_the_next_refresh(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    summary = refresh_corporate_actions(make_context(), ["INVALIDX", "IBM"])
    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("INVALIDX", ActionStatus.FAILED, 1),
        ("INVALIDX", ActionStatus.FAILED, 1),
        ("IBM", ActionStatus.LOADED, 1),
        ("IBM", ActionStatus.LOADED, 1),
    ]
    assert summary.status is RunStatus.PARTIAL
    assert "InvalidCall: Alpha Vantage rejected INVALIDX SPLITS" in summary.results[0].message
    # An invalid symbol stays invalid: no call per run, only one per refresh period.
    assert refresh_corporate_actions(make_context(), ["INVALIDX"]).calls == 0


def test_the_shared_budget_defers_the_rest_and_the_next_day_finishes_it(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    ingest_symbols(make_context(API_DAILY_BUDGET=3), ["IBM"])  # the bars spend one call

    summary = refresh_corporate_actions(make_context(API_DAILY_BUDGET=3), ["IBM", "MSFT"])

    assert outcomes(summary) == [
        ("IBM", "SPLITS", ActionStatus.LOADED, 1),
        ("IBM", "DIVIDENDS", ActionStatus.LOADED, 1),
        ("MSFT", "SPLITS", ActionStatus.DEFERRED, 0),
        ("MSFT", "DIVIDENDS", ActionStatus.DEFERRED, 0),
    ]
    assert "daily budget of 3 API calls is spent" in summary.results[2].message
    assert ledger_count(db) == 3
    clock.advance(hours=8)  # a new Alpha Vantage day
    later = refresh_corporate_actions(make_context(API_DAILY_BUDGET=3), ["IBM", "MSFT"])
    assert [(r.status, r.calls) for r in later.results] == [
        (ActionStatus.NOT_DUE, 0),
        (ActionStatus.NOT_DUE, 0),
        (ActionStatus.LOADED, 1),
        (ActionStatus.LOADED, 1),
    ]


def test_a_premium_answer_fails_that_function_only_and_is_not_asked_every_run(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.inject(Fault.PREMIUM_ENDPOINT, function="DIVIDENDS")
    summary = refresh_corporate_actions(make_context(), ["IBM", "MSFT"])
    assert [(r.function, r.status) for r in summary.results] == [
        (SPLITS, ActionStatus.LOADED),
        (DIVIDENDS, ActionStatus.FAILED),
        (SPLITS, ActionStatus.LOADED),
        (DIVIDENDS, ActionStatus.FAILED),
    ]
    assert "DIVIDENDS is a premium endpoint" in summary.results[1].message
    assert refresh_corporate_actions(make_context(), ["IBM", "MSFT"]).calls == 0


def test_a_daily_rate_limit_defers_the_rest_of_the_run_without_calls(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.inject(Fault.RATE_LIMIT_DAY, function="DIVIDENDS")
    summary = refresh_corporate_actions(make_context(), ["IBM", "MSFT"])
    assert outcomes(summary) == [
        ("IBM", "SPLITS", ActionStatus.LOADED, 1),
        ("IBM", "DIVIDENDS", ActionStatus.DEFERRED, 1),
        ("MSFT", "SPLITS", ActionStatus.DEFERRED, 0),
        ("MSFT", "DIVIDENDS", ActionStatus.DEFERRED, 0),
    ]
    assert len(fake.calls()) == 2


def test_bars_a_refetch_corrects_are_audited_with_the_ingest_runs_id(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(API_OUTPUT_SIZE="full"), ["IBM"])
    # The vendor restates the last two sessions (a split it had missed) and we fetch again.
    splits, _ = action_rows("IBM", TARGET)
    fake.set_actions(
        "IBM", splits=[{"effective_date": "2024-05-07", "split_factor": "2.0000"}, *splits]
    )
    ctx = make_context(API_OUTPUT_SIZE="full")
    summary = ingest_symbols(ctx, ["IBM"])
    assert (summary.updated, summary.calls) == (0, 0), "up to date: no call, nothing changed"
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM stock_data WHERE ts = (SELECT max(ts) FROM stock_data)"
        )
    )
    assert ingest_symbols(ctx, ["IBM"]).updated == 1
    rows = table(db, "SELECT ts::date, run_id FROM stock_data_changes")
    assert rows == [(date(2024, 5, 7), ctx.run_id)]
