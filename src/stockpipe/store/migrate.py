"""Versioned schema migrations: numbered .sql files, applied once each, in order.

Every process applies pending migrations at start-up, so two may try at the same moment: a
session-level advisory lock makes the second wait and then find nothing to do. Each migration
runs in its own transaction together with its bookkeeping row, so a failed one leaves no trace.

Work too long for one transaction on a big table runs after the migrations, in resumable steps
that look at the catalog to see what is done: the conversion of a stock_data_intraday that
holds rows into monthly partitions (stockpipe.store.partitions), then indexes built
concurrently (stockpipe.store.late_indexes). A lock not granted within seconds postpones
them to the next start; nothing waits behind a long query.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from stockpipe.store.errors import MigrationError
from stockpipe.store.late_indexes import ensure_late_indexes
from stockpipe.store.partitions import ensure_months, finish_conversion, months_ahead

logger = logging.getLogger(__name__)

MIGRATIONS_TABLE = "stockpipe_schema_migrations"
# Any constant works as long as every release uses the same one; this spells "stockpip".
ADVISORY_LOCK_KEY = 0x73746F636B706970
LATE_INDEX_LOCK_KEY = ADVISORY_LOCK_KEY + 1
PARTITIONED_INTRADAY = "0019"  # its table conversion finishes after the SQL (partitions.py)
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

MIGRATIONS_TABLE_DDL = f"""CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    version TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);"""


@dataclass(frozen=True)
class Migration:
    version: str  # "0001"
    name: str  # "create_stock_data"
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """The migrations this release ships, in version order."""
    found = []
    for entry in resources.files("stockpipe.store.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(match[1], match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return found


def migrate(
    conn_or_conninfo: psycopg.Connection[Any] | str, target: str | None = None
) -> list[str]:
    """Apply pending migrations (up to `target`, default all); return the versions applied now."""
    if isinstance(conn_or_conninfo, str):
        with psycopg.connect(conn_or_conninfo, autocommit=True) as conn:
            return _migrate(conn, target)
    conn = conn_or_conninfo
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise MigrationError("migrate() needs a connection outside any transaction")
    was_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        return _migrate(conn, target)
    finally:
        conn.autocommit = was_autocommit


def applied_versions(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """version -> checksum of every migration recorded on this database (empty if none)."""
    exists = conn.execute("SELECT to_regclass(%s)", [MIGRATIONS_TABLE]).fetchone()
    if exists is None or exists[0] is None:
        return {}
    rows = conn.execute(
        sql.SQL("SELECT version, checksum FROM {}").format(sql.Identifier(MIGRATIONS_TABLE))
    ).fetchall()
    return {str(version): str(checksum) for version, checksum in rows}


def _migrate(conn: psycopg.Connection[Any], target: str | None) -> list[str]:
    migrations = [m for m in available_migrations() if target is None or m.version <= target]
    conn.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
    try:
        conn.execute(MIGRATIONS_TABLE_DDL)
        applied = applied_versions(conn)
        _check_unchanged(migrations, applied)
        done = []
        for migration in migrations:
            if migration.version in applied:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    sql.SQL("INSERT INTO {} (version, name, checksum) VALUES (%s, %s, %s)").format(
                        sql.Identifier(MIGRATIONS_TABLE)
                    ),
                    [migration.version, migration.name, migration.checksum],
                )
            logger.info("applied migration %s_%s", migration.version, migration.name)
            done.append(migration.version)
        if PARTITIONED_INTRADAY in applied or PARTITIONED_INTRADAY in done:
            # Outside any migration's transaction: a table with rows converts in short steps.
            try:
                finish_conversion(conn)
                ensure_months(conn, months_ahead(datetime.now(UTC)))
            except psycopg.errors.LockNotAvailable as exc:
                # Every step is resumable and the unconverted table works meanwhile: the next
                # start goes on from here rather than this one waiting behind a long query.
                logger.warning("intraday partitioning postponed (%s); the next start resumes", exc)
        newer = sorted(set(applied) - {m.version for m in available_migrations()})
        if newer:
            logger.warning("database has migrations newer than this release: %s", newer)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    if target is None or target >= PARTITIONED_INTRADAY:
        _late_indexes(conn)
    return done


def _late_indexes(conn: psycopg.Connection[Any]) -> None:
    # After the migration lock is released: CREATE INDEX CONCURRENTLY waits for every other
    # session's snapshot, and one waiting for the migration lock would never let it go. One
    # process builds (a try-lock: the others go on without waiting).
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", [LATE_INDEX_LOCK_KEY]).fetchone()
    if not (row and row[0]):
        return
    try:
        ensure_late_indexes(conn)
    except psycopg.errors.LockNotAvailable as exc:
        logger.warning("index build postponed (%s); the next start resumes", exc)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [LATE_INDEX_LOCK_KEY])


def _check_unchanged(migrations: list[Migration], applied: dict[str, str]) -> None:
    # Editing a migration that already ran somewhere would leave databases that claim the
    # same version but hold different schemas: refuse loudly instead.
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"migration {migration.version}_{migration.name}.sql was changed after it was "
                f"applied to this database (checksum {recorded[:12]} on the server, "
                f"{migration.checksum[:12]} in this release); add a new migration instead"
            )
