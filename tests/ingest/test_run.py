"""A run over several symbols: rows exactly as served, no call when up to date, output sizes."""

from __future__ import annotations

from datetime import UTC, datetime

from stockpipe.ingest import ingest_symbol, ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolResult, SymbolStatus
from stockpipe.ingest.state import load_states
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import (
    HISTORY,
    TARGET,
    FakeClock,
    expected_rows,
    ledger_count,
    stored_rows,
)

SYMBOLS = ["IBM", "MSFT", "AAPL"]


def test_a_first_run_stores_every_bar_exactly_as_served(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    seen: list[SymbolResult] = []
    summary = ingest_symbols(make_context(), SYMBOLS, on_result=seen.append)

    assert summary.status is RunStatus.SUCCESS
    assert list(summary.results) == seen
    assert [r.symbol for r in seen] == SYMBOLS
    for result in seen:
        assert (result.status, result.calls, result.output_size) == (SymbolStatus.LOADED, 1, "full")
        assert (result.inserted, result.updated, result.unchanged) == (HISTORY, 0, 0)
        assert result.latest_bar == TARGET
        assert stored_rows(db, result.symbol) == expected_rows(result.symbol)
    assert [(c.symbol, c.outputsize) for c in fake.calls()] == [(s, "full") for s in SYMBOLS]
    assert summary.calls == ledger_count(db) == 3
    assert summary.message == "3 symbols: 3 loaded; 3 API calls"


def test_a_rerun_when_everything_is_up_to_date_spends_no_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    context = make_context()
    ingest_symbols(context, SYMBOLS)
    again = ingest_symbols(context, SYMBOLS)

    assert again.status is RunStatus.SUCCESS
    assert [(r.status, r.calls, r.latest_bar) for r in again.results] == [
        (SymbolStatus.UP_TO_DATE, 0, TARGET)
    ] * 3
    assert len(fake.calls()) == 3
    assert ledger_count(db) == 3


def test_the_next_session_is_fetched_with_compact_and_only_it_is_new(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    context = make_context()
    ingest_symbols(context, ["IBM"])
    fake.configure(end_date="2024-05-09")
    clock.advance(days=1)

    result = ingest_symbol(context, "IBM")

    assert (result.status, result.calls, result.output_size) == (SymbolStatus.LOADED, 1, "compact")
    assert (result.inserted, result.updated, result.unchanged) == (1, 0, 99)
    assert result.latest_bar == TARGET.replace(day=9)
    assert fake.calls()[-1].outputsize == "compact"
    assert stored_rows(db, "IBM")[-1] == expected_rows("IBM", end=TARGET.replace(day=9))[-1]


def test_a_gap_longer_than_compact_covers_is_filled_with_full(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    # Loaded on 2023-11-30, back on 2024-05-08: over 100 sessions later.
    fake.configure(end_date="2023-11-30")
    ingest_symbol(make_context(at=FakeClock(datetime(2023, 11, 30, 23, tzinfo=UTC))), "IBM")
    fake.configure(end_date=TARGET.isoformat())

    result = ingest_symbol(make_context(), "IBM")

    assert (result.status, result.output_size) == (SymbolStatus.LOADED, "full")
    assert [c.outputsize for c in fake.calls()] == ["full", "full"]
    assert stored_rows(db, "IBM")[-HISTORY:] == expected_rows("IBM")


def test_each_result_is_remembered_per_symbol(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    before = clock.now()
    ingest_symbols(make_context(), ["IBM", "INVALIDX"])
    states = load_states(db)
    assert (states["IBM"].last_status, states["IBM"].deferred) == (SymbolStatus.LOADED, False)
    # The fake clock moves by the calls' spacing (the gate paces every call, the first too).
    success = states["IBM"].last_success_at
    assert success is not None and before <= success <= clock.now()
    assert states["INVALIDX"].last_status is SymbolStatus.FAILED
    assert "Invalid API call" in states["INVALIDX"].last_message
    assert states["INVALIDX"].last_success_at is None
