"""One schedule per series, each launching its job over every symbol.

- `daily_stock_schedule`: stock_job on DAG_SCHEDULE_CRON (UTC), as it always was.
- `weekly_stock_schedule`, `monthly_stock_schedule`: weekday evenings in New York (18:30, after
  the close and Alpha Vantage's publication); a tick runs only on the last session of its week
  (month) by the exchange calendar, so a period is fetched once, right after it closed, and a
  holiday Friday moves the run to Thursday. WEEKLY_SCHEDULE_CRON / MONTHLY_SCHEDULE_CRON (New
  York time) replace the cron and that filter: every tick then runs.
- `intraday_stock_schedule`: every 15 minutes during the extended hours (04:00-20:00 New York;
  09:30-16:00 with STOCK_INTRADAY_EXTENDED_HOURS=false), skipping days the exchange is shut;
  INTRADAY_SCHEDULE_CRON replaces the cron.

STOCK_SERIES names the series whose schedules run from the start; the others are defined
(visible, startable in the UI) but stopped.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import dagster as dg

from stockpipe.market_calendar import NEW_YORK
from stockpipe.scheduling import series_schedule as schedule_of
from stockpipe.series import DAILY, Series
from stockpipe.settings import Settings

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

SCHEDULE_NAME = "daily_stock_schedule"
# Dagster reads a partition range for a run from these two tags (what a single-run backfill
# sets); RunRequest takes only a single partition_key.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def full_range_tags(partitions: dg.StaticPartitionsDefinition) -> dict[str, str]:
    """Tags that make a run of a series' job cover every symbol."""
    keys = partitions.get_partition_keys()
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def schedule_name(series: Series) -> str:
    return SCHEDULE_NAME if series is DAILY else f"{series.name}_stock_schedule"


def build_daily_schedule(
    job: UnresolvedAssetJobDefinition,
    partitions: dg.StaticPartitionsDefinition,
    cron: str,
    *,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=SCHEDULE_NAME,
        cron_schedule=cron,
        job=job,
        execution_timezone="UTC",
        default_status=default_status,
        description="Refresh every symbol once a day (DAG_SCHEDULE_CRON, UTC).",
    )
    def daily_stock_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        return dg.RunRequest(
            run_key=tick.isoformat() if tick else None,
            tags=full_range_tags(partitions),
        )

    return daily_stock_schedule


def build_series_schedule(
    series: Series,
    job: UnresolvedAssetJobDefinition,
    partitions: dg.StaticPartitionsDefinition,
    settings: Settings,
) -> dg.ScheduleDefinition:
    status = (
        dg.DefaultScheduleStatus.RUNNING
        if series.name in settings.stock_series
        else dg.DefaultScheduleStatus.STOPPED
    )
    if series is DAILY:
        return build_daily_schedule(
            job, partitions, settings.dag_schedule_cron, default_status=status
        )
    schedule = schedule_of(series, settings)

    @dg.schedule(
        name=schedule_name(series),
        cron_schedule=schedule.cron,
        job=job,
        execution_timezone=schedule.timezone,
        default_status=status,
        description=f"Refresh {series.table.name} ({series.cron_variable}, New York time).",
    )
    def series_schedule(
        context: dg.ScheduleEvaluationContext,
    ) -> dg.RunRequest | dg.SkipReason:
        tick = context.scheduled_execution_time or datetime.now(NEW_YORK)
        day = tick.astimezone(NEW_YORK).date()
        if not schedule.runs_on(day):
            return dg.SkipReason(f"{day} is not a day {series.name} bars are refreshed on")
        return dg.RunRequest(run_key=tick.isoformat(), tags=full_range_tags(partitions))

    return series_schedule
