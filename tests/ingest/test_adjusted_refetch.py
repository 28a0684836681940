"""A new corporate action refetches the stored adjusted series (STOCK_ADJUSTED=true) once, so
the stored adjusted values follow Alpha Vantage's; no change, no extra call."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from stockpipe.alphavantage import Function, SeriesRequest
from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.corporate_actions import refresh_corporate_actions
from stockpipe.ingest.results import SymbolStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import action_rows
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import TARGET

NEW_SPLIT = {"effective_date": "2024-04-15", "split_factor": "2.0000"}


def calls(fake: FakeAlphaVantage, since: int) -> list[tuple[str, str, str | None]]:
    return [(c.function, c.symbol, c.outputsize) for c in fake.calls()[since:]]


def stored(db: Database, table: str, symbol: str) -> dict[Any, tuple[Decimal, Decimal]]:
    rows = db.run(
        lambda conn: conn.execute(
            f"SELECT ts, close, adjusted_close FROM {table} WHERE symbol = %s".encode(), [symbol]
        ).fetchall()
    )
    return {ts: (close, adjusted) for ts, close, adjusted in rows}


def served(ctx: Any, symbol: str, function: Function) -> dict[Any, tuple[Decimal, Decimal]]:
    size = "full" if function is Function.DAILY_ADJUSTED else None
    bars = ctx.client.fetch(SeriesRequest(symbol, function, size)).bars
    return {bar.ts: (bar.close, bar.adjusted_close) for bar in bars}


def marks(db: Database) -> list[tuple[str, str]]:
    query = "SELECT symbol, series FROM adjusted_refetch ORDER BY 1, 2"
    return [tuple(r) for r in db.run(lambda conn: conn.execute(query).fetchall())]


def test_a_new_split_refetches_the_adjusted_series_of_that_symbol_once(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ctx = make_context(STOCK_ADJUSTED="true")
    ingest_symbols(ctx, ["IBM", "MSFT"])
    ingest_symbols(ctx, ["IBM", "MSFT"], series="weekly")
    baseline = refresh_corporate_actions(ctx, ["IBM", "MSFT"])
    assert baseline.refetch == (), "the first fetch of the actions is a baseline"
    assert baseline.adjusted_symbols == ("IBM", "MSFT")
    # The vendor now lists a 2-for-1 split of IBM three weeks back; its adjusted series moves.
    splits, _ = action_rows("IBM", TARGET)
    fake.set_actions("IBM", splits=[NEW_SPLIT, *splits])
    before = len(fake.calls())

    summary = refresh_corporate_actions(ctx, ["IBM", "MSFT"], force=True)

    assert [c.describe() for c in summary.changes] == ["IBM split 2024-04-15: new 2.0000"]
    assert summary.adjusted_symbols == ("IBM",)
    assert summary.refetch == (("IBM", "daily"), ("IBM", "weekly"))
    assert "adjusted prices recomputed for: IBM" in summary.message
    assert marks(db) == [("IBM", "daily"), ("IBM", "weekly")]
    assert stored(db, "stock_data", "IBM") != served(ctx, "IBM", Function.DAILY_ADJUSTED)
    before = len(fake.calls())

    daily = ingest_symbols(ctx, ["IBM", "MSFT"])
    weekly = ingest_symbols(ctx, ["IBM", "MSFT"], series="weekly")

    assert calls(fake, before) == [
        ("TIME_SERIES_DAILY_ADJUSTED", "IBM", "full"),
        ("TIME_SERIES_WEEKLY_ADJUSTED", "IBM", None),
    ]
    assert [(r.symbol, r.status, r.calls) for r in (*daily.results, *weekly.results)] == [
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.UP_TO_DATE, 0),
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.UP_TO_DATE, 0),
    ]
    assert daily.results[0].message == "adjusted history refetched after a corporate action"
    assert marks(db) == []
    expected_daily = served(ctx, "IBM", Function.DAILY_ADJUSTED)
    assert len(expected_daily) == 150
    assert stored(db, "stock_data", "IBM") == expected_daily
    weekly_stored = stored(db, "stock_data_weekly", "IBM")
    weekly_served = served(ctx, "IBM", Function.WEEKLY_ADJUSTED)
    assert weekly_stored == {ts: weekly_served[ts] for ts in weekly_stored}
    assert weekly_stored[max(weekly_stored)] != weekly_stored[min(weekly_stored)]
    # The raw close dropped at the split: the refetch stored the restated bars too.
    days = {ts.date(): close for ts, (close, _) in stored(db, "stock_data", "IBM").items()}
    assert Decimal("1.5") < days[date(2024, 4, 12)] / days[date(2024, 4, 15)] < Decimal(3)

    before = len(fake.calls())
    assert refresh_corporate_actions(ctx, ["IBM", "MSFT"], force=True).refetch == ()
    ingest_symbols(ctx, ["IBM", "MSFT"])
    ingest_symbols(ctx, ["IBM", "MSFT"], series="weekly")
    assert [c.function for c in fake.calls()[before:]] == ["SPLITS", "DIVIDENDS"] * 2


def test_raw_series_are_never_refetched_for_an_action(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ctx = make_context()  # STOCK_ADJUSTED=false: stock_data holds as-traded prices
    ingest_symbols(ctx, ["IBM"])
    refresh_corporate_actions(ctx, ["IBM"])
    splits, _ = action_rows("IBM", TARGET)
    fake.set_actions("IBM", splits=[NEW_SPLIT, *splits])

    summary = refresh_corporate_actions(ctx, ["IBM"], force=True)
    before = len(fake.calls())

    assert (summary.adjusted_symbols, summary.refetch) == (("IBM",), ())
    assert ingest_symbols(ctx, ["IBM"]).calls == 0
    assert (len(fake.calls()), marks(db)) == (before, [])
