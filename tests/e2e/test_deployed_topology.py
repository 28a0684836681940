"""The deployed topology end to end: a run launched through the webserver's GraphQL API is
queued, dequeued by the daemon, executed by the code server's run worker and lands in
PostgreSQL; the daemon sees the schedule through the shared storage."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe.cli.webserver_api import FINISHED, all_partitions_tags
from tests.e2e.conftest import HISTORY_LENGTH, Stack
from tests.e2e.processes import wait_until

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 180.0


def test_stock_job_launched_through_graphql_loads_every_symbol_into_postgres(
    e2e_stack: Stack,
) -> None:
    # The tags of a single-run backfill of every symbol (what daily_stock_schedule sets).
    tags = all_partitions_tags(list(e2e_stack.symbols))
    run_id = e2e_stack.graphql.launch(e2e_stack.stock_job, tags)

    status = wait_until(
        lambda: (s := e2e_stack.graphql.run_status(run_id)) in FINISHED and s,
        timeout=RUN_TIMEOUT,
        what=f"run {run_id} of stock_job finishing",
        interval=1.0,
    )

    assert status == "SUCCESS"
    with psycopg.connect(e2e_stack.conninfo) as conn:
        rows = conn.execute(
            "SELECT symbol, count(*), count(DISTINCT ts) FROM stock_data GROUP BY symbol"
            " ORDER BY symbol"
        ).fetchall()
    assert rows == [(symbol, HISTORY_LENGTH, HISTORY_LENGTH) for symbol in e2e_stack.symbols]
    # One API call per symbol: the run worker got API_KEY and ALPHAVANTAGE_BASE_URL.
    calls = e2e_stack.fake.calls()
    assert sorted(call.symbol for call in calls) == sorted(e2e_stack.symbols)


def test_the_daemon_is_healthy_and_runs_daily_stock_schedule(e2e_stack: Stack) -> None:
    # Heartbeats reach the webserver only through the shared PostgreSQL storage.
    wait_until(
        lambda: e2e_stack.graphql.unhealthy_daemons() == [],
        timeout=60.0,
        what="every required daemon reporting healthy",
    )
    schedule = e2e_stack.graphql.schedules(e2e_stack.stock_job)["daily_stock_schedule"]
    assert schedule["cronSchedule"] == "0 6 * * *"
    assert schedule["scheduleState"]["status"] == "RUNNING"


def test_the_daemon_runs_the_schedules_of_the_chosen_series_only(e2e_stack: Stack) -> None:
    schedules = e2e_stack.graphql.schedules(e2e_stack.stock_job)
    states = {
        name: (schedule["cronSchedule"], schedule["scheduleState"]["status"])
        for name, schedule in schedules.items()
    }
    assert states == {
        "daily_stock_schedule": ("0 6 * * *", "RUNNING"),
        "weekly_stock_schedule": ("30 18 * * 1-5", "RUNNING"),
        "monthly_stock_schedule": ("30 18 * * 1-5", "STOPPED"),
        "intraday_stock_schedule": ("*/15 4-20 * * 1-5", "STOPPED"),
        "corporate_actions_schedule": ("30 6 * * *", "RUNNING"),
        "backfill_schedule": ("0 7 * * *", "STOPPED"),  # started by the operator
    }


def test_the_database_refuses_a_connection_without_the_password(e2e_stack: Stack) -> None:
    params = conninfo_to_dict(e2e_stack.conninfo)
    params.pop("password")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(make_conninfo(**params)).close()
