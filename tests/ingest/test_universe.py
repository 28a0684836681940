"""The universe over three simulated days on the fake (STOCK_UNIVERSE=listing): a listing added
and loaded on its first day, one delisted (no call after, history kept, shown delisted with its
date), a ticker re-used by a new company (its bars told apart from the old company's), with the
exact calls, listing rows and bars of every day."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pytest

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.backfill import preview_backfill
from stockpipe.ingest.corporate_actions import refresh_corporate_actions
from stockpipe.ingest.overview import symbol_overview
from stockpipe.ingest.results import SymbolStatus
from stockpipe.ingest.universe import (
    UniverseUnavailable,
    refresh_listing,
    symbols,
    tracked_symbols,
)
from stockpipe.ingest.universe_report import listing_lines
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.listings import ListedCompany
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import HISTORY, FakeClock, Row, expected_rows, stored_rows

MONDAY, TUESDAY, WEDNESDAY = date(2024, 5, 6), date(2024, 5, 7), date(2024, 5, 8)
COMPANIES = [
    ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
    ListedCompany("GONE", "Gone Away Inc", "NASDAQ", "Stock", date(2016, 1, 4), TUESDAY),
    ListedCompany("NEWC", "Newcomer Holdings", "NASDAQ", "Stock", TUESDAY),
    # RUSE: the old company is delisted on Tuesday, a new one takes the ticker on Wednesday.
    ListedCompany("RUSE", "Old Reuse Corp", "NYSE", "Stock", date(2012, 6, 1), TUESDAY),
    ListedCompany("RUSE", "New Reuse Inc", "NYSE", "Stock", WEDNESDAY),
    # Outside the universe: an ETF (asset types: Stock), a BATS stock (exchanges: NYSE, NASDAQ).
    ListedCompany("ETFX", "Index ETF Trust", "NYSE ARCA", "ETF", date(2014, 1, 2)),
    ListedCompany("BATX", "Bats Only Corp", "BATS", "Stock", date(2013, 1, 2)),
]
ENV = {"STOCK_UNIVERSE": "listing", "STOCK_UNIVERSE_EXCHANGES": "NYSE,NASDAQ"}


def evening(day: date) -> FakeClock:
    return FakeClock(datetime(day.year, day.month, day.day, 22, 0, tzinfo=UTC))


def table(db: Database, query: str) -> list[tuple[Any, ...]]:
    return db.run(lambda conn: conn.execute(query.encode()).fetchall())


def listing_rows(db: Database) -> list[tuple[Any, ...]]:
    return table(
        db,
        "SELECT symbol, ipo_date, status, delisting_date, first_seen_on, last_seen_on"
        " FROM stock_listing ORDER BY symbol, ipo_date",
    )


def served(symbol: str, day: date, first: date, until: date | None = None) -> list[Row]:
    """The fake's full answer for `symbol` on `day`, kept from `first` (its IPO) on, before
    `until` (its delisting)."""
    return [
        row
        for row in expected_rows(symbol, end=day)
        if row[0] >= first and (until is None or row[0] < until)
    ]


def run_day(
    day: date, fake: FakeAlphaVantage, make_context: ContextFactory
) -> tuple[list[tuple[str, str]], dict[str, tuple[SymbolStatus, int]]]:
    """One day's scheduled refresh: the listing first (when due), then the universe's bars.
    Returns the calls the fake saw (function, symbol) and each symbol's status and calls."""
    fake.configure(end_date=day)
    before = len(fake.calls())
    ctx = make_context(at=evening(day), **ENV)
    summary = ingest_symbols(ctx, tracked_symbols(ctx))
    calls = [(c.function, c.symbol) for c in fake.calls()[before:]]
    return calls, {r.symbol: (r.status, r.calls) for r in summary.results}


def test_three_days_of_listings_delistings_and_a_reused_ticker(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    listing = [("LISTING_STATUS", ""), ("LISTING_STATUS", "")]  # state=active, state=delisted

    # Monday: the first refresh; KEEP, GONE and the old RUSE are loaded in full.
    calls, results = run_day(MONDAY, fake, make_context)
    assert calls[:2] == listing
    assert sorted(calls[2:]) == [("TIME_SERIES_DAILY", s) for s in ("GONE", "KEEP", "RUSE")]
    assert results == {s: (SymbolStatus.LOADED, 1) for s in ("GONE", "KEEP", "RUSE")}
    assert listing_rows(db) == [
        ("BATX", date(2013, 1, 2), "Active", None, MONDAY, MONDAY),
        ("ETFX", date(2014, 1, 2), "Active", None, MONDAY, MONDAY),
        ("GONE", date(2016, 1, 4), "Active", None, MONDAY, MONDAY),
        ("KEEP", date(2015, 3, 2), "Active", None, MONDAY, MONDAY),
        ("RUSE", date(2012, 6, 1), "Active", None, MONDAY, MONDAY),
    ]
    for symbol in ("KEEP", "GONE", "RUSE"):
        assert stored_rows(db, symbol) == expected_rows(symbol, end=MONDAY), symbol
        assert len(stored_rows(db, symbol)) == HISTORY

    # Tuesday: GONE and the old RUSE are delisted (no call for them), NEWC lists and loads.
    calls, results = run_day(TUESDAY, fake, make_context)
    assert calls[:2] == listing
    assert sorted(calls[2:]) == [("TIME_SERIES_DAILY", "KEEP"), ("TIME_SERIES_DAILY", "NEWC")]
    assert results == {"KEEP": (SymbolStatus.LOADED, 1), "NEWC": (SymbolStatus.LOADED, 1)}
    assert listing_rows(db) == [
        ("BATX", date(2013, 1, 2), "Active", None, MONDAY, TUESDAY),
        ("ETFX", date(2014, 1, 2), "Active", None, MONDAY, TUESDAY),
        ("GONE", date(2016, 1, 4), "Delisted", TUESDAY, MONDAY, TUESDAY),
        ("KEEP", date(2015, 3, 2), "Active", None, MONDAY, TUESDAY),
        ("NEWC", TUESDAY, "Active", None, TUESDAY, TUESDAY),
        ("RUSE", date(2012, 6, 1), "Delisted", TUESDAY, MONDAY, TUESDAY),
    ]
    assert stored_rows(db, "NEWC") == served("NEWC", TUESDAY, TUESDAY)
    assert [row[0] for row in stored_rows(db, "NEWC")] == [TUESDAY]
    assert stored_rows(db, "GONE") == expected_rows("GONE", end=MONDAY), "history kept"

    # Wednesday: a new company takes RUSE; GONE still costs nothing.
    calls, results = run_day(WEDNESDAY, fake, make_context)
    assert calls[:2] == listing
    assert sorted(calls[2:]) == [
        ("TIME_SERIES_DAILY", "KEEP"), ("TIME_SERIES_DAILY", "NEWC"),
        ("TIME_SERIES_DAILY", "RUSE"),
    ]  # fmt: skip
    assert {s: r[1] for s, r in results.items()} == {"KEEP": 1, "NEWC": 1, "RUSE": 1}
    assert listing_rows(db)[-2:] == [
        ("RUSE", date(2012, 6, 1), "Delisted", TUESDAY, MONDAY, WEDNESDAY),
        ("RUSE", WEDNESDAY, "Active", None, WEDNESDAY, WEDNESDAY),
    ]
    old_ruse = expected_rows("RUSE", end=MONDAY)
    assert stored_rows(db, "RUSE") == [*old_ruse, *served("RUSE", WEDNESDAY, WEDNESDAY)]
    assert stored_rows(db, "GONE") == expected_rows("GONE", end=MONDAY)
    assert [row[0] for row in stored_rows(db, "KEEP")][-3:] == [MONDAY, TUESDAY, WEDNESDAY]
    assert stored_rows(db, "KEEP")[-3:] == expected_rows("KEEP", end=WEDNESDAY)[-3:]
    assert stored_rows(db, "NEWC") == served("NEWC", WEDNESDAY, TUESDAY)

    # Tuesday, between the two companies, is no gap to repair: the refresh that saw the new
    # company remembered it as a session the vendor has no bar for.
    assert table(db, "SELECT symbol, day FROM vendor_missing_session") == [("RUSE", TUESDAY)]
    assert symbol_overview(db, ["RUSE"], target=WEDNESDAY)[0].missing == 0
    # Each company of the re-used ticker, queried apart through stock_data_listed.
    by_company = table(
        db,
        "SELECT listing_name, ipo_date, count(*), min(ts)::date, max(ts)::date"
        " FROM stock_data_listed WHERE symbol = 'RUSE' GROUP BY 1, 2 ORDER BY 2",
    )
    assert by_company == [
        ("Old Reuse Corp", date(2012, 6, 1), HISTORY, old_ruse[0][0], MONDAY),
        ("New Reuse Inc", WEDNESDAY, 1, WEDNESDAY, WEDNESDAY),
    ]
    settings = make_context(**ENV).settings
    assert symbols(db, settings) == ("KEEP", "NEWC", "RUSE")
    # What `stockpipe status` says below its table.
    assert listing_lines(db, ["GONE", "KEEP", "RUSE"]) == [
        "GONE: delisted on 2024-05-07 (Gone Away Inc, NASDAQ); its history is kept and it costs"
        " no further call",
        "RUSE: ticker re-used: Old Reuse Corp (IPO 2012-06-01, delisted 2024-05-07) then New"
        " Reuse Inc (IPO 2024-05-08); its bars stay in one series, told apart by"
        " stock_data_listed (WHERE symbol = 'RUSE' AND ipo_date = ...)",
    ]


def test_the_listing_is_refreshed_once_a_day(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    fake.configure(end_date=MONDAY)
    first = refresh_listing(make_context(at=evening(MONDAY), **ENV))
    again = refresh_listing(make_context(at=evening(MONDAY), **ENV))
    assert (first.status, first.calls, again.status, again.calls) == ("refreshed", 2, "not_due", 0)
    assert len(fake.calls()) == 2


def test_symbols_mode_is_stock_symbols_exactly_with_no_read_and_no_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    ctx = make_context(STOCK_SYMBOLS="msft,IBM,msft")
    assert symbols(db, ctx.settings) == ("MSFT", "IBM")
    assert tracked_symbols(ctx) == ("MSFT", "IBM")
    assert fake.calls() == [] and listing_rows(db) == []


def test_a_truncated_active_answer_is_refused_and_the_stored_listing_kept(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    fake.configure(end_date=MONDAY)
    refresh_listing(make_context(at=evening(MONDAY), **ENV))
    stored = listing_rows(db)
    fake.set_listing(COMPANIES[:1])  # 1 active listing against 5
    fake.configure(end_date=TUESDAY)
    ctx = make_context(at=evening(TUESDAY), **ENV)
    refused = refresh_listing(ctx)
    assert (refused.status, refused.calls) == ("failed", 2)
    assert refused.reason == (
        "LISTING_STATUS named 1 active listings against 5 on 2024-05-06; refused as a truncated"
        " answer"
    )
    assert listing_rows(db) == stored
    assert tracked_symbols(ctx) == ("GONE", "KEEP", "RUSE"), "Monday's universe, refreshed again"
    assert len(fake.calls()) == 6


def test_a_spent_budget_keeps_the_listing_and_without_one_the_run_cannot_start(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    fake.configure(end_date=MONDAY)
    ctx = make_context(at=evening(MONDAY), API_DAILY_BUDGET=1, **ENV)
    with pytest.raises(UniverseUnavailable) as raised:
        tracked_symbols(ctx)
    assert str(raised.value) == (
        "STOCK_UNIVERSE=listing: no listing stored yet, and LISTING_STATUS failed: the daily"
        " budget of 1 API calls is spent (1 calls on 2024-05-06, US/Eastern); raise"
        " API_DAILY_BUDGET or wait for tomorrow; the next run tries again"
    )
    assert len(fake.calls()) == 1 and listing_rows(db) == [], "nothing half-stored"


def test_corporate_actions_and_the_backfill_follow_the_universe(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    fake.configure(end_date=MONDAY)
    ctx = make_context(at=evening(MONDAY), API_DAILY_BUDGET=50, STOCK_SERIES="daily", **ENV)
    # Before today's refresh: its two listing calls and a call per stored universe symbol
    # (none yet); after it, the three symbols' daily refresh.
    assert preview_backfill(ctx).progress.budget.reserve == 2
    refresh_corporate_actions(ctx, tracked_symbols(ctx))
    assert sorted({c.symbol for c in fake.calls()}) == ["", "GONE", "KEEP", "RUSE"]
    assert preview_backfill(ctx).progress.budget.reserve == 3
    assert sorted({u.symbol for u in preview_backfill(ctx).plan.units}) == ["GONE", "KEEP", "RUSE"]


def test_filters_that_match_no_listing_give_an_empty_universe_and_say_so(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.set_listing(COMPANIES)
    fake.configure(end_date=MONDAY)
    ctx = make_context(
        at=evening(MONDAY), STOCK_UNIVERSE="listing", STOCK_UNIVERSE_EXCHANGES="BATS",
        STOCK_UNIVERSE_ASSET_TYPES="ETF",
    )  # fmt: skip
    assert tracked_symbols(ctx) == ()
    assert (
        "universe: no active listing matches STOCK_UNIVERSE_EXCHANGES=BATS and"
        " STOCK_UNIVERSE_ASSET_TYPES=ETF; nothing to refresh" in caplog.messages
    )
    assert len(fake.calls()) == 2


def test_two_runs_starting_together_refresh_the_listing_once(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.set_listing(COMPANIES)
    fake.configure(end_date=MONDAY)
    fake.set_delay(0.2)  # the first refresh is still fetching when the second one starts
    contexts = [make_context(at=evening(MONDAY), **ENV) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(refresh_listing, contexts))
    assert sorted((r.status, r.calls) for r in results) == [("not_due", 0), ("refreshed", 2)]
    assert [c.function for c in fake.calls()] == ["LISTING_STATUS"] * 2
