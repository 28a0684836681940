"""A PostgreSQL restart under the running deployment (an upgrade, `docker compose restart
postgres`, a crash): the next launch through the UI's API works at once and leaves no run
behind in NOT_STARTED.

The webserver keeps one pooled connection per instance storage (runs, event log, schedules);
a restart cuts them all. Unless each is tested before use, the first launch fails reading the
job's snapshot and the second fails writing the run's first event after the run row was
written, which leaves that run NOT_STARTED for good (deploy/dagster.yaml, `pre_ping`).

Runs after test_deployed_topology.py (file order), whose assertions count every API call."""

from __future__ import annotations

import pytest

from stockpipe.cli.webserver_api import FINISHED, all_partitions_tags
from tests.e2e.conftest import Stack
from tests.e2e.processes import wait_until

pytestmark = pytest.mark.e2e

TIMEOUT = 180.0


def launch_and_finish(stack: Stack) -> str:
    tags = all_partitions_tags(list(stack.symbols))  # one run for every symbol
    run_id = stack.graphql.launch(stack.stock_job, tags)
    return str(
        wait_until(
            lambda: (s := stack.graphql.run_status(run_id)) in FINISHED and s,
            timeout=TIMEOUT,
            what=f"run {run_id} of stock_job finishing",
            interval=1.0,
        )
    )


def test_the_first_launch_after_a_database_restart_succeeds(e2e_stack: Stack) -> None:
    stack = e2e_stack
    # A launch and its status reads put a connection in each storage's pool.
    assert launch_and_finish(stack) == "SUCCESS"

    stack.database.restart()

    # The launch is the webserver's first request after the restart: nothing else has had
    # the chance to find the dead connections first.
    assert launch_and_finish(stack) == "SUCCESS"
    assert launch_and_finish(stack) == "SUCCESS"
    runs = stack.graphql.runs({"pipelineName": "stock_job"})
    assert [run["runId"] for run in runs if run["status"] not in FINISHED] == []
