"""`make airflow-up` as a real process tree (python -m stockpipe.airflow.up): where it listens,
where Airflow's home and its password land, and that the first start calls nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path

import psutil
import psycopg
import pytest

pytest.importorskip("airflow.sdk", reason="Airflow runs in .venv-airflow: make test-airflow")

from stockpipe.store.embedded import free_port
from stockpipe.testing import FakeAlphaVantage

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

READY_TIMEOUT = 600.0  # migrations, then four components parsing six DAGs, on a loaded machine
STOP_TIMEOUT = 120.0
REPO = Path(__file__).resolve().parents[2]
SCHEDULED = {"stock_dag", "corporate_actions_dag"}  # unpaused at creation with the defaults


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout:.0f}s\n{log.read_text()[-4000:]}")
        time.sleep(0.5)  # polling interval of a bounded wait, not synchronisation by delay


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class AirflowUp:
    def __init__(self, tmp_path: Path, fake: FakeAlphaVantage, bind: str | None) -> None:
        self.api_port, self.task_logs, self.trigger_logs, self.pg_port = (
            free_port() for _ in range(4)
        )
        self.data_dir = tmp_path / "data"
        self.cwd = tmp_path
        self.log = tmp_path / "airflow-up.log"
        self.pid = 0
        # Nothing of this test session's Airflow (its SQLite home) or of the developer's setup.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "POSTGRES_", "API_", "STOCK", "DATABASE_URL"))
        }
        env.update(
            STOCKPIPE_DATA_DIR=str(self.data_dir),
            STOCKPIPE_EMBEDDED_PG_PORT=str(self.pg_port),
            AIRFLOW__API__PORT=str(self.api_port),
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(self.task_logs),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(self.trigger_logs),
            API_KEY=fake.api_key,
            ALPHAVANTAGE_BASE_URL=fake.url,
            STOCK_SYMBOLS="IBM,MSFT",
            API_OUTPUT_SIZE="compact",
            API_POLITE_DELAY_SEC="0",
            API_CALLS_PER_MINUTE="1000",
        )
        if bind is not None:
            env["STOCKPIPE_BIND"] = bind
        self.env = env

    @property
    def ports(self) -> set[int]:
        return {self.api_port, self.task_logs, self.trigger_logs}

    @contextmanager
    def running(self) -> Iterator[subprocess.Popen[bytes]]:
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "stockpipe.airflow.up"],
                cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.pid = process.pid
        try:
            wait_for(
                lambda: process.poll() is not None or self.ports <= set(self.listening()),
                READY_TIMEOUT,
                "the API server and both log servers listening",
                self.log,
            )
            assert process.poll() is None, self.log.read_text()[-4000:]
            yield process
        finally:
            children = descendants(process)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # as Ctrl-C
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for child in children:  # none may outlive the test, whatever its signal handlers
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()

    def listening(self) -> dict[int, set[str]]:
        """port -> the addresses the process tree listens on (from the kernel, via psutil)."""
        found: dict[int, set[str]] = {}
        for proc in descendants_of(self.pid):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                for conn in proc.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        found.setdefault(conn.laddr.port, set()).add(conn.laddr.ip)
        return found

    def metadata(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.pg_port, user="postgres", dbname="airflow"
        )


def descendants(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(process.pid).children(recursive=True)
    return []


def descendants_of(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def test_airflow_up_listens_on_loopback_keeps_its_home_out_of_the_clone_and_calls_nothing(
    tmp_path: Path, fake_av: FakeAlphaVantage
):
    stack = AirflowUp(tmp_path, fake_av, bind=None)
    started_at = datetime.now(UTC)

    with stack.running():
        listening = stack.listening()
        assert {port: listening[port] for port in stack.ports} == {
            port: {"127.0.0.1"} for port in stack.ports
        }
        # Nothing in the tree listens beyond this machine (the embedded PostgreSQL included).
        assert all(ip_address(ip).is_loopback for ips in listening.values() for ip in ips)
        assert answers(f"http://127.0.0.1:{stack.api_port}/api/v2/monitor/health")

        # Airflow's home, with the admin password, under STOCKPIPE_DATA_DIR: not in the clone.
        home = stack.data_dir / "airflow"
        wait_for(
            (home / "simple_auth_manager_passwords.json.generated").exists,
            READY_TIMEOUT,
            "the admin password file",
            stack.log,
        )
        assert not (stack.cwd / ".stockpipe").exists()

        # First start: the DAG processor registers the DAGs with their first run at their
        # next tick; the scheduler creates no run before it, so no API call is made.
        def registered() -> list[tuple[object, ...]]:
            with stack.metadata() as conn:
                return conn.execute(
                    "SELECT dag_id, next_dagrun_create_after FROM dag"
                    " WHERE NOT is_paused AND next_dagrun_create_after IS NOT NULL"
                ).fetchall()

        wait_for(
            lambda: {row[0] for row in registered()} >= SCHEDULED,
            READY_TIMEOUT,
            "the scheduled DAGs registered",
            stack.log,
        )
        for dag_id, first_run in registered():
            assert isinstance(first_run, datetime) and first_run > started_at, dag_id
        with stack.metadata() as conn:
            assert conn.execute("SELECT count(*) FROM dag_run").fetchone() == (0,)
        assert fake_av.calls() == []

        check_import_errors_from_the_command_line(stack)
        check_a_triggered_run_reaches_the_api_server_on_loopback(stack, fake_av)


def check_a_triggered_run_reaches_the_api_server_on_loopback(
    stack: AirflowUp, fake: FakeAlphaVantage
) -> None:
    """A task reports to the execution API on 127.0.0.1 and records the address its log
    server listens on: a run asked for from the command line succeeds and loads the bars."""
    [scheduler] = [p for p in descendants_of(stack.pid) if "scheduler" in " ".join(p.cmdline())]
    triggered = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "dags", "trigger", "stock_dag"],
        env=scheduler.environ(), cwd=stack.cwd, capture_output=True, text=True, check=False,
        timeout=300,
    )  # fmt: skip
    assert triggered.returncode == 0, triggered.stdout[-2000:] + triggered.stderr[-2000:]

    def finished() -> str | None:
        with stack.metadata() as conn:
            row = conn.execute("SELECT state FROM dag_run WHERE dag_id = 'stock_dag'").fetchone()
        return str(row[0]) if row and row[0] in ("success", "failed") else None

    wait_for(lambda: finished() is not None, READY_TIMEOUT, "the triggered run", stack.log)
    assert finished() == "success", stack.log.read_text()[-4000:]
    with stack.metadata() as conn:
        hosts = conn.execute(
            "SELECT DISTINCT hostname FROM task_instance WHERE dag_id = 'stock_dag'"
        ).fetchall()
    assert hosts == [("127.0.0.1",)]
    assert {call.symbol for call in fake.calls()} == {"IBM", "MSFT"}


def check_import_errors_from_the_command_line(stack: AirflowUp) -> None:
    """What operations.md documents, against the running deployment."""
    # Airflow's own command, in the environment of a running component, with a bad setting
    # as a user's edited .env would give the DAG processor.
    [scheduler] = [p for p in descendants_of(stack.pid) if "scheduler" in " ".join(p.cmdline())]
    deployment = {**scheduler.environ(), "DAG_SCHEDULE_CRON": "every morning"}
    listed = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "dags", "list-import-errors", "--local"],
        env=deployment, cwd=stack.cwd, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert listed.returncode == 1, listed.stdout[-3000:] + listed.stderr[-3000:]  # errors found
    assert "stockpipe_dags.py" in listed.stdout
    assert "DAG_SCHEDULE_CRON" in listed.stdout and "every morning" in listed.stdout

    # `make airflow-import-errors`: the same command, nothing to list with good settings; the
    # deployment's embedded PostgreSQL keeps running (it was not this command's to stop).
    def import_errors(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "stockpipe.airflow.import_errors"],
            env={**stack.env, **extra}, cwd=stack.cwd, capture_output=True, text=True,
            check=False, timeout=300,
        )  # fmt: skip

    clean = import_errors()
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert "No data found" in clean.stdout
    with stack.metadata() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    bad = import_errors(DAG_SCHEDULE_CRON="every morning")
    assert bad.returncode == 2
    assert "DAG_SCHEDULE_CRON" in bad.stderr and "every morning" in bad.stderr
    assert "import error of stockpipe_dags.py" in bad.stderr


def test_stockpipe_bind_opens_the_ui_and_the_log_servers_to_the_network(
    tmp_path: Path, fake_av: FakeAlphaVantage
):
    stack = AirflowUp(tmp_path, fake_av, bind="0.0.0.0")  # the opt-in under test

    with stack.running():
        listening = stack.listening()

    assert {port: listening[port] for port in stack.ports} == {
        port: {"0.0.0.0"} for port in stack.ports
    }


def test_the_makefile_leaves_airflow_home_to_stockpipe_data_dir_and_git_ignores_dot_stockpipe():
    dry_run = subprocess.run(
        ["make", "-n", "airflow-up"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "AIRFLOW_HOME=" not in dry_run.stdout
    assert "-m stockpipe.airflow.up" in dry_run.stdout
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".stockpipe/airflow/simple_auth_manager_passwords.json"],
        cwd=REPO,
        check=False,
    )
    assert ignored.returncode == 0
