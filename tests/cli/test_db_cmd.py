"""`stockpipe db ...`: migrate, info and psql against the test run's PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe import processes
from stockpipe.cli import main
from stockpipe.store.migrate import available_migrations

# The console script of this environment: `db psql` replaces its process with psql.
STOCKPIPE = str(Path(sys.executable).parent / "stockpipe")


@pytest.fixture
def db_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_database: str
) -> Iterator[dict[str, str]]:
    """Only DATABASE_URL names the database (the suite's isolation keeps the rest out)."""
    monkeypatch.setenv("DATABASE_URL", empty_database)
    monkeypatch.setenv("STOCKPIPE_DATA_DIR", str(tmp_path / "data"))
    yield dict(os.environ)


def test_migrate_applies_every_migration_once_then_nothing(db_env: dict[str, str]) -> None:
    first = CliRunner().invoke(main, ["db", "migrate"])
    assert first.exit_code == 0, first.output
    versions = [m.version for m in available_migrations()]
    assert all(version in first.output for version in versions)

    again = CliRunner().invoke(main, ["db", "migrate"])
    assert again.exit_code == 0, again.output
    assert "none" in again.output.lower()


def test_info_names_the_database_but_never_the_password(
    db_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    params = conninfo_to_dict(db_env["DATABASE_URL"])
    params["password"] = "pw-never-printed-4411"
    monkeypatch.setenv("DATABASE_URL", make_conninfo(**{k: str(v) for k, v in params.items()}))
    result = CliRunner().invoke(main, ["db", "info"])
    assert result.exit_code == 0, result.output
    assert str(params["dbname"]) in result.output
    assert "pw-never-printed-4411" not in result.output


def test_psql_passes_its_arguments_to_psql(db_env: dict[str, str]) -> None:
    processes.run([STOCKPIPE, "db", "migrate"], env=db_env, timeout=120).check_returncode()
    result = processes.run(
        [STOCKPIPE, "db", "psql", "-Atc", "SELECT count(*) FROM stock_data"],
        env=db_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
