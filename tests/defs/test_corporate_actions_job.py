"""corporate_actions_job through Dagster, on the test PostgreSQL and the fake Alpha Vantage
server: its metadata (calls, counts, the changes, adjusted values moved, series to refetch),
the cadence, a failed symbol, and the adjusted series refetched by the next stock_job."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from stockpipe.alphavantage import Function
from stockpipe.defs.corporate_actions import ASSET_NAME, JOB_NAME, SCHEDULE_NAME
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.corporate_actions import ActionOverride, as_rows
from stockpipe.testing.payloads import action_rows, generate_series
from tests.defs.conftest import load_definitions, run_stock_job

ASSET = dg.AssetKey(ASSET_NAME)
HEADER = "| symbol | kind | date | change | old -> new |\n|---|---|---|---|---|"


def run_actions_job(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = load_definitions().resolve_job_def(JOB_NAME)
    return job.execute_in_process(instance=instance, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    events = [
        *result.asset_materializations_for_node(ASSET_NAME),
        *result.asset_observations_for_node(ASSET_NAME),
    ]
    [event] = events
    return {key: value.value for key, value in event.metadata.items()}


def counts(found: dict[str, Any]) -> tuple[int, ...]:
    return tuple(found[k] for k in ("calls", "loaded", "not_due", "deferred", "failed"))


def test_the_schedule_runs_the_job_daily_on_its_own_cron(placeholder_env: pytest.MonkeyPatch):
    placeholder_env.setenv("CORPORATE_ACTIONS_SCHEDULE_CRON", "15 7 * * 1-5")
    defs = load_definitions()

    schedule = defs.resolve_schedule_def(SCHEDULE_NAME)

    assert (schedule.job_name, schedule.cron_schedule, schedule.execution_timezone) == (
        JOB_NAME,
        "15 7 * * 1-5",
        "UTC",
    )
    assert schedule.default_status is dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_assets_def(ASSET).op.pool == "alphavantage"


def test_the_run_reports_every_new_action_then_costs_nothing_until_due(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    instance = dg.DagsterInstance.ephemeral()
    assert run_stock_job(instance).success
    before = len(fake_av_env.calls())

    result = run_actions_job(instance)

    assert result.success
    found = metadata(result)
    assert counts(found) == (4, 4, 0, 0, 0)
    assert [c.function for c in fake_av_env.calls()[before:]] == ["SPLITS", "DIVIDENDS"] * 2
    lines = found["changes"].splitlines()
    assert "\n".join(lines[:2]) == HEADER
    expected = 0
    for symbol in ("IBM", "MSFT"):
        splits, dividends = action_rows(symbol, latest_completed_session())
        expected += len(splits) + len(dividends)
        day, amount = dividends[0]["ex_dividend_date"], dividends[0]["amount"]
        assert f"| {symbol} | dividend | {day} | new | - -> {amount} |" in lines
    assert len(lines) == 2 + expected
    # Every symbol has a dividend inside its 100 stored sessions: its adjusted prices moved.
    assert found["adjusted_prices_recomputed_for"] == ["IBM", "MSFT"]
    assert found["adjusted_series_to_refetch"] == []  # stored raw (STOCK_ADJUSTED=false)
    assert instance.get_latest_materialization_event(ASSET) is not None

    again = run_actions_job(instance)

    assert again.success
    assert counts(metadata(again)) == (0, 0, 4, 0, 0)
    assert metadata(again)["changes"] == "none"
    assert len(fake_av_env.calls()) == before + 4


def test_a_new_split_is_reported_and_the_next_stock_job_refetches_the_adjusted_series(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("STOCK_ADJUSTED", "true")
    pipeline_env.setenv("CORPORATE_ACTIONS_REFRESH_DAYS", "0")  # every run fetches
    instance = dg.DagsterInstance.ephemeral()
    assert run_stock_job(instance).success
    assert metadata(run_actions_job(instance))["adjusted_series_to_refetch"] == []  # baseline
    end = latest_completed_session()
    day = sessions_between(end.replace(day=1, month=1, year=end.year - 1), end)[-20]
    splits, _ = action_rows("IBM", end)
    splits = [{"effective_date": day.isoformat(), "split_factor": "2.0000"}, *splits]
    fake_av_env.set_actions("IBM", splits=splits)

    result = run_actions_job(instance)

    found = metadata(result)
    assert result.success and counts(found) == (4, 4, 0, 0, 0)
    assert found["changes"] == f"{HEADER}\n| IBM | split | {day} | new | - -> 2.0000 |"
    assert found["adjusted_prices_recomputed_for"] == ["IBM"]
    assert found["adjusted_series_to_refetch"] == ["IBM daily"]
    assert "adjusted prices recomputed for: IBM" in found["message"]
    before = len(fake_av_env.calls())

    assert run_stock_job(instance).success

    # Compact: the test environment forces it (API_OUTPUT_SIZE); `auto` asks for full.
    assert [(c.function, c.symbol, c.outputsize) for c in fake_av_env.calls()[before:]] == [
        ("TIME_SERIES_DAILY_ADJUSTED", "IBM", "compact")
    ]
    served = generate_series(
        "IBM", Function.DAILY_ADJUSTED, end=end, history_length=5000,
        actions=ActionOverride(splits=as_rows(splits)),
    )  # fmt: skip
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT ts::date::text, adjusted_close FROM stock_data WHERE symbol = 'IBM'"
        ).fetchall()
    )
    assert len(rows) == 100
    assert dict(rows) == {d: Decimal(f["5. adjusted close"]) for d, f in served.items()}
    before = len(fake_av_env.calls())
    assert run_stock_job(instance).success
    assert len(fake_av_env.calls()) == before, "refetched once: the mark is gone"


def test_a_failed_symbol_fails_the_run_after_reporting_the_others(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
):
    pipeline_env.setenv("STOCK_SYMBOLS", "INVALIDX,IBM")

    result = run_actions_job(dg.DagsterInstance.ephemeral())

    assert not result.success
    found = metadata(result)
    assert counts(found) == (4, 2, 0, 0, 2)
    assert set(found["failures"]) == {"INVALIDX SPLITS", "INVALIDX DIVIDENDS"}
    [failure] = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description  # type: ignore[union-attr]
    assert "2 loaded" in description and "2 failed" in description
