"""8. Backfill: the call plan against the ideal. Symbols x (daily full, weekly, monthly, one
intraday month each of the last complete months) are backfilled from an empty database under
a daily budget that needs several days, day after day (a clock moved a day per run) until the
backfill says complete; then once more.

Ideal: one call per distinct (symbol, series, month) unit. The figures are the calls the fake
received over the units, the days it took against the days the first plan said, and the calls
of a run after completion. Correctness, not speed: they hold at any size.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from benchmarks.e2e.harness import UNLIMITED, Bench, Figure, ShiftedClock, symbols
from stockpipe.ingest import IngestContext
from stockpipe.ingest.backfill import BackfillStatus, preview_backfill, run_backfill
from stockpipe.ingest.backfill.units import months_since
from stockpipe.market_calendar import new_york_date
from stockpipe.store import Database

SERIES = "daily,weekly,monthly,intraday"
# Few bars per intraday month: the figure is about calls, not rows.
INTERVAL = "60min"


def run(bench: Bench) -> list[Figure]:
    count, months_back = bench.scale.backfill_symbols, bench.scale.backfill_months
    names = symbols("B", count)
    # The 5th of this month, 15:00 UTC: the days the clock moves through stay in one month,
    # so "the last complete months" (and the ideal) are the same on every day.
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, 5, 15, tzinfo=UTC)
    today = new_york_date(start)
    first_of_month = today.replace(day=1)
    since = first_of_month
    for _ in range(months_back):
        since = (since - timedelta(days=1)).replace(day=1)
    month_count = len(months_since(f"{since:%Y-%m}", today))
    ideal = count * (3 + month_count)
    per_day = math.ceil(ideal / 3)  # three days' worth of budget, the last one partly used
    conninfo = bench.fresh_database("backfill")
    settings = bench.settings(
        conninfo, **UNLIMITED,
        STOCK_SYMBOLS=",".join(names), STOCK_SERIES=SERIES, STOCK_INTRADAY_INTERVAL=INTERVAL,
        BACKFILL_INTRADAY_SINCE=f"{since:%Y-%m}", BACKFILL_RESERVE_CALLS=0,
        API_DAILY_BUDGET=per_day,
    )  # fmt: skip
    bench.fake.reset()
    db = Database.from_conninfo(conninfo, migrate=False)
    days = 0
    try:
        with IngestContext(settings, db, clock=ShiftedClock(start)) as ctx:
            preview = preview_backfill(ctx)
        planned_calls, planned_days = preview.plan.calls, preview.progress.days_needed
        status = BackfillStatus.PAUSED
        while status is not BackfillStatus.COMPLETE and days < 10:
            clock = ShiftedClock(start + timedelta(days=days))
            with IngestContext(settings, db, clock=clock) as ctx:
                status = run_backfill(ctx).status
            days += 1
        calls = bench.fake.calls()
        with IngestContext(settings, db, clock=ShiftedClock(start + timedelta(days=days))) as ctx:
            again = run_backfill(ctx)
        after = len(bench.fake.calls()) - len(calls)
    finally:
        db.close()
    spent = len(calls)
    distinct = len({(c["function"], c["symbol"], c["month"]) for c in calls})
    units = f"{count} symbols x (daily, weekly, monthly, {month_count} intraday months)"
    return [
        Figure(
            "8 backfill",
            "calls spent / distinct (symbol, series, month) units needed",
            f"{spent / ideal:.2f}",
            f"{ideal} units: {units}",
            spent / ideal,
            "1.00 exactly",
            spent == ideal == distinct == planned_calls,
            {"calls": spent, "distinct": distinct, "planned": planned_calls},
        ),
        Figure(
            "8 backfill",
            f"days to complete at {per_day} calls/day",
            str(days),
            f"first plan said {planned_days}",
            None,
            "as planned",
            days == planned_days and status is BackfillStatus.COMPLETE,
        ),
        Figure(
            "8 backfill",
            "calls of a run after completion",
            str(after),
            f"{spent} calls before",
            None,
            "0",
            after == 0 and again.status is BackfillStatus.COMPLETE,
        ),
    ]
