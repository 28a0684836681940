"""stock_data_intraday partitioned by New York month (migration 0019, stockpipe.store.partitions):
a new database's table, the conversion of a table that already holds rows (resumed after an
interruption at every step, postponed while a long reader holds the table), partitions made
for every load's months and ahead of need, the key and ON CONFLICT contract, and retention."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from stockpipe.bars import Bar
from stockpipe.market_calendar import new_york_date
from stockpipe.series import INTRADAY_TABLE
from stockpipe.store import Database, migrate, upsert_bars
from stockpipe.store.partitions import (
    CONVERSION_STEPS,
    LEGACY,
    add_months,
    drop_expired,
    is_partitioned,
    month_start,
    partition_name,
    partitions,
)

NOW = datetime.now(UTC)
READ_IDS = "SELECT id, symbol, ts FROM stock_data_intraday ORDER BY id"
ONE = Decimal(1)


def bars(start: datetime, count: int, symbol: str = "IBM", close: Decimal = ONE) -> list[Bar]:
    return [
        Bar(symbol, "5min", start + timedelta(minutes=5 * i), ONE, ONE, ONE, close, 1, b"{}")
        for i in range(count)
    ]


def names(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        return [name for name, _, _ in partitions(conn)]


def rows_by_partition(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        found = conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM stock_data_intraday GROUP BY 1"
        ).fetchall()
    return {str(name): int(count) for name, count in found}


def ahead() -> list[str]:
    current = month_start(new_york_date(NOW))
    return [partition_name(add_months(current, n)) for n in range(4)]


def load_old_intraday(conninfo: str) -> None:
    """A database at 0018 whose (plain) intraday table holds two symbols' rows."""
    migrate(conninfo, target="0018")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO stock_data_intraday (symbol, interval, ts, open, close, volume)"
            " SELECT s, '5min', timestamptz '2024-03-29 19:00+00' + m * interval '5 minutes', 1,"
            " 1, 1 FROM unnest(ARRAY['IBM', 'MSFT']) AS s, generate_series(0, 99) AS m"
        )


def test_a_new_database_has_monthly_partitions_ahead_and_makes_one_for_a_loaded_month(
    empty_database: str,
) -> None:
    migrate(empty_database)
    created = names(empty_database)
    assert created == ahead()  # this month and 3 ahead
    db = Database.from_conninfo(empty_database)
    try:
        # After hours on 31 May 2010 New York reach past midnight UTC: one partition, May's.
        first = upsert_bars(
            db, bars(datetime(2010, 5, 31, 23, 0, tzinfo=UTC), 12), table=INTRADAY_TABLE
        )
        again = upsert_bars(
            db, bars(datetime(2010, 5, 31, 23, 0, tzinfo=UTC), 12), table=INTRADAY_TABLE
        )
        # Older keys than the stored ones go through the merge, which counts them as inserts.
        older = upsert_bars(
            db,
            bars(datetime(2010, 5, 31, 22, 0, tzinfo=UTC), 12, close=Decimal(2)),
            table=INTRADAY_TABLE,
        )
    finally:
        db.close()
    assert (first.inserted, again.unchanged) == (12, 12)
    assert (older.inserted, older.updated, older.unchanged) == (12, 0, 0)
    assert rows_by_partition(empty_database) == {"stock_data_intraday_2010_05": 24}


def test_the_unique_key_and_on_conflict_by_its_name_keep_working(empty_database: str) -> None:
    migrate(empty_database)
    upsert = (
        "INSERT INTO stock_data_intraday (symbol, interval, ts, close) VALUES"
        " ('IBM', '5min', %s, %s) ON CONFLICT ON CONSTRAINT"
        " stock_data_intraday_symbol_interval_ts_key DO UPDATE SET close = EXCLUDED.close"
    )
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute(upsert, [NOW, 1])
        conn.execute(upsert, [NOW, 2])
        assert conn.execute("SELECT close FROM stock_data_intraday").fetchall() == [(2,)]
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO stock_data_intraday (symbol, interval, ts) VALUES ('IBM', '5min', %s)",
                [NOW],
            )


@pytest.mark.parametrize("done", range(len(CONVERSION_STEPS) + 1), ids=lambda n: f"{n} steps done")
def test_a_table_with_rows_converts_without_copying_and_resumes_after_any_step(
    empty_database: str, done: int
) -> None:
    load_old_intraday(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        ids = conn.execute(READ_IDS).fetchall()
    # Migration 0019 leaves a table with rows plain; the process stopped after `done` steps.
    _apply_0019_sql_only(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        assert not is_partitioned(conn)
        for step in CONVERSION_STEPS[:done]:
            step(conn, NOW)

    migrate(empty_database)  # the next start

    with psycopg.connect(empty_database, autocommit=True) as conn:
        assert is_partitioned(conn)
        after = conn.execute(
            "SELECT id, symbol, ts FROM stock_data_intraday ORDER BY id"
        ).fetchall()
    assert after == ids
    assert rows_by_partition(empty_database) == {LEGACY: 200}
    assert names(empty_database)[0] == LEGACY
    assert migrate(empty_database) == []  # and again: nothing left to do


def _apply_0019_sql_only(conninfo: str) -> None:
    """Migration 0019's SQL and bookkeeping, as a process killed before the conversion left
    them: migrate() itself would go on to convert."""
    from stockpipe.store.migrate import MIGRATIONS_TABLE, available_migrations

    migration = next(m for m in available_migrations() if m.version == "0019")
    with psycopg.connect(conninfo) as conn:
        conn.execute(migration.sql.encode())
        conn.execute(
            f"INSERT INTO {MIGRATIONS_TABLE} VALUES (%s, %s, %s)".encode(),
            [migration.version, migration.name, migration.checksum],
        )


def test_a_long_reader_postpones_the_conversion_to_the_next_start(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    load_old_intraday(empty_database)
    with psycopg.connect(empty_database) as reader:
        reader.execute("SELECT count(*) FROM stock_data_intraday")  # holds its lock, open
        with caplog.at_level(logging.WARNING, logger="stockpipe.store.migrate"):
            assert migrate(empty_database)[:1] == ["0019"]  # and any newer ones
        assert "intraday partitioning postponed (canceling statement due to lock timeout)" in (
            caplog.text
        )
    with psycopg.connect(empty_database, autocommit=True) as conn:
        assert not is_partitioned(conn)

    migrate(empty_database)

    with psycopg.connect(empty_database, autocommit=True) as conn:
        assert is_partitioned(conn)
    assert rows_by_partition(empty_database) == {LEGACY: 200}


def test_retention_drops_whole_months_older_than_the_setting(empty_database: str) -> None:
    migrate(empty_database)
    db = Database.from_conninfo(empty_database)
    try:
        for month in (date(2024, 6, 1), date(2024, 7, 1), date(2024, 8, 1)):
            start = datetime(month.year, month.month, 2, 14, tzinfo=UTC)
            upsert_bars(db, bars(start, 3), table=INTRADAY_TABLE)
        at = datetime(2024, 9, 15, tzinfo=UTC)
        with psycopg.connect(empty_database, autocommit=True) as conn:
            # September and the two months before it are kept.
            assert drop_expired(conn, 2, now=at) == ["stock_data_intraday_2024_06"]
            assert drop_expired(conn, 2, now=at) == []
    finally:
        db.close()
    assert rows_by_partition(empty_database) == {
        "stock_data_intraday_2024_07": 3,
        "stock_data_intraday_2024_08": 3,
    }


def test_retention_drops_the_legacy_partition_once_all_of_it_is_old(empty_database: str) -> None:
    load_old_intraday(empty_database)
    migrate(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        bound = partitions(conn)[0][2]
        assert bound is not None
        assert LEGACY in drop_expired(conn, 1, now=bound + timedelta(days=70))
    assert rows_by_partition(empty_database) == {}
