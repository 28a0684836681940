"""Missing sessions repaired by the daily refresh, on real PostgreSQL and the fake over HTTP: a
hole compact reaches costs one compact call, an older one a full call where the key may, one
only premium history reaches is reported once and never costs a call again, and a session the
vendor has no bar for is remembered after one covering fetch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.gap_memory import read_gaps
from stockpipe.ingest.gaps import premium_only_message, vendor_missing_message
from stockpipe.ingest.results import RunStatus, SymbolResult, SymbolStatus
from stockpipe.ingest.state import load_states
from stockpipe.market_calendar import sessions_between
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import HISTORY, TARGET, FakeClock, expected_rows, stored_rows

SESSIONS = sessions_between(date(2023, 1, 1), TARGET)
NEAR = SESSIONS[-30]  # compact's latest 100 bars hold it
FAR = SESSIONS[-120]  # only a full answer holds it (the fake's full history is 150 sessions)
NEXT = date(2024, 5, 9)  # the session after TARGET


def outcome(results: Sequence[SymbolResult]) -> list[tuple[str, SymbolStatus, int, str]]:
    return [(r.symbol, r.status, r.calls, r.message) for r in results]


def calls_since(fake: FakeAlphaVantage, before: int) -> list[tuple[str, str | None, str]]:
    return [(c.symbol, c.outputsize, c.outcome) for c in fake.calls()[before:]]


def delete_days(db: Database, symbol: str, *days: date) -> None:
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM stock_data WHERE symbol = %s"
            " AND (ts AT TIME ZONE 'America/New_York')::date = ANY(%s)",
            (symbol, list(days)),
        )
    )


def memory(db: Database, table: str) -> list[tuple[Any, ...]]:
    return db.run(
        lambda conn: conn.execute(
            f"SELECT symbol, series, day FROM {table} ORDER BY day"
        ).fetchall()
    )


def stored_days(db: Database, symbol: str) -> list[date]:
    return [row[0] for row in stored_rows(db, symbol)]


@pytest.fixture
def loaded(db: Database, fake: FakeAlphaVantage, make_context: ContextFactory) -> int:
    """IBM's full history (150 sessions) stored; returns the calls spent so far."""
    summary = ingest_symbols(make_context(), ["IBM"])
    assert outcome(summary.results) == [("IBM", SymbolStatus.LOADED, 1, "")]
    assert stored_rows(db, "IBM") == expected_rows("IBM")
    return len(fake.calls())


def test_holidays_and_half_days_are_never_gaps_and_cost_no_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, loaded: int
) -> None:
    days = stored_days(db, "IBM")
    assert date(2023, 11, 24) in days  # the half-day after Thanksgiving
    assert date(2023, 11, 23) not in days and date(2024, 3, 29) not in days  # shut
    gaps = read_gaps(db, ["IBM"], TARGET)["IBM"]
    assert (gaps.holes, gaps.after, gaps.vendor_missing) == ((), (), frozenset())

    summary = ingest_symbols(make_context(), ["IBM"])

    assert outcome(summary.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
    assert len(fake.calls()) == loaded


def test_a_missing_session_within_compacts_reach_is_repaired_with_one_compact_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, loaded: int
) -> None:
    delete_days(db, "IBM", NEAR)
    assert read_gaps(db, ["IBM"], TARGET)["IBM"].holes == (NEAR,)

    summary = ingest_symbols(make_context(), ["IBM"])

    assert calls_since(fake, loaded) == [("IBM", "compact", "data")]
    assert outcome(summary.results) == [("IBM", SymbolStatus.LOADED, 1, "")]
    result = summary.results[0]
    assert (result.inserted, result.updated, result.unchanged) == (1, 0, 99)
    assert stored_rows(db, "IBM") == expected_rows("IBM")
    again = ingest_symbols(make_context(), ["IBM"])
    assert outcome(again.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
    assert len(fake.calls()) == loaded + 1


def test_an_older_missing_session_is_repaired_with_one_full_call_where_the_key_may(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, loaded: int
) -> None:
    delete_days(db, "IBM", FAR)

    summary = ingest_symbols(make_context(), ["IBM"])

    assert calls_since(fake, loaded) == [("IBM", "full", "data")]
    assert outcome(summary.results) == [("IBM", SymbolStatus.LOADED, 1, "")]
    assert summary.results[0].inserted == 1
    assert stored_rows(db, "IBM") == expected_rows("IBM")
    assert outcome(ingest_symbols(make_context(), ["IBM"]).results)[0][2] == 0


def test_a_gap_only_premium_history_reaches_is_reported_once_and_never_costs_a_call_again(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    clock: FakeClock,
    loaded: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.configure(free_tier=True)  # from now on outputsize=full is a premium parameter
    delete_days(db, "IBM", FAR, SESSIONS[-119])
    reported = premium_only_message([FAR, SESSIONS[-119]], "auto")
    assert reported.startswith(f"2 missing sessions only premium (full) history reaches: {FAR}..")

    with caplog.at_level(logging.WARNING, logger="stockpipe"):
        first = ingest_symbols(make_context(), ["IBM"])

    # The key was not known to be denied: one full call finds out; compact would bring
    # nothing the symbol lacks, so no second call.
    assert calls_since(fake, loaded) == [("IBM", "full", "premium_parameter")]
    assert outcome(first.results) == [("IBM", SymbolStatus.UP_TO_DATE, 1, reported)]
    assert first.results[0].history_limited
    assert first.status is RunStatus.SUCCESS
    assert f"IBM: {reported}" in caplog.messages
    assert load_states(db, ["IBM"])["IBM"].last_message == reported
    assert memory(db, "premium_gap_notice") == [
        ("IBM", "daily", FAR),
        ("IBM", "daily", SESSIONS[-119]),
    ]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="stockpipe"):
        second = ingest_symbols(make_context(), ["IBM"])
        # The next day: one call for the new session, none for the old gap, no new report.
        clock.advance(days=1)
        fake.configure(end_date=NEXT.isoformat())
        third = ingest_symbols(make_context(), ["IBM"])

    assert outcome(second.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
    assert outcome(third.results) == [("IBM", SymbolStatus.LOADED, 1, "")]
    assert calls_since(fake, loaded + 1) == [("IBM", "compact", "data")]
    assert not [m for m in caplog.messages if "premium (full) history" in m]
    gaps = read_gaps(db, ["IBM"], NEXT)["IBM"]
    assert gaps.holes == (FAR, SESSIONS[-119])  # still missing, and still shown by status


def test_a_key_known_to_be_denied_full_history_spends_nothing_on_an_old_gap(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, loaded: int
) -> None:
    fake.configure(free_tier=True)
    context = make_context()
    context.gate.mark_full_history_denied()
    delete_days(db, "IBM", FAR)

    first = ingest_symbols(context, ["IBM"])
    second = ingest_symbols(make_context(), ["IBM"])

    assert len(fake.calls()) == loaded
    assert outcome(first.results) == [
        ("IBM", SymbolStatus.UP_TO_DATE, 0, premium_only_message([FAR], "auto"))
    ]
    assert outcome(second.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]


def test_a_session_the_vendor_has_no_bar_for_is_remembered_after_one_covering_fetch(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    clock: FakeClock,
    loaded: int,
) -> None:
    fake.set_missing_sessions("IBM", [NEAR])  # halted: the vendor lacks it from now on
    delete_days(db, "IBM", NEAR)

    first = ingest_symbols(make_context(), ["IBM"])

    assert calls_since(fake, loaded) == [("IBM", "compact", "data")]
    assert outcome(first.results) == [
        ("IBM", SymbolStatus.LOADED, 1, vendor_missing_message([NEAR]))
    ]
    assert memory(db, "vendor_missing_session") == [("IBM", "daily", NEAR)]
    gaps = read_gaps(db, ["IBM"], TARGET)["IBM"]
    assert (gaps.missing, gaps.vendor_missing) == ((), frozenset({NEAR}))

    second = ingest_symbols(make_context(), ["IBM"])
    assert outcome(second.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
    assert len(fake.calls()) == loaded + 1

    # The vendor restores it: the next day's compact answer holds it, so it is stored and
    # the memory cleared.
    fake.set_missing_sessions("IBM", [])
    clock.advance(days=1)
    fake.configure(end_date=NEXT.isoformat())
    third = ingest_symbols(make_context(), ["IBM"])

    assert outcome(third.results) == [("IBM", SymbolStatus.LOADED, 1, "")]
    assert (third.results[0].inserted, third.results[0].latest_bar) == (2, NEXT)
    assert NEAR in stored_days(db, "IBM")
    assert memory(db, "vendor_missing_session") == []


def test_sessions_the_vendor_lacks_in_a_first_full_load_cost_no_later_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_missing_sessions("IBM", [FAR, NEAR])

    first = ingest_symbols(make_context(), ["IBM"])
    second = ingest_symbols(make_context(), ["IBM"])

    assert outcome(first.results) == [
        ("IBM", SymbolStatus.LOADED, 1, vendor_missing_message([FAR, NEAR]))
    ]
    assert first.results[0].inserted == HISTORY  # the 150 bars the vendor has
    assert memory(db, "vendor_missing_session") == [("IBM", "daily", FAR), ("IBM", "daily", NEAR)]
    assert outcome(second.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
    assert len(fake.calls()) == 1


def test_one_run_reads_every_symbols_gaps_and_repairs_only_the_symbol_with_one(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ingest_symbols(make_context(), ["IBM", "MSFT", "AAPL"])
    delete_days(db, "MSFT", NEAR)
    before = len(fake.calls())

    summary = ingest_symbols(make_context(), ["IBM", "MSFT", "AAPL"])

    assert calls_since(fake, before) == [("MSFT", "compact", "data")]
    assert {r.symbol: (r.status, r.calls) for r in summary.results} == {
        "IBM": (SymbolStatus.UP_TO_DATE, 0),
        "MSFT": (SymbolStatus.LOADED, 1),
        "AAPL": (SymbolStatus.UP_TO_DATE, 0),
    }
    assert stored_rows(db, "MSFT") == expected_rows("MSFT")


def test_a_free_key_behind_by_a_session_falls_back_to_compact_and_reports_the_old_gap(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, loaded: int
) -> None:
    fake.configure(free_tier=True)
    delete_days(db, "IBM", FAR, TARGET)

    summary = ingest_symbols(make_context(), ["IBM"])

    assert calls_since(fake, loaded) == [
        ("IBM", "full", "premium_parameter"),
        ("IBM", "compact", "data"),
    ]
    limited = "history limited: this key gets the latest 100 bars only (compact)"
    assert outcome(summary.results) == [
        ("IBM", SymbolStatus.LOADED, 2, f"{limited}; {premium_only_message([FAR], 'auto')}")
    ]
    assert summary.results[0].latest_bar == TARGET
    assert read_gaps(db, ["IBM"], TARGET)["IBM"].missing == (FAR,)
    again = ingest_symbols(make_context(), ["IBM"])
    assert outcome(again.results) == [("IBM", SymbolStatus.UP_TO_DATE, 0, "")]
