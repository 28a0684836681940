"""One unit of the backfill: one call, its bars upserted, its outcome recorded.

Errors become the unit's result the way the refresh's steps treat them (stockpipe.ingest
.steps): the budget gone or the API out of reach stops the run cleanly (the rest is deferred,
at no call); a premium-only reply makes the unit (and every unit of its kind after it)
unreachable for this key, remembered; anything else fails this unit alone.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from stockpipe.alphavantage import (
    AlphaVantageError,
    ApiUnreachable,
    BudgetExhausted,
    DemoKeyMisuse,
    EmptySeries,
    InvalidApiKey,
    ParsedSeries,
    PremiumEndpoint,
    PremiumParameter,
    RateLimited,
    SeriesRequest,
)
from stockpipe.ingest.backfill.results import UnitResult, UnitStatus
from stockpipe.ingest.backfill.units import FULL, Unit
from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.premium import forget_denial, premium_message, remember_denial
from stockpipe.ingest.series_run import SeriesRun
from stockpipe.market_calendar import latest_completed_session
from stockpipe.series import DAILY
from stockpipe.store import DatabaseError, upsert_bars
from stockpipe.store.backfill_units import UnitOutcome, record_unit

logger = logging.getLogger("stockpipe.ingest.backfill")

FULL_UNREACHABLE = (
    "daily full history (outputsize=full) needs a premium Alpha Vantage key: this key gets"
    " the latest 100 bars only (compact)"
)


@dataclass(slots=True)
class RunState:
    """What one backfill run learns as it goes."""

    halt: UnitStatus | None = None  # set once no further call is worth making
    halt_reason: str = ""
    full_denied: bool = False  # a premium-parameter reply to daily full in this run
    denied_series: set[str] = field(default_factory=set)  # premium-only replies in this run
    replan: bool = False  # a denial found in this run changes what the plan needs
    # Series denied to the key that --retry-unreachable asks again: a success clears the
    # denial (an upgraded key), as a successful refresh of the series does.
    retrying: set[str] = field(default_factory=set)
    budget_message: str = ""  # what to say when the gate refuses the next call


def do_unit(ctx: IngestContext, unit: Unit, state: RunState) -> UnitResult:
    """Fetch, store and record one unit; never raises."""
    if state.halt is not None:
        return UnitResult(unit, state.halt, message=state.halt_reason)
    if unit.series in state.denied_series or (
        state.full_denied and unit.series == DAILY.name and unit.unit == FULL
    ):
        return _unreachable(ctx, unit, 0, _unreachable_message(ctx, unit))
    run = SeriesRun.of(unit.series, ctx.settings)
    with ctx.gate.attribute(unit.symbol, run.function.value) as tally:
        try:
            parsed = ctx.client.fetch(_request(ctx, run, unit))
        except Exception as exc:  # every error becomes the unit's result (see _failure)
            return _failure(ctx, unit, run, exc, calls=tally.calls, state=state)
    if unit.series in state.retrying:
        state.retrying.discard(unit.series)
        forget_denial(ctx.db, ctx.settings, run.series)
    return _store(ctx, unit, run, parsed, tally.calls)


def _request(ctx: IngestContext, run: SeriesRun, unit: Unit) -> SeriesRequest:
    size = unit.unit if run.is_daily else ("full" if run.intraday else None)
    request = run.request(unit.symbol, size, ctx.settings.api_datatype)  # type: ignore[arg-type]
    if unit.month is not None:
        request = dataclasses.replace(request, interval=unit.interval, month=unit.month)
    return request


def _store(
    ctx: IngestContext, unit: Unit, run: SeriesRun, parsed: ParsedSeries, calls: int
) -> UnitResult:
    target = latest_completed_session(ctx.clock.now())
    try:
        upserted = upsert_bars(
            ctx.db,
            run.storable(parsed.bars, target),
            table=run.series.table,
            extras=run.extras(target),
            unique=True,
            run_id=ctx.run_id,
        )
    except DatabaseError as exc:
        return _record(ctx, UnitResult(unit, UnitStatus.FAILED, calls, message=f"database: {exc}"))
    skipped = sum(parsed.skipped.values())
    note = f"{skipped} invalid bars skipped" if skipped else ""
    return _record(
        ctx,
        UnitResult(
            unit, UnitStatus.DONE, calls, upserted.inserted, upserted.updated,
            upserted.unchanged, note,
        ),
    )  # fmt: skip


def _failure(
    ctx: IngestContext, unit: Unit, run: SeriesRun, exc: Exception, *, calls: int, state: RunState
) -> UnitResult:
    if isinstance(exc, PremiumParameter) and run.is_daily and unit.unit == FULL:
        # The gate remembered the denial for the key already (its report of the reply).
        state.full_denied = state.replan = True
        return _unreachable(ctx, unit, calls, FULL_UNREACHABLE)
    if isinstance(exc, PremiumEndpoint | PremiumParameter):
        remember_denial(
            ctx.db, ctx.settings, run.series,
            function=run.function.value, reason=exc.message, at=ctx.clock.now(),
        )  # fmt: skip
        state.denied_series.add(unit.series)
        state.replan = True
        return _unreachable(ctx, unit, calls, premium_message(run.series, run.function.value))
    if isinstance(exc, EmptySeries) and unit.month is not None:
        # An empty month: before the listing, or a halt all month long. Settled, so it is
        # not asked again every run; the call was spent on it.
        message = f"Alpha Vantage has no {unit.interval} bars for {unit.month}"
        return _record(ctx, UnitResult(unit, UnitStatus.DONE, calls, message=message))
    if isinstance(exc, RateLimited | ApiUnreachable):
        if isinstance(exc, RateLimited):
            ctx.gate.note_rate_limit(exc)
        message = state.budget_message if isinstance(exc, BudgetExhausted) else exc.message
        state.halt, state.halt_reason = UnitStatus.DEFERRED, message or exc.message
        return UnitResult(unit, UnitStatus.DEFERRED, calls, message=state.halt_reason)
    if isinstance(exc, InvalidApiKey | DemoKeyMisuse):
        state.halt, state.halt_reason = UnitStatus.FAILED, f"not attempted: {exc.message}"
        return _record(ctx, UnitResult(unit, UnitStatus.FAILED, calls, message=exc.message))
    if isinstance(exc, AlphaVantageError):
        message = f"{type(exc).__name__}: {exc.message}"
    elif isinstance(exc, DatabaseError):  # the call gate could not reach PostgreSQL
        message = f"database: {exc}"
    else:  # a bug must not stop the other units; it is logged whole
        logger.exception("%s: unexpected error while fetching", unit.label)
        message = f"unexpected {type(exc).__name__}: {exc}"
    return _record(ctx, UnitResult(unit, UnitStatus.FAILED, calls, message=message))


def _unreachable_message(ctx: IngestContext, unit: Unit) -> str:
    if unit.series == DAILY.name and unit.unit == FULL:
        return FULL_UNREACHABLE
    run = SeriesRun.of(unit.series, ctx.settings)
    return premium_message(run.series, run.function.value)


def _unreachable(ctx: IngestContext, unit: Unit, calls: int, message: str) -> UnitResult:
    return _record(ctx, UnitResult(unit, UnitStatus.UNREACHABLE, calls, message=message))


def record_unreachable(ctx: IngestContext, unit: Unit) -> None:
    """Record a unit the plan found out of reach (no call), so it is reported only once."""
    _unreachable(ctx, unit, 0, _unreachable_message(ctx, unit))


def _record(ctx: IngestContext, result: UnitResult) -> UnitResult:
    unit = result.unit
    outcome = UnitOutcome(
        unit.symbol, unit.series, unit.unit, result.status.value, result.calls,
        result.inserted, result.updated, result.message,
    )  # fmt: skip
    try:
        record_unit(
            ctx.db, outcome, key_fingerprint=ctx.gate.fingerprint, run_id=ctx.run_id,
            at=ctx.clock.now(),
        )  # fmt: skip
    except DatabaseError as exc:  # the unit is fetched again next run: only log it
        logger.error("%s: could not record the backfill unit: %s", unit.label, exc)
    # Callers show every unit with the run's progress (on_unit), and unreachable units are
    # warned about once per symbol and series by the run: only problems are logged here.
    level = {UnitStatus.DONE: logging.DEBUG, UnitStatus.UNREACHABLE: logging.DEBUG}
    logger.log(
        level.get(result.status, logging.WARNING),
        "backfill %s: %s (%d calls) %s", unit.label, result.status.value, result.calls,
        result.message,
    )  # fmt: skip
    return result
