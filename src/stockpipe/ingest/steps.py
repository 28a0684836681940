"""The two halves of ingesting one symbol: `prepare` (plan and fetch: the part that talks to
the API, run on the fetch thread) and `finish` (store and record). Neither raises for the
symbol's own failures: they become its FAILED or DEFERRED result, so one symbol never stops
the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from stockpipe.alphavantage import (
    AlphaVantageError,
    ApiUnreachable,
    Function,
    InvalidApiKey,
    NoValidBars,
    ParsedSeries,
    PremiumEndpoint,
    PremiumParameter,
    RateLimited,
    SeriesRequest,
)
from stockpipe.bars import Bar
from stockpipe.ingest.adjusted_refetch import forget_refetch
from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.gap_memory import GapLearning, learn_gaps, note_gaps
from stockpipe.ingest.gaps import Answer, SessionGaps, session_gaps
from stockpipe.ingest.plan import FetchPlan, OutputSize
from stockpipe.ingest.premium import forget_denial, premium_message, remember_denial
from stockpipe.ingest.publication import Unpublished, note_publication, wait_message, waiting_for
from stockpipe.ingest.rejection import (
    Rejection,
    is_symbol_rejection,
    quarantine_message,
    quarantined_until,
    rejection_note,
)
from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.ingest.series_run import SeriesRun
from stockpipe.ingest.state import record_result
from stockpipe.market_calendar import latest_completed_session, new_york_date
from stockpipe.quota import SLOW_SPACING_CAP_SEC
from stockpipe.store import DatabaseError, latest_bar_ts, upsert_bars
from stockpipe.store.backfill_units import UnitOutcome, record_unit
from stockpipe.store.sessions import StoredSessions, read_stored_sessions
from stockpipe.store.upsert import UpsertResult

# The steps log as the ingest they belong to, so one logger name covers a whole run.
logger = logging.getLogger("stockpipe.ingest")


class Unread:
    """`prepare(stored=..., sessions=...)` default: what is stored was not read up front."""


UNREAD = Unread()


@dataclass(slots=True)
class Halt:
    """What one run learns as it goes. `status` is set once no further call is worth making
    (budget gone, key rejected); `full_denied` caches the gate's full-history denial, read once
    per run (None: not read yet) and set by a premium-parameter reply in this run (a denial by
    another process meanwhile costs at most one call here, answered and remembered the same way).
    """

    status: SymbolStatus | None = None
    reason: str = ""
    full_denied: bool | None = None
    # The series was denied to this key before (stockpipe.ingest.premium) and is being tried
    # again: a successful fetch clears that memory.
    retrying_denial: bool = False


@dataclass(slots=True)
class Prepared:
    """A symbol after planning and fetching: either series to store, or a final result."""

    symbol: str
    plan: FetchPlan | None
    series: ParsedSeries | None = None
    calls: int = 0
    output_size: OutputSize | None = None
    history_limited: bool = False
    result: SymbolResult | None = None
    # The adjusted series was marked for a refetch at this time (stockpipe.ingest
    # .adjusted_refetch): the plan fetches the whole history; a load clears the mark.
    refetch_mark: datetime | None = None
    # Daily: the symbol's missing sessions when planned, and whether the key was denied full
    # history once the fetch was over (stockpipe.ingest.gap_memory learns from both).
    gaps: SessionGaps | None = None
    full_denied: bool = False
    # Deferred by a throttle (not the day's budget) that outlived the client's retries: the
    # run tries the symbol once more at its end (stockpipe.ingest.run).
    throttled: bool = False


class FullHistoryOnly(Exception):
    """The key was refused `full`, and a compact answer would bring nothing the plan wants:
    the sessions the full call was for stay missing, and no second call is made."""


def prepare(
    ctx: IngestContext,
    symbol: str,
    halt: Halt,
    rejection: Rejection | None = None,
    *,
    stored: datetime | Unread | None = UNREAD,
    sessions: StoredSessions | Unread | None = UNREAD,
    unpublished: Unpublished | None = None,
    run: SeriesRun | None = None,
    refetch_mark: datetime | None = None,
) -> Prepared:
    """Plan and fetch one symbol of a series (daily unless `run` says otherwise: the part that
    talks to the API). Never raises. `stored`: the symbol's newest stored bar time if the caller
    read it already (None: no bars); daily reads `sessions` instead (its stored history and
    missing sessions, stockpipe.store.sessions; None: no bars); `unpublished`: the session
    Alpha Vantage lately did not have (stockpipe.ingest.publication); `refetch_mark`: when the
    adjusted series was marked for a refetch after a corporate action
    (stockpipe.ingest.adjusted_refetch)."""
    run = run or SeriesRun.of("daily", ctx.settings)
    gaps: SessionGaps | None = None
    try:
        now = ctx.clock.now()
        full_denied = False
        if run.is_daily:
            target = latest_completed_session(now)
            if isinstance(sessions, Unread):
                sessions = read_stored_sessions(ctx.db, [symbol], today=target).get(symbol)
            gaps = session_gaps(symbol, sessions, target)
            latest = sessions.latest_ts if sessions is not None else None
            # Read once per run: for the auto policy, or for missing sessions only full reaches.
            if halt.full_denied is None and (ctx.output_size == "auto" or gaps.holes):
                halt.full_denied = ctx.gate.full_history_denied()
            full_denied = bool(halt.full_denied)
        elif isinstance(stored, Unread):
            latest = latest_bar_ts(ctx.db, symbol, table=run.series.table, interval=run.interval)
        else:
            latest = stored
        plan = run.plan(
            symbol,
            latest,
            now,
            policy=ctx.output_size,
            full_denied=full_denied,
            holes=gaps.holes if gaps is not None else (),
            refetch=refetch_mark is not None,
        )
    except DatabaseError as exc:
        return Prepared(
            symbol, None, result=_result(symbol, SymbolStatus.FAILED, f"database: {exc}")
        )
    prepared = _prepare_planned(ctx, plan, halt, rejection, unpublished=unpublished, run=run)
    prepared.gaps, prepared.full_denied = gaps, bool(halt.full_denied)
    prepared.refetch_mark = refetch_mark
    return prepared


def _prepare_planned(
    ctx: IngestContext,
    plan: FetchPlan,
    halt: Halt,
    rejection: Rejection | None,
    *,
    unpublished: Unpublished | None,
    run: SeriesRun,
) -> Prepared:
    symbol = plan.symbol
    if not plan.needs_call:
        result = SymbolResult(symbol, SymbolStatus.UP_TO_DATE, latest_bar=plan.latest_stored)
        return Prepared(symbol, plan, result=result)
    retry_days = ctx.settings.api_rejected_symbol_retry_days
    retry_day = quarantined_until(rejection, ctx.clock.now(), retry_days)
    if rejection is not None and retry_day is not None:
        message = quarantine_message(rejection, retry_day)
        result = _result(symbol, SymbolStatus.FAILED, message, plan=plan, rejected=True)
        return Prepared(symbol, plan, result=result)
    if unpublished is not None and waiting_for(unpublished, plan.target, ctx.clock.now()):
        result = replace(
            _result(symbol, SymbolStatus.DEFERRED, wait_message(unpublished), plan=plan),
            awaiting_publication=True,
        )
        return Prepared(symbol, plan, result=result)
    if halt.status is not None:
        result = _result(symbol, halt.status, halt.reason, plan=plan)
        return Prepared(symbol, plan, result=result)
    prepared = Prepared(
        symbol,
        plan,
        output_size=plan.output_size,
        history_limited=plan.history_limited,
    )
    with ctx.gate.attribute(symbol, run.function.value) as tally:
        _fetch(ctx, run, plan, prepared, halt)
    prepared.calls = tally.calls
    return prepared


def fetch_time_bound(ctx: IngestContext) -> float:
    """Seconds after which one symbol's fetch is given up (stockpipe.ingest.overlap). Every
    wait below has its own limit; this adds them all up, generously (each attempt may wait for
    the spacing or a slow-down, the per-minute window, its backoff and its whole reply; the
    fallback to compact doubles the attempts), so it only fires when something below hangs.
    With the defaults: about an hour."""
    settings = ctx.settings
    attempts = 2 * (settings.api_max_retries + 1)
    per_attempt = (
        max(settings.api_polite_delay_sec, SLOW_SPACING_CAP_SEC)
        + 60.0  # the per-minute window
        + ctx.client.backoff_cap
        + settings.api_connect_timeout_sec
        + settings.api_read_timeout_sec
    )
    return attempts * per_attempt + settings.postgres_statement_timeout_sec + 60.0


def abandoned(symbol: str, waited: float) -> Prepared:
    """The stand-in for a fetch that outlived fetch_time_bound."""
    message = (
        f"the fetch did not finish within {waited:.0f}s and was abandoned (a network or"
        " database wait that never ended); the next run tries again"
    )
    return Prepared(symbol, None, result=_result(symbol, SymbolStatus.FAILED, message))


def _fetch(
    ctx: IngestContext, run: SeriesRun, plan: FetchPlan, prepared: Prepared, halt: Halt
) -> None:
    """Fetch into `prepared.series`, or set `prepared.result` to why not. Never raises."""
    symbol = plan.symbol
    try:
        prepared.series = _fetch_with_fallback(ctx, run, plan, prepared, halt)
        if halt.retrying_denial:
            halt.retrying_denial = False
            forget_denial(ctx.db, ctx.settings, run.series)
    except FullHistoryOnly:
        prepared.output_size = None
        prepared.result = SymbolResult(
            symbol, SymbolStatus.UP_TO_DATE, latest_bar=plan.latest_stored, history_limited=True
        )
    except (PremiumEndpoint, PremiumParameter) as exc:
        if run.function is Function.DAILY:  # plain daily is never premium-only: as it was
            _failed_call(ctx, prepared, exc)
            return
        # Not the daily full-history fallback (handled inside the fetch): this key cannot
        # have the series at all. Remembered per key; the rest of the run spends nothing.
        message = premium_message(run.series, run.function.value)
        remember_denial(
            ctx.db, ctx.settings, run.series,
            function=run.function.value, reason=exc.message, at=ctx.clock.now(),
        )  # fmt: skip
        halt.status, halt.reason = SymbolStatus.FAILED, message
        prepared.result = _result(symbol, SymbolStatus.FAILED, message, plan=plan)
    except RateLimited as exc:
        ctx.gate.note_rate_limit(exc)
        prepared.result = _result(symbol, SymbolStatus.DEFERRED, exc.message, plan=plan)
        if exc.scope == "day":
            # The day's budget is gone: more calls today would only be refused, so the rest
            # of the run is deferred too.
            halt.status, halt.reason = SymbolStatus.DEFERRED, f"not attempted: {exc.message}"
        else:
            # A throttle that outlived the client's retries: the gate has slowed every worker
            # of the key down; the run asks for this symbol again once the others are done.
            prepared.throttled = True
    except ApiUnreachable as exc:
        # No attempt reached Alpha Vantage, so none was spent: the next symbols would only
        # fail the same way. They wait for the next run, first in line.
        halt.status, halt.reason = SymbolStatus.DEFERRED, f"not attempted: {exc.message}"
        prepared.result = _result(symbol, SymbolStatus.DEFERRED, exc.message, plan=plan)
    except InvalidApiKey as exc:
        halt.status, halt.reason = SymbolStatus.FAILED, f"not attempted: {exc.message}"
        prepared.result = _result(symbol, SymbolStatus.FAILED, exc.message, plan=plan)
    except NoValidBars as exc:
        prepared.result = _result(
            symbol, SymbolStatus.FAILED, exc.message, plan=plan, skipped=exc.skipped
        )
    except AlphaVantageError as exc:
        _failed_call(ctx, prepared, exc)
    except DatabaseError as exc:  # the quota gate could not reach PostgreSQL
        prepared.result = _result(symbol, SymbolStatus.FAILED, f"database: {exc}", plan=plan)
    except Exception as exc:  # a bug must not stop the other symbols; it is logged whole
        logger.exception("%s: unexpected error while fetching", symbol)
        prepared.result = _result(
            symbol, SymbolStatus.FAILED, f"unexpected {type(exc).__name__}: {exc}", plan=plan
        )


def _failed_call(ctx: IngestContext, prepared: Prepared, exc: AlphaVantageError) -> None:
    message, rejected = f"{type(exc).__name__}: {exc.message}", is_symbol_rejection(exc)
    if rejected:
        message += rejection_note(ctx.clock.now(), ctx.settings.api_rejected_symbol_retry_days)
    prepared.result = _result(
        prepared.symbol, SymbolStatus.FAILED, message, plan=prepared.plan, rejected=rejected
    )


def _fetch_with_fallback(
    ctx: IngestContext, run: SeriesRun, plan: FetchPlan, prepared: Prepared, halt: Halt
) -> ParsedSeries:
    def request(size: OutputSize | None) -> SeriesRequest:
        return run.request(plan.symbol, size, ctx.settings.api_datatype)

    try:
        return ctx.client.fetch(request(plan.output_size))
    except PremiumParameter:
        if plan.output_size != "full" or not run.is_daily:
            raise
    # The key gets compact only: remember it so the next symbols go straight to compact.
    halt.full_denied = True
    ctx.gate.mark_full_history_denied()
    if not plan.compact_helps:
        logger.warning("%s: full history is a premium feature for this key", plan.symbol)
        raise FullHistoryOnly
    logger.warning("%s: full history is a premium feature for this key; using compact", plan.symbol)
    prepared.output_size = "compact"
    prepared.history_limited = True
    return ctx.client.fetch(request("compact"))


def finish(ctx: IngestContext, prepared: Prepared, run: SeriesRun | None = None) -> SymbolResult:
    """Store what `prepare` fetched, then record the result in symbol_state. Never raises."""
    run = run or SeriesRun.of("daily", ctx.settings)
    if prepared.result is None:
        try:
            result = _store(ctx, prepared, run)
        except Exception as exc:  # a bug must not stop the other symbols; it is logged whole
            logger.exception("%s: unexpected error while storing", prepared.symbol)
            result = _result(
                prepared.symbol, SymbolStatus.FAILED,
                f"unexpected {type(exc).__name__}: {exc}", plan=prepared.plan, calls=prepared.calls,
            )  # fmt: skip
    else:
        result = fetched_result(prepared)
    if prepared.refetch_mark is not None and result.status is SymbolStatus.LOADED:
        forget_refetch(ctx.db, result.symbol, run, prepared.refetch_mark)
    learning = gaps_learned(ctx, prepared, result)
    if learning is not None:
        result = note_gaps(ctx, result, learning)
    now = ctx.clock.now()
    if run.is_daily and result.status is SymbolStatus.LOADED:
        _settle_daily_history(ctx, prepared, result, now)
    try:
        record_result(ctx.db, result, now, run.series)
    except DatabaseError as exc:
        logger.error("%s: could not record the result: %s", result.symbol, exc)
    if prepared.plan is not None and not run.intraday:
        note_publication(ctx.db, result, prepared.plan.target, now, run.series)
    log_result(run, result)
    return result


def gaps_learned(
    ctx: IngestContext, prepared: Prepared, result: SymbolResult
) -> GapLearning | None:
    """What this symbol's fetch taught about its sessions (None: it was not planned by gaps)."""
    if prepared.plan is None or prepared.gaps is None:
        return None
    return learn_gaps(
        ctx,
        result,
        prepared.plan,
        prepared.gaps,
        answer=Answer.of(prepared.series.bars) if prepared.series is not None else None,
        delivered=prepared.output_size,
        full_denied=prepared.full_denied,
    )


def store_failed(prepared: Prepared, exc: DatabaseError) -> Prepared:
    """`prepared` with its result decided: storing it failed with `exc` (as _store says)."""
    if prepared.result is not None or prepared.plan is None or prepared.series is None:
        return prepared
    result = _result(
        prepared.symbol, SymbolStatus.FAILED, f"database: {exc}", plan=prepared.plan,
        skipped=prepared.series.skipped, limited=prepared.history_limited,
    )  # fmt: skip
    return replace(prepared, result=result, series=None)


def fetched_result(prepared: Prepared) -> SymbolResult:
    """The result `prepare` already decided, with what is only known once the fetch is over:
    the calls spent and the fallback to compact."""
    assert prepared.result is not None
    limited = prepared.result.history_limited or prepared.history_limited
    return replace(prepared.result, calls=prepared.calls, history_limited=limited)


def log_result(run: SeriesRun, result: SymbolResult) -> None:
    quiet = result.status in (SymbolStatus.LOADED, SymbolStatus.UP_TO_DATE)
    prefix = "" if run.is_daily else f"{run.label} "
    (logger.info if quiet else logger.warning)(
        "%s%s: %s (%d calls) %s",
        prefix, result.symbol, result.status.value, result.calls, result.message,
    )  # fmt: skip


def settle_loaded(
    ctx: IngestContext, prepared: Prepared, result: SymbolResult, run: SeriesRun, now: datetime
) -> None:
    """After a symbol's bars are stored: the rare bookkeeping of a load, each in its own short
    transaction (a refetch mark forgotten, the daily history recorded as loaded). Never raises;
    a failure costs at most one more call later."""
    if result.status is not SymbolStatus.LOADED:
        return
    if prepared.refetch_mark is not None:
        forget_refetch(ctx.db, result.symbol, run, prepared.refetch_mark)
    if run.is_daily:
        _settle_daily_history(ctx, prepared, result, now)


def _settle_daily_history(
    ctx: IngestContext, prepared: Prepared, result: SymbolResult, now: datetime
) -> None:
    """A refresh that loaded daily `full` history (a premium key's first load) did the
    backfill's daily unit: record it, so `stockpipe backfill` does not ask for it again."""
    plan = prepared.plan
    if plan is None or plan.output_size != "full" or result.history_limited:
        return
    outcome = UnitOutcome(
        result.symbol, "daily", "full", "done", 0, result.inserted, result.updated,
        "loaded by the daily refresh",
    )  # fmt: skip
    try:
        record_unit(
            ctx.db, outcome, key_fingerprint=ctx.gate.fingerprint, run_id=ctx.run_id, at=now
        )
    except DatabaseError as exc:  # the backfill then spends one call on it again: only log
        logger.error("%s: could not record the daily history as loaded: %s", result.symbol, exc)


def _store(ctx: IngestContext, prepared: Prepared, run: SeriesRun) -> SymbolResult:
    plan, series = prepared.plan, prepared.series
    assert plan is not None and series is not None
    limited = prepared.history_limited
    try:
        bars = run.storable(series.bars, plan.target)
        # One parsed payload of one symbol: the parser already dropped repeated timestamps.
        upserted = upsert_bars(
            ctx.db,
            bars,
            table=run.series.table,
            extras=run.extras(plan.target),
            unique=True,
            run_id=ctx.run_id,
        )
    except DatabaseError as exc:
        return _result(
            plan.symbol, SymbolStatus.FAILED, f"database: {exc}", plan=plan,
            calls=prepared.calls, skipped=series.skipped, limited=limited,
        )  # fmt: skip
    return stored_result(prepared, run, bars, upserted)


def stored_result(
    prepared: Prepared, run: SeriesRun, bars: list[Bar], upserted: UpsertResult
) -> SymbolResult:
    """A symbol's LOADED result once `bars` (its storable bars) are stored with these counts."""
    plan, series = prepared.plan, prepared.series
    assert plan is not None and series is not None
    limited = prepared.history_limited
    newest = max((bar.ts for bar in bars), default=None)
    newest_date = new_york_date(newest) if newest else None
    latest = max((d for d in (plan.latest_stored, newest_date) if d is not None), default=None)
    notes = []
    if prepared.refetch_mark is not None:
        notes.append("adjusted history refetched after a corporate action")
    if limited:
        notes.append("history limited: this key gets the latest 100 bars only (compact)")
    if len(bars) < len(series.bars):
        trading = new_york_date(max(bar.ts for bar in series.bars))
        notes.append(f"the bar of {trading} waits for its session's close (still trading)")
    if run.intraday:
        if plan.target_ts is not None and newest is not None and newest < plan.target_ts:
            notes.append(f"newest bar {newest.isoformat()}; Alpha Vantage has none later yet")
    elif latest is None or latest < plan.target:
        notes.append(f"Alpha Vantage has no bar for {plan.target} yet")
    return SymbolResult(
        plan.symbol,
        SymbolStatus.LOADED,
        calls=prepared.calls,
        inserted=upserted.inserted,
        updated=upserted.updated,
        unchanged=upserted.unchanged,
        skipped=dict(series.skipped),
        latest_bar=latest,
        output_size=prepared.output_size,
        history_limited=limited,
        message="; ".join(notes),
    )


def _result(
    symbol: str,
    status: SymbolStatus,
    message: str,
    *,
    plan: FetchPlan | None = None,
    calls: int = 0,
    skipped: dict[str, int] | None = None,
    limited: bool = False,
    rejected: bool = False,
) -> SymbolResult:
    return SymbolResult(
        symbol,
        status,
        calls=calls,
        skipped=dict(skipped or {}),
        latest_bar=plan.latest_stored if plan else None,
        history_limited=limited or (plan.history_limited if plan else False),
        rejected=rejected,
        message=message,
    )
