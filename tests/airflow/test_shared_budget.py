"""Airflow and another stockpipe deployment on one key share one budget: the PostgreSQL ledger.

The other side runs as its own process, concurrently with the Airflow run: the stockpipe CLI
(the library as any process calls it), and Dagster's stock_job from the main .venv when that
environment exists (CI builds it before this one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe import processes
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.airflow.helpers import ledger_calls, run_stock_dag, task_result
from tests.fixtures.daily_rows import stored_rows

pytestmark = pytest.mark.usefixtures("airflow_home")

BUDGET = 4
AIRFLOW_SYMBOLS = [f"A{n}" for n in range(6)]
OTHER_SYMBOLS = [f"B{n}" for n in range(6)]
_ROOT = Path(__file__).resolve().parents[2]
_DAGSTER_PYTHON = _ROOT / ".venv" / "bin" / "python"


def _dagster_available() -> bool:
    if not _DAGSTER_PYTHON.exists():
        return False
    probe = processes.run(
        [_DAGSTER_PYTHON, "-c", "import dagster, stockpipe.defs"], capture_output=True, timeout=300
    )
    return probe.returncode == 0


def _other_side(kind: str) -> list[str]:
    if kind == "cli":
        return [str(Path(sys.executable).with_name("stockpipe")), "ingest"]
    if not _dagster_available():
        pytest.skip(f"Dagster's environment {_DAGSTER_PYTHON} is missing: make install")
    return [str(_DAGSTER_PYTHON), str(Path(__file__).with_name("dagster_side.py"))]


@pytest.mark.parametrize("kind", ["cli", "dagster"], ids=["the stockpipe CLI", "Dagster"])
def test_airflow_and_another_deployment_on_one_key_spend_exactly_the_budget_together(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database, kind: str
):
    pipeline_env.setenv("API_DAILY_BUDGET", str(BUDGET))
    # Slow answers keep the other side calling while the Airflow run starts.
    fake_av.set_delay(1.0)
    pipeline_env.setenv("STOCK_SYMBOLS", ",".join(AIRFLOW_SYMBOLS))
    other_env = {**os.environ, "STOCK_SYMBOLS": ",".join(OTHER_SYMBOLS)}
    other = processes.spawn(
        _other_side(kind), env=other_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        # The other side is spending the budget: now Airflow competes for the rest of it.
        if not fake_av.wait_for_calls(1, timeout=120):
            processes.stop(other)
            pytest.fail("the other side made no call:\n" + other.communicate()[0].decode())
        try:
            run = run_stock_dag()
        finally:
            output, _ = other.communicate(timeout=300)
    finally:
        processes.stop(other)  # only if the run or the wait failed

    assert other.returncode in (0, 1, 3), output.decode(errors="replace")
    assert str(run.state) == "success"  # deferred symbols do not fail stock_dag
    assert len(fake_av.calls()) == BUDGET
    assert ledger_calls(db) == BUDGET
    loaded = [s for s in AIRFLOW_SYMBOLS + OTHER_SYMBOLS if stored_rows(db, s)]
    assert len(loaded) == BUDGET
    assert any(stored_rows(db, s) for s in OTHER_SYMBOLS)
    totals = task_result(run, "check_symbols")
    airflow_loaded = [s for s in AIRFLOW_SYMBOLS if s in loaded]
    assert totals["calls"] == len(airflow_loaded)
    assert sorted(totals["deferred"]) == sorted(set(AIRFLOW_SYMBOLS) - set(airflow_loaded))
