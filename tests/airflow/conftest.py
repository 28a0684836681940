"""Airflow for the tests: its own home and SQLite metadata, set before airflow is imported.

These tests run in .venv-airflow (`make test-airflow`). In the main .venv airflow is not
installed: nothing here runs and the test modules skip (pytest.importorskip).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockpipe import processes
from stockpipe.airflow import API_POOL, DAGS_FOLDER
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage

AIRFLOW_INSTALLED = importlib.util.find_spec("airflow") is not None
_HOME = Path(tempfile.mkdtemp(prefix="stockpipe-airflow-test-")) if AIRFLOW_INSTALLED else None
if _HOME is not None:
    # Airflow reads its configuration when first imported: this must come first. Its own
    # metadata is SQLite (one process, tasks run in it); stockpipe's data is the test
    # PostgreSQL, through DATABASE_URL.
    os.environ.update(
        AIRFLOW_HOME=str(_HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{_HOME / 'airflow.db'}",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(_HOME / "logs"),
    )


def airflow_cli(*args: str) -> str:
    """Run the `airflow` command of this environment; its output."""
    done = processes.run(
        [sys.executable, "-m", "airflow", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def airflow_home() -> Iterator[Path]:
    """Airflow's metadata database migrated, with the one-slot pool make airflow-up creates."""
    assert _HOME is not None
    airflow_cli("db", "migrate")
    airflow_cli("pools", "set", API_POOL, "1", "Alpha Vantage calls")
    yield _HOME
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def pipeline_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fake_av: FakeAlphaVantage,
    pg_conninfo: str,
    db: Database,
) -> pytest.MonkeyPatch:
    """Settings.load() in a task sees the fake API, this run's (emptied) database, compact
    answers and no pacing; nothing of the developer's environment or .env file."""
    for name in list(os.environ):
        if name.startswith(("API_", "STOCK", "POSTGRES_", "DAG_", "DATABASE_URL", "ALPHAV")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STOCKPIPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("API_KEY", fake_av.api_key)
    monkeypatch.setenv("ALPHAVANTAGE_BASE_URL", fake_av.url)
    monkeypatch.setenv("DATABASE_URL", pg_conninfo)
    monkeypatch.setenv("API_OUTPUT_SIZE", "compact")
    monkeypatch.setenv("API_POLITE_DELAY_SEC", "0")
    monkeypatch.setenv("API_CALLS_PER_MINUTE", "1000")
    monkeypatch.setenv("API_MAX_IN_FLIGHT", "1")  # one request at a time: a pinned call order
    monkeypatch.setenv("API_DAILY_BUDGET", "100")
    return monkeypatch
