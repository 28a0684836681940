"""backfill_dag: paused until started, one task in the API pool, and runs through dag.test()
on the test PostgreSQL and the fake Alpha Vantage server: a complete backfill, then nothing
left to fetch; a run narrowed by its config; a bad option failing the task by name."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.airflow import API_POOL
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.airflow.helpers import ledger_calls, load_dag_bag, task_result

pytestmark = pytest.mark.usefixtures("airflow_home")
DAG_ID = "backfill_dag"
TASK_ID = "backfill"


def run_backfill_dag(conf: dict[str, Any] | None = None) -> Any:
    bag = load_dag_bag()
    assert bag.import_errors == {}
    return bag.dags[DAG_ID].test(run_conf=conf)


def test_the_dag_is_paused_until_started_and_runs_one_task_in_the_api_pool(
    pipeline_env: pytest.MonkeyPatch,
):
    dag = load_dag_bag().dags[DAG_ID]

    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 7 * * *", "UTC")
    assert dag.is_paused_upon_creation is True
    assert list(dag.task_dict) == [TASK_ID]
    assert dag.get_task(TASK_ID).pool == API_POOL


def test_a_run_loads_the_history_and_the_next_has_nothing_left(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("STOCK_SERIES", "weekly,monthly")
    pipeline_env.setenv("BACKFILL_RESERVE_CALLS", "0")

    first = run_backfill_dag()

    assert str(first.state) == "success"
    report = task_result(first, TASK_ID)
    assert (report["status"], report["calls"], report["done"], report["left"]) == (
        "complete", 4, 4, 0,
    )  # fmt: skip
    assert sorted((c.function, c.symbol) for c in fake_av.calls()) == [
        ("TIME_SERIES_MONTHLY", "IBM"), ("TIME_SERIES_MONTHLY", "MSFT"),
        ("TIME_SERIES_WEEKLY", "IBM"), ("TIME_SERIES_WEEKLY", "MSFT"),
    ]  # fmt: skip
    assert ledger_calls(db) == 4

    second = run_backfill_dag()

    assert str(second.state) == "success"
    assert (task_result(second, TASK_ID)["calls"], len(fake_av.calls())) == (0, 4)


def test_the_run_config_narrows_the_backfill(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("STOCK_SERIES", "weekly,monthly")
    pipeline_env.setenv("BACKFILL_RESERVE_CALLS", "0")

    run = run_backfill_dag({"symbols": ["msft"], "series": ["weekly"]})

    assert str(run.state) == "success"
    assert [(c.function, c.symbol) for c in fake_av.calls()] == [("TIME_SERIES_WEEKLY", "MSFT")]


def test_a_bad_month_fails_the_task_naming_it_without_a_call(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, capfd: pytest.CaptureFixture[str]
):
    run = run_backfill_dag({"since": "2024-13"})

    assert str(run.state) == "failed"
    output = capfd.readouterr()
    assert "stockpipe backfill: " in output.out + output.err
    assert "2024-13" in output.out + output.err
    assert fake_av.calls() == []
