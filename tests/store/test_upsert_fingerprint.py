"""Row fingerprints: unchanged bars are recognised without being sent, and never wrongly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockpipe.bars import Bar
from stockpipe.store import Database, UpsertResult, migrate, upsert_bars
from stockpipe.store.fingerprint import bar_fingerprint
from stockpipe.store.upsert import _copy, upsert_bars_in
from tests.store.bars import START, make_bar, make_bars

ROWS = "SELECT symbol, ts, xmin::text, updated_at, close::text FROM stock_data ORDER BY ts"
STAGE = "pg_temp.stockpipe_stage"


def upsert_counting_rows_sent(db: Database, bars: list[Bar]) -> tuple[UpsertResult, int]:
    """The upsert's result, and how many bars it sent to the merge (staged, in its transaction).

    Bars newer than the stored ones are COPYed straight in instead: the result counts those.
    """

    def work(conn: psycopg.Connection[Any]) -> tuple[UpsertResult, int]:
        result = upsert_bars_in(conn, bars)
        exists = conn.execute("SELECT to_regclass(%s)", [STAGE]).fetchone()
        if exists is None or exists[0] is None:
            return result, 0  # never created on this connection: nothing was ever staged
        staged = conn.execute(f"SELECT count(*) FROM {STAGE}".encode()).fetchone()
        return result, int(staged[0]) if staged else -1

    return db.run(work)


def rows(db: Database) -> list[tuple[object, ...]]:
    return db.run(lambda conn: conn.execute(ROWS).fetchall())


def test_an_unchanged_reload_sends_no_row_and_counts_every_bar_unchanged(db: Database) -> None:
    bars = make_bars(("IBM", "MSFT"), days=30)
    upsert_bars(db, bars)
    before = rows(db)
    assert upsert_counting_rows_sent(db, bars) == (UpsertResult(0, 0, 60), 0)
    assert rows(db) == before


def test_one_changed_bar_is_the_only_row_sent(db: Database) -> None:
    bars = make_bars(("IBM", "MSFT"), days=10)
    upsert_bars(db, bars)
    bars[14] = make_bar("MSFT", day=4, close="1.2345")
    assert upsert_counting_rows_sent(db, bars) == (UpsertResult(0, 1, 19), 1)
    assert [row[4] for row in rows(db) if row[0] == "MSFT"][4] == "1.2345"


def test_new_days_go_straight_in_while_the_unchanged_ones_are_not_sent(db: Database) -> None:
    upsert_bars(db, make_bars(days=10))
    assert upsert_counting_rows_sent(db, make_bars(days=12)) == (UpsertResult(2, 0, 10), 0)
    assert len(rows(db)) == 12


def test_a_row_edited_behind_the_loaders_back_gets_the_api_values_again(db: Database) -> None:
    # The fingerprint is generated from the stored values, so a manual edit changes it too.
    bars = make_bars(days=5)
    upsert_bars(db, bars)
    db.run(lambda conn: conn.execute("UPDATE stock_data SET close = 1 WHERE volume = 1002"))
    assert upsert_bars(db, bars) == UpsertResult(inserted=0, updated=1, unchanged=4)
    assert [row[4] for row in rows(db)] == ["100.0000"] * 5


def test_rows_loaded_before_the_fingerprint_existed_are_recognised_unchanged(
    empty_database: str,
) -> None:
    migrate(empty_database, target="0004")
    bars = make_bars(days=20)
    with psycopg.connect(empty_database) as conn, conn.transaction():
        _copy(conn, "stock_data", bars)  # what an older release wrote
    migrate(empty_database)
    with Database.from_conninfo(empty_database, migrate=False) as db:
        before = rows(db)
        assert upsert_counting_rows_sent(db, bars) == (UpsertResult(0, 0, 20), 0)
        assert rows(db) == before
        bars[7] = make_bar(day=7, volume=5)
        assert upsert_counting_rows_sent(db, bars) == (UpsertResult(0, 1, 19), 1)


def test_a_bar_whose_fingerprint_cannot_be_predicted_still_merges_exactly(db: Database) -> None:
    bars = [make_bar(day=0), make_bar(day=1, adjusted_close=Decimal("NaN"))]
    assert bar_fingerprint(bars[1]) is None
    upsert_bars(db, bars)
    assert upsert_counting_rows_sent(db, bars) == (UpsertResult(0, 0, 2), 1)


def test_a_skipped_reload_keeps_every_decimal_scale(db: Database) -> None:
    bars = [make_bar(day=d, close=c) for d, c in enumerate(["100.0000", "0.0001", "100", "1E+2"])]
    upsert_bars(db, bars)
    assert upsert_counting_rows_sent(db, bars) == (UpsertResult(0, 0, 4), 0)
    assert [row[4] for row in rows(db)] == ["100.0000", "0.0001", "100", "100"]


# --- Python's fingerprint equals the column PostgreSQL generates, on random values --------

decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
    st.integers(0, 1),
    st.integers(0, 10**20),
    st.integers(-12, 12),
)
optional_decimals = st.none() | decimals
texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | decimals | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def to_json(value: Any, ascii_only: bool) -> str:
    """JSON text with numbers written as given (exponents, trailing zeros) and mixed escapes."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(to_json(v, ascii_only) for v in value) + "]"
    if isinstance(value, dict):
        items = (
            f"{json.dumps(k, ensure_ascii=ascii_only)} : {to_json(v, ascii_only)}"
            for k, v in value.items()
        )
        return "{ " + ", ".join(items) + " }"
    return json.dumps(value, ensure_ascii=ascii_only)


raws = st.builds(to_json, json_values, st.booleans()).map(str.encode) | st.dictionaries(
    texts, texts
).map(orjson.dumps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prices=st.tuples(*[optional_decimals] * 7),
    volume=st.integers(0, 2**63 - 1),
    raw=raws,
)
def test_the_python_fingerprint_equals_the_generated_column(
    pg_conninfo: str, prices: tuple[Decimal | None, ...], volume: int, raw: bytes
) -> None:
    open_, high, low, close, adjusted, dividend, split = prices
    bar = Bar(
        symbol="FPRINT",
        interval="1d",
        ts=START,
        open=open_,  # type: ignore[arg-type]
        high=high,  # type: ignore[arg-type]
        low=low,  # type: ignore[arg-type]
        close=close,  # type: ignore[arg-type]
        volume=volume,
        raw=raw,
        adjusted_close=adjusted,
        dividend_amount=dividend,
        split_coefficient=split,
    )
    with psycopg.connect(pg_conninfo) as conn, conn.transaction(force_rollback=True):
        _copy(conn, "stock_data", [bar])
        row = conn.execute("SELECT fingerprint FROM stock_data WHERE symbol = 'FPRINT'").fetchone()
    assert row is not None
    assert bar_fingerprint(bar) == row[0]
