"""The PostgreSQL-backed call gate: budget, spacing, per-minute cap, slow-down, shared state."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from stockpipe.alphavantage import BudgetExhausted, Function, Outcome, SeriesRequest
from stockpipe.quota import (
    SLOW_SPACING_FLOOR_SEC,
    PostgresCallGate,
    budget_info,
    calls_today,
    key_fingerprint,
)
from stockpipe.store import Database
from tests.ingest.helpers import FakeClock, make_settings

KEY = "test-key-not-secret-0001"


def ledger(db: Database) -> list[tuple[str, str | None, str | None, str | None]]:
    return db.run(
        lambda conn: conn.execute(
            "SELECT key_fingerprint, symbol, function, outcome FROM api_call_ledger ORDER BY id"
        ).fetchall()
    )


def test_calls_are_reserved_in_the_ledger_until_the_budget_is_spent(db: Database) -> None:
    clock = FakeClock()
    gate = PostgresCallGate(db, make_settings(API_DAILY_BUDGET=3), clock=clock)
    for _ in range(3):
        gate.acquire()
    with pytest.raises(BudgetExhausted, match="daily budget of 3 API calls is spent"):
        gate.acquire()
    assert calls_today(db, KEY, now=clock.now()) == 3
    assert len(ledger(db)) == 3


def test_the_ledger_holds_a_fingerprint_never_the_key(db: Database) -> None:
    gate = PostgresCallGate(db, make_settings(), clock=FakeClock())
    with gate.attribute("IBM", "TIME_SERIES_DAILY") as tally:
        gate.acquire()
        gate.report(Outcome.DATA)
    gate.close()  # outcomes are written in batches
    assert tally.calls == 1
    assert ledger(db) == [(key_fingerprint(KEY), "IBM", "TIME_SERIES_DAILY", "data")]
    dump = db.run(lambda conn: conn.execute("SELECT l::text FROM api_call_ledger l").fetchall())
    assert KEY not in str(dump)
    assert KEY not in repr(gate)


def test_calls_are_spaced_by_the_polite_delay(db: Database) -> None:
    clock = FakeClock()
    gate = PostgresCallGate(db, make_settings(API_POLITE_DELAY_SEC=12), clock=clock)
    gate.acquire()
    gate.acquire()
    assert clock.sleeps == [12.0]


def test_calls_are_paced_evenly_by_the_per_minute_cap(db: Database) -> None:
    """Two a minute: a call every 30 s (and two seconds of guard, MINUTE_GUARD_SEC),
    never two at once and the rest of the minute idle (bursts draw notices)."""
    clock = FakeClock()
    gate = PostgresCallGate(db, make_settings(API_CALLS_PER_MINUTE=2), clock=clock)
    gate.acquire()
    clock.advance(seconds=10)
    gate.acquire()
    gate.acquire()
    assert clock.sleeps == [21.0, 31.0]


def test_a_rate_limit_reply_doubles_the_spacing_for_a_while(db: Database) -> None:
    clock = FakeClock()
    gate = PostgresCallGate(db, make_settings(), clock=clock)
    gate.acquire()
    gate.report(Outcome.RATE_LIMITED)
    assert gate.slow_spacing() == SLOW_SPACING_FLOOR_SEC
    gate.acquire()
    gate.report(Outcome.RATE_LIMITED)
    assert gate.slow_spacing() == 2 * SLOW_SPACING_FLOOR_SEC
    gate.acquire()
    assert clock.sleeps == [SLOW_SPACING_FLOOR_SEC, 2 * SLOW_SPACING_FLOOR_SEC]
    clock.advance(minutes=11)
    assert gate.slow_spacing() == 0.0


def test_a_premium_parameter_reply_marks_the_key_denied_full_history(db: Database) -> None:
    settings = make_settings()
    gate = PostgresCallGate(db, settings, clock=FakeClock())
    assert not gate.full_history_denied()
    gate.acquire()
    gate.report(Outcome.PREMIUM_PARAMETER)
    assert gate.full_history_denied()
    other_process = PostgresCallGate(db, settings, clock=FakeClock())
    assert other_process.full_history_denied()


@pytest.mark.parametrize(
    ("request_", "cleared"),
    [
        (SeriesRequest("IBM", Function.DAILY, outputsize="full"), True),
        (SeriesRequest("IBM", Function.DAILY_ADJUSTED, outputsize="full"), True),
        (SeriesRequest("IBM", Function.DAILY, outputsize="compact"), False),
        (SeriesRequest("IBM", Function.WEEKLY), False),
        (None, False),
    ],
    ids=[
        "daily full clears",
        "adjusted full clears",
        "compact does not",
        "weekly does not",
        "an unknown request does not",
    ],
)
def test_a_full_answer_with_data_clears_the_keys_denial_at_once(
    db: Database, request_: SeriesRequest | None, cleared: bool
) -> None:
    settings = make_settings()
    gate = PostgresCallGate(db, settings, clock=FakeClock())
    gate.mark_full_history_denied()
    gate.acquire()
    gate.report(Outcome.DATA, request_)
    other_process = PostgresCallGate(db, settings, clock=FakeClock())
    assert other_process.full_history_denied() is not cleared
    assert (budget_info(db, settings).full_history_granted_at is not None) is cleared


def test_a_day_the_api_called_exhausted_blocks_calls_until_new_york_midnight(db: Database) -> None:
    # 23:30 in New York on 2024-05-08 (EDT, UTC-4).
    clock = FakeClock(datetime(2024, 5, 9, 3, 30, tzinfo=UTC))
    gate = PostgresCallGate(db, make_settings(), clock=clock)
    gate.mark_day_exhausted()
    with pytest.raises(BudgetExhausted, match="reported the daily quota spent for 2024-05-08"):
        gate.acquire()
    clock.advance(minutes=31)
    gate.acquire()


def test_calls_before_new_york_midnight_count_for_the_previous_day(db: Database) -> None:
    clock = FakeClock(datetime(2024, 5, 9, 3, 58, tzinfo=UTC))  # 23:58 in New York
    settings = make_settings(API_DAILY_BUDGET=2)
    gate = PostgresCallGate(db, settings, clock=clock)
    gate.acquire()
    gate.acquire()
    with pytest.raises(BudgetExhausted):
        gate.acquire()
    clock.advance(minutes=3)
    gate.acquire()
    info = budget_info(db, settings, now=clock.now())
    assert (info.day.isoformat(), info.calls_today, info.budget, info.remaining) == (
        "2024-05-09", 1, 2, 1,
    )  # fmt: skip


def test_two_processes_sharing_a_key_never_exceed_the_budget_together(
    db: Database, pg_conninfo: str
) -> None:
    settings = make_settings(API_DAILY_BUDGET=7)
    start = threading.Barrier(2)
    granted: list[int] = [0, 0]

    def spend(slot: int) -> None:
        # A Database of its own: as separate processes would have.
        with Database.from_conninfo(pg_conninfo, migrate=False) as own:
            gate = PostgresCallGate(own, settings, clock=FakeClock())
            start.wait(timeout=30)
            for _ in range(10):
                try:
                    gate.acquire()
                except BudgetExhausted:
                    return
                granted[slot] += 1

    threads = [threading.Thread(target=spend, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(granted) == 7
    assert len(ledger(db)) == 7


def test_a_released_call_leaves_no_trace_in_budget_spacing_or_tally(db: Database) -> None:
    clock = FakeClock()
    gate = PostgresCallGate(db, make_settings(API_POLITE_DELAY_SEC=12), clock=clock)
    with gate.attribute("IBM", "TIME_SERIES_DAILY") as tally:
        gate.acquire()
        gate.release()  # the request never left the machine
        gate.acquire()  # no spacing to wait for: the released call never happened
    assert clock.sleeps == []
    assert tally.calls == 1
    assert calls_today(db, KEY, now=clock.now()) == 1


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(Outcome.DATA, 12.0, id="after a call the polite delay is the wait"),
        pytest.param(Outcome.RATE_LIMITED, 24.0, id="after a rate limit the slow-down is"),
    ],
)
def test_the_gate_says_when_the_next_call_may_go(
    db: Database, after: Outcome, expected: float
) -> None:
    clock = FakeClock()
    gate = PostgresCallGate(db, make_settings(API_POLITE_DELAY_SEC=12), clock=clock)
    assert gate.next_call_in() == 0.0
    gate.acquire()
    gate.report(after)
    assert gate.next_call_in() == expected
    clock.advance(seconds=5)
    assert gate.next_call_in() == expected - 5
