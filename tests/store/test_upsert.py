"""upsert_bars: what lands in stock_data, and what a re-load leaves alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest

from stockpipe.series import DAILY_TABLE
from stockpipe.store import (
    Database,
    UpsertResult,
    bar_count,
    first_bar_ts,
    latest_bar_ts,
    latest_bar_ts_by_symbol,
    upsert_bars,
)
from stockpipe.store.upsert import Rows, upsert_each_in
from tests.store.bars import START, make_bar, make_bars


def stored(db: Database, *columns: str) -> list[tuple[object, ...]]:
    query = f"SELECT symbol, ts, {', '.join(columns)} FROM stock_data ORDER BY symbol, ts"
    return db.run(lambda conn: conn.execute(query.encode()).fetchall())


def test_first_load_inserts_every_row(db: Database) -> None:
    result = upsert_bars(db, make_bars(("IBM", "MSFT"), days=30))
    assert result == UpsertResult(inserted=60, updated=0, unchanged=0)
    assert bar_count(db) == 60
    assert bar_count(db, "MSFT") == 30


def test_identical_reload_writes_nothing_and_keeps_row_versions(db: Database) -> None:
    bars = make_bars(("IBM", "MSFT"), days=30)
    upsert_bars(db, bars)
    before = stored(db, "xmin::text", "updated_at")
    assert upsert_bars(db, bars) == UpsertResult(inserted=0, updated=0, unchanged=60)
    assert stored(db, "xmin::text", "updated_at") == before


def test_a_changed_close_updates_exactly_that_row(db: Database) -> None:
    bars = make_bars(days=5)
    upsert_bars(db, bars)
    before = dict(((s, ts), xmin) for s, ts, xmin in stored(db, "xmin::text"))
    bars[2] = make_bar(day=2, close="123.4500")
    assert upsert_bars(db, bars) == UpsertResult(inserted=0, updated=1, unchanged=4)
    after = dict(((s, ts), xmin) for s, ts, xmin in stored(db, "xmin::text"))
    changed = [key for key in after if after[key] != before[key]]
    assert changed == [("IBM", bars[2].ts)]
    assert stored(db, "close")[2][2] == Decimal("123.4500")


def test_updated_at_moves_only_for_changed_rows_and_ingested_at_never(db: Database) -> None:
    upsert_bars(db, make_bars(days=2))
    before = stored(db, "ingested_at", "updated_at")
    upsert_bars(db, [make_bar(day=0), make_bar(day=1, volume=5)])
    after = stored(db, "ingested_at", "updated_at")
    assert after[0] == before[0]
    assert after[1][2] == before[1][2]  # ingested_at kept
    assert after[1][3] > before[1][3]  # updated_at moved


def test_new_days_after_stored_ones_are_inserted_beside_unchanged_ones(db: Database) -> None:
    upsert_bars(db, make_bars(days=5))
    result = upsert_bars(db, make_bars(days=8))
    assert result == UpsertResult(inserted=3, updated=0, unchanged=5)
    assert bar_count(db) == 8


def test_a_day_missing_in_the_middle_is_filled_by_the_merge_path(db: Database) -> None:
    bars = make_bars(days=5)
    upsert_bars(db, [b for i, b in enumerate(bars) if i != 2])
    assert upsert_bars(db, bars) == UpsertResult(inserted=1, updated=0, unchanged=4)
    assert bar_count(db) == 5


def test_duplicate_keys_in_one_batch_keep_the_last_one(db: Database) -> None:
    batch = [make_bar(day=0, close="1.0"), make_bar(day=1), make_bar(day=0, close="2.0")]
    assert upsert_bars(db, batch) == UpsertResult(inserted=2, updated=0, unchanged=0)
    assert stored(db, "close")[0][2] == Decimal("2.0")
    # Same again on existing rows (the merge path): still last wins.
    batch = [make_bar(day=0, close="3.0"), make_bar(day=0, close="4.0")]
    assert upsert_bars(db, batch) == UpsertResult(inserted=0, updated=1, unchanged=0)
    assert stored(db, "close")[0][2] == Decimal("4.0")


@pytest.mark.parametrize(
    ("given", "stored_as"),
    [
        ("165.4500", "165.4500"),
        ("0.0001", "0.0001"),
        ("123456789012.123456", "123456789012.123456"),
        ("100", "100"),
        ("1E+2", "100"),
    ],
    ids=["trailing zeros kept", "tiny", "long", "integer", "exponent"],
)
def test_decimals_keep_their_exact_digits_and_scale(
    db: Database, given: str, stored_as: str
) -> None:
    upsert_bars(db, [make_bar(close=given, adjusted_close=Decimal(given))])
    query = "SELECT close::text, adjusted_close::text FROM stock_data"
    assert db.run(lambda conn: conn.execute(query).fetchone()) == (stored_as, stored_as)


def test_time_zones_are_preserved_as_the_same_instant(db: Database) -> None:
    new_york = timezone(timedelta(hours=-5))
    moment = datetime(2024, 3, 8, 16, 0, tzinfo=new_york)
    upsert_bars(db, [make_bar(ts=moment)])
    (ts,) = db.run(lambda conn: conn.execute("SELECT ts FROM stock_data").fetchone()) or (None,)
    assert ts == moment
    assert ts.utcoffset() is not None
    assert latest_bar_ts(db, "IBM") == datetime(2024, 3, 8, 21, 0, tzinfo=UTC)


def test_raw_json_is_stored_as_jsonb(db: Database) -> None:
    upsert_bars(db, [make_bar(raw=orjson.dumps({"4. close": "100.0000", "note": "é"}))])
    raw = db.run(lambda conn: conn.execute("SELECT raw FROM stock_data").fetchone())
    assert raw == ({"4. close": "100.0000", "note": "é"},)


def test_a_changed_raw_alone_counts_as_an_update(db: Database) -> None:
    upsert_bars(db, [make_bar()])
    result = upsert_bars(db, [make_bar(raw=b'{"4. close": "100.0000", "extra": 1}')])
    assert result == UpsertResult(inserted=0, updated=1, unchanged=0)


def test_a_batch_with_a_bad_row_leaves_nothing_behind(db: Database) -> None:
    upsert_bars(db, make_bars(days=3))
    batch = [make_bar(day=1, close="5.0"), make_bar(day=10), make_bar(day=11, volume=-1)]
    with pytest.raises(Exception, match="stock_data_volume_not_negative"):
        upsert_bars(db, batch)
    assert bar_count(db) == 3
    assert stored(db, "close")[1][2] == Decimal("100.0000")


def test_bars_of_another_interval_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="daily bars; got interval '1w'"):
        upsert_bars(db, [make_bar(interval="1w")])


def test_an_empty_batch_is_a_no_op(db: Database) -> None:
    assert upsert_bars(db, []) == UpsertResult(0, 0, 0)


def test_first_and_latest_timestamps_per_symbol(db: Database) -> None:
    upsert_bars(db, make_bars(("IBM", "MSFT"), days=4))
    assert first_bar_ts(db, "IBM") == START
    assert latest_bar_ts(db, "MSFT") == START + timedelta(days=3)
    assert latest_bar_ts(db, "AAPL") is None
    assert first_bar_ts(db, "AAPL") is None
    assert latest_bar_ts_by_symbol(db, ["IBM", "AAPL"]) == {
        "IBM": START + timedelta(days=3),
        "AAPL": None,
    }


def test_several_symbols_in_one_transaction_get_each_their_own_counts(db: Database) -> None:
    """upsert_each_in (a run's storing thread, several symbols a commit): new rows of every
    symbol go in one COPY, and each group's counts are its own, whichever path its rows take."""
    upsert_bars(db, make_bars(("MSFT",), days=5))
    upsert_bars(db, [b for b in make_bars(("AAPL",), days=6) if b.ts != START + timedelta(days=3)])
    msft = make_bars(("MSFT",), days=8)
    msft[2] = make_bar("MSFT", day=2, close="123.4500")
    groups = [
        Rows(make_bars(("IBM",), days=4)),  # new: all fresh
        Rows(msft),  # three new days, one changed, four unchanged
        Rows([]),
        Rows(make_bars(("AAPL",), days=6)),  # a day missing in the middle: merged in
    ]

    counts = db.run(lambda conn: upsert_each_in(conn, groups, DAILY_TABLE, run_id=None))

    assert counts == [
        UpsertResult(inserted=4, updated=0, unchanged=0),
        UpsertResult(inserted=3, updated=1, unchanged=4),
        UpsertResult(inserted=0, updated=0, unchanged=0),
        UpsertResult(inserted=1, updated=0, unchanged=5),
    ]
    assert (bar_count(db, "IBM"), bar_count(db, "MSFT"), bar_count(db, "AAPL")) == (4, 8, 6)
    closes = {(symbol, ts): close for symbol, ts, close in stored(db, "close")}
    assert closes[("MSFT", msft[2].ts)] == Decimal("123.4500")
