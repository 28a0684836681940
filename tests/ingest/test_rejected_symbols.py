"""Symbols Alpha Vantage rejects as invalid: one call, then none until the retry day."""

from __future__ import annotations

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.ingest.state import load_states, order_symbols
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import (
    WEDNESDAY_EVENING,
    FakeClock,
    expected_rows,
    ledger_count,
    stored_rows,
)

SKIPPED = (
    "Alpha Vantage rejected INVALID1 as an invalid symbol on 2024-05-08; skipped without a call"
    " until 2024-05-15. Fix or remove it in STOCK_SYMBOLS, or run"
    " `stockpipe ingest --retry-rejected`"
)


def called(fake: FakeAlphaVantage) -> list[str]:
    return [call.symbol for call in fake.calls()]


def test_an_invalid_symbol_costs_one_call_then_none_and_still_fails_with_advice(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    first = ingest_symbols(make_context(), ["INVALID1", "IBM"])
    rejected = next(r for r in first.results if r.symbol == "INVALID1")
    assert (rejected.status, rejected.calls, rejected.rejected) == (SymbolStatus.FAILED, 1, True)
    assert rejected.message.startswith("InvalidCall: Alpha Vantage rejected")
    assert rejected.message.endswith("; skipped without a call until 2024-05-15")
    state = load_states(db, ["INVALID1"])["INVALID1"]
    assert state.rejected_at == WEDNESDAY_EVENING
    assert state.rejected_reason == rejected.message

    second = ingest_symbols(make_context(), ["INVALID1", "IBM"])

    assert [(r.symbol, r.status, r.calls) for r in second.results] == [
        ("IBM", SymbolStatus.UP_TO_DATE, 0),
        ("INVALID1", SymbolStatus.FAILED, 0),
    ]
    assert second.results[1].message == SKIPPED
    assert second.status is RunStatus.PARTIAL
    assert f"failed: INVALID1 ({SKIPPED})" in second.message
    assert called(fake) == ["INVALID1", "IBM"]
    assert ledger_count(db) == 2
    # Skipping does not push the retry day out: the first rejection still dates it.
    assert load_states(db, ["INVALID1"])["INVALID1"].rejected_at == WEDNESDAY_EVENING


def test_a_rejected_symbol_is_tried_once_more_on_its_retry_day(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    ingest_symbols(make_context(), ["INVALID1"])
    clock.advance(days=6)
    assert ingest_symbols(make_context(), ["INVALID1"]).calls == 0

    clock.advance(days=1)
    retried = ingest_symbols(make_context(), ["INVALID1"]).results[0]

    assert (retried.status, retried.calls) == (SymbolStatus.FAILED, 1)
    assert retried.message.endswith("; skipped without a call until 2024-05-22")
    assert called(fake) == ["INVALID1", "INVALID1"]
    assert ledger_count(db) == 2
    assert load_states(db, ["INVALID1"])["INVALID1"].rejected_at == clock.now()


def test_retry_rejected_calls_a_rejected_symbol_at_once(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(), ["INVALID1"])
    summary = ingest_symbols(make_context(), ["INVALID1"], retry_rejected=True)
    assert [(r.status, r.calls) for r in summary.results] == [(SymbolStatus.FAILED, 1)]
    assert called(fake) == ["INVALID1", "INVALID1"]


def test_a_retry_day_setting_of_zero_calls_a_rejected_symbol_every_run(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(API_REJECTED_SYMBOL_RETRY_DAYS=0), ["INVALID1"])
    ingest_symbols(make_context(API_REJECTED_SYMBOL_RETRY_DAYS=0), ["INVALID1"])
    assert called(fake) == ["INVALID1", "INVALID1"]


def test_a_rejected_symbol_that_becomes_valid_is_loaded_and_the_flag_cleared(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(invalid_symbols=["NEWCO"])
    ingest_symbols(make_context(), ["NEWCO"])
    fake.configure(invalid_symbols=[])

    summary = ingest_symbols(make_context(), ["NEWCO"], retry_rejected=True)

    assert [(r.status, r.calls, r.rejected) for r in summary.results] == [
        (SymbolStatus.LOADED, 1, False)
    ]
    assert stored_rows(db, "NEWCO") == expected_rows("NEWCO")
    state = load_states(db, ["NEWCO"])["NEWCO"]
    assert (state.rejected_at, state.rejected_reason) == (None, "")
    assert ingest_symbols(make_context(), ["NEWCO"]).results[0].status is SymbolStatus.UP_TO_DATE


def test_a_rejected_key_does_not_mark_any_symbol_rejected(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(valid_keys=["another-key"])
    ingest_symbols(make_context(), ["IBM", "MSFT"])
    ingest_symbols(make_context(API_KEY="demo"), ["MSFT"])  # DemoKeyMisuse: the key's fault

    assert all(state.rejected_at is None for state in load_states(db).values())
    fake.configure(valid_keys=None)
    assert ingest_symbols(make_context(), ["IBM", "MSFT"]).calls == 2


def test_a_wrong_endpoint_answering_404_does_not_mark_the_symbol_rejected(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_body("IBM", "not found", status=404)
    result = ingest_symbols(make_context(), ["IBM"]).results[0]
    assert (result.status, result.rejected) == (SymbolStatus.FAILED, False)
    assert "check ALPHAVANTAGE_BASE_URL" in result.message
    assert load_states(db, ["IBM"])["IBM"].rejected_at is None


def test_rejected_symbols_are_retried_after_the_symbols_that_work(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    ingest_symbols(make_context(), ["INVALID1", "IBM"])
    clock.advance(days=7)
    symbols = ["INVALID1", "IBM", "MSFT"]
    assert order_symbols(db, symbols) == ["MSFT", "IBM", "INVALID1"]

    # A budget of two calls today goes to the symbols that work; the rejected one waits.
    summary = ingest_symbols(make_context(API_DAILY_BUDGET=2), symbols)

    assert [(r.symbol, r.status) for r in summary.results] == [
        ("MSFT", SymbolStatus.LOADED),
        ("IBM", SymbolStatus.LOADED),
        ("INVALID1", SymbolStatus.DEFERRED),
    ]
    assert called(fake)[2:] == ["MSFT", "IBM"]
    # Deferred symbols normally go first; a rejected one stays last.
    assert order_symbols(db, ["INVALID1", "AAPL"]) == ["AAPL", "INVALID1"]
