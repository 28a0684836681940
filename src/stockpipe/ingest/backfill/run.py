"""The backfill run: plan the units still needed, spend today's share of the budget on them,
stop cleanly when it is gone. The one code path behind `stockpipe backfill`, the Dagster
`backfill_job` and anything else that wants history; it never prints (progress goes out
through `on_unit` and logging).

Resuming is free: a unit is recorded `done` once stored (backfill_unit), and the plan is made
again from that table and the bars tables at every run, so the next run (tomorrow, or after a
crash) starts with the first unit still missing and never refetches one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from stockpipe.ingest import universe
from stockpipe.ingest.backfill.budget import backfill_gate, read_budget, reserve_calls
from stockpipe.ingest.backfill.fetch import RunState, do_unit, record_unreachable
from stockpipe.ingest.backfill.progress import BackfillProgress, BudgetView
from stockpipe.ingest.backfill.results import BackfillSummary, UnitResult, UnitStatus
from stockpipe.ingest.backfill.units import Known, Plan, Unit, months_since, plan_units
from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.overlap import fanned_out
from stockpipe.market_calendar import new_york_date
from stockpipe.quota import CallClass
from stockpipe.series import INTRADAY, Planning, series_named
from stockpipe.settings import check_month
from stockpipe.store import latest_bar_ts_by_symbol
from stockpipe.store.backfill_units import load_units
from stockpipe.store.key_denial import load_denial

logger = logging.getLogger("stockpipe.ingest.backfill")

OnUnit = Callable[[UnitResult, BackfillProgress], None]
# Without BACKFILL_INTRADAY_SINCE or --since: this many complete months of intraday bars.
DEFAULT_INTRADAY_MONTHS = 12
# A denial found mid-run changes the plan (a free key's daily unit becomes `compact`); the
# plan is made again at most this often in one run.
_MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Scope:
    """Which history a backfill is about."""

    symbols: tuple[str, ...]
    series: tuple[str, ...]
    months: tuple[str, ...]  # intraday months, oldest first
    interval: str


@dataclass(frozen=True, slots=True)
class Preview:
    """A plan before any call (`stockpipe backfill --dry-run`)."""

    scope: Scope
    plan: Plan
    progress: BackfillProgress


def scope_of(
    ctx: IngestContext,
    *,
    symbols: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    since: str | None = None,
) -> Scope:
    """Defaults: the stored universe (STOCK_SYMBOLS, or the listing: the backfill never
    refreshes it, the scheduled refresh does), STOCK_SERIES, intraday from
    BACKFILL_INTRADAY_SINCE (else the last DEFAULT_INTRADAY_MONTHS complete months)."""
    settings = ctx.settings
    today = new_york_date(ctx.clock.now())
    default = _months_back(today, DEFAULT_INTRADAY_MONTHS)
    # The settings checked their own month; a caller's (Dagster's launchpad) is checked here.
    start = check_month(since) if since else settings.backfill_intraday_since or default
    retention = settings.stock_intraday_retention_months
    if retention is not None:  # a month retention drops is never loaded (YYYY-MM sorts)
        start = max(start, _months_back(today, retention))
    names = tuple(dict.fromkeys(series_named(s).name for s in (series or settings.stock_series)))
    return Scope(
        tuple(dict.fromkeys(symbols or universe.symbols(ctx.db, settings))),
        names,
        months_since(start, today) if INTRADAY.name in names else (),
        settings.stock_intraday_interval,
    )


def _months_back(today: date, months: int) -> str:
    index = today.year * 12 + today.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def read_known(ctx: IngestContext, scope: Scope) -> Known:
    """What the plan is made from: stored rows, recorded units, the key's denials."""
    has_rows = {}
    for name in scope.series:
        described = series_named(name)
        if described.planning is not Planning.INTRADAY:
            latest = latest_bar_ts_by_symbol(ctx.db, scope.symbols, table=described.table)
            has_rows[name] = frozenset(s for s, ts in latest.items() if ts is not None)
    recorded = load_units(ctx.db, scope.symbols)
    fingerprint = ctx.gate.fingerprint
    return Known(
        has_rows=has_rows,
        done=frozenset(k for k, u in recorded.items() if u.status == "done"),
        reported=frozenset(
            k
            for k, u in recorded.items()
            if u.status == "unreachable" and u.key_fingerprint == fingerprint
        ),
        full_denied=ctx.gate.full_history_denied(),
        denied_series=frozenset(
            name for name in scope.series if load_denial(ctx.db, fingerprint, name) is not None
        ),
    )


def plan_for(ctx: IngestContext, scope: Scope, *, retry_unreachable: bool = False) -> Plan:
    return _plan(read_known(ctx, scope), scope, retry_unreachable=retry_unreachable)


def _plan(known: Known, scope: Scope, *, retry_unreachable: bool) -> Plan:
    return plan_units(
        scope.symbols,
        scope.series,
        known,
        interval=scope.interval,
        months=scope.months,
        retry_unreachable=retry_unreachable,
    )


def preview_backfill(
    ctx: IngestContext,
    *,
    symbols: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    since: str | None = None,
    retry_unreachable: bool = False,
) -> Preview:
    """The plan and what it costs, without a call or a write."""
    scope = scope_of(ctx, symbols=symbols, series=series, since=since)
    plan = plan_for(ctx, scope, retry_unreachable=retry_unreachable)
    budget = read_budget(ctx, reserve_calls(ctx))
    return Preview(scope, plan, _progress(plan, 0, budget))


def run_backfill(
    ctx: IngestContext,
    *,
    symbols: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    since: str | None = None,
    retry_unreachable: bool = False,
    on_unit: OnUnit | None = None,
) -> BackfillSummary:
    """Fetch the units still needed while today's share of the budget lasts (see the package
    docstring). Never raises for a unit's own failure; a database that cannot be read at the
    start raises DatabaseError."""
    scope = scope_of(ctx, symbols=symbols, series=series, since=since)
    reserve = reserve_calls(ctx)
    known = read_known(ctx, scope)
    first = plan = _plan(known, scope, retry_unreachable=retry_unreachable)
    state = RunState(budget_message=_budget_message(ctx, reserve))
    if retry_unreachable:
        state.retrying = set(known.denied_series)
    # Nothing left today: stop before the first call. Not while a refresh or the corporate
    # actions run: their calls in flight are counted spent and still needed, so the gate
    # decides once they are done (it waits for them).
    if (
        read_budget(ctx, reserve).left_today == 0
        and plan.todo
        and not ctx.gate.higher_run_active(CallClass.BACKFILL)
    ):
        state.halt, state.halt_reason = UnitStatus.DEFERRED, state.budget_message
    results: list[UnitResult] = []
    unreachable: dict[tuple[str, str, str], Unit] = {}
    attempted: set[tuple[str, str, str]] = set()
    with backfill_gate(ctx) as capped:
        for _ in range(_MAX_ROUNDS):
            for unit in plan.newly_unreachable:
                record_unreachable(ctx, unit)
                unreachable[unit.key] = unit
            done = len(plan.settled)
            left, gone = len(plan.todo), len(plan.unreachable)
            todo = [u for u in plan.todo if u.key not in attempted]
            attempted.update(u.key for u in todo)

            def unit_result(unit: Unit) -> UnitResult | None:
                if state.halt is not None:
                    return None  # the rest waits for the next run: counted as left, not listed
                return do_unit(capped, unit, state)

            # Up to API_MAX_IN_FLIGHT units at once; the call gate paces their starts and
            # keeps the backfill's share of the budget.
            finished = fanned_out(
                todo, unit_result, workers=ctx.in_flight, name="stockpipe-backfill"
            )
            try:
                for result in (r for r in finished if r is not None):
                    results.append(result)
                    if result.status is UnitStatus.DONE:
                        done, left = done + 1, left - 1
                    elif result.status is UnitStatus.UNREACHABLE:
                        gone, left = gone + 1, left - 1
                        unreachable[result.unit.key] = result.unit
                    if on_unit is not None:
                        budget = read_budget(ctx, reserve)
                        spent = sum(r.calls for r in results)
                        on_unit(result, BackfillProgress(done, left, gone, spent, budget))
            finally:
                finished.close()
            if state.halt is not None or not state.replan:
                break
            # A denial found in this run: the next plan drops what is out of reach and adds
            # what replaces it (a free key's `compact` for a symbol without daily bars).
            state.replan = False
            plan = plan_for(ctx, scope)
    _warn_unreachable(unreachable.values())
    # Without the retry: what a retry found out of reach again is unreachable, not left to do.
    final = plan_for(ctx, scope)
    final_budget = read_budget(ctx, reserve)
    summary = BackfillSummary(
        first,
        final,
        tuple(results),
        _progress(final, sum(r.calls for r in results), final_budget),
        state.halt,
        state.halt_reason,
    )
    logger.info("%s", summary.message)
    return summary


def _progress(plan: Plan, calls: int, budget: BudgetView) -> BackfillProgress:
    return BackfillProgress(len(plan.settled), len(plan.todo), len(plan.unreachable), calls, budget)


def _budget_message(ctx: IngestContext, reserve: int) -> str:
    budget = ctx.settings.api_daily_budget
    if budget is None:
        return "the day's calls ran out (API_DAILY_BUDGET=none, no daily cap); the next run resumes"
    return (
        f"today's backfill budget is spent (API_DAILY_BUDGET={budget} minus a reserve of"
        f" {reserve} for the scheduled refreshes leaves {max(0, budget - reserve)} calls a day;"
        " BACKFILL_RESERVE_CALLS sets the reserve); the next run resumes where this one stopped"
    )


def _warn_unreachable(units: Iterable[Unit]) -> None:
    """Once per symbol and series, when first found (later runs only count them)."""
    grouped: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for unit in units:
        grouped[(unit.symbol, unit.series)].append(unit)
    for (symbol, series), members in grouped.items():
        what = f"{len(members)} intraday months" if members[0].month else members[0].unit
        reason = (
            "needs a premium Alpha Vantage key (outputsize=full); this key gets 100 bars"
            if series == "daily"
            else "needs a premium Alpha Vantage key (premium-only reply)"
        )
        logger.warning(
            "backfill %s %s: %s %s: recorded, not asked again while the key's denial holds"
            " (stockpipe backfill --retry-unreachable tries at once)",
            symbol, series, what, reason,
        )  # fmt: skip
