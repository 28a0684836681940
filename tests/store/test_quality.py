"""stockpipe.store.quality on a real table: each check passes on good rows, names bad ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from stockpipe.store import Database
from stockpipe.store.quality import (
    check_freshness,
    check_no_duplicate_keys,
    check_ohlc_sanity,
    run_quality_checks,
)

# Midnight US/Eastern of each trading date, as the parser stores daily bars.
FRI = datetime(2024, 5, 3, 4, tzinfo=UTC)
THU = datetime(2024, 5, 2, 4, tzinfo=UTC)
INSERT = (
    "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


@contextmanager
def rolled_back(db: Database) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose work (schema changes included) is undone at the end."""
    with db.pool.connection() as conn:
        try:
            yield conn
        finally:
            conn.rollback()


def insert(conn: psycopg.Connection[Any], *rows: tuple[Any, ...]) -> None:
    conn.cursor().executemany(INSERT, rows)


def test_consistent_bars_pass_every_check(db: Database):
    def work(conn: psycopg.Connection[Any]) -> Any:
        insert(conn, ("IBM", THU, 10, 12, 9, 11, 100), ("IBM", FRI, 11, 11, 11, 11, 0))
        return run_quality_checks(conn, ["IBM"], now=datetime(2024, 5, 4, 12, tzinfo=UTC))

    results = db.run(work)

    assert [(r.name, r.passed, r.problem_count) for r in results] == [
        ("ohlc_sanity", True, 0),
        ("no_duplicate_keys", True, 0),
        ("freshness", True, 0),
    ]
    assert results[0].summary == "0 of 2 rows have inconsistent prices"


@pytest.mark.parametrize(
    ("bar", "reason"),
    [
        pytest.param((10, 9, 9.5, 10, 1), "high < low, high below open/close", id="high under low"),
        pytest.param((10, 12, 10.5, 11, 1), "low above open/close", id="low above the open"),
        pytest.param((-1, 12, -2, 11, 1), "negative value", id="a negative price"),
        pytest.param((10, 12, 9, 11, -5), "negative value", id="a negative volume"),
    ],
)
def test_an_inconsistent_bar_fails_ohlc_sanity_with_its_reason(
    db: Database, bar: tuple[float, ...], reason: str
):
    with rolled_back(db) as conn:
        # The parser never writes such rows and the volume CHECK forbids one: lift it here,
        # inside this transaction only, to see the check catch what slips past both.
        conn.execute("ALTER TABLE stock_data DROP CONSTRAINT stock_data_volume_not_negative")
        insert(conn, ("IBM", THU, 10, 12, 9, 11, 100), ("IBM", FRI, *bar))
        result = check_ohlc_sanity(conn, ["IBM"])

    assert (result.passed, result.problem_count, result.checked) == (False, 1, 2)
    assert result.examples == (f"IBM 2024-05-03: {reason}",)


def test_a_repeated_key_fails_no_duplicate_keys(db: Database):
    with rolled_back(db) as conn:
        conn.execute("ALTER TABLE stock_data DROP CONSTRAINT stock_data_symbol_ts_key")
        insert(conn, *[("IBM", FRI, 10, 12, 9, 11, 100)] * 3, ("MSFT", FRI, 10, 12, 9, 11, 1))
        result = check_no_duplicate_keys(conn, ["IBM", "MSFT"])

    assert (result.passed, result.problem_count, result.checked) == (False, 1, 4)
    assert result.examples == ("IBM 2024-05-03T04:00:00+00:00: 3 copies",)


def test_a_stale_symbol_fails_freshness_unless_it_is_deferred(db: Database):
    def work(conn: psycopg.Connection[Any]) -> Any:
        insert(conn, ("IBM", FRI, 10, 12, 9, 11, 1), ("MSFT", THU, 10, 12, 9, 11, 1))
        conn.execute(
            "INSERT INTO symbol_state (symbol, last_status, last_attempt_at, deferred)"
            " VALUES ('AAPL', 'deferred', now(), TRUE)"
        )
        return check_freshness(conn, ["IBM", "MSFT", "AAPL", "NVDA"], date(2024, 5, 3))

    result = db.run(work)

    assert (result.passed, result.problem_count, result.checked) == (False, 2, 4)
    assert result.examples == ("MSFT: latest bar 2024-05-02", "NVDA: latest bar none")
    assert result.summary == (
        "1 of 4 symbols hold the session of 2024-05-03; deferred (quota): AAPL; stale: MSFT, NVDA"
    )


def test_a_valid_unique_index_on_the_key_spares_grouping_every_key(db: Database):
    from stockpipe.series import DAILY_TABLE, INTRADAY_TABLE, WEEKLY_TABLE
    from stockpipe.store.quality import _unique_index_holds

    with rolled_back(db) as conn:
        for table in (DAILY_TABLE, WEEKLY_TABLE, INTRADAY_TABLE):  # intraday is partitioned
            assert _unique_index_holds(conn, table.name, table.key), table.name
        conn.execute("ALTER TABLE stock_data DROP CONSTRAINT stock_data_symbol_ts_key")
        assert not _unique_index_holds(conn, DAILY_TABLE.name, DAILY_TABLE.key)


def test_a_bad_bar_among_many_symbols_is_read_from_the_partial_index_even_if_a_scan_looks_cheaper(
    db: Database,
):
    from stockpipe.series import DAILY
    from stockpipe.store import quality
    from stockpipe.store.late_indexes import DAILY_INDEX

    symbols = [f"S{i:03d}" for i in range(300)]
    params = {"tz": "America/New_York", "symbols": symbols, "limit": 20, "interval": None}
    with rolled_back(db) as conn:
        insert(conn, *[(s, day, 10, 12, 9, 11, 100) for s in symbols for day in (THU, FRI)])
        conn.execute("UPDATE stock_data SET high = 8 WHERE symbol = 'S123' AND ts = %s", [THU])
        conn.execute("ANALYZE stock_data")
        # What 25 million rows did to the planner: a scan of every row looks cheaper than the
        # index holding the one bad bar (its guess for the condition is about half the table).
        conn.execute("SET LOCAL random_page_cost = 100000")
        query = b"EXPLAIN " + quality._sql(quality._OHLC_SQL, DAILY, None)
        scanned = "\n".join(r[0] for r in conn.execute(query, params).fetchall())
        with quality._index_only(conn):
            indexed = "\n".join(r[0] for r in conn.execute(query, params).fetchall())
        result = check_ohlc_sanity(conn, symbols)
        setting = conn.execute("SELECT current_setting('enable_seqscan')").fetchone()

    assert "Seq Scan on stock_data" in scanned and DAILY_INDEX not in scanned
    assert DAILY_INDEX in indexed and "Seq Scan" not in indexed
    assert (result.passed, result.problem_count, result.checked) == (False, 1, 600)
    assert result.summary == "1 of 600 rows have inconsistent prices"
    assert result.examples == ("S123 2024-05-02: high < low, high below open/close",)
    assert setting == ("on",)  # only the check's own statement went without scans


def test_the_checks_count_the_rows_they_cover_up_to_a_cap(
    db: Database, monkeypatch: pytest.MonkeyPatch
):
    from stockpipe.store import quality

    monkeypatch.setattr(quality, "COUNTED_UP_TO", 2)
    with rolled_back(db) as conn:
        insert(conn, *[(s, FRI, 10, 12, 9, 11, 100) for s in ("IBM", "MSFT", "AAPL")])
        ohlc = check_ohlc_sanity(conn, ["IBM", "MSFT", "AAPL"])
        keys = check_no_duplicate_keys(conn, ["IBM", "MSFT"])

    assert (ohlc.summary, ohlc.checked) == ("0 of more than 2 rows have inconsistent prices", 2)
    assert keys.summary == "0 (symbol, ts) keys appear more than once among 2 rows"


def test_a_failing_check_statement_keeps_its_own_error_and_leaves_scans_on(db: Database):
    from stockpipe.store import quality

    with rolled_back(db) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero), quality._index_only(conn):
            conn.execute("SELECT 1 / 0")
        setting = conn.execute("SELECT current_setting('enable_seqscan')").fetchone()

    assert setting == ("on",)
