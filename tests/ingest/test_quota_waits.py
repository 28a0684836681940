"""The call gate says why it waits (a display shows it; see stockpipe.waits)."""

from __future__ import annotations

import pytest

from stockpipe.quota import PostgresCallGate
from stockpipe.store import Database
from stockpipe.waits import Wait, observing_waits
from tests.ingest.helpers import FakeClock, make_settings


@pytest.mark.parametrize(
    ("per_minute", "polite", "step", "reason"),
    [
        (2, 5, 31.0, "the API's per-minute limit (API_CALLS_PER_MINUTE)"),
        (60, 20, 20.0, "the spacing between calls (API_POLITE_DELAY_SEC)"),
    ],
    ids=["the per-minute rate paces the calls", "the polite delay paces the calls"],
)
def test_the_gate_announces_each_wait_with_the_setting_behind_it_and_the_symbol(
    db: Database, per_minute: int, polite: float, step: float, reason: str
) -> None:
    clock = FakeClock()
    settings = make_settings(API_CALLS_PER_MINUTE=per_minute, API_POLITE_DELAY_SEC=polite)
    gate = PostgresCallGate(db, settings, clock=clock)
    seen: list[Wait] = []
    with observing_waits(seen.append), gate.attribute("MSFT", "TIME_SERIES_DAILY"):
        gate.acquire()  # the first call starts at once
        gate.acquire()  # calls start one step apart (60 s + a 2 s guard over the rate)
        gate.acquire()
    assert [(w.symbol, w.reason) for w in seen] == [("MSFT", reason)] * 2
    assert [w.seconds for w in seen] == pytest.approx([step, step], abs=0.01)
