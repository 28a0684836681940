"""The deployed topology as processes, from the repository's own deploy/dagster.yaml and
deploy/workspace.yaml: a PostgreSQL server with password auth on a TCP port, the fake Alpha
Vantage server, `dagster code-server start` (after `stockpipe db migrate`, as in
docker-compose.yml), `dagster-daemon run` and `dagster-webserver`. Started once for the e2e
tier, always torn down.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo

from stockpipe import processes as child_processes
from stockpipe.cli.webserver_api import JobHandle, LaunchError
from stockpipe.store.embedded import EmbeddedServer, start_throwaway_server
from stockpipe.testing.fake_alphavantage import FakeAlphaVantage
from stockpipe.testing.webserver import WebserverProbe
from tests.e2e.processes import ManagedProcess, free_port, start_process, wait_until
from tests.fixtures.alert_receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    Certificates,
    SmtpReceiver,
    WebhookReceiver,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"
BIN = Path(sys.executable).parent
SYMBOLS = ("IBM", "MSFT")
# Both `compact` (100 bars) and `full` answers hold exactly this many bars, so the expected
# row count does not depend on which one the ingest step asks for.
HISTORY_LENGTH = 40
DB_PASSWORD = "e2e-Secret-7f3a"
DB_NAME = "stockpipe"
STARTUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Stack:
    ui_url: str
    conninfo: str
    graphql: WebserverProbe
    stock_job: JobHandle
    fake: FakeAlphaVantage
    symbols: tuple[str, ...]
    alerts: WebhookReceiver  # the Slack webhook the daemon's alert sensors post to
    mail: SmtpReceiver  # and the SMTP server (STARTTLS, AUTH) they send e-mail through
    database: EmbeddedServer  # the server every process connects to (restartable)


def _workspace_for(port: int) -> dict[str, object]:
    """The repo's workspace.yaml with this run's code server port."""
    workspace = yaml.safe_load((REPO_ROOT / "deploy" / "workspace.yaml").read_text())
    for entry in workspace["load_from"]:
        entry["grpc_server"]["port"] = port
    return workspace


def _grpc_healthy(env: dict[str, str], cwd: Path, port: int) -> bool:
    command = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)]
    result = child_processes.run(command, env=env, cwd=cwd, capture_output=True, timeout=60)
    return result.returncode == 0


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("e2e")
    logs = ARTIFACTS / "e2e-logs"
    shutil.rmtree(logs, ignore_errors=True)

    server = start_throwaway_server(tmp_path_factory.mktemp("e2e-postgres"), password=DB_PASSWORD)
    processes: list[ManagedProcess] = []
    fake = FakeAlphaVantage(history_length=HISTORY_LENGTH).start()
    alerts = WebhookReceiver().start()
    certificates = Certificates(tmp_path_factory.mktemp("e2e-certs"))
    mail = SmtpReceiver(
        certificates, security="starttls", user=SMTP_USER, password=SMTP_PASSWORD
    ).start()
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')

        home = root / "dagster_home"
        home.mkdir()
        shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
        grpc_port, ui_port = free_port(), free_port()
        workspace = home / "workspace.yaml"
        workspace.write_text(yaml.safe_dump(_workspace_for(grpc_port)))
        # A clean environment, not the developer's: a stray POSTGRES_HOST or .env must not
        # leak in (cwd is an empty directory for the same reason: Settings reads ./.env).
        cwd = root / "cwd"
        cwd.mkdir()
        env = {
            "PATH": f"{BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DAGSTER_HOME": str(home),
            "POSTGRES_HOST": server.host,
            "POSTGRES_PORT": str(server.port),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": DB_PASSWORD,
            "POSTGRES_DB": DB_NAME,
            "API_KEY": "e2e-test-key",
            "STOCK_SYMBOLS": ",".join(SYMBOLS),
            "ALPHAVANTAGE_BASE_URL": fake.url,
            "API_POLITE_DELAY_SEC": "0",
            "API_CALLS_PER_MINUTE": "1000",
            "API_MAX_IN_FLIGHT": "1",
            "API_DAILY_BUDGET": "1000",
            "STOCKPIPE_DATA_DIR": str(root / "data"),
            # The deployed stack runs the schedules of the series chosen here, no others.
            "STOCK_SERIES": "daily,weekly",
            "ALERT_SLACK_WEBHOOK_URL": alerts.webhook_url,
            "ALERT_EMAIL_TO": "ops@example.test",
            "ALERT_SMTP_HOST": "127.0.0.1",
            "ALERT_SMTP_PORT": str(mail.port),
            "ALERT_SMTP_USER": SMTP_USER,
            "ALERT_SMTP_PASSWORD": SMTP_PASSWORD,
            # The SMTP server's certificate comes from the test CA (OpenSSL reads this).
            "SSL_CERT_FILE": str(certificates.ca_file),
            "ALERT_SENSOR_INTERVAL_SEC": "5",
            "STOCKPIPE_UI_URL": f"http://127.0.0.1:{ui_port}",
        }

        child_processes.run(
            [BIN / "stockpipe", "db", "migrate"], env=env, cwd=cwd, timeout=120
        ).check_returncode()
        code_server = start_process(
            "code-server",
            [
                str(BIN / "dagster"),
                "code-server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(grpc_port),
                "--module-name",
                "stockpipe.definitions",
            ],
            env=env,
            cwd=cwd,
            log_dir=logs,
        )
        processes.append(code_server)
        wait_until(
            lambda: _grpc_healthy(env, cwd, grpc_port),
            timeout=STARTUP_TIMEOUT,
            what="code server answering gRPC health checks",
            watch=[code_server],
            interval=1.0,
        )
        processes.append(
            start_process(
                "daemon",
                [str(BIN / "dagster-daemon"), "run", "--workspace", str(workspace)],
                env=env,
                cwd=cwd,
                log_dir=logs,
            )
        )
        processes.append(
            start_process(
                "webserver",
                [
                    str(BIN / "dagster-webserver"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ui_port),
                    "--workspace",
                    str(workspace),
                ],
                env=env,
                cwd=cwd,
                log_dir=logs,
            )
        )
        ui_url = f"http://127.0.0.1:{ui_port}"
        graphql = WebserverProbe(ui_url)

        def stock_job_loaded() -> JobHandle | None:
            try:
                return graphql.jobs().get("stock_job")
            except LaunchError:  # webserver not listening yet
                return None

        stock_job = wait_until(
            stock_job_loaded,
            timeout=STARTUP_TIMEOUT,
            what="webserver serving stock_job from the code server",
            watch=processes,
        )
        yield Stack(
            ui_url=ui_url,
            conninfo=make_conninfo(
                host=server.host,
                port=str(server.port),
                user="postgres",
                password=DB_PASSWORD,
                dbname=DB_NAME,
            ),
            graphql=graphql,
            stock_job=stock_job,
            fake=fake,
            symbols=SYMBOLS,
            alerts=alerts,
            mail=mail,
            database=server,
        )
    finally:
        for process in reversed(processes):
            process.stop()
        fake.stop()
        alerts.stop()
        mail.stop()
        server.stop()
        if server.log_file.exists():
            shutil.copy(server.log_file, logs / "postgres.log")
