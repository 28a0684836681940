"""corporate_actions_dag: its schedule and pool, and runs through dag.test() on the test
PostgreSQL and the fake Alpha Vantage server."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.airflow import API_POOL
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.airflow.helpers import ledger_calls, load_dag_bag, run_stock_dag, task_result

pytestmark = pytest.mark.usefixtures("airflow_home")
DAG_ID = "corporate_actions_dag"
TASK_ID = "refresh_corporate_actions"
SPLIT = {"effective_date": "2020-08-31", "split_factor": "4.0000"}


def run_actions_dag() -> Any:
    bag = load_dag_bag()
    assert bag.import_errors == {}
    return bag.dags[DAG_ID].test()


def test_the_dag_runs_one_task_in_the_api_pool_on_its_own_utc_cron(
    pipeline_env: pytest.MonkeyPatch,
):
    pipeline_env.setenv("CORPORATE_ACTIONS_SCHEDULE_CRON", "15 7 * * 1-5")

    dag = load_dag_bag().dags[DAG_ID]

    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("15 7 * * 1-5", "UTC")
    assert list(dag.task_dict) == [TASK_ID]
    assert dag.get_task(TASK_ID).pool == API_POOL


def test_a_run_stores_the_actions_reports_them_and_the_next_costs_nothing(
    pipeline_env: pytest.MonkeyPatch, fake_av: FakeAlphaVantage, db: Database
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    fake_av.set_actions("IBM", splits=[SPLIT], dividends=[])
    fake_av.set_actions("MSFT", splits=[], dividends=[])
    assert str(run_stock_dag().state) == "success"

    first = run_actions_dag()

    assert str(first.state) == "success"
    report = task_result(first, TASK_ID)
    assert report["calls"] == 4
    assert report["counts"] == {"loaded": 4, "not_due": 0, "deferred": 0, "failed": 0}
    assert report["changes"] == ["IBM split 2020-08-31: new 4.0000"]
    # The split is older than every stored bar: no adjusted price moves.
    assert report["adjusted_prices_recomputed_for"] == []
    assert ledger_calls(db) == 2 + 4

    second = run_actions_dag()

    assert str(second.state) == "success"
    assert task_result(second, TASK_ID)["counts"]["not_due"] == 4
    assert len(fake_av.calls()) == 2 + 4


def test_a_failed_symbol_fails_the_task_naming_it(
    pipeline_env: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
):
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,INVALIDX")

    run = run_actions_dag()

    assert str(run.state) == "failed"
    output = capfd.readouterr()
    assert "INVALIDX SPLITS (InvalidCall: Alpha Vantage rejected INVALIDX SPLITS" in (
        output.out + output.err
    )
