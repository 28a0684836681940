"""A session Alpha Vantage has not published yet: one call, then none for the wait period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from stockpipe.ingest import ingest_symbol, ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolResult, SymbolStatus
from stockpipe.ingest.state import load_states
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import TARGET, FakeClock, ledger_count

PREVIOUS = date(2024, 5, 7)  # the session before TARGET: all the fake has so far
NO_BAR_YET = f"Alpha Vantage has no bar for {TARGET} yet"
WAITING = f"Alpha Vantage had no bar for {TARGET} at 18:00 New York time; asking again after 19:00"


def outcome(results: Sequence[SymbolResult]) -> list[tuple[str, SymbolStatus, int, str]]:
    return [(r.symbol, r.status, r.calls, r.message) for r in results]


def test_an_unpublished_session_is_asked_for_once_per_wait_period_until_it_is_served(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    fake.configure(end_date=PREVIOUS.isoformat())
    first = ingest_symbols(make_context(), ["IBM"])
    assert outcome(first.results) == [("IBM", SymbolStatus.LOADED, 1, NO_BAR_YET)]
    assert first.results[0].latest_bar == PREVIOUS

    clock.advance(minutes=10)
    second = ingest_symbols(make_context(), ["IBM"])

    assert outcome(second.results) == [("IBM", SymbolStatus.DEFERRED, 0, WAITING)]
    assert second.results[0].awaiting_publication
    assert second.results[0].latest_bar == PREVIOUS
    # The run that spent the call and got "no bar yet" was a success: so is this one.
    assert second.status is RunStatus.SUCCESS
    assert (len(fake.calls()), ledger_count(db)) == (1, 1)
    assert load_states(db, ["IBM"])["IBM"].last_message == WAITING

    clock.advance(minutes=51)  # 18:61: the wait is over
    third = ingest_symbols(make_context(), ["IBM"])
    assert outcome(third.results) == [("IBM", SymbolStatus.LOADED, 1, NO_BAR_YET)]
    assert (len(fake.calls()), ledger_count(db)) == (2, 2)

    fake.configure(end_date=TARGET.isoformat())
    clock.advance(minutes=60)
    fourth = ingest_symbols(make_context(), ["IBM"])
    assert outcome(fourth.results) == [("IBM", SymbolStatus.LOADED, 1, "")]
    assert fourth.results[0].latest_bar == TARGET

    clock.advance(minutes=10)
    fifth = ingest_symbols(make_context(), ["IBM"])
    assert outcome(fifth.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
    assert (len(fake.calls()), ledger_count(db)) == (3, 3)


def test_a_waiting_symbol_leaves_the_others_fetched_and_the_run_a_success(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    fake.configure(end_date=PREVIOUS.isoformat())
    ingest_symbol(make_context(), "IBM")
    fake.configure(end_date=TARGET.isoformat())
    clock.advance(minutes=5)

    summary = ingest_symbols(make_context(), ["IBM", "MSFT"])

    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("MSFT", SymbolStatus.LOADED, 1),  # never loaded: first in line
        ("IBM", SymbolStatus.DEFERRED, 0),
    ]
    assert summary.status is RunStatus.SUCCESS
    assert summary.message.endswith("deferred: IBM")
    assert [call.symbol for call in fake.calls()] == ["IBM", "MSFT"]


def test_a_symbol_is_fetched_at_once_when_the_target_session_moves_on(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    # 15:30 in New York on Thursday: Wednesday is the target, and Alpha Vantage lacks it.
    clock = FakeClock(datetime(2024, 5, 9, 19, 30, tzinfo=UTC))
    fake.configure(end_date=PREVIOUS.isoformat())
    first = ingest_symbol(make_context(at=clock), "IBM")
    assert (first.status, first.message) == (SymbolStatus.LOADED, NO_BAR_YET)

    clock.advance(minutes=40)  # 16:10: Thursday's session has closed, the target moved on
    fake.configure(end_date="2024-05-09")
    second = ingest_symbol(make_context(at=clock), "IBM")

    assert (second.status, second.calls, second.message) == (SymbolStatus.LOADED, 1, "")
    assert second.latest_bar == date(2024, 5, 9)
    assert (len(fake.calls()), ledger_count(db)) == (2, 2)
