"""Issue 18, "the budget order holds with requests in flight": `stockpipe ingest`, `actions` and
`backfill` started together as processes with API_MAX_IN_FLIGHT workers each, on a small
budget, in the worst order (the backfill first, the bars last). The fake Alpha Vantage's log is
the witness: the bars get every call they need, the corporate actions what is left after them,
the backfill what is left after both, and not one call more. (Exact counts, not the order in
time: a lower class may take a call before the refresh's process has registered; the budget
it may spend then already leaves the higher classes theirs.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stockpipe import processes
from stockpipe.store import Database
from stockpipe.testing import CallRecord, FakeAlphaVantage

STOCKPIPE = str(Path(sys.executable).with_name("stockpipe"))
SYMBOLS = [f"S{n}" for n in range(6)]
BACKFILL_GETS = 4  # of the 6 daily `full` units it wants
BUDGET = len(SYMBOLS) + 2 * len(SYMBOLS) + BACKFILL_GETS
REPLY_SEC = 0.5


def in_flight_at_once(calls: list[CallRecord]) -> int:
    """The most of `calls` in flight together by the fake's log: a call is in flight from its
    arrival until at least REPLY_SEC later (the fake holds every reply that long)."""
    times = sorted(c.time for c in calls)
    return max(sum(1 for t in times if start <= t < start + REPLY_SEC) for start in times)


def start(*args: str, **env: str) -> subprocess.Popen[bytes]:
    return processes.spawn(
        [STOCKPIPE, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_started_together_with_requests_in_flight_each_class_spends_only_what_is_left(
    fake: FakeAlphaVantage, db: Database
) -> None:
    fake.set_delay(REPLY_SEC)  # replies take a while: several calls of each run are in flight
    env = {
        "STOCK_SYMBOLS": ",".join(SYMBOLS),
        "STOCK_SERIES": "daily",
        "API_OUTPUT_SIZE": "compact",
        "API_DAILY_BUDGET": str(BUDGET),
        "API_MAX_IN_FLIGHT": "4",
    }
    runs = {
        name: start(*args, **env)
        for name, args in (
            ("backfill", ("backfill", "--series", "daily")),
            ("actions", ("actions",)),
            ("ingest", ("ingest",)),
        )
    }
    try:
        outputs = {
            name: run.communicate(timeout=600)[0].decode(errors="replace")
            for name, run in runs.items()
        }
    finally:  # a timeout or a failure leaves none of the three (nor what they started) behind
        for run in runs.values():
            processes.stop(run)
    codes = {name: run.returncode for name, run in runs.items()}

    # The backfill pauses with today's budget spent (1); the others complete.
    assert codes == {"backfill": 1, "actions": 0, "ingest": 0}, outputs
    calls = fake.calls()
    assert all(c.outcome == "data" for c in calls)
    daily = [c for c in calls if c.function == "TIME_SERIES_DAILY"]
    refresh = [c for c in daily if c.outputsize == "compact"]
    bars = sorted(c.symbol for c in refresh)
    history = [c for c in daily if c.outputsize == "full"]
    actions = [c for c in calls if c.function in ("SPLITS", "DIVIDENDS")]
    assert bars == SYMBOLS
    assert sorted((c.symbol, c.function) for c in actions) == sorted(
        (s, f) for s in SYMBOLS for f in ("SPLITS", "DIVIDENDS")
    )
    assert len(history) == BACKFILL_GETS
    assert len(calls) == BUDGET
    # Each run had several requests in flight (before, the corporate actions and the backfill
    # sent one at a time whatever API_MAX_IN_FLIGHT said).
    assert [in_flight_at_once(group) > 1 for group in (refresh, actions, history)] == [True] * 3
