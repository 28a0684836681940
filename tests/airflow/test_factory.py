"""stock_dag run through dag.test(), on the test PostgreSQL and the fake Alpha Vantage server."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.airflow.helpers import (
    ledger_calls,
    load_dag_bag,
    run_stock_dag,
    task_result,
    task_states,
)
from tests.fixtures.daily_rows import expected_rows, stored_rows
from tests.fixtures.fake_alphavantage import FAKE_API_KEY

pytestmark = pytest.mark.usefixtures("airflow_home")

# 30 symbols: two chunks (25 + 5), so the run maps two ingest tasks.
MANY = [f"S{n:02d}" for n in range(30)]


def test_a_run_stores_the_exact_rows_and_a_second_run_spends_no_call(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", ",".join(MANY))

    first = run_stock_dag()

    assert str(first.state) == "success"
    assert task_states(first) == {
        ("plan_chunks", -1): "success",
        ("ingest_chunk", 0): "success",
        ("ingest_chunk", 1): "success",
        ("check_symbols", -1): "success",
    }
    assert [len(chunk) for chunk in task_result(first, "plan_chunks")] == [25, 5]
    for symbol in MANY:
        assert stored_rows(db, symbol) == expected_rows(symbol), symbol
    assert len(fake_av.calls()) == 30
    assert ledger_calls(db) == 30

    second = run_stock_dag()

    assert str(second.state) == "success"
    assert len(fake_av.calls()) == 30  # every symbol already holds the latest session
    totals = task_result(second, "check_symbols")
    assert (totals["symbols"], totals["calls"], totals["inserted"]) == (30, 0, 0)
    assert totals["failed"] == {} and totals["deferred"] == []


def test_an_invalid_symbol_fails_the_check_task_by_name_after_the_others_loaded(
    pipeline_env: pytest.MonkeyPatch, db: Database, capfd: pytest.CaptureFixture[str]
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,INVALIDX,MSFT")

    run = run_stock_dag()

    assert str(run.state) == "failed"
    assert task_states(run) == {
        ("plan_chunks", -1): "success",
        ("ingest_chunk", 0): "success",
        ("check_symbols", -1): "failed",
    }
    assert stored_rows(db, "IBM") == expected_rows("IBM")
    assert stored_rows(db, "MSFT") == expected_rows("MSFT")
    assert stored_rows(db, "INVALIDX") == []
    output = capfd.readouterr()
    assert (
        "AirflowFailException: 1 of 3 failed: INVALIDX (InvalidCall: Alpha Vantage rejected"
        " INVALIDX TIME_SERIES_DAILY" in output.out + output.err
    )


def test_a_spent_budget_defers_symbols_without_failing_the_run(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT,AAPL")
    pipeline_env.setenv("API_DAILY_BUDGET", "1")

    run = run_stock_dag()

    assert str(run.state) == "success"
    totals = task_result(run, "check_symbols")
    assert (totals["calls"], totals["failed"], len(totals["deferred"])) == (1, {}, 2)
    assert len(fake_av.calls()) == 1
    assert ledger_calls(db) == 1
    [loaded] = {"IBM", "MSFT", "AAPL"} - set(totals["deferred"])
    assert stored_rows(db, loaded) == expected_rows(loaded)


def test_a_run_that_gets_no_data_at_all_fails_as_a_dagster_run_does(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("API_DAILY_BUDGET", "0")

    run = run_stock_dag()

    assert str(run.state) == "failed"
    states = task_states(run)
    assert states[("check_symbols", -1)] == "failed"
    assert {s for (task, _), s in states.items() if task == "ingest_chunk"} == {"success"}
    [chunk] = [task_result(run, "ingest_chunk", 0)]
    assert (chunk["good"], sorted(chunk["deferred"])) == (0, ["IBM", "MSFT"])
    assert fake_av.calls() == []
    assert ledger_calls(db) == 0


def test_the_key_never_appears_in_the_task_logs(
    pipeline_env: pytest.MonkeyPatch,
    fake_av: FakeAlphaVantage,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    airflow_home,
):
    assert fake_av.api_key == FAKE_API_KEY
    # A failing symbol and a failing task: the paths where messages carry the most detail.
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,INVALIDX")

    run = run_stock_dag()

    assert str(run.state) == "failed"
    output = capfd.readouterr()
    files = [
        p.read_text(errors="replace") for p in (airflow_home / "logs").rglob("*") if p.is_file()
    ]
    everything = "\n".join([output.out, output.err, caplog.text, *files])
    assert "INVALIDX" in everything and "ingest_chunk" in everything  # the logs were seen
    assert FAKE_API_KEY not in everything


def test_the_weekly_dag_stores_one_row_per_week_and_a_manual_run_passes_the_gate(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    bag = load_dag_bag()

    run = bag.dags["stock_weekly_dag"].test()

    assert str(run.state) == "success"
    assert task_states(run)[("due", -1)] == "success"  # dag.test() is a manual run
    assert [call.function for call in fake_av.calls()] == ["TIME_SERIES_WEEKLY"] * 2
    weeks = db.run(
        lambda conn: conn.execute(
            "SELECT symbol, count(*), count(DISTINCT period_start) FROM stock_data_weekly"
            " GROUP BY symbol ORDER BY symbol"
        ).fetchall()
    )
    assert [(symbol, rows == distinct and rows > 0) for symbol, rows, distinct in weeks] == [
        ("IBM", True),
        ("MSFT", True),
    ]
    assert stored_rows(db, "IBM") == []  # the daily table is stock_dag's
