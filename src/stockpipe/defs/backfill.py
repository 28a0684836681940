"""`backfill_job`: the library's backfill (stockpipe.ingest.backfill) as one op, and
`backfill_schedule`, a daily run an hour after the default daily refresh, stopped by default.

The op only calls `run_backfill` and translates its results: a log line per unit with the
calls left today and the days still needed, while the run goes; at the end, output metadata
with a table per symbol (units done, left, unreachable, intraday months, calls) and one per
intraday month. A paused backfill (today's budget spent) is a successful run: the next one
resumes. A run where units failed fails after the others were done, like `stock_job`.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations
# of decorated functions at definition time.

from collections import defaultdict

import dagster as dg
from pydantic import Field

from stockpipe.defs.assets import API_POOL, TRANSIENT_RETRY
from stockpipe.defs.resources import StockpipeResource
from stockpipe.ingest.backfill import (
    BackfillProgress,
    BackfillStatus,
    BackfillSummary,
    UnitResult,
    run_backfill,
)
from stockpipe.logs import library_logs_to
from stockpipe.scheduling import BACKFILL_CRON
from stockpipe.settings import SettingsError
from stockpipe.store.errors import DatabaseError, TransientDatabaseError

JOB_NAME = "backfill_job"
SCHEDULE_NAME = "backfill_schedule"
SCHEDULE_CRON = BACKFILL_CRON  # 07:00 UTC, after the daily refresh (stockpipe.scheduling)


class BackfillConfig(dg.Config):
    """Launchpad options; empty means the configured STOCK_SYMBOLS / STOCK_SERIES / since."""

    symbols: list[str] = Field(default_factory=list)
    series: list[str] = Field(default_factory=list)
    since: str | None = None  # YYYY-MM, instead of BACKFILL_INTRADAY_SINCE
    retry_unreachable: bool = False


@dg.op(
    name="backfill",
    out=dg.Out(dg.Nothing),
    pool=API_POOL,
    retry_policy=TRANSIENT_RETRY,
    description="Load the history each symbol and series still lacks within the budget the"
    " scheduled refreshes leave (stockpipe.ingest.backfill); resumes where the last run stopped.",
)
def backfill_op(
    context: dg.OpExecutionContext, config: BackfillConfig, stockpipe: StockpipeResource
) -> dg.Output[None]:
    def show(result: UnitResult, progress: BackfillProgress) -> None:
        context.log.info(f"{result.unit.label}: {result.status.value} | {progress.describe()}")

    try:
        with (
            stockpipe.ingest_context(run_id=context.run.run_id) as ctx,
            library_logs_to(context.log.log, ctx.settings),
        ):
            summary = run_backfill(
                ctx,
                symbols=[s.strip().upper() for s in config.symbols] or None,
                series=config.series or None,
                since=config.since,
                retry_unreachable=config.retry_unreachable,
                on_unit=show,
            )
    except (SettingsError, DatabaseError, ValueError) as exc:
        if isinstance(exc, TransientDatabaseError):
            raise
        # Bad configuration, credentials or schema: retrying cannot help.
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    metadata = backfill_metadata(summary)
    if summary.status in (BackfillStatus.FAILED, BackfillStatus.PARTIAL):
        raise dg.Failure(description=summary.message, metadata=metadata, allow_retries=False)
    return dg.Output(None, metadata=metadata)


def backfill_metadata(summary: BackfillSummary) -> dict[str, dg.MetadataValue]:
    progress = summary.progress
    days = progress.days_needed
    return {
        "status": dg.MetadataValue.text(summary.status.value),
        "units_done": dg.MetadataValue.int(progress.done),
        "units_left": dg.MetadataValue.int(progress.left),
        "units_unreachable": dg.MetadataValue.int(progress.unreachable),
        "calls_spent": dg.MetadataValue.int(summary.calls),
        "calls_left_today": dg.MetadataValue.int(progress.budget.left_today),
        "calls_per_day": dg.MetadataValue.int(progress.budget.per_day),
        "days_needed": dg.MetadataValue.text("never at this budget" if days is None else str(days)),
        "by_symbol": dg.MetadataValue.md(symbol_table(summary)),
        "by_month": dg.MetadataValue.md(month_table(summary)),
        "summary": dg.MetadataValue.text(summary.message),
    }


def symbol_table(summary: BackfillSummary) -> str:
    lines = [
        "| symbol | done | left | unreachable | intraday months done | calls |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for symbol, t in summary.by_symbol().items():
        lines.append(
            f"| {symbol} | {t.done} | {t.left} | {t.unreachable} | {t.months_done}/{t.months}"
            f" | {t.calls} |"
        )
    return "\n".join(lines)


def month_table(summary: BackfillSummary) -> str:
    """Intraday months, newest first: how many symbols have each done, left, unreachable."""
    plan = summary.final_plan
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for index, units in enumerate((plan.settled, plan.todo, plan.unreachable)):
        for unit in units:
            if unit.month is not None:
                counts[unit.month][index] += 1
    lines = ["| month | symbols done | left | unreachable |", "|---|---:|---:|---:|"]
    for month in sorted(counts, reverse=True):
        done, left, unreachable = counts[month]
        lines.append(f"| {month} | {done} | {left} | {unreachable} |")
    return "\n".join(lines) if counts else "no intraday months in this backfill"


@dg.job(
    name=JOB_NAME,
    executor_def=dg.in_process_executor,
    description="Backfill the history of every symbol of the universe (STOCK_SYMBOLS, or the"
    " listing) and series of STOCK_SERIES within the budget left after the scheduled refreshes.",
)
def backfill_job() -> None:
    backfill_op()


backfill_schedule = dg.ScheduleDefinition(
    name=SCHEDULE_NAME,
    job=backfill_job,
    cron_schedule=SCHEDULE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Resume the backfill daily after the refresh (start it in the UI: it spends"
    " what BACKFILL_RESERVE_CALLS leaves of API_DAILY_BUDGET).",
)
