"""`stockpipe up` as a real process: embedded PostgreSQL, code server, daemon, webserver."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import pytest

from stockpipe import processes
from stockpipe.store.embedded import free_port

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 240.0
STOP_TIMEOUT = 90.0
SCHEDULES_QUERY = """{ schedulesOrError(repositorySelector: {repositoryName: "__repository__",
  repositoryLocationName: "stockpipe"}) { ... on Schedules { results { name cronSchedule
  scheduleState { status } } } ... on PythonError { message } } }"""


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout:.0f}s")
        time.sleep(0.25)  # polling interval of a bounded wait, not synchronisation by delay


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def graphql(port: int, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


class Stack:
    def __init__(self, tmp_path: Path) -> None:
        self.ui_port, self.code_port, self.pg_port = free_port(), free_port(), free_port()
        self.data_dir = tmp_path / "data"
        self.log = tmp_path / "up.log"
        self.cwd = tmp_path
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "API_"))}
        env.pop("DATABASE_URL", None)
        env.pop("DAGSTER_HOME", None)
        env.pop("STOCK_SYMBOLS", None)
        env.update(
            STOCKPIPE_DATA_DIR=str(self.data_dir), STOCKPIPE_EMBEDDED_PG_PORT=str(self.pg_port)
        )
        self.env = env

    @contextmanager
    def running(self) -> Iterator[subprocess.Popen[bytes]]:
        stockpipe = Path(sys.executable).parent / "stockpipe"
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            process = processes.spawn(
                [str(stockpipe), "up", "--port", str(self.ui_port),
                 "--code-server-port", str(self.code_port)],
                cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            # `up` says so once the webserver answers /server_info.
            wait_for(
                lambda: (
                    process.poll() is not None
                    or b"stockpipe is up" in self.log.read_bytes()[start:]
                ),
                READY_TIMEOUT,
                "the UI",
            )
            assert process.poll() is None, self.log.read_text()[-3000:]
            assert answers(f"http://127.0.0.1:{self.ui_port}/server_info")
            yield process
        finally:
            if process.poll() is None:
                # The test failed with the stack up: stop it as Ctrl-C does, then make sure no
                # child outlives the test (a SIGKILL of `up` alone would orphan them all).
                children = descendants(process)
                processes.stop(process, signum=signal.SIGINT, grace=READY_TIMEOUT, name="up")
                for child in children:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        child.kill()

    def database(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.pg_port, user="postgres", dbname="stockpipe"
        )

    def schedules(self) -> object:
        return graphql(self.ui_port, SCHEDULES_QUERY)["data"]


def descendants(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def test_up_serves_the_ui_and_ctrl_c_stops_everything_keeping_the_data(tmp_path: Path):
    stack = Stack(tmp_path)
    marker = datetime(2001, 2, 3, 5, tzinfo=UTC)

    with stack.running() as up:
        # Every series has its schedule; STOCK_SERIES (default: daily) says which one runs.
        schedules = stack.schedules()["schedulesOrError"]["results"]  # type: ignore[index]
        assert {
            s["name"]: (s["cronSchedule"], s["scheduleState"]["status"]) for s in schedules
        } == {
            "daily_stock_schedule": ("0 6 * * *", "RUNNING"),
            "weekly_stock_schedule": ("30 18 * * 1-5", "STOPPED"),
            "monthly_stock_schedule": ("30 18 * * 1-5", "STOPPED"),
            "intraday_stock_schedule": ("*/15 4-20 * * 1-5", "STOPPED"),
            "corporate_actions_schedule": ("30 6 * * *", "RUNNING"),
            "backfill_schedule": ("0 7 * * *", "STOPPED"),  # started by the operator
        }
        with stack.database() as conn:
            conn.execute(
                "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume)"
                " VALUES ('IBM', %s, 1, 1, 1, 1, 1)",
                [marker],
            )
        children = descendants(up)
        assert len(children) >= 3

        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=STOP_TIMEOUT) == 0, stack.log.read_text()[-3000:]

    assert not any(child.is_running() for child in children)
    assert not (stack.data_dir / "pgdata" / "postmaster.pid").exists()
    log = stack.log.read_text()
    assert f"stockpipe is up: Dagster UI on http://127.0.0.1:{stack.ui_port}" in log
    assert f"psql -h 127.0.0.1 -p {stack.pg_port} -U postgres stockpipe" in log

    # The next start finds the data; a dying child takes the whole stack down with a reason.
    with stack.running() as up:
        with stack.database() as conn:
            rows = conn.execute("SELECT symbol FROM stock_data WHERE ts = %s", [marker])
            assert rows.fetchall() == [("IBM",)]
        daemon = next(p for p in descendants(up) if "dagster-daemon" in " ".join(p.cmdline()))
        others = [p for p in descendants(up) if p.pid != daemon.pid]

        daemon.kill()
        assert up.wait(timeout=STOP_TIMEOUT) == 1

    assert not any(child.is_running() for child in others)
    assert "daemon exited with code -9: stopping the rest" in stack.log.read_text()
