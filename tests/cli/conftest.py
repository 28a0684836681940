"""The CLI tests' environment: this run's database and a fake Alpha Vantage, nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.cli.cli_env import HISTORY, point_stockpipe_at


@pytest.fixture
def fake(
    db: Database, pg_conninfo: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FakeAlphaVantage]:
    # No end date: the fake serves up to the real latest completed session, as the CLI expects.
    with FakeAlphaVantage(history_length=HISTORY) as server:
        point_stockpipe_at(monkeypatch, tmp_path, pg_conninfo, server)
        yield server
