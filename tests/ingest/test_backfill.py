"""The backfill on real PostgreSQL and the fake over HTTP: a 3-day backfill under 10 calls a
day that stops cleanly, resumes and ends with exactly the calls its first plan said; nothing
fetched twice; a free key's unreachable history reported once and never asked again."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import pytest

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.backfill import (
    BackfillStatus,
    UnitStatus,
    preview_backfill,
    run_backfill,
)
from stockpipe.ingest.corporate_actions import refresh_corporate_actions
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import FakeClock, ledger_count

SYMBOLS = ("IBM", "MSFT")
ALL_SERIES = "daily,weekly,monthly,intraday"
# The clock's day is Wednesday 2024-05-08: February to April are the complete months.
MONTHS = ("2024-02", "2024-03", "2024-04")
TABLES = ("stock_data", "stock_data_weekly", "stock_data_monthly", "stock_data_intraday")


def table_rows(db: Database) -> dict[str, int]:
    def count(conn: Any) -> dict[str, int]:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}

    return db.run(count)


def call_keys(fake: FakeAlphaVantage) -> list[tuple[object, ...]]:
    return [(c.function, c.symbol, c.outputsize, c.interval, c.month) for c in fake.calls()]


def backfill_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith("backfill ")
    ]


def test_three_days_at_ten_calls_resume_and_end_with_the_planned_calls(
    make_context: ContextFactory, fake: FakeAlphaVantage, clock: FakeClock, db: Database
) -> None:
    env = {
        "API_DAILY_BUDGET": 10, "BACKFILL_RESERVE_CALLS": 6, "STOCK_SYMBOLS": ",".join(SYMBOLS),
        "STOCK_SERIES": ALL_SERIES, "BACKFILL_INTRADAY_SINCE": MONTHS[0],
    }  # fmt: skip
    ctx = make_context(**env)
    preview = preview_backfill(ctx)
    # 2 symbols x (daily full, weekly, monthly, 3 intraday months) = 12 units, 1 call each;
    # 10 - 6 reserved = 4 calls a day: 3 days.
    assert preview.plan.calls == 12
    assert preview.progress.days_needed == 3
    assert preview.progress.budget.left_today == 4
    assert fake.calls() == []

    seen: list[str] = []
    day_calls = []
    statuses = []
    for day in range(3):
        summary = run_backfill(ctx, on_unit=lambda r, p: seen.append(p.describe()))
        day_calls.append(summary.calls)
        statuses.append(summary.status)
        assert ledger_count(db) == 4 * (day + 1)  # never into the reserve
        if day < 2:
            assert summary.progress.left == 12 - 4 * (day + 1)
            assert summary.progress.days_needed == 2 - day
            assert summary.counts[UnitStatus.DEFERRED] == 1  # the unit the gate refused: no call
            assert "today's backfill budget is spent" in summary.halt_reason
        clock.advance(days=1)

    assert day_calls == [4, 4, 4]
    assert statuses == [BackfillStatus.PAUSED, BackfillStatus.PAUSED, BackfillStatus.COMPLETE]
    assert len(fake.calls()) == preview.plan.calls  # exactly what day 1's plan said
    assert len(set(call_keys(fake))) == 12  # every unit once
    assert {c.outcome for c in fake.calls()} == {"data"}
    intraday = sorted(
        (c.symbol, c.month, c.outputsize, c.interval)
        for c in fake.calls()
        if c.function == "TIME_SERIES_INTRADAY"
    )
    assert intraday == [(s, m, "full", "5min") for s in SYMBOLS for m in MONTHS]
    daily = [c.outputsize for c in fake.calls() if c.function == "TIME_SERIES_DAILY"]
    assert daily == ["full", "full"]
    assert "0 left (0 calls)" in seen[-1]

    rows = table_rows(db)
    assert rows["stock_data"] == 2 * 150  # the fake's whole `full` history
    assert all(n > 0 for n in rows.values())
    again = run_backfill(ctx)
    assert (again.calls, again.status, again.results) == (0, BackfillStatus.COMPLETE, ())
    assert len(fake.calls()) == 12
    assert table_rows(db) == rows  # no duplicate, nothing rewritten


def test_the_reserve_and_the_days_spend_are_shared_with_a_refresh(
    make_context: ContextFactory, fake: FakeAlphaVantage, db: Database
) -> None:
    """A refresh that spent calls today leaves the backfill only the rest of its share."""
    env = {"API_DAILY_BUDGET": 6, "BACKFILL_RESERVE_CALLS": 2, "STOCK_SYMBOLS": "IBM,MSFT,AAPL"}
    ctx = make_context(**env, STOCK_SERIES="daily,weekly")
    ingest_symbols(ctx, ["IBM", "MSFT", "AAPL"])  # 3 calls: daily full each
    summary = run_backfill(ctx)
    # 6 - 2 reserved - 3 spent = 1 call: the weekly history of the first symbol.
    assert summary.calls == 1
    assert summary.status is BackfillStatus.PAUSED
    assert [r.unit.label for r in summary.results if r.status is UnitStatus.DONE] == [
        "IBM weekly full"
    ]
    assert ledger_count(db) == 4


def test_weekly_and_monthly_already_stored_need_no_unit(
    make_context: ContextFactory, fake: FakeAlphaVantage
) -> None:
    ctx = make_context(STOCK_SERIES="weekly,monthly", STOCK_SYMBOLS="IBM")
    ingest_symbols(ctx, ["IBM"], series="weekly")
    ingest_symbols(ctx, ["IBM"], series="monthly")
    fake_calls = len(fake.calls())
    preview = preview_backfill(ctx)
    assert (preview.plan.calls, len(preview.plan.settled)) == (0, 2)
    assert run_backfill(ctx).status is BackfillStatus.COMPLETE
    assert len(fake.calls()) == fake_calls


def test_a_refresh_that_loaded_daily_full_history_settles_the_daily_unit(
    make_context: ContextFactory, fake: FakeAlphaVantage
) -> None:
    ctx = make_context(STOCK_SERIES="daily", STOCK_SYMBOLS="IBM,MSFT")
    ingest_symbols(ctx, ["IBM"])  # a premium key's first load: daily full
    assert [c.outputsize for c in fake.calls()] == ["full"]
    plan = preview_backfill(ctx).plan
    assert [u.label for u in plan.todo] == ["MSFT daily full"]
    assert [u.label for u in plan.settled] == ["IBM daily full"]


def test_free_key_daily_full_is_reported_once_and_never_asked_again(
    make_context: ContextFactory,
    fake: FakeAlphaVantage,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.configure(free_tier=True)
    ctx = make_context(STOCK_SYMBOLS="IBM,MSFT", STOCK_SERIES="daily", BACKFILL_RESERVE_CALLS=0)
    caplog.set_level(logging.WARNING)
    first = run_backfill(ctx)
    # IBM's full is refused (1 call, remembered for the key), MSFT's costs nothing; then the
    # reachable unit of each, compact, as neither had a daily bar.
    assert call_keys(fake) == [
        ("TIME_SERIES_DAILY", "IBM", "full", None, None),
        ("TIME_SERIES_DAILY", "IBM", "compact", None, None),
        ("TIME_SERIES_DAILY", "MSFT", "compact", None, None),
    ]
    assert first.status is BackfillStatus.COMPLETE
    assert [(r.unit.label, r.status, r.calls) for r in first.results] == [
        ("IBM daily full", UnitStatus.UNREACHABLE, 1),
        ("MSFT daily full", UnitStatus.UNREACHABLE, 0),
        ("IBM daily compact", UnitStatus.DONE, 1),
        ("MSFT daily compact", UnitStatus.DONE, 1),
    ]
    assert "unreachable with this key: IBM daily full, MSFT daily full" in first.message
    warnings = backfill_warnings(caplog)
    assert len(warnings) == 2
    assert all("premium" in w and "daily" in w for w in warnings)

    caplog.clear()
    for _ in range(2):
        clock.advance(days=1)
        later = run_backfill(ctx)
        assert (later.calls, later.status, later.results) == (0, BackfillStatus.COMPLETE, ())
        assert later.progress.unreachable == 2
        assert "unreachable with this key" in later.message  # still in the summary
    assert backfill_warnings(caplog) == []  # but not warned about again
    assert len(fake.calls()) == 3

    retried = run_backfill(ctx, retry_unreachable=True)  # an upgraded key? one call tells
    assert retried.calls == 1
    assert [r.status for r in retried.results] == [UnitStatus.UNREACHABLE] * 2
    assert retried.status is BackfillStatus.COMPLETE  # what is out of reach is not "left"

    fake.configure(free_tier=False)  # the key was upgraded
    upgraded = run_backfill(ctx, retry_unreachable=True)
    assert [(r.unit.label, r.status, r.calls) for r in upgraded.results] == [
        ("IBM daily full", UnitStatus.DONE, 1),
        ("MSFT daily full", UnitStatus.DONE, 1),
    ]
    assert (upgraded.status, upgraded.progress.unreachable) == (BackfillStatus.COMPLETE, 0)


def test_intraday_denied_to_the_key_costs_one_call_then_none(
    make_context: ContextFactory, fake: FakeAlphaVantage, clock: FakeClock
) -> None:
    fake.configure(free_tier=True)
    env = {"STOCK_SERIES": "intraday", "BACKFILL_INTRADAY_SINCE": MONTHS[0]}
    ctx = make_context(STOCK_SYMBOLS="IBM,MSFT", BACKFILL_RESERVE_CALLS=0, **env)
    first = run_backfill(ctx)
    assert first.calls == 1
    assert Counter(r.status for r in first.results) == {UnitStatus.UNREACHABLE: 6}
    assert "IBM intraday (3 months), MSFT intraday (3 months)" in first.message
    clock.advance(days=1)
    later = run_backfill(ctx)
    assert (later.calls, later.progress.unreachable, later.status) == (
        0, 6, BackfillStatus.COMPLETE,
    )  # fmt: skip
    assert len(fake.calls()) == 1

    fake.configure(free_tier=False)  # the key was upgraded: one retry clears the denial
    upgraded = run_backfill(ctx, retry_unreachable=True)
    assert (upgraded.calls, upgraded.status) == (6, BackfillStatus.COMPLETE)
    assert preview_backfill(ctx).plan.unreachable == ()


def test_a_unit_that_fails_alone_is_tried_again_next_run(
    make_context: ContextFactory, fake: FakeAlphaVantage
) -> None:
    ctx = make_context(STOCK_SYMBOLS="IBM,INVALID1", STOCK_SERIES="weekly", API_MAX_RETRIES=0)
    summary = run_backfill(ctx, series=["weekly"])
    assert summary.status is BackfillStatus.PARTIAL
    assert [(r.unit.label, r.status) for r in summary.results] == [
        ("IBM weekly full", UnitStatus.DONE),
        ("INVALID1 weekly full", UnitStatus.FAILED),
    ]
    again = run_backfill(ctx, series=["weekly"])
    assert [r.unit.label for r in again.results] == ["INVALID1 weekly full"]
    assert again.status is BackfillStatus.PARTIAL


def test_a_month_the_vendor_has_no_bars_for_is_settled_empty_and_not_asked_again(
    make_context: ContextFactory, fake: FakeAlphaVantage, db: Database
) -> None:
    # What a month before the listing looks like: the series object, empty.
    empty_month = {
        "Meta Data": {"2. Symbol": "IBM", "4. Interval": "5min", "6. Time Zone": "US/Eastern"},
        "Time Series (5min)": {},
    }
    fake.set_body("IBM", json.dumps(empty_month), function="TIME_SERIES_INTRADAY")
    ctx = make_context(STOCK_SYMBOLS="IBM", STOCK_SERIES="intraday", API_MAX_RETRIES=0)
    first = run_backfill(ctx, series=["intraday"], since="2024-04")
    assert [(r.unit.month, r.status, r.calls, r.inserted) for r in first.results] == [
        ("2024-04", UnitStatus.DONE, 1, 0)
    ]
    assert first.results[0].message == "Alpha Vantage has no 5min bars for 2024-04"
    assert first.status is BackfillStatus.COMPLETE
    again = run_backfill(ctx, series=["intraday"], since="2024-04")
    assert (again.calls, again.status, len(fake.calls())) == (0, BackfillStatus.COMPLETE, 1)


def test_no_budget_left_defers_without_a_call(
    make_context: ContextFactory, fake: FakeAlphaVantage
) -> None:
    ctx = make_context(API_DAILY_BUDGET=3, STOCK_SYMBOLS="IBM,MSFT,AAPL", STOCK_SERIES="daily")
    # Unset reserve: the 3 symbols' daily refresh, due every day, and their 6 corporate actions
    # never fetched: nothing is left.
    summary = run_backfill(ctx)
    assert summary.progress.budget.reserve == 3 + 6
    assert (summary.calls, summary.status) == (0, BackfillStatus.PAUSED)
    assert summary.progress.days_needed is None
    assert "never at this budget" in summary.message
    assert fake.calls() == []


def test_the_default_reserve_is_what_todays_refreshes_still_need(
    make_context: ContextFactory, fake: FakeAlphaVantage, db: Database
) -> None:
    """Unset BACKFILL_RESERVE_CALLS: a call per symbol of each series due today whose refresh
    has not run yet today, and per corporate action due. Before or after the refresh and the
    corporate actions, the backfill gets the same calls."""
    ctx = make_context(API_DAILY_BUDGET=12, STOCK_SYMBOLS="IBM,MSFT,AAPL", STOCK_SERIES="daily")
    before = preview_backfill(ctx).progress.budget
    assert (before.reserve, before.spent_today, before.left_today) == (3 + 6, 0, 3)
    ingest_symbols(ctx, ["IBM", "MSFT"])  # the refresh of two symbols ran: 2 calls
    after = preview_backfill(ctx).progress.budget
    assert (after.reserve, after.spent_today, after.left_today) == (1 + 6, 2, 3)
    refresh_corporate_actions(ctx, ["IBM"])  # IBM's splits and dividends: 2 calls
    actions = preview_backfill(ctx).progress.budget
    assert (actions.reserve, actions.spent_today, actions.left_today) == (1 + 4, 4, 3)
    # Wednesday is not the week's last session: the weekly refresh needs nothing today.
    weekly = make_context(
        API_DAILY_BUDGET=10, STOCK_SYMBOLS="IBM,MSFT,AAPL", STOCK_SERIES="daily,weekly"
    )
    assert preview_backfill(weekly).progress.budget.reserve == 1 + 4


def test_no_intraday_month_older_than_the_retention_is_planned(
    make_context: ContextFactory, fake: FakeAlphaVantage
) -> None:
    ctx = make_context(
        STOCK_SYMBOLS="IBM",
        STOCK_SERIES="intraday",
        BACKFILL_INTRADAY_SINCE="2023-01",
        STOCK_INTRADAY_RETENTION_MONTHS=2,  # May (the clock's) and the two months before it
    )

    assert preview_backfill(ctx).plan.months == ("2024-03", "2024-04")
    assert fake.calls() == []
