"""backfill_job through Dagster on the test PostgreSQL and the fake Alpha Vantage: a paused run
succeeds with its progress per symbol and month in the output metadata, the next run
completes it, and a later one spends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from stockpipe.ingest.backfill.units import months_since
from stockpipe.market_calendar import new_york_date
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.defs.conftest import load_definitions


def run_backfill_job(
    instance: dg.DagsterInstance, config: dict[str, object] | None = None
) -> dg.ExecuteInProcessResult:
    job = load_definitions().resolve_job_def("backfill_job")
    run_config = {"ops": {"backfill": {"config": config}}} if config else None
    return job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)


def output_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [event] = [e for e in result.events_for_node("backfill") if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def test_a_paused_run_succeeds_with_its_progress_and_the_next_completes(
    pipeline_env: pytest.MonkeyPatch, db: Database, fake_av_env: FakeAlphaVantage
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("STOCK_SERIES", "daily,weekly,monthly")
    pipeline_env.setenv("API_DAILY_BUDGET", "4")
    pipeline_env.setenv("BACKFILL_RESERVE_CALLS", "0")
    instance = dg.DagsterInstance.ephemeral()

    first = run_backfill_job(instance)

    assert first.success
    metadata = output_metadata(first)
    assert {k: metadata[k] for k in ("status", "calls_spent", "units_left", "days_needed")} == {
        "status": "paused", "calls_spent": 4, "units_left": 2, "days_needed": "1",
    }  # fmt: skip
    assert metadata["calls_left_today"] == 0
    # The long weekly and monthly histories of both go first; the daily full ones wait.
    assert metadata["by_symbol"] == (
        "| symbol | done | left | unreachable | intraday months done | calls |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        "| IBM | 2 | 1 | 0 | 0/0 | 2 |\n"
        "| MSFT | 2 | 1 | 0 | 0/0 | 2 |"
    )
    logs = [entry.user_message for entry in instance.all_logs(first.run_id)]
    assert any("IBM weekly full: done | 1/6 units done" in m for m in logs)
    assert len(fake_av_env.calls()) == 4

    pipeline_env.setenv("API_DAILY_BUDGET", "6")  # as if the next day had come
    second = run_backfill_job(instance)
    assert second.success
    assert output_metadata(second)["status"] == "complete"
    assert len(fake_av_env.calls()) == 6
    assert run_backfill_job(instance).success
    assert len(fake_av_env.calls()) == 6


def test_launchpad_config_narrows_the_backfill_to_intraday_months(
    pipeline_env: pytest.MonkeyPatch, db: Database, fake_av_env: FakeAlphaVantage
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("BACKFILL_RESERVE_CALLS", "0")
    instance = dg.DagsterInstance.ephemeral()
    # The job runs on the real clock: from the month before last, two complete months.
    today = new_york_date(datetime.now(UTC))
    since = f"{(today.replace(day=1) - timedelta(days=32)):%Y-%m}"
    result = run_backfill_job(
        instance, {"symbols": ["ibm"], "series": ["intraday"], "since": since}
    )
    assert result.success
    months = [(c.symbol, c.month) for c in fake_av_env.calls()]
    assert months == [("IBM", m) for m in reversed(months_since(since, today))]
    assert len(months) == 2
    assert output_metadata(result)["by_month"].startswith(  # type: ignore[union-attr]
        "| month | symbols done | left | unreachable |"
    )


def test_a_bad_month_fails_the_run_without_retries(
    pipeline_env: pytest.MonkeyPatch, db: Database, fake_av_env: FakeAlphaVantage
) -> None:
    result = run_backfill_job(dg.DagsterInstance.ephemeral(), {"since": "2026-13"})
    assert not result.success
    assert fake_av_env.calls() == []


def test_the_job_and_its_stopped_schedule_are_defined(pipeline_env: pytest.MonkeyPatch) -> None:
    defs = load_definitions()
    schedule = defs.resolve_schedule_def("backfill_schedule")
    assert schedule.job_name == "backfill_job"
    assert schedule.default_status is dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "0 7 * * *"
