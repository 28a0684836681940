"""Several fetched symbols stored in one transaction (stockpipe.ingest.store_batch) end exactly
as if each were stored alone: the same results, bars, symbol_state rows, gap memory and
unpublished sessions."""

from __future__ import annotations

import logging
from dataclasses import astuple
from datetime import date, datetime
from typing import Any

import pytest

from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.ingest.series_run import SeriesRun
from stockpipe.ingest.state import load_states
from stockpipe.ingest.steps import Halt, Prepared, finish, prepare
from stockpipe.ingest.store_batch import finish_batch
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import HISTORY, TARGET, stored_rows

PREVIOUS = date(2024, 5, 7)  # the session before TARGET
EARLIER = date(2024, 5, 6)


def prepared(context: IngestContext, symbols: list[str]) -> list[Prepared]:
    run = SeriesRun.of("daily", context.settings)
    halt = Halt()
    return [prepare(context, symbol, halt, run=run) for symbol in symbols]


def shape(result: SymbolResult) -> tuple[Any, ...]:
    """A result without its symbol: twin symbols of the same story compare equal."""
    return (
        result.status, result.calls, result.inserted, result.updated, result.unchanged,
        result.latest_bar, result.output_size, result.history_limited, result.message,
    )  # fmt: skip


def state_shape(db: Database, symbol: str) -> tuple[Any, ...]:
    state = load_states(db, [symbol])[symbol]
    unpublished = db.run(
        lambda conn: conn.execute(
            "SELECT unpublished_session, unpublished_asked_at FROM symbol_state"
            " WHERE symbol = %s AND series = 'daily'",
            (symbol,),
        ).fetchone()
    )
    # The driven clock moves with the gate's spacing: times are compared by presence only.
    return tuple(
        value is not None if isinstance(value, datetime) else value
        for value in (*astuple(state)[1:], *unpublished)
    )


def tamper_oldest_compact_bar(db: Database, symbol: str) -> None:
    """Change one stored bar a compact answer covers: its merge must update it back."""
    db.run(
        lambda conn: conn.execute(
            "UPDATE stock_data SET close = close + 1 WHERE symbol = %s AND ts ="
            " (SELECT ts FROM stock_data WHERE symbol = %s ORDER BY ts DESC OFFSET 50 LIMIT 1)",
            (symbol, symbol),
        )
    )


def test_a_batch_stores_like_one_symbol_at_a_time(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Twin stories, A stored in one batch, B one symbol at a time: new (full history, its
    target not published yet), behind by one session with a changed bar (compact: one new
    bar, one updated by the merge, the rest unchanged), and up to date (no call)."""
    context = make_context(API_DAILY_BUDGET="none")
    ingest_symbols(context, ["A3", "B3"])  # up to date
    fake.configure(end_date=EARLIER.isoformat())
    ingest_symbols(context, ["A2", "B2"])  # two sessions behind
    tamper_oldest_compact_bar(db, "A2")
    tamper_oldest_compact_bar(db, "B2")
    fake.configure(end_date=PREVIOUS.isoformat())  # TARGET is not published yet
    run = SeriesRun.of("daily", context.settings)

    with caplog.at_level(logging.WARNING, logger="stockpipe.ingest"):
        batched = finish_batch(context, prepared(context, ["A1", "A2", "A3"]), run)
    alone = [finish(context, item, run) for item in prepared(context, ["B1", "B2", "B3"])]

    assert "together failed" not in caplog.text  # the batch itself stored them
    assert [r.symbol for r in batched] == ["A1", "A2", "A3"]
    assert [shape(r) for r in batched] == [shape(r) for r in alone]
    no_bar_yet = f"Alpha Vantage has no bar for {TARGET} yet"
    assert [(r.status, r.inserted, r.updated, r.message) for r in batched] == [
        (SymbolStatus.LOADED, HISTORY, 0, no_bar_yet),
        (SymbolStatus.LOADED, 1, 1, no_bar_yet),
        (SymbolStatus.UP_TO_DATE, 0, 0, ""),
    ]
    for a, b in (("A1", "B1"), ("A2", "B2"), ("A3", "B3")):
        assert state_shape(db, a) == state_shape(db, b)
        assert len(stored_rows(db, a)) == len(stored_rows(db, b))
    assert state_shape(db, "A1")[-2:] == (TARGET, True)  # remembered as not published yet


def test_a_batch_that_cannot_commit_is_stored_one_symbol_at_a_time(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One symbol's permanent fault (its bars violate a constraint added for the test) fails
    that symbol alone, as without batching; the others of its batch are stored."""
    db.run(
        lambda conn: conn.execute(
            "ALTER TABLE stock_data ADD CONSTRAINT no_bad CHECK (symbol <> 'BAD') NOT VALID"
        )
    )
    try:
        context = make_context(API_DAILY_BUDGET="none")
        run = SeriesRun.of("daily", context.settings)
        with caplog.at_level(logging.WARNING, logger="stockpipe.ingest"):
            results = finish_batch(context, prepared(context, ["GOOD", "BAD", "FINE"]), run)
    finally:
        db.run(lambda conn: conn.execute("ALTER TABLE stock_data DROP CONSTRAINT no_bad"))

    assert "storing 3 symbols together failed" in caplog.text
    assert [(r.symbol, r.status, r.inserted) for r in results] == [
        ("GOOD", SymbolStatus.LOADED, HISTORY),
        ("BAD", SymbolStatus.FAILED, 0),
        ("FINE", SymbolStatus.LOADED, HISTORY),
    ]
    assert results[1].message.startswith("database: ")
    assert 'violates check constraint "no_bad"' in results[1].message
    assert stored_rows(db, "BAD") == []
    assert len(stored_rows(db, "GOOD")) == len(stored_rows(db, "FINE")) == HISTORY
    states = load_states(db, ["GOOD", "BAD", "FINE"])
    assert {s: states[s].last_status for s in states} == {
        "GOOD": SymbolStatus.LOADED,
        "BAD": SymbolStatus.FAILED,
        "FINE": SymbolStatus.LOADED,
    }
