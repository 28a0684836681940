"""Environment for running `stockpipe ingest` / `status` in-process: test database, fake API."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpipe.testing import FakeAlphaVantage

HISTORY = 150  # bars the fake serves per symbol
SECRET_KEY = "sk-cli-test-secret-7731"


def point_stockpipe_at(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, conninfo: str, fake: FakeAlphaVantage
) -> None:
    """Only these variables count (the suite's autouse isolation keeps the rest out)."""
    for name, value in {
        "DATABASE_URL": conninfo,
        "ALPHAVANTAGE_BASE_URL": fake.url,
        "API_KEY": SECRET_KEY,
        "API_POLITE_DELAY_SEC": "0",
        "API_CALLS_PER_MINUTE": "1000",
        "API_MAX_IN_FLIGHT": "1",  # the order of calls is pinned below
        "API_MAX_RETRIES": "1",
        "STOCK_SYMBOLS": "IBM,MSFT",
        "STOCKPIPE_DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(name, value)
