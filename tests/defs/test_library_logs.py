"""The library's log lines reach the Dagster run's event log, redacted, at STOCKPIPE_LOG_LEVEL."""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from stockpipe.testing import FakeAlphaVantage, Fault
from tests.defs.conftest import run_stock_job


def run_messages(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(level name, message) of every log line the run stored in its event log."""
    return [
        (logging.getLevelName(entry.level), entry.user_message)
        for entry in instance.all_logs(run_id)
    ]


@pytest.fixture
def run_with_one_retry(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
) -> tuple[dg.DagsterInstance, str]:
    """A stock_job run in which the API's first reply is a 500, so the client retries once."""
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM")
    fake_av_env.inject(Fault.HTTP_500, on_call=1)
    instance = dg.DagsterInstance.ephemeral()
    result = run_stock_job(instance)
    assert result.success
    return instance, result.run_id


def test_a_retry_and_the_run_summary_appear_in_the_event_log(
    run_with_one_retry: tuple[dg.DagsterInstance, str],
):
    messages = run_messages(*run_with_one_retry)

    retries = [m for level, m in messages if level == "WARNING" and "retry 1/" in m]
    assert len(retries) == 1
    assert retries[0].startswith("stockpipe.alphavantage.client: IBM TIME_SERIES_DAILY")
    assert any(
        level == "INFO" and m.startswith("stockpipe.ingest.run: ingest run success")
        for level, m in messages
    )


def test_the_api_key_never_reaches_the_event_log(
    run_with_one_retry: tuple[dg.DagsterInstance, str], fake_av_env: FakeAlphaVantage
):
    messages = run_messages(*run_with_one_retry)

    assert messages
    assert not [m for _, m in messages if fake_av_env.api_key in m]


def test_the_log_level_setting_applies_in_the_run(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
):
    pipeline_env.setenv("STOCKPIPE_LOG_LEVEL", "WARNING")
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM")
    fake_av_env.inject(Fault.HTTP_500, on_call=1)
    instance = dg.DagsterInstance.ephemeral()
    result = run_stock_job(instance)

    library = [m for _, m in run_messages(instance, result.run_id) if m.startswith("stockpipe.")]
    assert [m for m in library if "retry 1/" in m]
    assert not [m for m in library if m.startswith("stockpipe.ingest.run:")]
