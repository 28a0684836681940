"""The DAGs folder as Airflow's DAG processor loads it: no import errors, the promised shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

import pendulum

from stockpipe.airflow import API_POOL
from tests.airflow.helpers import load_dag_bag


@pytest.fixture
def deployment_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """What a deployment sets; nothing is contacted while a DAG file is parsed."""
    for name in ("DATABASE_URL", "POSTGRES_HOST", "STOCK_SYMBOLS", "API_KEY", "DAG_SCHEDULE_CRON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # Settings also reads ./.env
    monkeypatch.setenv("STOCKPIPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("API_KEY", "placeholder-api-key-7c1e")
    monkeypatch.setenv("STOCK_SYMBOLS", "IBM,MSFT,AAPL")
    monkeypatch.setenv("DAG_SCHEDULE_CRON", "30 5 * * 1-5")
    return monkeypatch


def test_the_dags_folder_imports_without_errors_and_holds_stock_dag(
    deployment_env: pytest.MonkeyPatch,
):
    bag = load_dag_bag()

    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == [
        "backfill_dag",
        "corporate_actions_dag",
        "stock_dag",
        "stock_intraday_dag",
        "stock_monthly_dag",
        "stock_weekly_dag",
    ]


@pytest.mark.parametrize(
    ("dag_id", "cron"),
    [
        ("stock_weekly_dag", "30 18 * * 1-5"),
        ("stock_monthly_dag", "30 18 * * 1-5"),
        ("stock_intraday_dag", "*/15 4-20 * * 1-5"),
    ],
    ids=["weekly after the close", "monthly after the close", "intraday every 15 minutes"],
)
def test_each_series_dag_runs_on_its_new_york_schedule_behind_the_calendar_gate(
    deployment_env: pytest.MonkeyPatch, dag_id: str, cron: str
):
    dag = load_dag_bag().dags[dag_id]

    assert (dag.timetable.expression, str(dag.timetable.timezone)) == (cron, "America/New_York")
    assert dag.get_task("due").downstream_task_ids == {"plan_chunks"}
    assert dag.get_task("ingest_chunk").pool == API_POOL


def test_only_the_series_in_stock_series_start_unpaused(deployment_env: pytest.MonkeyPatch):
    deployment_env.setenv("STOCK_SERIES", "daily,weekly")

    dags = load_dag_bag().dags

    assert {dag_id: dag.is_paused_upon_creation for dag_id, dag in dags.items()} == {
        "stock_dag": False,
        "stock_weekly_dag": False,
        "stock_monthly_dag": True,
        "stock_intraday_dag": True,
        "corporate_actions_dag": False,  # not a series: runs whatever STOCK_SERIES says
        "backfill_dag": True,  # started by the operator, like Dagster's backfill_schedule
    }


def test_stock_dag_runs_on_dag_schedule_cron_one_run_at_a_time_without_catchup(
    deployment_env: pytest.MonkeyPatch,
):
    dag = load_dag_bag().dags["stock_dag"]

    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("30 5 * * 1-5", "UTC")
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert {"stockpipe", "daily"} <= set(dag.tags)


def test_stock_dag_maps_one_pooled_retried_ingest_task_per_chunk(
    deployment_env: pytest.MonkeyPatch,
):
    dag = load_dag_bag().dags["stock_dag"]
    plan, ingest, check = (
        dag.get_task(t) for t in ("plan_chunks", "ingest_chunk", "check_symbols")
    )

    assert plan.downstream_task_ids == {"ingest_chunk"}
    assert ingest.downstream_task_ids == {"check_symbols"}
    assert check.downstream_task_ids == set()
    assert ingest.is_mapped
    assert (ingest.pool, ingest.retries) == (API_POOL, 3)
    assert ingest.partial_kwargs["retry_exponential_backoff"] == 2.0
    assert ingest.partial_kwargs["retry_delay"] == timedelta(seconds=30)
    assert ingest.partial_kwargs["max_retry_delay"] == timedelta(minutes=10)
    # Only the task that may call Alpha Vantage takes the pool's one slot.
    assert plan.pool != API_POOL and check.pool != API_POOL
    assert (plan.retries, check.retries) == (0, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DAG_SCHEDULE_CRON", "every morning"), ("API_DAILY_BUDGET", "-1")],
    ids=["a bad schedule", "a negative budget"],
)
def test_a_bad_setting_is_an_import_error_naming_the_variable(
    deployment_env: pytest.MonkeyPatch, variable: str, value: str
):
    deployment_env.setenv(variable, value)

    bag = load_dag_bag()

    [message] = bag.import_errors.values()
    assert variable in message
    assert bag.dag_ids == []


def first_and_after_downtime(dag: object) -> tuple[datetime, datetime]:
    """When the scheduler creates the DAG's first run, and its next one after a run three days
    ago (the scheduler's own computation, on the DAG as the DAG processor serialises it)."""
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import DagRunInfo

    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    first = serialized.next_dagrun_info(last_automated_run_info=None)
    earlier = DagRunInfo.exact(pendulum.instance(datetime.now(UTC) - timedelta(days=3)))
    later = serialized.next_dagrun_info(last_automated_run_info=earlier)
    assert first is not None and later is not None
    return first.run_after, later.run_after


@pytest.mark.parametrize("dag_id", ["stock_dag", "corporate_actions_dag"])
def test_a_new_dag_runs_nothing_before_its_next_tick_as_a_dagster_schedule(
    deployment_env: pytest.MonkeyPatch, dag_id: str
):
    # Every minute: the tick that just passed is always "recent", which Airflow's default
    # timetable (and any start_date in the past) would run at once on the first start.
    deployment_env.setenv("DAG_SCHEDULE_CRON", "* * * * *")
    deployment_env.setenv("CORPORATE_ACTIONS_SCHEDULE_CRON", "* * * * *")
    before = datetime.now(UTC)

    first, after_downtime = first_and_after_downtime(load_dag_bag().dags[dag_id])

    assert first > before  # no run until the next tick
    assert after_downtime <= datetime.now(UTC)  # the one missed tick runs once it is back
