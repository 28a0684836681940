"""stock_splits / stock_dividends: one answer replaces a symbol's list; never a duplicate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from stockpipe.corporate_actions import Dividend, Split
from stockpipe.store import Database
from stockpipe.store.corporate_actions import store_dividends, store_splits, stored_splits


def split(day: str, factor: str, symbol: str = "IBM") -> Split:
    raw = {"effective_date": day, "split_factor": factor}
    return Split(symbol, date.fromisoformat(day), Decimal(factor), raw)


def dividend(day: str, amount: str) -> Dividend:
    raw = {"ex_dividend_date": day, "amount": amount, "payment_date": "None"}
    return Dividend("IBM", date.fromisoformat(day), None, None, None, Decimal(amount), raw)


def test_the_same_answer_twice_stores_each_action_once_and_reports_nothing_new(
    db: Database,
) -> None:
    answer = [split("2020-08-31", "4.0000"), split("2014-06-09", "7.0000")]
    first = store_splits(db, "IBM", answer)
    assert [(c.day, c.change) for c in first.changes] == [
        (date(2014, 6, 9), "new"),
        (date(2020, 8, 31), "new"),
    ]
    second = store_splits(db, "IBM", answer)
    assert (second.changes, second.unchanged) == ((), 2)
    assert stored_splits(db, "IBM") == [
        (date(2014, 6, 9), Decimal("7.0000")),
        (date(2020, 8, 31), Decimal("4.0000")),
    ]


def test_a_changed_vendor_string_is_an_update_even_when_the_value_is_equal(db: Database) -> None:
    store_dividends(db, "IBM", [dividend("2024-05-09", "1.67")])
    stored = store_dividends(db, "IBM", [dividend("2024-05-09", "1.6700")])
    [change] = stored.changes
    assert change.describe() == "IBM dividend 2024-05-09: changed amount 1.67 -> 1.6700"


def test_an_action_no_longer_listed_is_removed(db: Database) -> None:
    store_splits(db, "IBM", [split("2020-08-31", "4.0000"), split("2014-06-09", "7.0000")])
    stored = store_splits(db, "IBM", [split("2020-08-31", "4.0000")])
    assert [c.describe() for c in stored.changes] == ["IBM split 2014-06-09: removed (was 7.0000)"]
    assert [day for day, _ in stored_splits(db, "IBM")] == [date(2020, 8, 31)]


def test_an_empty_answer_never_wipes_a_stored_history(db: Database) -> None:
    store_splits(db, "IBM", [split("2020-08-31", "4.0000")])
    stored = store_splits(db, "IBM", [])
    assert (stored.changes, stored.kept_on_empty) == ((), 1)
    assert len(stored_splits(db, "IBM")) == 1


def test_symbols_are_kept_apart(db: Database) -> None:
    store_splits(db, "IBM", [split("2020-08-31", "4.0000")])
    stored = store_splits(db, "AAPL", [split("2020-08-31", "4.0000", symbol="AAPL")])
    assert [c.change for c in stored.changes] == ["new"]
    assert len(stored_splits(db, "IBM")) == len(stored_splits(db, "AAPL")) == 1
