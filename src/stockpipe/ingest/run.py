"""The ingest step: plan -> fetch -> parse -> upsert, for one symbol or a list of them.

This is the one code path behind `stockpipe ingest` and the Dagster `stock_data` asset. It never
prints: progress goes out through `on_result` and logging. Every failure of one symbol becomes
that symbol's result; only a bug in a caller's `on_result` can end a run early.

Re-runs are safe: bars are upserted on (symbol, ts), so fetching a window twice only counts
rows as unchanged, and a symbol whose stored bars already hold the latest completed session
costs no call at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from stockpipe.ingest.adjusted_refetch import refetch_marks
from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.overlap import fanned_out_batches
from stockpipe.ingest.premium import active_denial
from stockpipe.ingest.publication import remembered_unpublished
from stockpipe.ingest.rejection import remembered_rejections
from stockpipe.ingest.results import RunSummary, SymbolResult, SymbolStatus
from stockpipe.ingest.series_run import SeriesRun
from stockpipe.ingest.state import order_symbols
from stockpipe.ingest.steps import (
    UNREAD,
    Halt,
    Prepared,
    abandoned,
    fetch_time_bound,
    finish,
    prepare,
)
from stockpipe.ingest.store_batch import finish_batch
from stockpipe.market_calendar import latest_completed_session
from stockpipe.series import DAILY, Series
from stockpipe.store import DatabaseError, latest_bar_ts_by_symbol
from stockpipe.store.sessions import StoredSessions, read_stored_sessions

__all__ = ["IngestContext", "ingest_symbol", "ingest_symbols"]

logger = logging.getLogger(__name__)


def ingest_symbol(
    ctx: IngestContext,
    symbol: str,
    *,
    retry_rejected: bool = False,
    series: Series | str = DAILY,
) -> SymbolResult:
    """Plan, fetch and store one symbol of `series`; record and return its result. Never raises
    for the symbol's own failures (API or database): they come back as a FAILED or DEFERRED
    result."""
    with ctx.gate.active():  # a refresh: the lower priority classes wait for it
        return _ingest_one(ctx, symbol, retry_rejected=retry_rejected, series=series)


def _ingest_one(
    ctx: IngestContext, symbol: str, *, retry_rejected: bool, series: Series | str
) -> SymbolResult:
    run = SeriesRun.of(series, ctx.settings)
    rejections = {} if retry_rejected else remembered_rejections(ctx.db, [symbol], run.series)
    unpublished = remembered_unpublished(ctx.db, [symbol], run.series).get(symbol)
    refetch = refetch_marks(ctx.db, [symbol], run).get(symbol)
    halt = _halt_for(ctx, run, retry_rejected)
    prepared = prepare(
        ctx, symbol, halt, rejections.get(symbol),
        unpublished=unpublished, run=run, refetch_mark=refetch,
    )  # fmt: skip
    return finish(ctx, prepared, run)


def _halt_for(ctx: IngestContext, run: SeriesRun, retry_rejected: bool) -> Halt:
    """A run's Halt, already set when the key is known to get only premium replies for the
    series (stockpipe.ingest.premium): then no symbol of it costs a call."""
    halt = Halt()
    denial, skipped = active_denial(ctx.db, ctx.settings, run.series, ctx.clock.now())
    if denial is not None and (retry_rejected or skipped is None):
        halt.retrying_denial = True
    elif skipped is not None:
        halt.status, halt.reason = SymbolStatus.FAILED, skipped
    return halt


def ingest_symbols(
    ctx: IngestContext,
    symbols: Sequence[str],
    *,
    on_result: Callable[[SymbolResult], None] | None = None,
    retry_rejected: bool = False,
    series: Series | str = DAILY,
) -> RunSummary:
    """Ingest many symbols of `series` (daily unless named: "weekly", "monthly", "intraday",
    or a stockpipe.series.Series; the intraday interval and extended hours come from the
    settings). Every series shares the key's budget, spacing and per-minute cap; the order,
    rejections and deferrals below are remembered per series.

    The symbols go: deferred ones first, then never loaded, then stalest, then those
    Alpha Vantage rejected. A rejected symbol costs no call (FAILED, saying why) until its
    quarantine ends, or at once with `retry_rejected` (see stockpipe.ingest.rejection). A
    symbol whose target session Alpha Vantage lately did not have yet is DEFERRED without a call
    until a wait period has passed (see stockpipe.ingest.publication). An adjusted series
    marked after a corporate action is fetched whole again (stockpipe.ingest.adjusted_refetch).

    Fetches run on up to API_MAX_IN_FLIGHT threads (stockpipe.ingest.overlap.fanned_out; the
    call gate paces their starts) while this thread stores what they fetched: at most that
    many fetched symbols wait, so a slow database slows the fetching down. The symbols waiting
    when this thread gets to them are stored together, in one transaction
    (stockpipe.ingest.store_batch). A symbol a throttle
    deferred is tried once more at the end of the run. Once the budget is spent (or the API
    says the day's quota is gone, or rejects the key) no further call is made: the remaining
    symbols that need one come back DEFERRED (FAILED for a rejected key); those already up to
    date still say so.

    The run registers as a refresh on the key from its first read: corporate actions and the
    backfill take no call meanwhile (stockpipe.quota.classes).
    """
    with ctx.gate.active():
        return _ingest_many(ctx, symbols, on_result, retry_rejected=retry_rejected, series=series)


def _ingest_many(
    ctx: IngestContext,
    symbols: Sequence[str],
    on_result: Callable[[SymbolResult], None] | None,
    *,
    retry_rejected: bool,
    series: Series | str,
) -> RunSummary:
    run = SeriesRun.of(series, ctx.settings)
    try:
        ordered = order_symbols(ctx.db, symbols, run.series, run.interval)
    except DatabaseError as exc:
        logger.error("could not read symbol state, keeping the given order: %s", exc)
        ordered = list(dict.fromkeys(symbols))
    rejections = {} if retry_rejected else remembered_rejections(ctx.db, ordered, run.series)
    unpublished = remembered_unpublished(ctx.db, ordered, run.series)
    refetch = refetch_marks(ctx.db, ordered, run)
    # Every symbol's newest stored bar in one query instead of one per symbol (daily: with its
    # missing sessions, stockpipe.ingest.gaps). Read before the first fetch, so a concurrent
    # writer can only have stored more since: the plan may then fetch what is already there
    # (upserts are idempotent), never skip what is missing.
    latest: dict[str, datetime | None] = {}
    sessions: dict[str, StoredSessions] | None = None
    try:
        if run.is_daily:
            today = latest_completed_session(ctx.clock.now())
            sessions = read_stored_sessions(ctx.db, ordered, today=today)
        else:
            latest = latest_bar_ts_by_symbol(
                ctx.db, ordered, table=run.series.table, interval=run.interval
            )
    except DatabaseError:
        pass  # each symbol reads its own again, and fails alone if the database does
    halt = _halt_for(ctx, run, retry_rejected)
    results: list[SymbolResult] = []

    def fetch(symbol: str) -> Prepared:
        return prepare(
            ctx,
            symbol,
            halt,
            rejections.get(symbol),
            stored=latest.get(symbol, UNREAD),
            sessions=UNREAD if sessions is None else sessions.get(symbol),
            unpublished=unpublished.get(symbol),
            run=run,
            refetch_mark=refetch.get(symbol),
        )

    # A symbol a throttle deferred waits for one more try after the others (the gate has
    # slowed the key down meanwhile): a passing throttle costs no symbol.
    pending, last_pass = list(ordered), False
    while pending:
        throttled: list[str] = []
        fetched = fanned_out_batches(
            pending,
            fetch,
            workers=ctx.in_flight,
            name="stockpipe-fetch",
            item_timeout=fetch_time_bound(ctx),
            on_timeout=abandoned,
        )
        try:
            for batch in fetched:
                ready = []
                for prepared in batch:
                    if prepared.throttled and not last_pass:
                        throttled.append(prepared.symbol)
                    else:
                        ready.append(prepared)
                for result in finish_batch(ctx, ready, run):
                    results.append(result)
                    if on_result is not None:
                        on_result(result)
        finally:
            fetched.close()
        if throttled:
            logger.info("%d symbols throttled: trying them once more", len(throttled))
        pending, last_pass = throttled, True
    summary = RunSummary(tuple(results))
    prefix = "" if run.is_daily else f"{run.label} "
    logger.info("%singest run %s: %s", prefix, summary.status.value, summary.message)
    return summary
