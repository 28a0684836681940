"""The daily asset's missing_sessions check: WARN, failing with every symbol's missing sessions
between its first and newest bar, marked by what can repair them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from stockpipe.defs.checks import evaluate_checks
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.defs.conftest import run_stock_job
from tests.fixtures.daily_rows import insert_sessions

NOW = datetime(2024, 5, 8, 22, tzinfo=UTC)  # after Wednesday's close
SESSIONS = sessions_between(date(2023, 1, 1), date(2024, 5, 8))


def test_the_check_warns_with_each_symbols_missing_sessions(db: Database) -> None:
    far, near = SESSIONS[-120], SESSIONS[-5]
    insert_sessions(db, "IBM", [day for day in SESSIONS[-150:] if day not in (far, near)])
    insert_sessions(db, "MSFT", SESSIONS[-150:-1])  # behind by one session: freshness's business

    results = evaluate_checks(db, ["IBM", "MSFT"], full_allowed=False, now=NOW)

    by_name = {result.check_name: result for result in results}
    gaps = by_name["missing_sessions"]
    assert (gaps.passed, gaps.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert gaps.description == (
        "1 of 2 symbols miss sessions between their first and newest bar (2 sessions): IBM (2)"
    )
    assert gaps.metadata["examples"] == dg.MetadataValue.md(
        f"- IBM: 2 missing: {far} (premium (full) history only);"
        f" {near} (repairable: the next daily refresh, compact)"
    )
    assert (by_name["freshness"].passed, by_name["ohlc_sanity"].passed) == (False, True)


def test_a_stock_job_run_reports_a_gap_its_key_cannot_repair(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage, db: Database
) -> None:
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM")  # API_OUTPUT_SIZE=compact: never full history
    instance = dg.DagsterInstance.ephemeral()
    assert run_stock_job(instance).success  # the latest 100 bars
    sessions = sessions_between(date(2020, 1, 1), latest_completed_session())
    insert_sessions(
        db, "IBM", [sessions[-130]]
    )  # an older bar: 29 sessions between it and the rest
    calls = len(fake_av_env.calls())

    result = run_stock_job(instance)

    assert result.success  # a WARN check does not fail the run
    assert len(fake_av_env.calls()) == calls
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "missing_sessions"
    ]
    assert (evaluation.passed, evaluation.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert evaluation.metadata["examples"].value == (
        f"- IBM: 29 missing: {sessions[-129]}..{sessions[-101]} (29) (premium (full) history only)"
    )
    [materialization] = result.asset_materializations_for_node("stock_data")
    assert materialization.metadata["message"].value == (
        f"29 missing sessions only premium (full) history reaches: {sessions[-129]}.."
        f"{sessions[-101]} (29); API_OUTPUT_SIZE=compact never asks for full history, so they"
        " stay missing and are not asked for again (docs/operations.md: missing sessions)"
    )
