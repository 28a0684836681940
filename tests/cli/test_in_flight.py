"""Many requests in flight (issue 18), as processes: `stockpipe ingest` with API_MAX_IN_FLIGHT
workers. The fake Alpha Vantage's log is the witness: two processes on one key never exceed
the budget or the per-minute cap; a throttle notice mid-run slows everyone and costs no symbol;
a SIGKILL with requests in flight loses nothing and the next run completes without refetching.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.cli.cli_env import HISTORY

STOCKPIPE = str(Path(sys.executable).with_name("stockpipe"))


def ingest(symbols: list[str], **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [STOCKPIPE, "ingest", "--symbols", ",".join(symbols)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def ledger_rows(db: Database) -> int:
    return int(db.run(lambda c: c.execute("SELECT count(*) FROM api_call_ledger").fetchone()[0]))


def rows_by_symbol(db: Database) -> dict[str, int]:
    query = "SELECT symbol, count(*) FROM stock_data GROUP BY symbol"
    return dict(db.run(lambda c: c.execute(query).fetchall()))


def loaded_in_state(db: Database) -> set[str]:
    query = "SELECT symbol FROM symbol_state WHERE last_status = 'loaded'"
    return {row[0] for row in db.run(lambda c: c.execute(query).fetchall())}


def test_two_processes_in_flight_never_exceed_the_budget_or_the_minute(
    fake: FakeAlphaVantage, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 a minute and a budget of 22, two processes of 4 workers each and 24 symbols: the
    23rd call would be the budget's, the 21st inside a minute the cap's (the fake answers it
    with the real notice). A minute and a bit."""
    per_minute, budget = 20, 22
    fake.set_limits(per_minute=per_minute)  # the real notice past the cap
    fake.set_delay(0.3)
    env = {
        "API_CALLS_PER_MINUTE": str(per_minute),
        "API_DAILY_BUDGET": str(budget),
        "API_MAX_IN_FLIGHT": "4",
    }
    runs = [
        ingest([f"A{n}" for n in range(12)], **env),
        ingest([f"B{n}" for n in range(12)], **env),
    ]
    outputs = [run.communicate(timeout=300)[0].decode(errors="replace") for run in runs]

    assert all(run.returncode in (0, 1) for run in runs), "\n".join(outputs)
    calls = fake.calls()
    assert [c.outcome for c in calls] == ["data"] * budget  # no notice, not one call more
    assert ledger_rows(db) == budget
    assert len(rows_by_symbol(db)) == budget
    times = sorted(c.time for c in calls)
    busiest = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    assert busiest <= per_minute
    assert {c.symbol[0] for c in calls} == {"A", "B"}  # both processes got calls


def test_a_throttle_mid_run_slows_every_worker_and_loses_no_symbol(
    fake: FakeAlphaVantage, db: Database
) -> None:
    """Before: a symbol throttled past the client's retries deferred the rest of the run."""
    symbols = [f"T{n}" for n in range(12)]
    fake.set_delay(0.1)
    fake.inject(Fault.RATE_LIMIT_MINUTE, on_call=3, times=1)
    fake.inject(Fault.RATE_LIMIT_MINUTE, symbol="T5", times=3)  # outlives API_MAX_RETRIES=1

    run = ingest(symbols, API_MAX_IN_FLIGHT="4")
    output = run.communicate(timeout=300)[0].decode(errors="replace")

    assert run.returncode == 0, output
    assert rows_by_symbol(db) == dict.fromkeys(symbols, HISTORY)
    throttled = [c for c in fake.calls() if c.outcome == Fault.RATE_LIMIT_MINUTE.value]
    assert len(throttled) == 4
    slow = db.run(
        lambda c: c.execute("SELECT slow_spacing_sec, slow_until FROM api_key_state").fetchone()
    )
    assert slow[0] >= 1.0 and slow[1] is not None  # the key was slowed down for everyone
    assert ledger_rows(db) == len(fake.calls())


@pytest.mark.parametrize(
    ("count", "delay", "kill_after", "per_minute"),
    [
        pytest.param(30, 0.5, 10, "1000", id="replies-slower-than-storing"),
        # Instant replies, no pacing to speak of: the fetches outrun the storing thread, which
        # stores the waiting symbols several to a transaction (stockpipe.ingest.store_batch).
        pytest.param(150, 0.0, 40, "100000", id="storing-behind-the-fetches"),
    ],
)
def test_sigkill_with_requests_in_flight_loses_nothing_and_the_rerun_completes(
    fake: FakeAlphaVantage,
    db: Database,
    count: int,
    delay: float,
    kill_after: int,
    per_minute: str,
) -> None:
    symbols = [f"K{n:03d}" for n in range(count)]
    env = {
        "API_MAX_IN_FLIGHT": "4",
        "API_DAILY_BUDGET": "none",
        "API_CALLS_PER_MINUTE": per_minute,
    }
    fake.set_delay(delay)
    run = ingest(symbols, **env)
    assert fake.wait_for_calls(kill_after, timeout=120), run.communicate(timeout=5)[0]
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)

    sent = len(fake.calls())
    assert ledger_rows(db) >= sent  # every call sent was reserved first: never under-counted
    stored = rows_by_symbol(db)
    assert set(stored.values()) <= {HISTORY}  # a symbol is stored whole or not at all
    assert stored  # some symbols were stored before the kill
    # Bars and their state commit together (several symbols a transaction when storing falls
    # behind): no symbol is stored without its state saying so, nor the other way round.
    assert loaded_in_state(db) == set(stored)

    fake.set_delay(0.0)
    rerun = ingest(symbols, **env)
    output = rerun.communicate(timeout=300)[0].decode(errors="replace")

    assert rerun.returncode == 0, output
    assert rows_by_symbol(db) == dict.fromkeys(symbols, HISTORY)
    again = [c.symbol for c in fake.calls()[sent:]]
    assert sorted(again) == sorted(set(symbols) - set(stored))  # nothing stored refetched
