"""The daily budget during a run: the rest is deferred, without calls, and goes first next time."""

from __future__ import annotations

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.ingest.state import load_states
from stockpipe.quota import budget_info
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import FakeClock, ledger_count, make_settings

SYMBOLS = ["IBM", "MSFT", "AAPL", "NVDA"]


def test_a_budget_spent_midway_defers_the_rest_without_calling(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    summary = ingest_symbols(make_context(API_DAILY_BUDGET=2), SYMBOLS)

    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.LOADED, 1),
        ("AAPL", SymbolStatus.DEFERRED, 0),
        ("NVDA", SymbolStatus.DEFERRED, 0),
    ]
    assert "daily budget of 2 API calls is spent" in summary.results[2].message
    assert summary.status is RunStatus.PARTIAL
    assert summary.message.endswith("deferred: AAPL, NVDA")
    assert ledger_count(db) == 2
    assert len(fake.calls()) == 2
    states = load_states(db)
    assert [states[s].deferred for s in SYMBOLS] == [False, False, True, True]


def test_the_next_run_takes_the_deferred_symbols_first(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    ingest_symbols(make_context(API_DAILY_BUDGET=2), SYMBOLS)
    clock.advance(hours=8)  # 02:00 in New York: a new Alpha Vantage day, same session

    summary = ingest_symbols(make_context(API_DAILY_BUDGET=2), SYMBOLS)

    assert [(r.symbol, r.status) for r in summary.results] == [
        ("AAPL", SymbolStatus.LOADED),
        ("NVDA", SymbolStatus.LOADED),
        ("IBM", SymbolStatus.UP_TO_DATE),
        ("MSFT", SymbolStatus.UP_TO_DATE),
    ]
    assert summary.status is RunStatus.SUCCESS
    assert not any(state.deferred for state in load_states(db).values())


def test_up_to_date_symbols_still_say_so_after_the_budget_is_spent(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(), ["MSFT"])
    # The first run spent 1 of 2 calls.
    summary = ingest_symbols(make_context(API_DAILY_BUDGET=2), ["IBM", "AAPL", "MSFT"])
    assert [(r.symbol, r.status) for r in summary.results] == [
        ("IBM", SymbolStatus.LOADED),
        ("AAPL", SymbolStatus.DEFERRED),
        ("MSFT", SymbolStatus.UP_TO_DATE),
    ]


def test_a_run_with_no_budget_at_all_fails_visibly(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    summary = ingest_symbols(make_context(API_DAILY_BUDGET=0), ["IBM", "MSFT"])
    assert summary.status is RunStatus.FAILED
    assert [r.status for r in summary.results] == [SymbolStatus.DEFERRED] * 2
    assert fake.calls() == []


def test_the_apis_own_daily_limit_reply_defers_the_rest_and_is_remembered(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    fake.inject(Fault.RATE_LIMIT_DAY, symbol="MSFT")
    summary = ingest_symbols(make_context(), ["IBM", "MSFT", "AAPL"])

    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.DEFERRED, 1),
        ("AAPL", SymbolStatus.DEFERRED, 0),
    ]
    assert len(fake.calls()) == 2
    info = budget_info(db, make_settings(), now=clock.now())
    assert (info.day_exhausted, info.calls_today, info.remaining) == (True, 2, 0)
