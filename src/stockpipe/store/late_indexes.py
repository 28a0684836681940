"""Indexes built after the migrations, without blocking writes (CREATE INDEX CONCURRENTLY, which
cannot run inside a migration's transaction): on a table of 25 million rows a plain CREATE
INDEX holds every write for the length of a full scan.

The one kind today: a partial index on the bars the OHLC sanity check looks for
(stockpipe.store.quality), on stock_data and stock_data_intraday. It holds only inconsistent
bars, normally none, so the check reads it instead of scanning every row (at 25 million rows a
scan took tens of seconds per run), and a load pays one predicate per row.

Idempotent and resumable: an index an interrupted build left INVALID is dropped and built
again; the partitioned table's index is created ON ONLY the parent, then built on each
partition concurrently and attached (the parent's becomes valid with the last one). New
partitions get it from the parent when they are attached (stockpipe.store.partitions).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from stockpipe.store.partitions import LOCK_TIMEOUT, PARENT, is_partitioned

logger = logging.getLogger(__name__)

# Exactly the check's condition (quality._OHLC_SQL), so the planner proves the index applies.
BAD_BAR = (
    "(high < low OR high < greatest(open, close) OR low > least(open, close)"
    " OR least(open, high, low, close) < 0 OR volume < 0)"
)
DAILY_INDEX = "stock_data_bad_bar_idx"
INTRADAY_INDEX = "stock_data_intraday_bad_bar_idx"


def _validity(conn: psycopg.Connection[Any], name: str) -> bool | None:
    """True: a valid index; False: one an interrupted build left invalid; None: none."""
    row = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
    ).fetchone()
    return None if row is None else bool(row[0])


def _build(conn: psycopg.Connection[Any], name: str, table: str, columns: str) -> None:
    if _validity(conn, name) is False:
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    if _validity(conn, name) is None:
        logger.info("building index %s (concurrently: writes go on)", name)
        conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            conn.execute(f"CREATE INDEX CONCURRENTLY {name} ON {table} ({columns}) WHERE {BAD_BAR}")
        finally:
            conn.execute("RESET lock_timeout")


def ensure_late_indexes(conn: psycopg.Connection[Any]) -> None:
    """Build what is missing; `conn` in autocommit mode (outside any transaction)."""
    _build(conn, DAILY_INDEX, "stock_data", "symbol, ts")
    if not is_partitioned(conn):
        return  # its conversion was postponed: the next start builds this one
    if _validity(conn, INTRADAY_INDEX) is None:
        conn.execute(
            f"CREATE INDEX {INTRADAY_INDEX} ON ONLY {PARENT} (symbol, interval, ts) WHERE {BAD_BAR}"
        )
    unattached = conn.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass(%s) AND NOT EXISTS ("
        "   SELECT 1 FROM pg_inherits AS ii JOIN pg_index AS x ON x.indexrelid = ii.inhrelid"
        "   WHERE ii.inhparent = to_regclass(%s) AND x.indrelid = c.oid)"
        " ORDER BY 1",
        [PARENT, INTRADAY_INDEX],
    ).fetchall()
    for (partition,) in unattached:
        name = f"{partition}_bad_bar_idx"
        _build(conn, name, partition, "symbol, interval, ts")
        conn.execute(f"ALTER INDEX {INTRADAY_INDEX} ATTACH PARTITION {name}")
