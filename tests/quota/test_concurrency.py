"""Spacing, in-flight defaults by Little's law, no daily cap, slots claimed for every waiting
thread in one round trip, and a throttle pushing the key's next start back for everyone."""

from __future__ import annotations

import threading

import pytest

from stockpipe.alphavantage import Outcome
from stockpipe.quota import PostgresCallGate, calls_today
from stockpipe.quota.concurrency import default_in_flight, max_in_flight, spacing_sec
from stockpipe.store import Database
from tests.ingest.helpers import FakeClock, make_settings

KEY = "test-key-not-secret-0001"


@pytest.mark.parametrize(
    ("per_minute", "polite", "spacing", "in_flight"),
    [(5, 12, 12.4, 1), (75, 0, 0.8267, 2), (300, 0, 0.2067, 5), (1200, 0, 0.0517, 20)],
    ids=["free key", "premium 75", "premium 300", "premium 1200"],
)
def test_spacing_and_the_default_in_flight_follow_the_rate(
    per_minute: int, polite: float, spacing: float, in_flight: int
) -> None:
    settings = make_settings(API_CALLS_PER_MINUTE=per_minute, API_POLITE_DELAY_SEC=polite)
    assert spacing_sec(settings) == pytest.approx(spacing, abs=1e-4)
    assert default_in_flight(settings) == in_flight
    assert max_in_flight(make_settings(API_CALLS_PER_MINUTE=per_minute, API_MAX_IN_FLIGHT=3)) == 3


def test_no_daily_cap_lets_every_call_through_and_still_counts_them(db: Database) -> None:
    settings = make_settings(API_DAILY_BUDGET="none", API_CALLS_PER_MINUTE=60000)
    assert settings.api_daily_budget is None
    clock = FakeClock()
    gate = PostgresCallGate(db, settings, clock=clock)
    for _ in range(40):
        gate.acquire()
    assert calls_today(db, KEY, now=clock.now()) == 40
    assert "no daily cap" in repr(gate)


def test_one_round_trip_claims_a_slot_for_every_waiting_thread(db: Database) -> None:
    settings = make_settings(API_CALLS_PER_MINUTE=60000, API_DAILY_BUDGET=100)
    gate = PostgresCallGate(db, settings)
    claims: list[int] = []
    real_claim = gate._claim

    def counting(conn, want, reserve):  # type: ignore[no-untyped-def]
        claims.append(want)
        return real_claim(conn, want, reserve)

    gate._claim = counting  # type: ignore[method-assign]
    start = threading.Barrier(8)

    def call() -> None:
        start.wait(timeout=30)
        gate.acquire()

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(claims) >= 8 and len(claims) < 8  # some round trips served several threads
    gate.close()
    assert calls_today(db, KEY) == 8  # slots claimed and never used were given back


def test_a_throttle_pushes_the_next_start_back_for_every_process(db: Database) -> None:
    settings = make_settings(API_CALLS_PER_MINUTE=60000, API_POLITE_DELAY_SEC=0)
    clock = FakeClock()
    one = PostgresCallGate(db, settings, clock=clock)
    other_process = PostgresCallGate(db, settings, clock=clock)
    one.acquire()
    one.report(Outcome.RATE_LIMITED)
    assert other_process.next_call_in() == pytest.approx(1.0)  # SLOW_SPACING_FLOOR_SEC
    other_process.acquire()
    assert clock.sleeps[-1] == pytest.approx(1.0)
