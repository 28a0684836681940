"""Alerts in the deployed topology: the daemon's sensor sees runs end and posts to a real
webhook receiver and an SMTP server on 127.0.0.1: one alert for a failing job, none for the
second failure of the same incident, one recovery when a run succeeds.

Runs after test_deployed_topology.py (file order), whose assertions count every API call."""

from __future__ import annotations

import psycopg
import pytest

from stockpipe.cli.webserver_api import FINISHED, all_partitions_tags
from stockpipe.defs.alerts import RUN_SENSOR
from stockpipe.testing.faults import Fault
from tests.e2e.conftest import Stack
from tests.e2e.processes import wait_until
from tests.fixtures.alert_receivers import Received

pytestmark = pytest.mark.e2e

TIMEOUT = 180.0
FAILED_TITLE = "*stockpipe: run of stock_job failed*"
RECOVERED_TITLE = "*stockpipe: stock_job recovered*"


def run_to_the_end(stack: Stack) -> tuple[str, str]:
    tags = all_partitions_tags(list(stack.symbols))  # one run for every symbol
    run_id = stack.graphql.launch(stack.stock_job, tags)
    status = wait_until(
        lambda: (s := stack.graphql.run_status(run_id)) in FINISHED and s,
        timeout=TIMEOUT,
        what=f"run {run_id} of stock_job finishing",
        interval=1.0,
    )
    return run_id, status


def with_title(stack: Stack, title: str) -> list[Received]:
    return [r for r in stack.alerts.delivered() if r.text.splitlines()[0] == title]


def test_the_daemon_alerts_once_per_failing_incident_and_once_on_recovery(
    e2e_stack: Stack,
) -> None:
    stack = e2e_stack
    # The sensor's first tick marks where it starts watching: runs must end after it.
    wait_until(
        lambda: stack.graphql.sensor_ticks(stack.stock_job, RUN_SENSOR),
        timeout=TIMEOUT,
        what=f"the daemon's first tick of {RUN_SENSOR}",
    )
    with psycopg.connect(stack.conninfo) as conn:
        conn.execute("DELETE FROM stock_data WHERE symbol = 'MSFT'")  # so MSFT needs a call
    stack.fake.inject(Fault.INVALID_KEY, symbol="MSFT")

    first, status = run_to_the_end(stack)
    assert status == "FAILURE"
    [alert] = wait_until(
        lambda: with_title(stack, FAILED_TITLE),
        timeout=TIMEOUT,
        what="the run-failure alert reaching the webhook",
    )
    lines = alert.text.splitlines()
    assert lines[1:3] == ["Job: stock_job", f"Run: {first}"]
    assert any(line.startswith("  stock_data/MSFT: ") for line in lines)
    assert lines[-1] == f"{stack.ui_url}/runs/{first}"

    second, status = run_to_the_end(stack)
    assert status == "FAILURE"
    stack.fake.reset()
    third, status = run_to_the_end(stack)
    assert status == "SUCCESS"

    [recovery] = wait_until(
        lambda: with_title(stack, RECOVERED_TITLE),
        timeout=TIMEOUT,
        what="the recovery alert reaching the webhook",
    )
    assert recovery.text.splitlines()[1].startswith(
        f"Run {third} of stock_job succeeded after 2 failed runs since "
    )
    # The sensor reads runs in the order they ended: an alert for the second failure would
    # have arrived before the recovery.
    assert len(with_title(stack, FAILED_TITLE)) == 1
    assert all(second not in r.text for r in stack.alerts.delivered())
    # The same alerts by e-mail, sent in the same ticks, each after its webhook post: wait for
    # the recovery's mail, which may still be on its way when the webhook has it.
    wait_until(
        lambda: any(m.subject == "stockpipe: stock_job recovered" for m in stack.mail.mails),
        timeout=TIMEOUT,
        what="the recovery alert reaching the SMTP server",
    )
    subjects = [m.subject for m in stack.mail.mails]
    assert subjects.count("stockpipe: run of stock_job failed") == 1
    assert subjects.count("stockpipe: stock_job recovered") == 1
    [failure_mail] = [m for m in stack.mail.mails if m.subject.endswith("run of stock_job failed")]
    assert f"Run: {first}" in failure_mail.body
    assert {m.login for m in stack.mail.mails} == {"alerts@example.test"}
