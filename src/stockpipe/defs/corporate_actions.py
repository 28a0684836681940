"""Corporate actions in Dagster: the asset `corporate_actions` (the tables stock_splits and
stock_dividends), the job `corporate_actions_job` and the schedule `corporate_actions_schedule`
(CORPORATE_ACTIONS_SCHEDULE_CRON, UTC), wiring over the library's refresh_corporate_actions.

The library decides everything: which symbols are due (CORPORATE_ACTIONS_REFRESH_DAYS; the rest
cost no call, so a daily tick is cheap), the shared budget, what changed, which adjusted values
moved and which stored adjusted series to refetch. The asset only reports it: one
materialization with the counts and a table of the changes, or an observation when nothing
could be fetched; a symbol that failed fails the run after that report, deferred ones do not.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations
# of decorated functions at definition time.

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg

from stockpipe.defs.assets import API_POOL, TRANSIENT_RETRY
from stockpipe.defs.resources import StockpipeResource
from stockpipe.ingest.corporate_actions import (
    ActionsSummary,
    ActionStatus,
    refresh_corporate_actions,
)
from stockpipe.ingest.universe import UniverseUnavailable, tracked_symbols
from stockpipe.logs import library_logs_to
from stockpipe.settings import Settings, SettingsError
from stockpipe.store.errors import DatabaseError, TransientDatabaseError

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

ASSET_NAME = "corporate_actions"
JOB_NAME = "corporate_actions_job"
SCHEDULE_NAME = "corporate_actions_schedule"


@dg.asset(
    name=ASSET_NAME,
    output_required=False,
    pool=API_POOL,
    retry_policy=TRANSIENT_RETRY,
    group_name="stocks",
    kinds={"postgres"},
    description="Splits and dividends (Alpha Vantage SPLITS and DIVIDENDS) of every symbol of "
    "the universe in stock_splits and stock_dividends, each symbol fetched again every "
    "CORPORATE_ACTIONS_REFRESH_DAYS; the view stock_data_adjusted follows them.",
)
def corporate_actions(
    context: dg.AssetExecutionContext, stockpipe: StockpipeResource
) -> Iterator[dg.AssetMaterialization | dg.AssetObservation]:
    try:
        with (
            stockpipe.ingest_context(run_id=context.run.run_id) as ctx,
            library_logs_to(context.log.log, ctx.settings),
        ):
            summary = refresh_corporate_actions(ctx, tracked_symbols(ctx))
    except (SettingsError, DatabaseError, UniverseUnavailable) as exc:
        if isinstance(exc, TransientDatabaseError):
            raise
        # Bad configuration, credentials or schema: retrying cannot help.
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.log.info(summary.message)
    metadata = summary_metadata(summary)
    stored = summary.count(ActionStatus.LOADED) + summary.count(ActionStatus.NOT_DUE)
    event = dg.AssetMaterialization if stored else dg.AssetObservation
    yield event(asset_key=context.asset_key, description=summary.message, metadata=metadata)
    if summary.count(ActionStatus.FAILED):
        raise dg.Failure(description=summary.message, metadata=metadata, allow_retries=False)


def summary_metadata(summary: ActionsSummary) -> dict[str, dg.MetadataValue]:
    failed = {
        f"{r.symbol} {r.function.value}": r.message
        for r in summary.results
        if r.status is ActionStatus.FAILED
    }
    return {
        "calls": dg.MetadataValue.int(summary.calls),
        "loaded": dg.MetadataValue.int(summary.count(ActionStatus.LOADED)),
        "not_due": dg.MetadataValue.int(summary.count(ActionStatus.NOT_DUE)),
        "deferred": dg.MetadataValue.int(summary.count(ActionStatus.DEFERRED)),
        "failed": dg.MetadataValue.int(summary.count(ActionStatus.FAILED)),
        "changes": dg.MetadataValue.md(changes_table(summary)),
        "adjusted_prices_recomputed_for": dg.MetadataValue.json(list(summary.adjusted_symbols)),
        "adjusted_series_to_refetch": dg.MetadataValue.json(
            [f"{symbol} {series}" for symbol, series in summary.refetch]
        ),
        "failures": dg.MetadataValue.json(failed),
        "message": dg.MetadataValue.text(summary.message),
    }


def changes_table(summary: ActionsSummary) -> str:
    """Every new, changed or removed action as a markdown table ("none" without any)."""
    if not summary.changes:
        return "none"
    lines = ["| symbol | kind | date | change | old -> new |", "|---|---|---|---|---|"]
    lines += [
        f"| {c.symbol} | {c.kind} | {c.day} | {c.change} | {c.difference()} |"
        for c in summary.changes
    ]
    return "\n".join(lines)


def build_corporate_actions_job() -> "UnresolvedAssetJobDefinition":
    return dg.define_asset_job(
        name=JOB_NAME,
        selection=dg.AssetSelection.assets(corporate_actions),
        # One step: run it inside the run worker, as the series' jobs do.
        executor_def=dg.in_process_executor,
        description="Fetch the splits and dividends of every symbol of the universe that is "
        "due, report what changed, and mark adjusted series for a refetch.",
    )


def build_corporate_actions_schedule(
    job: "UnresolvedAssetJobDefinition", settings: Settings
) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule=settings.corporate_actions_schedule_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refresh the corporate actions that are due "
        "(CORPORATE_ACTIONS_SCHEDULE_CRON, UTC; CORPORATE_ACTIONS_REFRESH_DAYS per symbol).",
    )
