"""Environments for loading stockpipe's Dagster definitions in tests."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from stockpipe.defs import build_definitions
from stockpipe.settings import Settings

PLACEHOLDER_KEY = "placeholder-api-key-7c1e"
PLACEHOLDER_PASSWORD = "placeholder-pw-93ab"
_STOCKPIPE_VARIABLES = (
    "API_KEY", "STOCK_SYMBOLS", "DAG_SCHEDULE_CRON", "DATABASE_URL", "ALPHAVANTAGE_BASE_URL",
    "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
    "API_POLITE_DELAY_SEC", "API_DAILY_BUDGET", "API_CALLS_PER_MINUTE", "API_OUTPUT_SIZE",
    "API_DATATYPE", "API_MAX_RETRIES", "STOCKPIPE_DATA_DIR",
)  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No stockpipe variable from the outer environment (nor a .env file) leaks in."""
    for name in _STOCKPIPE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # Settings also reads ./.env
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
