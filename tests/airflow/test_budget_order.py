"""Issue 17, "corporate actions spend the day's budget before the bars", through Airflow:
stock_dag, corporate_actions_dag and backfill_dag started together against one database on a
small budget (Airflow's first start runs each DAG's latest missed tick at once), in the worst
order (the backfill first, the bars last). The call gate's priority classes hand the budget out
in one order whatever the start order: the bars, then the corporate actions, then the
backfill."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.fixtures.daily_rows import stored_rows

pytestmark = pytest.mark.usefixtures("airflow_home")
SYMBOLS = [f"S{n}" for n in range(6)]
BUDGET = 10
RUNNER = Path(__file__).with_name("dag_process.py")


def test_started_together_the_bars_get_their_calls_then_the_actions_then_the_backfill(
    pipeline_env: pytest.MonkeyPatch,
    fake_av: FakeAlphaVantage,
    db: Database,
    airflow_home: Path,
    tmp_path: Path,
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", ",".join(SYMBOLS))
    pipeline_env.setenv("STOCK_SERIES", "daily")
    pipeline_env.setenv("API_DAILY_BUDGET", str(BUDGET))
    fake_av.set_delay(0.3)  # replies take a while, so the three runs overlap
    runs = []
    for dag_id in ("backfill_dag", "corporate_actions_dag", "stock_dag"):
        home = tmp_path / dag_id
        home.mkdir()
        shutil.copy(airflow_home / "airflow.db", home / "airflow.db")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        }
        runs.append(
            subprocess.Popen(
                [sys.executable, str(RUNNER), dag_id],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        )
    outputs = [run.communicate(timeout=600)[0].decode(errors="replace") for run in runs]

    assert all(run.returncode == 0 for run in runs), "\n".join(outputs)
    assert all("state: success" in output for output in outputs), "\n".join(outputs)
    calls = fake_av.calls()
    bars = [c.symbol for c in calls if c.function == "TIME_SERIES_DAILY"]
    actions = [c for c in calls if c.function in ("SPLITS", "DIVIDENDS")]
    # Every symbol's bars, one call each; the corporate actions get what is left; the backfill
    # (its reserve: the refreshes' 6 and the actions' 12) gets nothing today.
    assert sorted(bars) == SYMBOLS
    assert all(stored_rows(db, symbol) for symbol in SYMBOLS)
    assert len(actions) == BUDGET - len(SYMBOLS)
    assert len(calls) == BUDGET
