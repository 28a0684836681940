"""stock_data_changes: a re-fetch that corrects a stored bar leaves its old and new values, the
time and the run behind; a re-load that changes nothing leaves nothing."""

from __future__ import annotations

from decimal import Decimal

from stockpipe.store import Database, UpsertResult, upsert_bars
from stockpipe.store.bar_changes import recent_bar_changes
from tests.store.bars import START, make_bar, make_bars


def change_count(db: Database) -> int:
    row = db.run(lambda conn: conn.execute("SELECT count(*) FROM stock_data_changes").fetchone())
    return int(row[0]) if row else -1


def test_a_corrected_bar_is_recorded_with_old_and_new_values_time_and_run(db: Database) -> None:
    bars = make_bars(("IBM", "MSFT"), days=5)
    upsert_bars(db, bars, run_id="first-run")
    bars[2] = make_bar("IBM", day=2, close="100.5000", volume=7)
    assert upsert_bars(db, bars, run_id="run-42") == UpsertResult(0, 1, 9)
    [change] = recent_bar_changes(db)
    assert (change.symbol, change.ts, change.run_id) == ("IBM", START.replace(day=4), "run-42")
    assert {k: v for k, v in change.old_values.items() if k != "raw"} == {
        "close": 100.0,
        "volume": 1002,
    }
    assert {k: v for k, v in change.new_values.items() if k != "raw"} == {
        "close": 100.5,
        "volume": 7,
    }
    assert change.new_values["raw"]["4. close"] == "100.5000"
    assert change.describe() == "close 100.0 -> 100.5, volume 1002 -> 7"
    now = db.run(lambda conn: conn.execute("SELECT now()").fetchone())
    assert now is not None and change.changed_at <= now[0]


def test_an_unchanged_reload_records_nothing(db: Database) -> None:
    bars = make_bars(("IBM",), days=20)
    upsert_bars(db, bars)
    assert upsert_bars(db, bars, run_id="again") == UpsertResult(0, 0, 20)
    # The merge path too: a batch that must be compared value by value, none of them different.
    upsert_bars(db, [*bars[:5], make_bar("IBM", day=30)], run_id="again")
    assert change_count(db) == 0


def test_an_update_of_updated_at_alone_is_not_a_change(db: Database) -> None:
    upsert_bars(db, make_bars(days=3))
    db.run(lambda conn: conn.execute("UPDATE stock_data SET updated_at = now() - interval '1d'"))
    assert change_count(db) == 0


def test_a_change_outside_a_run_has_no_run_id_and_the_run_id_does_not_leak(db: Database) -> None:
    upsert_bars(db, make_bars(days=3))
    upsert_bars(db, [make_bar(day=0, close="99.0000")], run_id="run-1")
    db.run(lambda conn: conn.execute("UPDATE stock_data SET close = 98 WHERE volume = 1001"))
    runs = [(c.run_id, c.new_values["close"]) for c in recent_bar_changes(db)]
    assert runs == [(None, 98), ("run-1", 99.0)]


def test_changes_are_listed_newest_first_for_the_symbols_asked(db: Database) -> None:
    upsert_bars(db, make_bars(("IBM", "MSFT"), days=2))
    for close in ("101.0000", "102.0000"):
        upsert_bars(db, [make_bar("IBM", close=close), make_bar("MSFT", close=close)])
    ibm = recent_bar_changes(db, ["IBM"], limit=5)
    assert [c.new_values["close"] for c in ibm] == [102.0, 101.0]
    assert {c.symbol for c in ibm} == {"IBM"}
    assert len(recent_bar_changes(db, limit=3)) == 3
    assert Decimal(str(ibm[0].old_values["close"])) == Decimal("101")
