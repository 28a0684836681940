"""weekly_stock_job and intraday_stock_job through Dagster, on the test PostgreSQL and the
fake Alpha Vantage server."""

from __future__ import annotations

import dagster as dg
import pytest

from stockpipe.alphavantage import Function
from stockpipe.defs.schedules import full_range_tags
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import generate_series
from tests.defs.conftest import load_definitions
from tests.defs.test_stock_job import check_outcomes, metadata_by_partition


def run_job(name: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = load_definitions().resolve_job_def(name)
    assert job.partitions_def is not None
    return job.execute_in_process(
        instance=instance,
        tags=full_range_tags(job.partitions_def),  # type: ignore[arg-type]
        raise_on_error=False,
    )


def test_the_weekly_job_stores_one_row_per_week_and_passes_its_checks(
    pipeline_env: pytest.MonkeyPatch, db: Database, fake_av_env: FakeAlphaVantage
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    instance = dg.DagsterInstance.ephemeral()

    result = run_job("weekly_stock_job", instance)

    assert result.success
    served = generate_series(
        "IBM", Function.WEEKLY, end=latest_completed_session(), history_length=5000
    )
    metadata = metadata_by_partition(result.asset_materializations_for_node("stock_data_weekly"))
    assert {s: (m["status"], m["calls"], m["rows_inserted"]) for s, m in metadata.items()} == {
        "IBM": ("loaded", 1, len(served)),
        "MSFT": ("loaded", 1, len(served)),
    }
    assert check_outcomes(result) == {
        "ohlc_sanity": True,
        "one_row_per_period": True,
        "freshness": True,
    }
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT count(*), count(DISTINCT (symbol, period_start)) FROM stock_data_weekly"
        ).fetchone()
    )
    assert rows == (2 * len(served), 2 * len(served))
    assert [c.function for c in fake_av_env.calls()] == ["TIME_SERIES_WEEKLY"] * 2
    again = run_job("weekly_stock_job", instance)
    assert again.success
    assert len(fake_av_env.calls()) == 2


def test_the_intraday_job_on_a_free_key_fails_saying_a_premium_key_is_needed(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    fake_av_env.configure(free_tier=True)

    result = run_job("intraday_stock_job", dg.DagsterInstance.ephemeral())

    assert not result.success
    [failure] = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description  # type: ignore[union-attr]
    assert "TIME_SERIES_INTRADAY needs a premium Alpha Vantage key" in message
    assert len(fake_av_env.calls()) == 1
