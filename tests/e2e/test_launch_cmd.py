"""`stockpipe launch` against the deployed topology (code server, daemon, webserver): the command
as a user runs it, a process of its own, launching a series' job for every symbol.

Runs after test_deployed_topology.py (file order), whose assertions count every API call; the
series launched here are not daily's, except the one run whose calls nobody counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stockpipe.cli.webserver_api import FINISHED
from tests.e2e.conftest import HISTORY_LENGTH, Stack
from tests.e2e.processes import wait_until

pytestmark = pytest.mark.e2e

STOCKPIPE = str(Path(sys.executable).parent / "stockpipe")
RUN_TIMEOUT = 180
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def launch(stack: Stack, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # An empty working directory and no stockpipe variables: nothing but --url says where.
    return subprocess.run(
        [STOCKPIPE, "launch", "--url", stack.ui_url, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        timeout=RUN_TIMEOUT + 60,
        check=False,
    )


def test_launch_wait_runs_the_weekly_job_for_every_symbol_and_prints_its_url(
    e2e_stack: Stack, tmp_path: Path
) -> None:
    result = launch(e2e_stack, tmp_path, "--series", "weekly", "--wait", "--timeout", "180")

    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith(f"{e2e_stack.ui_url}/runs/")
    run_id = url.rsplit("/", 1)[1]
    first, last = e2e_stack.symbols[0], e2e_stack.symbols[-1]
    assert result.stderr.splitlines()[0] == (
        f"launched weekly_stock_job for {len(e2e_stack.symbols)} symbols ({first} to {last}):"
        f" run {run_id}"
    )
    assert result.stderr.splitlines()[-1] == f"run {run_id}: SUCCESS"
    [run] = e2e_stack.graphql.runs({"runIds": [run_id]})
    assert run["jobName"] == "weekly_stock_job"
    assert run["status"] == "SUCCESS"
    assert (run["tags"][RANGE_START_TAG], run["tags"][RANGE_END_TAG]) == (first, last)
    with psycopg.connect(e2e_stack.conninfo) as conn:
        loaded = conn.execute(
            "SELECT DISTINCT symbol FROM stock_data_weekly ORDER BY symbol"
        ).fetchall()
    assert [symbol for (symbol,) in loaded] == sorted(e2e_stack.symbols)


def test_launch_without_wait_returns_at_once_and_the_run_goes_on(
    e2e_stack: Stack, tmp_path: Path
) -> None:
    result = launch(e2e_stack, tmp_path)  # the default series: daily, stock_job

    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().rsplit("/", 1)[1]
    assert result.stderr.startswith("launched stock_job for ")
    status = wait_until(
        lambda: (s := e2e_stack.graphql.run_status(run_id)) in FINISHED and s,
        timeout=RUN_TIMEOUT,
        what=f"run {run_id} of stock_job finishing",
        interval=1.0,
    )
    assert status == "SUCCESS"
    with psycopg.connect(e2e_stack.conninfo) as conn:
        rows = conn.execute("SELECT count(*) FROM stock_data").fetchone()
    assert rows == (HISTORY_LENGTH * len(e2e_stack.symbols),)


def test_an_unknown_job_is_exit_2_and_lists_the_jobs_served(
    e2e_stack: Stack, tmp_path: Path
) -> None:
    result = launch(e2e_stack, tmp_path, "--job", "no_such_job")

    assert result.returncode == 2
    assert result.stdout == ""
    prefix = "stockpipe: unknown job 'no_such_job'; the webserver serves: "
    [line] = result.stderr.splitlines()
    assert line.startswith(prefix)
    served = line.removeprefix(prefix).split(", ")
    assert {"stock_job", "weekly_stock_job", "corporate_actions_job", "backfill_job"} <= set(served)
