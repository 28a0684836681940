"""Environments for loading stockpipe's Dagster definitions in tests."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from stockpipe.defs import build_definitions
from stockpipe.defs.schedules import full_range_tags
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage

PLACEHOLDER_KEY = "placeholder-api-key-7c1e"
PLACEHOLDER_PASSWORD = "placeholder-pw-93ab"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The suite's isolation (tests/fixtures/environment.py) plus a data dir of this test's."""
    monkeypatch.setenv("STOCKPIPE_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


@pytest.fixture
def placeholder_env(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """What a deployment sets, with values no server will ever accept."""
    clean_env.setenv("API_KEY", PLACEHOLDER_KEY)
    clean_env.setenv("STOCK_SYMBOLS", "IBM,MSFT,AAPL")
    clean_env.setenv("DAG_SCHEDULE_CRON", "30 5 * * 1-5")
    clean_env.setenv("POSTGRES_HOST", "db.invalid")
    clean_env.setenv("POSTGRES_USER", "stockpipe")
    clean_env.setenv("POSTGRES_PASSWORD", PLACEHOLDER_PASSWORD)
    clean_env.setenv("POSTGRES_DB", "stockpipe")
    return clean_env


def load_definitions() -> dg.Definitions:
    return build_definitions(Settings.load())


@pytest.fixture
def pipeline_env(
    clean_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage, pg_conninfo: str, db: Database
) -> pytest.MonkeyPatch:
    """Fake API, this run's database (emptied), compact answers, no pacing."""
    clean_env.setenv("API_KEY", fake_av_env.api_key)
    clean_env.setenv("ALPHAVANTAGE_BASE_URL", fake_av_env.url)
    clean_env.setenv("DATABASE_URL", pg_conninfo)
    clean_env.setenv("API_OUTPUT_SIZE", "compact")
    clean_env.setenv("API_POLITE_DELAY_SEC", "0")
    clean_env.setenv("API_CALLS_PER_MINUTE", "1000")
    clean_env.setenv("API_MAX_IN_FLIGHT", "1")  # one request at a time: a pinned call order
    clean_env.setenv("API_DAILY_BUDGET", "100")
    return clean_env


def run_stock_job(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """One run over every configured symbol, as the schedule launches it."""
    defs = load_definitions()
    job = defs.resolve_job_def("stock_job")
    assert job.partitions_def is not None
    return job.execute_in_process(
        instance=instance,
        tags=full_range_tags(job.partitions_def),  # type: ignore[arg-type]
        raise_on_error=False,
    )
