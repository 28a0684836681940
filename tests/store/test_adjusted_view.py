"""stock_data_adjusted: split- and dividend-adjusted bars, checked against values computed by
hand (the method: migration 0011, docs/architecture.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from stockpipe.bars import Bar
from stockpipe.corporate_actions import Dividend, Split
from stockpipe.store import Database, upsert_bars
from stockpipe.store.corporate_actions import store_dividends, store_splits

NEW_YORK = ZoneInfo("America/New_York")
D = Decimal


def bar(day: str, open_: str, close: str, volume: int = 1000, symbol: str = "ABC") -> Bar:
    ts = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=NEW_YORK)
    high, low = max(D(open_), D(close)), min(D(open_), D(close))
    raw = orjson.dumps({"1. open": open_, "4. close": close})
    return Bar(symbol, "1d", ts, D(open_), high, low, D(close), volume, raw)


# Six sessions; a dividend of 0.37 goes ex on 03-05 (the close before it: 100.13), a 2-for-1
# split takes effect on 03-07 (the close before it: 104.00).
BARS = [
    bar("2024-03-04", "99.5000", "100.1300"),
    bar("2024-03-05", "100.0000", "102.0000"),
    bar("2024-03-06", "102.0000", "104.0000"),
    bar("2024-03-07", "52.5000", "52.0000"),
    bar("2024-03-08", "52.0000", "53.0000"),
    bar("2024-03-11", "53.0000", "54.0000"),
]
SPLIT = Split("ABC", date(2024, 3, 7), D("2.0000"), {"effective_date": "2024-03-07"})
DIVIDEND = Dividend("ABC", date(2024, 3, 5), None, None, None, D("0.37"), {"amount": "0.37"})


def adjusted(db: Database, symbol: str = "ABC") -> list[tuple[Any, ...]]:
    query = (
        "SELECT (ts AT TIME ZONE 'America/New_York')::date, open, close, volume, raw_close"
        " FROM stock_data_adjusted WHERE symbol = %s ORDER BY ts"
    )
    return db.run(lambda conn: conn.execute(query, [symbol]).fetchall())


def test_a_split_mid_series_and_a_dividend_adjust_the_bars_before_them_exact_to_the_cent(
    db: Database,
) -> None:
    upsert_bars(db, BARS)
    store_splits(db, "ABC", [SPLIT])
    store_dividends(db, "ABC", [DIVIDEND])
    rows = adjusted(db)
    closes = [row[2] for row in rows]
    # From the split on: as traded. Before it: halved. Before the ex-date also times
    # (100.13 - 0.37) / 100.13, so the close before the ex-date becomes (100.13 - 0.37) / 2.
    assert closes == [D("49.8800"), D("51.0000"), D("52.0000"), D("52.0000"), D("53"), D("54")]
    # Open of 03-04: 99.50 / 2 * 99.76 / 100.13 = 49.5661640... -> 49.57 to the cent.
    assert round(rows[0][1], 2) == D("49.57")
    # Volume is multiplied by the split factor only.
    assert [row[3] for row in rows] == [2000, 2000, 2000, 1000, 1000, 1000]
    assert [row[4] for row in rows] == [b.close for b in BARS]


def test_without_actions_the_adjusted_bars_are_the_raw_ones(db: Database) -> None:
    upsert_bars(db, BARS)
    assert [row[2] for row in adjusted(db)] == [b.close for b in BARS]


def test_an_ex_date_after_the_last_bar_adjusts_nothing_yet(db: Database) -> None:
    upsert_bars(db, BARS[:3])  # bars end on 03-06: the split of 03-07 has not happened in them
    store_splits(db, "ABC", [SPLIT])
    assert [row[2] for row in adjusted(db)][1:] == [D("102.0000"), D("104.0000")]


def test_an_ex_date_before_the_first_bar_adjusts_nothing(db: Database) -> None:
    upsert_bars(db, BARS[2:])  # from 03-06: the dividend of 03-05 lies before every bar
    store_dividends(db, "ABC", [DIVIDEND])
    assert [row[2] for row in adjusted(db)] == [b.close for b in BARS[2:]]


def test_actions_of_another_symbol_do_not_touch_this_one(db: Database) -> None:
    upsert_bars(db, BARS + [b._replace(symbol="XYZ") for b in BARS])
    store_splits(db, "XYZ", [replace(SPLIT, symbol="XYZ")])
    assert [row[2] for row in adjusted(db, "ABC")] == [b.close for b in BARS]
    assert [row[2] for row in adjusted(db, "XYZ")][:3] == [D("50.0650"), D("51.0000"), D("52")]
