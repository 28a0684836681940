"""Issue 17, "corporate actions spend the day's budget before the bars", through Dagster:
stock_job, corporate_actions_job and backfill_job started together against one database on a
small budget (as the daemon launches the missed ticks of every schedule after downtime), in
the worst order (the backfill first, the bars last). The call gate's priority classes hand the
budget out in one order whatever the start order: the bars, then the corporate actions, then
the backfill."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.fixtures.daily_rows import stored_rows

SYMBOLS = [f"S{n}" for n in range(6)]
BUDGET = 10
RUNNER = Path(__file__).with_name("job_process.py")


def test_started_together_the_bars_get_their_calls_then_the_actions_then_the_backfill(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage, db: Database
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", ",".join(SYMBOLS))
    pipeline_env.setenv("STOCK_SERIES", "daily")
    pipeline_env.setenv("API_DAILY_BUDGET", str(BUDGET))
    fake_av_env.set_delay(0.3)  # replies take a while, so the three runs overlap
    runs = [
        subprocess.Popen(
            [sys.executable, str(RUNNER), job],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for job in ("backfill_job", "corporate_actions_job", "stock_job")
    ]
    outputs = [run.communicate(timeout=600)[0].decode(errors="replace") for run in runs]

    assert all(run.returncode == 0 for run in runs), "\n".join(outputs)
    calls = fake_av_env.calls()
    bars = [c.symbol for c in calls if c.function == "TIME_SERIES_DAILY"]
    actions = [c for c in calls if c.function in ("SPLITS", "DIVIDENDS")]
    # Every symbol's bars, one call each; the corporate actions get what is left; the backfill
    # (its reserve: the refreshes' 6 and the actions' 12) gets nothing today.
    assert sorted(bars) == SYMBOLS
    assert all(stored_rows(db, symbol) for symbol in SYMBOLS)
    assert len(actions) == BUDGET - len(SYMBOLS)
    assert len(calls) == BUDGET
    assert all(c.outcome == "data" for c in calls)
