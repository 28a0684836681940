"""What today's scheduled refreshes still need of the key's budget: the reserve the call gate keeps
from the lower priority classes (stockpipe.quota.classes: corporate actions, backfill).

One call per symbol of the universe (STOCK_SYMBOLS, or the stored listing with
STOCK_UNIVERSE=listing, plus its two calls while today's listing refresh is due) for every
series of STOCK_SERIES whose schedule runs on today's New York date (stockpipe.scheduling: daily
every day, weekly and monthly on their period's last session, intraday on sessions), leaving out
a symbol whose refresh of that series already ran today (its calls are in today's spend, and a
daily, weekly or monthly schedule runs once a day). Intraday ticks every 15 minutes and may
spend a call per symbol at each tick, so it is counted once per symbol whatever ran. Asked again
on every call of a lower class, so it shrinks as the refreshes run.
"""

from __future__ import annotations

from collections.abc import Sequence

from stockpipe.ingest import universe
from stockpipe.ingest.context import IngestContext
from stockpipe.market_calendar import new_york_date
from stockpipe.quota import quota_day, quota_day_start
from stockpipe.scheduling import series_schedule
from stockpipe.series import Planning, series_named
from stockpipe.store.symbol_state import load_states


def refresh_need(ctx: IngestContext, symbols: Sequence[str] | None = None) -> int:
    """The calls kept for today's scheduled refreshes (see the module docstring)."""
    settings = ctx.settings
    now = ctx.clock.now()
    today, day_start = new_york_date(now), quota_day_start(quota_day(now))
    if symbols is None:  # a caller that also needs them passes the universe it read
        symbols = universe.symbols(ctx.db, settings)
    # The day's listing refresh, not made yet, comes first in the scheduled refresh.
    listing_due = universe.uses_listing(settings) and universe.refresh_due(ctx.db, quota_day(now))
    need = universe.LISTING_CALLS if listing_due else 0
    for name in settings.stock_series:
        series = series_named(name)
        if not series_schedule(series, settings).runs_on(today):
            continue
        refreshed: set[str] = set()
        if series.planning is not Planning.INTRADAY:
            states = load_states(ctx.db, symbols, series)
            refreshed = {s for s, state in states.items() if state.last_attempt_at >= day_start}
        need += len(set(symbols) - refreshed)
    return need
