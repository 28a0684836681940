"""The weekly, monthly and intraday schedules: names, defaults, overrides, which ones run
(STOCK_SERIES), and on which days a tick launches a run."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import pytest

from stockpipe.market_calendar import NEW_YORK
from tests.defs.conftest import load_definitions

SERIES_NAMES = {
    "daily": ("stock_data", "stock_job", "daily_stock_schedule"),
    "weekly": ("stock_data_weekly", "weekly_stock_job", "weekly_stock_schedule"),
    "monthly": ("stock_data_monthly", "monthly_stock_job", "monthly_stock_schedule"),
    "intraday": ("stock_data_intraday", "intraday_stock_job", "intraday_stock_schedule"),
}


def tick(schedule_name: str, moment: datetime) -> dg.ScheduleExecutionData:
    schedule = load_definitions().resolve_schedule_def(schedule_name)
    with dg.build_schedule_context(scheduled_execution_time=moment) as context:
        return schedule.evaluate_tick(context)


@pytest.mark.parametrize(
    "series", list(SERIES_NAMES), ids=lambda s: f"{s} has its asset, job and schedule"
)
def test_every_series_has_an_asset_a_job_and_a_schedule_in_the_api_pool(
    placeholder_env: pytest.MonkeyPatch, series: str
) -> None:
    asset, job, schedule = SERIES_NAMES[series]
    defs = load_definitions()

    assets_def = defs.resolve_assets_def(dg.AssetKey(asset))
    assert assets_def.op.pool == "alphavantage"
    assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()
    assert defs.resolve_job_def(job).partitions_def.get_partition_keys() == ["IBM", "MSFT", "AAPL"]  # type: ignore[union-attr]
    assert defs.resolve_schedule_def(schedule).job_name == job
    checks = {spec.name for spec in assets_def.check_specs}
    unique = "one_row_per_period" if series in ("weekly", "monthly") else "no_duplicate_keys"
    gaps = {"missing_sessions"} if series == "daily" else set()
    assert checks == {"ohlc_sanity", unique, "freshness", *gaps}


@pytest.mark.parametrize(
    ("chosen", "running"),
    [
        (None, {"daily_stock_schedule"}),
        ("daily,weekly", {"daily_stock_schedule", "weekly_stock_schedule"}),
        ("monthly,intraday", {"monthly_stock_schedule", "intraday_stock_schedule"}),
    ],
    ids=[
        "by default only the daily schedule runs",
        "daily and weekly run when both are chosen",
        "choosing monthly and intraday stops the daily schedule",
    ],
)
def test_stock_series_says_which_schedules_run(
    placeholder_env: pytest.MonkeyPatch, chosen: str | None, running: set[str]
) -> None:
    if chosen is not None:
        placeholder_env.setenv("STOCK_SERIES", chosen)
    defs = load_definitions()
    statuses = {
        schedule: defs.resolve_schedule_def(schedule).default_status
        for _, _, schedule in SERIES_NAMES.values()
    }
    assert {
        name for name, s in statuses.items() if s == dg.DefaultScheduleStatus.RUNNING
    } == running


def test_the_defaults_run_after_the_close_in_new_york(placeholder_env: pytest.MonkeyPatch) -> None:
    defs = load_definitions()
    crons = {
        name: (
            defs.resolve_schedule_def(name).cron_schedule,
            defs.resolve_schedule_def(name).execution_timezone,
        )
        for name in ("weekly_stock_schedule", "monthly_stock_schedule", "intraday_stock_schedule")
    }
    assert crons == {
        "weekly_stock_schedule": ("30 18 * * 1-5", "America/New_York"),
        "monthly_stock_schedule": ("30 18 * * 1-5", "America/New_York"),
        "intraday_stock_schedule": ("*/15 4-20 * * 1-5", "America/New_York"),
    }


def test_crons_come_from_the_environment(placeholder_env: pytest.MonkeyPatch) -> None:
    placeholder_env.setenv("WEEKLY_SCHEDULE_CRON", "0 20 * * 5")
    placeholder_env.setenv("INTRADAY_SCHEDULE_CRON", "*/30 9-16 * * 1-5")
    placeholder_env.setenv("STOCK_INTRADAY_EXTENDED_HOURS", "false")
    defs = load_definitions()
    assert defs.resolve_schedule_def("weekly_stock_schedule").cron_schedule == "0 20 * * 5"
    assert defs.resolve_schedule_def("intraday_stock_schedule").cron_schedule == "*/30 9-16 * * 1-5"


def test_regular_hours_shorten_the_intraday_default(placeholder_env: pytest.MonkeyPatch) -> None:
    placeholder_env.setenv("STOCK_INTRADAY_EXTENDED_HOURS", "false")
    schedule = load_definitions().resolve_schedule_def("intraday_stock_schedule")
    assert schedule.cron_schedule == "*/15 9-16 * * 1-5"


def evening(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 18, 30, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("schedule", "moment", "runs"),
    [
        ("weekly_stock_schedule", evening(2024, 5, 10), True),
        ("weekly_stock_schedule", evening(2024, 5, 9), False),
        ("weekly_stock_schedule", evening(2024, 3, 28), True),
        ("monthly_stock_schedule", evening(2024, 5, 31), True),
        ("monthly_stock_schedule", evening(2026, 2, 27), True),
        ("monthly_stock_schedule", evening(2024, 5, 30), False),
        ("intraday_stock_schedule", datetime(2024, 5, 8, 10, 15, tzinfo=NEW_YORK), True),
        ("intraday_stock_schedule", datetime(2024, 7, 4, 10, 15, tzinfo=NEW_YORK), False),
    ],
    ids=[
        "the weekly run follows Friday's close",
        "no weekly run on a Thursday",
        "the weekly run follows Thursday's close when Good Friday shuts the exchange",
        "the monthly run follows the month's last session",
        "the monthly run follows Friday 27 February when the 28th is a Saturday",
        "no monthly run on the month's second-to-last session",
        "intraday runs during a session",
        "no intraday run on Independence Day",
    ],
)
def test_a_tick_runs_only_on_the_days_its_series_changes(
    placeholder_env: pytest.MonkeyPatch, schedule: str, moment: datetime, runs: bool
) -> None:
    result = tick(schedule, moment)
    if runs:
        assert result.skip_message is None
        [request] = result.run_requests or []
        assert request.partition_key_range == dg.PartitionKeyRange("IBM", "AAPL")
    else:
        assert result.run_requests == []
        assert "is not a day" in (result.skip_message or "")


def test_an_overridden_weekly_cron_runs_on_every_tick(placeholder_env: pytest.MonkeyPatch) -> None:
    placeholder_env.setenv("WEEKLY_SCHEDULE_CRON", "30 18 * * 1-5")
    result = tick("weekly_stock_schedule", evening(2024, 5, 9))
    assert result.skip_message is None
    assert len(result.run_requests or []) == 1
