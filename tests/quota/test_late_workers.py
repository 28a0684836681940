"""The per-minute cap as the vendor counts it: by when calls arrive, not when their slots were
reserved. Workers are made late on purpose (virtual time, tests.quota.virtual_time): a worker
that wakes more than LATE_SLOT_SEC after its slot gives it back and claims a fresh one, and
the ledger keeps the moment each call left, so every 60 s window of the ledger holds at most
the cap."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

import pytest

from stockpipe.alphavantage import Outcome
from stockpipe.quota import PostgresCallGate
from stockpipe.quota import gate as gate_module
from stockpipe.quota.concurrency import LATE_SLOT_SEC, spacing_sec
from stockpipe.store import Database
from tests.ingest.helpers import FakeClock, make_settings
from tests.quota.virtual_time import VirtualClock, busiest_window

CAP = 120  # calls a minute
WORKERS = 8
CALLS = 400  # about 3.4 minutes of the key's time
REPLY_SEC = 1.5  # three calls in flight at 120 a minute, five workers to spare


def ledger_times(db: Database) -> list[datetime]:
    rows = db.run(
        lambda conn: conn.execute("SELECT called_at FROM api_call_ledger ORDER BY called_at")
    ).fetchall()
    return [row[0] for row in rows]


def run_workers(
    db: Database,
    late_share: float,
    seed: int = 18,
    most_late: float = 3.0,
    way_sec: float = 0.0,
) -> list[datetime]:
    """WORKERS threads of one gate send CALLS calls; `late_share` of the gate's sleeps end up to
    `most_late` seconds late. The moments the calls arrive at the vendor: each leaves when the
    gate lets it and takes up to `way_sec` to get there (the way out of the process, the
    network)."""
    lateness = random.Random(seed)
    way = random.Random(seed + 1)

    def late(seconds: float) -> float:
        return lateness.uniform(0.0, most_late) if lateness.random() < late_share else 0.0

    clock = VirtualClock(WORKERS, late)
    settings = make_settings(API_CALLS_PER_MINUTE=CAP, API_DAILY_BUDGET="none")
    gate = PostgresCallGate(db, settings, clock=clock)
    sent: list[datetime] = []
    left = iter(range(CALLS))
    take = threading.Lock()
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        clock.bind(number)
        try:
            clock.wait(0)  # start in a fixed order
            while True:
                with take:
                    if next(left, None) is None:
                        break
                gate.acquire()
                sent.append(clock.now() + timedelta(seconds=way.uniform(0.0, way_sec)))
                clock.wait(REPLY_SEC)
                gate.report(Outcome.DATA)
        except BaseException as exc:  # surfaced by the test below
            errors.append(exc)
        finally:
            clock.done()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(thread.is_alive() for thread in threads)
    gate.close()
    return sent


def test_late_workers_never_put_more_than_the_cap_in_any_minute_at_the_vendor(
    db: Database,
) -> None:
    sent = run_workers(db, late_share=0.25)
    assert len(sent) == CALLS
    assert ledger_times(db) == sorted(sent)  # the ledger keeps when each call left
    assert busiest_window(sent) <= CAP


def test_late_workers_and_a_slow_way_to_the_vendor_stay_under_the_cap(db: Database) -> None:
    """The guard's other 1.5 s: calls that take up to that long to arrive after the gate let
    them go (a loaded machine, the network) still never put more than the cap in a minute."""
    sent = run_workers(db, late_share=0.25, way_sec=1.5)
    assert len(sent) == CALLS
    assert busiest_window(sent) <= CAP


def test_workers_on_time_use_the_whole_pace(db: Database) -> None:
    """No worker late: every slot is used, the busiest minute holds what the spacing allows
    (the guard, MINUTE_GUARD_SEC, is all that is kept back)."""
    sent = run_workers(db, late_share=0.0)
    step = spacing_sec(make_settings(API_CALLS_PER_MINUTE=CAP))
    assert busiest_window(sent) == int(60 / step) + 1 == CAP - 3


def test_without_giving_late_slots_back_the_same_run_goes_over_the_cap(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same workers, just as late, sending whenever they wake bunch their
    calls at the vendor (what the run-launcher smoke test saw: 124 in a minute for 120, with a
    guard of one second; against two, half the sleeps ending up to 6 s late do it)."""
    monkeypatch.setattr(gate_module, "LATE_SLOT_SEC", float("inf"))
    sent = run_workers(db, late_share=0.5, most_late=6.0)
    assert busiest_window(sent) > CAP


def test_a_worker_waking_too_late_gives_its_slot_back_and_sends_in_a_fresh_one(
    db: Database,
) -> None:
    class OneLateWake(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if len(self.sleeps) == 1:  # the first wait for a slot ends 2 s late
                self.advance(seconds=2.0)

    clock = OneLateWake()
    settings = make_settings(API_CALLS_PER_MINUTE=CAP)
    step = spacing_sec(settings)
    gate = PostgresCallGate(db, settings, clock=clock)
    start = clock.now()
    gate.acquire()  # at once
    gate.report(Outcome.DATA)
    gate.acquire()  # its slot at `step`; woken 2 s late, so it takes the next slot: now
    sent = clock.now()
    gate.report(Outcome.DATA)
    gate.close()
    assert (sent - start).total_seconds() == pytest.approx(step + 2.0)
    assert clock.sleeps == [round(step, 6)]  # the fresh slot needed no further wait
    assert ledger_times(db) == [start, sent]  # the late slot left no row


def test_a_worker_a_little_late_keeps_its_slot_and_the_ledger_says_when_it_left(
    db: Database,
) -> None:
    class SlightlyLate(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            self.advance(seconds=LATE_SLOT_SEC / 2)

    clock = SlightlyLate()
    settings = make_settings(API_CALLS_PER_MINUTE=CAP)
    gate = PostgresCallGate(db, settings, clock=clock)
    gate.acquire()
    gate.report(Outcome.DATA)
    gate.acquire()
    sent = clock.now()
    gate.report(Outcome.DATA)
    gate.close()
    assert ledger_times(db)[-1] == sent  # not the slot's start, LATE_SLOT_SEC / 2 before
