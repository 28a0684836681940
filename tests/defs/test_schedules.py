"""daily_stock_schedule: cron from DAG_SCHEDULE_CRON in UTC, running by default, and each tick
asks for one run of stock_job over every symbol."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from tests.defs.conftest import load_definitions


def test_the_schedule_runs_on_the_configured_cron_in_utc_by_default(
    placeholder_env: pytest.MonkeyPatch,
):
    schedule = load_definitions().resolve_schedule_def("daily_stock_schedule")

    assert schedule.cron_schedule == "30 5 * * 1-5"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "stock_job"


def test_the_default_cron_is_six_in_the_morning_utc(clean_env: pytest.MonkeyPatch):
    schedule = load_definitions().resolve_schedule_def("daily_stock_schedule")

    assert schedule.cron_schedule == "0 6 * * *"


def test_a_tick_requests_one_run_of_stock_job_over_every_symbol(
    placeholder_env: pytest.MonkeyPatch,
):
    defs = load_definitions()
    schedule = defs.resolve_schedule_def("daily_stock_schedule")
    tick = datetime(2024, 5, 6, 5, 30, tzinfo=UTC)

    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        result = schedule.evaluate_tick(context)

    assert result.skip_message is None
    assert result.run_requests is not None
    [request] = result.run_requests
    assert request.run_key == tick.isoformat()
    assert request.partition_key_range == dg.PartitionKeyRange("IBM", "AAPL")
    partitions = defs.resolve_job_def("stock_job").partitions_def
    assert partitions is not None
    assert partitions.get_partition_keys_in_range(request.partition_key_range) == [
        "IBM",
        "MSFT",
        "AAPL",
    ]
