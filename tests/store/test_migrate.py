"""Versioned migrations: applied once, in order, safely in parallel, upgrading older databases."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest

from stockpipe.store import Database, MigrationError, UpsertResult, migrate, upsert_bars
from stockpipe.store.migrate import MIGRATIONS_TABLE, available_migrations
from tests.store.bars import make_bar

ALL_VERSIONS = [m.version for m in available_migrations()]


def recorded(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(f"SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version").fetchall()
    return [str(row[0]) for row in rows]


def test_the_shipped_migrations_start_with_the_original_table() -> None:
    assert ALL_VERSIONS[:2] == ["0001", "0002"]
    assert available_migrations()[0].name == "create_stock_data"


def test_a_new_database_gets_every_migration_and_a_second_run_applies_none(
    empty_database: str,
) -> None:
    assert migrate(empty_database) == ALL_VERSIONS
    assert migrate(empty_database) == []
    assert recorded(empty_database) == ALL_VERSIONS


def test_a_database_made_by_an_older_release_is_upgraded_and_keeps_its_rows(
    empty_database: str,
) -> None:
    assert migrate(empty_database, target="0001") == ["0001"]
    with psycopg.connect(empty_database) as conn:
        conn.execute(
            "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw) VALUES"
            " ('IBM', '2024-01-02T00:00:00Z', 1.5, 2.5, 1.0, 2.0, 100, '{\"a\": 1}'),"
            " ('IBM', '2024-01-03T00:00:00Z', 2.0, 3.0, 1.5, 2.5, 200, NULL)"
        )
    assert migrate(empty_database) == ALL_VERSIONS[1:]
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute(
            "SELECT symbol, close, volume, raw, adjusted_close, ingested_at IS NOT NULL"
            " FROM stock_data ORDER BY ts"
        ).fetchall()
    assert rows == [
        ("IBM", Decimal("2.0"), 100, {"a": 1}, None, True),
        ("IBM", Decimal("2.5"), 200, None, None, True),
    ]
    with Database.from_conninfo(empty_database) as db:
        result = upsert_bars(db, [make_bar(day=0), make_bar(day=2)])
    assert result == UpsertResult(inserted=1, updated=1, unchanged=0)


def test_concurrent_migrations_apply_each_version_once(empty_database: str) -> None:
    workers = 6
    start = threading.Barrier(workers)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(empty_database, autocommit=True) as conn:
                start.wait(timeout=30)
                results.append(migrate(conn))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [[]] * (workers - 1) + [ALL_VERSIONS]
    assert recorded(empty_database) == ALL_VERSIONS


def test_an_edited_migration_that_was_already_applied_is_a_clear_error(
    empty_database: str,
) -> None:
    migrate(empty_database)
    with psycopg.connect(empty_database) as conn:
        conn.execute(f"UPDATE {MIGRATIONS_TABLE} SET checksum = 'abc' WHERE version = '0001'")
    with pytest.raises(MigrationError, match=r"0001_create_stock_data\.sql was changed after"):
        migrate(empty_database)


def test_migrate_refuses_a_connection_inside_a_transaction(empty_database: str) -> None:
    with psycopg.connect(empty_database) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(MigrationError, match="outside any transaction"):
            migrate(conn)


def test_migrate_on_a_connection_restores_its_autocommit_setting(empty_database: str) -> None:
    with psycopg.connect(empty_database) as conn:
        assert migrate(conn) == ALL_VERSIONS
        assert conn.autocommit is False
