"""How many of the day's calls the backfill may spend: API_DAILY_BUDGET minus a reserve for the
higher priority classes (stockpipe.quota.classes) minus what every process already spent today.

The reserve is BACKFILL_RESERVE_CALLS when set. Unset, it is what today's scheduled refreshes
still need at most (stockpipe.ingest.due_today: one call per symbol of the universe and series
due today, plus the listing's two calls while its refresh is due), plus a call per corporate
action (SPLITS, DIVIDENDS of each symbol) never fetched or due again
(stockpipe.ingest.corporate_actions .actions_need): the order is refreshes, then corporate
actions, then the backfill. With intraday in STOCK_SERIES, or without corporate actions in the
deployment, set BACKFILL_RESERVE_CALLS to what the others really spend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from stockpipe.ingest import universe
from stockpipe.ingest.backfill.progress import BudgetView
from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.corporate_actions import actions_need
from stockpipe.ingest.due_today import refresh_need
from stockpipe.quota import CallClass, budget_info

# What the backfill reckons with when API_DAILY_BUDGET=none (no daily cap): more than any plan.
NO_CAP = 10**9


def reserve_calls(ctx: IngestContext) -> int:
    """The calls kept for the higher classes today (see the module docstring)."""
    settings = ctx.settings
    if settings.backfill_reserve_calls is not None:
        return settings.backfill_reserve_calls
    # Read on backfill claims (every few seconds at most): the universe is read once for both needs.
    symbols = universe.symbols(ctx.db, settings)
    return refresh_need(ctx, symbols) + actions_need(ctx, symbols)


def read_budget(ctx: IngestContext, reserve: int) -> BudgetView:
    """Today's spend on the key, as the backfill sees it."""
    info = budget_info(ctx.db, ctx.settings, now=ctx.clock.now())
    budget = ctx.settings.api_daily_budget
    return BudgetView(
        NO_CAP if budget is None else budget, reserve, info.calls_today, info.day_exhausted
    )


@contextmanager
def backfill_gate(ctx: IngestContext) -> Iterator[IngestContext]:
    """`ctx` whose call gate spends as the backfill: the lowest class, which stops at
    API_DAILY_BUDGET minus the reserve (read again every few seconds) and takes no slot while a
    refresh or the corporate actions are running.

    The gate counts every process's calls of the day in the shared ledger and refuses the one
    past its budget before it is sent, retries included: so the backfill can never eat into the
    reserve, even while a refresh runs beside it (the refresh's own gate has the whole
    budget)."""
    with ctx.gate.serving(CallClass.BACKFILL, reserve=lambda: reserve_calls(ctx)):
        yield ctx
