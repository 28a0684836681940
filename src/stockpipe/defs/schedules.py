"""`daily_stock_schedule`: stock_job over every symbol on DAG_SCHEDULE_CRON (UTC)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

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
    """Tags that make a run of stock_job cover every symbol."""
    keys = partitions.get_partition_keys()
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def build_daily_schedule(
    job: UnresolvedAssetJobDefinition, partitions: dg.StaticPartitionsDefinition, cron: str
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=SCHEDULE_NAME,
        cron_schedule=cron,
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refresh every symbol once a day (DAG_SCHEDULE_CRON, UTC).",
    )
    def daily_stock_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        return dg.RunRequest(
            run_key=tick.isoformat() if tick else None,
            tags=full_range_tags(partitions),
        )

    return daily_stock_schedule
