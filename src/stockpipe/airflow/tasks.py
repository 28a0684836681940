"""The bodies of the DAG's tasks: settings in, the library's call, a JSON summary out.

Every decision (which symbols need a call, the budget, retries against the API, what counts as
failed) is the library's; this module only turns its results and errors into what Airflow
understands: a return value (XCom), a retryable exception, or AirflowFailException.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from airflow.configuration import conf
from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk.log import mask_secret

from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.backfill import (
    BackfillProgress,
    BackfillStatus,
    BackfillSummary,
    UnitResult,
    UnitStatus,
    run_backfill,
)
from stockpipe.ingest.chunks import plan_chunks
from stockpipe.ingest.corporate_actions import (
    ActionsResult,
    ActionsSummary,
    ActionStatus,
    refresh_corporate_actions,
)
from stockpipe.ingest.results import NO_DATA, RunSummary, SymbolResult, SymbolStatus
from stockpipe.ingest.universe import UniverseUnavailable, tracked_symbols
from stockpipe.logs import LIBRARY_LOGGER
from stockpipe.market_calendar import NEW_YORK
from stockpipe.redact import credential_forms, masked_anywhere, redact
from stockpipe.scheduling import series_schedule
from stockpipe.settings import Settings, SettingsError
from stockpipe.store import DatabaseError, TransientDatabaseError

logger = logging.getLogger("stockpipe.airflow")

DAILY = "daily"


class ChunkSummary(TypedDict):
    """What one mapped ingest task returns (its XCom): JSON, small, per chunk."""

    symbols: int
    calls: int
    inserted: int
    updated: int
    unchanged: int
    skipped: int
    counts: dict[str, int]
    failed: dict[str, str]  # symbol -> the library's reason
    deferred: list[str]
    good: int  # loaded, up to date or awaiting publication: the chunk got its data
    message: str


def load_settings() -> Settings:
    """Settings.load(), with every secret registered with Airflow's log masker first.

    The library already keeps the key out of its messages; the masker also covers whatever
    Airflow itself logs (rendered arguments, exceptions). A bad setting fails the task at
    once, naming the variable: retrying cannot fix configuration.
    """
    try:
        settings = Settings.load()
    except SettingsError as exc:
        raise AirflowFailException(f"stockpipe settings: {exc}") from None
    for secret in settings.secrets:
        # Airflow's masker matches by value: a password that is a word ("stockpipe", also a
        # user, database and path name) is registered in its credential forms only.
        for form in (secret,) if masked_anywhere(secret) else credential_forms(secret):
            mask_secret(form)
    # The library's records already reach the task log through Airflow's handlers on the root
    # logger (a handler of our own would print each line twice); only the level is ours.
    logging.getLogger(LIBRARY_LOGGER).setLevel(settings.log_level)
    return settings


def plan(*, per_chunk: int, max_chunks: int) -> list[list[str]]:
    """The universe in chunks, in the order the library would take them, never more than
    Airflow's max_map_length of them (10,000 symbols: 250 chunks of 40). With
    STOCK_UNIVERSE=listing the listing is refreshed first when today's refresh is due (two
    calls), so every chunk of the run follows the same, current universe."""
    settings = load_settings()
    # The scheduler refuses to expand more than [core] max_map_length chunks (a run with more
    # fails at once): an operator who lowered it gets fewer, larger chunks instead.
    max_chunks = min(max_chunks, conf.getint("core", "max_map_length"))
    try:
        with IngestContext.from_settings(settings) as ctx:
            return plan_chunks(
                ctx.db, tracked_symbols(ctx), per_chunk=per_chunk, max_chunks=max_chunks
            )
    except DatabaseError as exc:
        raise _for_airflow(exc, settings) from None
    except UniverseUnavailable as exc:
        raise AirflowFailException(str(exc)) from None


def due(series: str, when: datetime) -> bool:
    """Whether a scheduled run at `when` refreshes `series` (stockpipe.scheduling's rule)."""
    schedule = series_schedule(series, load_settings())
    day = when.astimezone(NEW_YORK).date()
    if not schedule.runs_on(day):
        logger.info("%s: %s is not a day %s bars are refreshed on; skipped", series, day, series)
        return False
    return True


def ingest_chunk(symbols: Sequence[str], *, series: str = DAILY) -> ChunkSummary:
    """Ingest one chunk through the library. Symbol failures come back in the summary (the
    check task fails on them); only errors of the whole chunk raise."""
    settings = load_settings()
    # --- series: stock_dag is the daily series, the library's default. When ingest_symbols
    # takes `series=` (weekly / monthly / intraday, STOCK_SERIES), other values go through.
    series_kwargs: dict[str, Any] = {} if series == DAILY else {"series": series}
    try:
        with IngestContext.from_settings(settings) as ctx:
            summary = ingest_symbols(ctx, symbols, on_result=_log_result, **series_kwargs)
    except DatabaseError as exc:
        raise _for_airflow(exc, settings) from None
    logger.info("%s", summary.message)
    return summarize(summary)


def check(summaries: Sequence[ChunkSummary]) -> dict[str, Any]:
    """The run's totals; raises AirflowFailException naming every failed symbol and why, or
    when the run got no data at all (every symbol deferred), as a Dagster run fails.

    Deferred symbols (budget spent, session not published yet) do not fail a run that got
    data: the library takes them first next time.
    """
    failed = {symbol: why for s in summaries for symbol, why in s["failed"].items()}
    deferred = [symbol for s in summaries for symbol in s["deferred"]]
    totals: dict[str, Any] = {
        key: sum(int(s[key]) for s in summaries)
        for key in ("symbols", "calls", "inserted", "updated", "unchanged", "skipped")
    }
    totals.update(failed=failed, deferred=deferred)
    logger.info(
        "%d symbols in %d chunks: %d API calls, %d rows inserted, %d updated, %d deferred, "
        "%d failed",
        totals["symbols"], len(summaries), totals["calls"], totals["inserted"],
        totals["updated"], len(deferred), len(failed),
    )  # fmt: skip
    if deferred:
        logger.warning("deferred (first in line next run): %s", ", ".join(deferred))
    if failed:
        reasons = "; ".join(f"{symbol} ({why})" for symbol, why in failed.items())
        raise AirflowFailException(f"{len(failed)} of {totals['symbols']} failed: {reasons}")
    if totals["symbols"] and not sum(int(s["good"]) for s in summaries):
        raise AirflowFailException(
            f"{NO_DATA}. {totals['symbols']} symbols: {len(deferred)} deferred;"
            f" {totals['calls']} API calls. deferred: {', '.join(deferred)}"
        )
    return totals


class ActionsReport(TypedDict):
    """What the corporate-actions task returns (its XCom)."""

    calls: int
    counts: dict[str, int]  # loaded, not_due, deferred, failed: (symbol, function) items
    changes: list[str]  # "IBM split 2024-05-08: new 2.0000", one per new/changed/removed action
    adjusted_prices_recomputed_for: list[str]
    adjusted_series_to_refetch: list[str]  # "IBM daily"
    failed: dict[str, str]  # "IBM SPLITS" -> the library's reason
    message: str


def refresh_actions() -> ActionsReport:
    """Refresh the corporate actions that are due (the library decides which, within the
    shared budget). Raises AirflowFailException naming every failed symbol after logging and
    returning nothing; deferred ones (budget spent) do not fail it."""
    settings = load_settings()
    try:
        with IngestContext.from_settings(settings) as ctx:
            summary = refresh_corporate_actions(
                ctx, tracked_symbols(ctx), on_result=_log_action_result
            )
    except DatabaseError as exc:
        raise _for_airflow(exc, settings) from None
    except UniverseUnavailable as exc:
        raise AirflowFailException(str(exc)) from None
    report = report_actions(summary)
    if report["failed"]:
        reasons = "; ".join(f"{item} ({why})" for item, why in report["failed"].items())
        raise AirflowFailException(f"{summary.message}. {reasons}")
    return report


class BackfillReport(TypedDict):
    """What the backfill task returns (its XCom)."""

    status: str  # complete, paused, partial, failed
    calls: int
    done: int  # units settled so far, this run's included
    left: int
    unreachable: int
    calls_left_today: int
    days_needed: int | None  # None: never at this budget
    failed: dict[str, str]  # unit label -> the library's reason
    message: str


def backfill(
    *,
    symbols: Sequence[str] = (),
    series: Sequence[str] = (),
    since: str | None = None,
    retry_unreachable: bool = False,
) -> BackfillReport:
    """One backfill run through the library, within the budget the refreshes leave. A paused
    run (today's share spent) succeeds: the next one resumes. Failed units fail the task after
    the others were done, naming each; bad options fail it at once."""
    settings = load_settings()
    try:
        with IngestContext.from_settings(settings) as ctx:
            summary = run_backfill(
                ctx,
                symbols=[s.strip().upper() for s in symbols if s.strip()] or None,
                series=list(series) or None,
                since=since or None,
                retry_unreachable=retry_unreachable,
                on_unit=_log_unit,
            )
    except ValueError as exc:  # a bad --since, series or symbol: retrying cannot fix it
        raise AirflowFailException(f"stockpipe backfill: {exc}") from None
    except DatabaseError as exc:
        raise _for_airflow(exc, settings) from None
    report = report_backfill(summary)
    logger.info("%s", summary.message)
    if summary.status in (BackfillStatus.FAILED, BackfillStatus.PARTIAL):
        reasons = "; ".join(f"{unit} ({why})" for unit, why in report["failed"].items())
        raise AirflowFailException(f"{summary.message}. {reasons}")
    return report


def report_backfill(summary: BackfillSummary) -> BackfillReport:
    progress = summary.progress
    return BackfillReport(
        status=summary.status.value,
        calls=summary.calls,
        done=progress.done,
        left=progress.left,
        unreachable=progress.unreachable,
        calls_left_today=progress.budget.left_today,
        days_needed=progress.days_needed,
        failed={r.unit.label: r.message for r in summary.results if r.status is UnitStatus.FAILED},
        message=summary.message,
    )


def _log_unit(result: UnitResult, progress: BackfillProgress) -> None:
    level = logging.WARNING if result.status is UnitStatus.FAILED else logging.INFO
    logger.log(level, "%s: %s | %s", result.unit.label, result.status.value, progress.describe())


def report_actions(summary: ActionsSummary) -> ActionsReport:
    return ActionsReport(
        calls=summary.calls,
        counts={status.value: summary.count(status) for status in ActionStatus},
        changes=[change.describe() for change in summary.changes],
        adjusted_prices_recomputed_for=list(summary.adjusted_symbols),
        adjusted_series_to_refetch=[f"{symbol} {series}" for symbol, series in summary.refetch],
        failed={
            f"{r.symbol} {r.function.value}": r.message
            for r in summary.results
            if r.status is ActionStatus.FAILED
        },
        message=summary.message,
    )


def _log_action_result(result: ActionsResult) -> None:
    level = logging.WARNING if result.status is ActionStatus.FAILED else logging.INFO
    logger.log(
        level, "%s %s: %s, %d calls, %d changes%s",
        result.symbol, result.function.value, result.status.value, result.calls,
        len(result.changes), f" ({result.message})" if result.message else "",
    )  # fmt: skip


def summarize(summary: RunSummary) -> ChunkSummary:
    waiting = sum(1 for r in summary.deferred if r.awaiting_publication)
    return ChunkSummary(
        symbols=len(summary.results),
        calls=summary.calls,
        inserted=summary.inserted,
        updated=summary.updated,
        unchanged=summary.unchanged,
        skipped=summary.skipped,
        counts={status.value: n for status, n in summary.counts.items() if n},
        failed={r.symbol: r.message for r in summary.failed},
        deferred=[r.symbol for r in summary.deferred],
        good=len(summary.results) - len(summary.failed) - len(summary.deferred) + waiting,
        message=summary.message,
    )


def _log_result(result: SymbolResult) -> None:
    level = logging.WARNING if result.status is SymbolStatus.FAILED else logging.INFO
    logger.log(
        level,
        "%s %s: %d calls, %d inserted, %d updated, %d unchanged%s",
        result.symbol, result.status.value, result.calls, result.inserted, result.updated,
        result.unchanged, f" ({result.message})" if result.message else "",
    )  # fmt: skip


def _for_airflow(exc: DatabaseError, settings: Settings) -> BaseException:
    """A transient database fault is raised as is (Airflow retries the task with backoff); a
    permanent one (credentials, schema) fails it without retries."""
    message = redact(str(exc), settings.secrets)
    if isinstance(exc, TransientDatabaseError):
        return exc
    failure: BaseException = AirflowFailException(f"stockpipe database: {message}")
    return failure
