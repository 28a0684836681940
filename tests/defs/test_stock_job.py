"""stock_job through Dagster, on the test PostgreSQL and the fake Alpha Vantage server."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from stockpipe.ingest.results import NO_DATA
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.defs.conftest import run_stock_job
from tests.fixtures.daily_rows import expected_rows, stored_rows

STOCK_DATA = dg.AssetKey("stock_data")


def metadata_by_partition(events: list[Any]) -> dict[str, dict[str, Any]]:
    return {
        event.partition: {key: value.value for key, value in event.metadata.items()}
        for event in events
    }


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    }


def test_one_run_loads_every_symbol_with_its_own_metadata(
    pipeline_env: pytest.MonkeyPatch, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT,AAPL")
    instance = dg.DagsterInstance.ephemeral()

    result = run_stock_job(instance)

    assert result.success
    for symbol in ("IBM", "MSFT", "AAPL"):
        assert stored_rows(db, symbol) == expected_rows(symbol)
    session = latest_completed_session().isoformat()
    metadata = metadata_by_partition(result.asset_materializations_for_node("stock_data"))
    assert set(metadata) == {"IBM", "MSFT", "AAPL"}
    for symbol in ("IBM", "MSFT", "AAPL"):
        assert metadata[symbol]["status"] == "loaded"
        assert metadata[symbol]["calls"] == 1
        assert metadata[symbol]["rows_inserted"] == 100
        assert metadata[symbol]["rows_updated"] == 0
        assert metadata[symbol]["rows_unchanged"] == 0
        assert metadata[symbol]["rows_skipped"] == 0
        assert metadata[symbol]["latest_bar"] == session
        assert metadata[symbol]["history_limited"] is False
    assert check_outcomes(result) == {
        "ohlc_sanity": True,
        "no_duplicate_keys": True,
        "freshness": True,
        "missing_sessions": True,
    }
    assert instance.get_materialized_partitions(STOCK_DATA) == {"IBM", "MSFT", "AAPL"}


def test_a_second_run_finds_every_symbol_up_to_date_and_spends_no_call(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    instance = dg.DagsterInstance.ephemeral()
    assert run_stock_job(instance).success
    calls_before = len(fake_av_env.calls())

    result = run_stock_job(instance)

    assert result.success
    assert len(fake_av_env.calls()) == calls_before
    metadata = metadata_by_partition(result.asset_materializations_for_node("stock_data"))
    assert {symbol: m["status"] for symbol, m in metadata.items()} == {
        "IBM": "up_to_date",
        "MSFT": "up_to_date",
    }
    assert {symbol: m["calls"] for symbol, m in metadata.items()} == {"IBM": 0, "MSFT": 0}


def test_an_invalid_symbol_fails_the_run_by_name_after_the_others_loaded(
    pipeline_env: pytest.MonkeyPatch, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,INVALIDX,MSFT")
    instance = dg.DagsterInstance.ephemeral()

    result = run_stock_job(instance)

    assert not result.success
    [failure] = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description  # type: ignore[union-attr]
    assert "failed: INVALIDX (" in message
    assert "IBM" not in message.split("failed:")[1]
    assert stored_rows(db, "IBM") == expected_rows("IBM")
    assert stored_rows(db, "MSFT") == expected_rows("MSFT")
    assert stored_rows(db, "INVALIDX") == []
    assert instance.get_materialized_partitions(STOCK_DATA) == {"IBM", "MSFT"}
    [observation] = result.asset_observations_for_node("stock_data")
    assert observation.partition == "INVALIDX"
    assert observation.metadata["status"].value == "failed"
    assert check_outcomes(result) == {
        "ohlc_sanity": True,
        "no_duplicate_keys": True,
        "freshness": False,  # INVALIDX holds no bar and was not deferred
        "missing_sessions": True,
    }


def test_symbols_deferred_by_the_daily_budget_are_reported_without_failing_the_run(
    pipeline_env: pytest.MonkeyPatch,
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT,AAPL")
    pipeline_env.setenv("API_DAILY_BUDGET", "1")
    instance = dg.DagsterInstance.ephemeral()

    result = run_stock_job(instance)

    assert result.success
    loaded = [event.partition for event in result.asset_materializations_for_node("stock_data")]
    deferred = metadata_by_partition(result.asset_observations_for_node("stock_data"))
    assert len(loaded) == 1
    assert set(loaded) | set(deferred) == {"IBM", "MSFT", "AAPL"}
    assert {m["status"] for m in deferred.values()} == {"deferred"}
    assert check_outcomes(result)["freshness"] is True  # deferred symbols are excused


def test_a_run_that_gets_no_data_at_all_fails(pipeline_env: pytest.MonkeyPatch):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("API_DAILY_BUDGET", "0")

    result = run_stock_job(dg.DagsterInstance.ephemeral())

    assert not result.success
    [failure] = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description  # type: ignore[union-attr]
    # The same words as Airflow's check_symbols (tests/airflow/test_factory.py).
    assert message.startswith(f"{NO_DATA}. 2 symbols: 2 deferred; 0 API calls")
    assert result.asset_materializations_for_node("stock_data") == []
