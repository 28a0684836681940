"""`python -m stockpipe.testing.webserver`, the smoke scripts' GraphQL reads: a failure is one
line on stderr and exit 1, never a traceback. Its queries run against real webservers in
tests/e2e (every end-to-end test reads runs and statuses through it) and the smoke scripts."""

from __future__ import annotations

import socket
import subprocess
import sys


def _probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockpipe.testing.webserver", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_webserver_is_one_line_and_exit_1() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = _probe("status", url, "some-run")
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"status: the Dagster webserver at {url} is unreachable (")


def test_waiting_for_a_job_names_the_bound_and_the_reason() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = _probe("wait-job", url, "stock_job", "1")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"wait-job: stock_job not served by {url} within 1s: the Dagster")


def test_an_unknown_command_prints_the_usage() -> None:
    result = _probe("launch", "http://127.0.0.1:3000")
    assert result.returncode == 1
    assert "wait-job URL JOB TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr
