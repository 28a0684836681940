"""init_db.sql at the repository root stays equal to what the migrations build."""

from __future__ import annotations

from pathlib import Path

import psycopg

from stockpipe import processes
from stockpipe.store import migrate
from stockpipe.store.dump_schema import render_init_sql
from stockpipe.store.embedded import bin_path
from stockpipe.store.migrate import MIGRATIONS_TABLE
from tests.fixtures.postgres import create_database, drop_database

INIT_DB_SQL = Path(__file__).resolve().parents[2] / "init_db.sql"


def schema_dump(conninfo: str) -> str:
    done = processes.run(
        [str(bin_path("pg_dump")), "--schema-only", "--no-owner", "--dbname", conninfo],
        capture_output=True,
        text=True,
        timeout=120,
    )
    done.check_returncode()
    output = done.stdout
    # PostgreSQL 18's pg_dump fences its output with a random \restrict key.
    return "\n".join(line for line in output.splitlines() if not line.startswith("\\"))


def bookkeeping(conninfo: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(conninfo) as conn:
        query = f"SELECT version, name, checksum FROM {MIGRATIONS_TABLE} ORDER BY version"
        return [(str(v), str(n), str(c)) for v, n, c in conn.execute(query.encode()).fetchall()]


def test_init_db_sql_is_regenerated_from_the_current_migrations() -> None:
    assert INIT_DB_SQL.read_text() == render_init_sql(), (
        "init_db.sql is stale: run `make init-db-sql`"
    )


def test_a_database_built_from_init_db_sql_equals_a_migrated_one(
    pg_server: str, empty_database: str
) -> None:
    from_script = create_database(pg_server, "initsql")
    try:
        with psycopg.connect(from_script, autocommit=True) as conn:
            conn.execute(INIT_DB_SQL.read_bytes())
        migrate(empty_database)
        # Nothing to apply; the start-up still creates the intraday partitions ahead of need
        # (runtime objects, stockpipe.store.partitions), as it does on a migrated database.
        assert migrate(from_script) == []
        dump = schema_dump(from_script)
        assert "CREATE TABLE public.stock_data" in dump
        assert dump == schema_dump(empty_database)
        assert bookkeeping(from_script) == bookkeeping(empty_database)
    finally:
        drop_database(pg_server, from_script)
