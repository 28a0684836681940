"""The Dagster instance of deploy/dagster.yaml survives a PostgreSQL restart: with the pools
the webserver uses (`optimize_for_webserver`), every storage's first use after the restart
works. Without the pre-ping of src/stockpipe/pool_pre_ping.py each fails once, with "server
closed the connection unexpectedly" (the e2e tier shows what that did to launches:
tests/e2e/test_postgres_restart.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from stockpipe.store.embedded import EmbeddedServer, start_throwaway_server

DEPLOY_INSTANCE = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
PASSWORD = "instance-Test-5e1d"
# What dagster-webserver passes by default (--db-statement-timeout, --db-pool-recycle,
# --db-pool-max-overflow): one pooled connection per storage, kept for up to an hour.
WEBSERVER_POOLS = (15000, 3600, 20)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of this test alone: restarting the suite's shared one would cut other tests."""
    server = start_throwaway_server(tmp_path / "postgres", password=PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def webserver_instance(
    own_server: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_INSTANCE, home / "dagster.yaml")
    for name, value in {
        "POSTGRES_HOST": own_server.host,
        "POSTGRES_PORT": str(own_server.port),
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": PASSWORD,
        "POSTGRES_DB": "postgres",
    }.items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.from_config(str(home))
    instance.optimize_for_webserver(*WEBSERVER_POOLS)
    yield instance
    instance.dispose()


def use_every_storage(instance: dg.DagsterInstance) -> None:
    instance.get_runs_count()  # run storage
    instance.get_latest_materialization_events([dg.AssetKey("stock_data")])  # event log
    instance.all_instigator_state()  # schedule storage


def test_every_storage_works_at_once_after_a_postgres_restart(
    own_server: EmbeddedServer, webserver_instance: dg.DagsterInstance
) -> None:
    use_every_storage(webserver_instance)  # each pool now holds an open connection

    own_server.restart()

    use_every_storage(webserver_instance)
