"""The call gate says why it waits (a display shows it; see stockpipe.waits)."""

from __future__ import annotations

from stockpipe.quota import PostgresCallGate
from stockpipe.store import Database
from stockpipe.waits import Wait, observing_waits
from tests.ingest.helpers import FakeClock, make_settings


def test_the_gate_announces_a_per_minute_wait_and_a_spacing_wait_with_the_symbol(
    db: Database,
) -> None:
    clock = FakeClock()
    settings = make_settings(API_CALLS_PER_MINUTE=2, API_POLITE_DELAY_SEC=5)
    gate = PostgresCallGate(db, settings, clock=clock)
    seen: list[Wait] = []
    with observing_waits(seen.append), gate.attribute("MSFT", "TIME_SERIES_DAILY"):
        gate.acquire()
        gate.acquire()  # the spacing: 5 s
        gate.acquire()  # the window holds two calls: 55 s more until the oldest leaves it
    assert [w.describe() for w in seen] == [
        "MSFT: waiting 5 s for the spacing between calls (API_POLITE_DELAY_SEC)",
        "MSFT: waiting 55 s for the API's per-minute limit (API_CALLS_PER_MINUTE)",
    ]
