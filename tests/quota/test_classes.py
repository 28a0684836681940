"""Priority classes in the call gate: a lower class spends only what the higher ones leave of
today's budget, and takes no slot while a higher run is active on the key."""

from __future__ import annotations

import pytest

from stockpipe.alphavantage import BudgetExhausted
from stockpipe.quota import CallClass, PostgresCallGate, calls_today
from stockpipe.quota.classes import ACTIVE_POLL_SEC, ACTIVE_TTL
from stockpipe.quota.gate import RESERVE_KEPT_SEC
from stockpipe.store import Database
from tests.ingest.helpers import FakeClock, make_settings

KEY = "test-key-not-secret-0001"


def test_a_lower_class_stops_at_the_reserve_and_the_refresh_spends_it(db: Database) -> None:
    clock = FakeClock()
    settings = make_settings(API_DAILY_BUDGET=5)
    actions = PostgresCallGate(db, settings, clock=clock)
    refresh = PostgresCallGate(db, settings, clock=clock)
    with actions.serving(CallClass.ACTIONS, reserve=lambda: 3):
        actions.acquire()
        actions.acquire()
        with pytest.raises(BudgetExhausted) as refused:
            actions.acquire()
    assert refused.value.message == (
        "the rest of today's budget is kept for higher-priority work: 3 of API_DAILY_BUDGET=5"
        " for what comes before the corporate actions (2 calls spent on 2024-05-08, US/Eastern)"
    )
    for _ in range(3):
        refresh.acquire()
    assert calls_today(db, KEY, now=clock.now()) == 5


def test_a_refusal_reads_the_reserve_afresh(db: Database) -> None:
    clock = FakeClock()
    backfill = PostgresCallGate(db, make_settings(API_DAILY_BUDGET=4), clock=clock)
    need = [3]
    with backfill.serving(CallClass.BACKFILL, reserve=lambda: need[0]):
        backfill.acquire()
        with pytest.raises(BudgetExhausted):
            backfill.acquire()
        need[0] = 1  # the refreshes ran meanwhile
        backfill.acquire()
        backfill.acquire()
        with pytest.raises(BudgetExhausted):
            backfill.acquire()


def test_the_reserve_is_read_once_every_few_seconds_not_on_every_claim(db: Database) -> None:
    """At 10,000 symbols a read costs about half a second, more than a claim's share of a
    premium key's pace; a refusal still reads it afresh (the test above)."""
    clock = FakeClock()
    reads: list[int] = []

    def reserve() -> int:
        reads.append(1)
        return 3

    backfill = PostgresCallGate(db, make_settings(API_DAILY_BUDGET=100), clock=clock)
    with backfill.serving(CallClass.BACKFILL, reserve=reserve):
        for _ in range(10):  # 61 ms apart: all within RESERVE_KEPT_SEC
            backfill.acquire()
        assert len(reads) == 1
        clock.advance(seconds=RESERVE_KEPT_SEC)
        backfill.acquire()
        assert len(reads) == 2


def test_without_a_daily_cap_no_reserve_is_read(db: Database) -> None:
    backfill = PostgresCallGate(db, make_settings(API_DAILY_BUDGET="none"), clock=FakeClock())
    with backfill.serving(CallClass.BACKFILL, reserve=lambda: 1 // 0):
        backfill.acquire()


def test_a_lower_class_takes_no_slot_while_a_higher_run_is_active(db: Database) -> None:
    clock = FakeClock()
    settings = make_settings()
    refresh = PostgresCallGate(db, settings, clock=clock)
    actions = PostgresCallGate(db, settings, clock=clock)
    backfill = PostgresCallGate(db, settings, clock=clock)
    # Registered and never renewed: the backfill waits until both registrations lapse (a killed
    # run blocks the others no longer than that).
    with refresh.active(), actions.serving(CallClass.ACTIONS), backfill.serving(CallClass.BACKFILL):
        backfill.acquire()
    waited = sum(clock.sleeps)
    assert set(clock.sleeps) == {ACTIVE_POLL_SEC}
    assert ACTIVE_TTL.total_seconds() <= waited <= ACTIVE_TTL.total_seconds() + ACTIVE_POLL_SEC


def test_a_lower_class_goes_on_once_the_higher_run_ends(db: Database) -> None:
    clock = FakeClock()
    settings = make_settings(API_POLITE_DELAY_SEC=12)
    refresh = PostgresCallGate(db, settings, clock=clock)
    backfill = PostgresCallGate(db, settings, clock=clock)
    with refresh.active():
        refresh.acquire()  # the refresh itself never waits for a class
    with backfill.serving(CallClass.BACKFILL):
        backfill.acquire()
    # Only the polite spacing after the refresh's call: no wait for a class.
    assert clock.sleeps == [12.0]


def test_the_same_class_and_higher_ones_are_not_held_back(db: Database) -> None:
    clock = FakeClock()
    settings = make_settings(API_POLITE_DELAY_SEC=0)
    backfill = PostgresCallGate(db, settings, clock=clock)
    actions = PostgresCallGate(db, settings, clock=clock)
    other_backfill = PostgresCallGate(db, settings, clock=clock)
    with backfill.serving(CallClass.BACKFILL):
        with actions.serving(CallClass.ACTIONS):
            actions.acquire()
        with other_backfill.serving(CallClass.BACKFILL):
            other_backfill.acquire()
    assert ACTIVE_POLL_SEC not in clock.sleeps  # only the spacing between calls
