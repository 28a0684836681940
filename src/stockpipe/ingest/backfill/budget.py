"""How many of the day's calls the backfill may spend: API_DAILY_BUDGET minus a reserve for
the scheduled refreshes minus what every process already spent today.

The reserve is BACKFILL_RESERVE_CALLS when set. Unset, it is what today's scheduled refreshes
still need at most: one call per configured symbol (STOCK_SYMBOLS) for every series of
STOCK_SERIES whose schedule runs on today's New York date (stockpipe.scheduling: daily every
day, weekly and monthly on their period's last session, intraday on sessions), leaving out a
symbol whose refresh of that series already ran today (its calls are in today's spend, and a
daily, weekly or monthly schedule runs once a day). Intraday ticks every 15 minutes and may
spend a call per symbol at each tick, so it is counted once per symbol whatever ran: with
intraday in STOCK_SERIES, set BACKFILL_RESERVE_CALLS to what those ticks really spend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from stockpipe.ingest.backfill.progress import BudgetView
from stockpipe.ingest.context import IngestContext
from stockpipe.market_calendar import new_york_date
from stockpipe.quota import budget_info, quota_day, quota_day_start
from stockpipe.scheduling import series_schedule
from stockpipe.series import Planning, series_named
from stockpipe.store.symbol_state import load_states


def reserve_calls(ctx: IngestContext) -> int:
    """The calls kept for today's scheduled refreshes (see the module docstring)."""
    settings = ctx.settings
    if settings.backfill_reserve_calls is not None:
        return settings.backfill_reserve_calls
    now = ctx.clock.now()
    today, day_start = new_york_date(now), quota_day_start(quota_day(now))
    reserve = 0
    for name in settings.stock_series:
        series = series_named(name)
        if not series_schedule(series, settings).runs_on(today):
            continue
        refreshed: set[str] = set()
        if series.planning is not Planning.INTRADAY:
            states = load_states(ctx.db, settings.stock_symbols, series)
            refreshed = {s for s, state in states.items() if state.last_attempt_at >= day_start}
        reserve += len(set(settings.stock_symbols) - refreshed)
    return reserve


def read_budget(ctx: IngestContext, reserve: int) -> BudgetView:
    """Today's spend on the key, as the backfill sees it."""
    info = budget_info(ctx.db, ctx.settings, now=ctx.clock.now())
    return BudgetView(ctx.settings.api_daily_budget, reserve, info.calls_today, info.day_exhausted)


@contextmanager
def capped_context(ctx: IngestContext, reserve: int) -> Iterator[IngestContext]:
    """`ctx` whose call gate stops at API_DAILY_BUDGET minus the reserve.

    The gate counts every process's calls of the day in the shared ledger and refuses the one
    past its budget before it is sent, retries included: so the backfill can never eat into the
    reserve, even while a refresh runs beside it (the refresh's own gate still has the whole
    budget)."""
    capped = ctx.settings.model_copy(
        update={"api_daily_budget": max(0, ctx.settings.api_daily_budget - reserve)}
    )
    with IngestContext(
        capped, ctx.db, clock=ctx.clock, output_size=ctx.output_size, run_id=ctx.run_id
    ) as inner:
        yield inner
