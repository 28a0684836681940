"""Indexes built after the migrations without blocking writes (stockpipe.store.late_indexes):
the OHLC check's partial index on stock_data and on every intraday partition (new ones too),
usable by the check's own query, and rebuilt when an interrupted build left it invalid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg

from stockpipe.bars import Bar
from stockpipe.series import DAILY, INTRADAY, INTRADAY_TABLE
from stockpipe.store import Database, migrate, upsert_bars
from stockpipe.store.late_indexes import DAILY_INDEX, INTRADAY_INDEX
from stockpipe.store.quality import _OHLC_SQL, _sql

ONE = Decimal(1)


def valid(conninfo: str) -> dict[str, bool]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT c.relname, x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid"
            " WHERE c.relname LIKE '%%bad_bar_idx'"
        ).fetchall()
    return {str(name): bool(ok) for name, ok in rows}


def plan(conninfo: str, series, interval: str | None) -> str:
    params = {"tz": "America/New_York", "symbols": ["IBM"], "limit": 5, "interval": interval}
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET enable_seqscan = off")  # tiny tables: show the index applies
        rows = conn.execute(b"EXPLAIN " + _sql(_OHLC_SQL, series, interval), params).fetchall()
    return "\n".join(str(row[0]) for row in rows)


def test_the_check_reads_a_partial_index_on_every_table_and_partition(empty_database: str):
    migrate(empty_database)
    db = Database.from_conninfo(empty_database, migrate=False)
    try:  # a month long past: a partition made by the load gets the index from the parent
        start = datetime(2010, 5, 3, 14, tzinfo=UTC)
        upsert_bars(
            db,
            [Bar("IBM", "5min", start + timedelta(minutes=5 * i), ONE, ONE, ONE, ONE, 1, b"{}")
             for i in range(3)],
            table=INTRADAY_TABLE,
        )  # fmt: skip
    finally:
        db.close()

    indexes = valid(empty_database)
    assert indexes[DAILY_INDEX] and indexes[INTRADAY_INDEX]
    with psycopg.connect(empty_database) as conn:
        covered = conn.execute(
            "SELECT x.indrelid::regclass::text, x.indisvalid FROM pg_inherits i"
            " JOIN pg_index x ON x.indexrelid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [INTRADAY_INDEX],
        ).fetchall()
        parts = conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits"
            " WHERE inhparent = 'stock_data_intraday'::regclass"
        ).fetchall()
    assert sorted(covered) == sorted((name, True) for (name,) in parts)
    assert ("stock_data_intraday_2010_05", True) in covered
    assert DAILY_INDEX in plan(empty_database, DAILY, None)
    assert "bad_bar_idx" in plan(empty_database, INTRADAY, "5min")


def test_an_index_an_interrupted_build_left_invalid_is_built_again(empty_database: str):
    migrate(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        # What CREATE INDEX CONCURRENTLY leaves when stopped half-way.
        conn.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)",
            [DAILY_INDEX],
        )
    assert valid(empty_database)[DAILY_INDEX] is False

    assert migrate(empty_database) == []

    assert valid(empty_database)[DAILY_INDEX] is True
