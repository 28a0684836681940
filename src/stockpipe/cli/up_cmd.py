"""`stockpipe up`: the whole stack on this machine, without Docker.

The same topology as docker compose: a Dagster code server serving stockpipe.definitions, the
daemon (schedule, run queue) and the webserver, all with their instance storage in the same
PostgreSQL as stock_data. With no POSTGRES_* / DATABASE_URL that is the embedded server under
STOCKPIPE_DATA_DIR, which stops last and keeps its data for the next start.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import click
from psycopg.conninfo import conninfo_to_dict

from stockpipe.cli import configure_logging, exit_for_database, load_settings_or_exit
from stockpipe.settings import Settings
from stockpipe.store.db import EMBEDDED_DBNAME, serve_and_migrate
from stockpipe.store.errors import DatabaseError, describe_conninfo
from stockpipe.supervisor import ChildDied, Supervisor

logger = logging.getLogger("stockpipe.up")

READY_TIMEOUT_SEC = 300.0
_PROJECT_ROOT = Path(__file__).resolve().parents[3]


@click.command(name="up")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the UI.")
@click.option("--port", default=3000, show_default=True, help="Port of the UI.")
@click.option(
    "--code-server-port", default=4000, show_default=True, help="Port of the code server."
)
def command(host: str, port: int, code_server_port: int) -> None:
    """Start PostgreSQL (embedded unless configured), the Dagster code server, daemon and UI.

    Ctrl-C stops everything; the data stays for the next start.
    """
    settings = load_settings_or_exit()
    configure_logging(settings)
    try:
        server, conninfo = serve_and_migrate(settings)
    except DatabaseError as exc:
        exit_for_database("up", exc, settings)
    if server is not None:
        logger.info(
            "embedded PostgreSQL; look inside with: %s", server.psql_command(EMBEDDED_DBNAME)
        )
    else:
        logger.info("database: %s", describe_conninfo(conninfo))
    dagster_home = _prepare_dagster_home(settings, code_server_port)
    env = _child_env(conninfo, dagster_home)
    if "ui_url" not in settings.model_fields_set:
        # Alerts link to runs in this UI: its real port, unless STOCKPIPE_UI_URL says otherwise.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        env["STOCKPIPE_UI_URL"] = f"http://{shown}:{port}"
    supervisor = Supervisor(env)
    supervisor.install_signal_handlers()
    failure: str | None = None
    try:
        _run_stack(supervisor, dagster_home, host, port, code_server_port)
    except (ChildDied, TimeoutError) as exc:
        failure = str(exc)
        logger.error("%s: stopping the rest", failure)
    finally:
        supervisor.stop_all()
        if server is not None:
            server.stop()
    if failure:
        raise click.ClickException(failure)
    logger.info("stockpipe stopped; the data stays for the next `stockpipe up`")
    if server is not None:
        logger.info("database files: %s", server.pgdata)


def _run_stack(
    supervisor: Supervisor, dagster_home: Path, host: str, port: int, code_server_port: int
) -> None:
    workspace = str(dagster_home / "workspace.yaml")
    supervisor.start(
        "code server",
        [_dagster("dagster"), "code-server", "start", "-m", "stockpipe.definitions",
         "-h", "127.0.0.1", "-p", str(code_server_port)],
    )  # fmt: skip
    # The daemon and the webserver load the location as they start: let it listen first.
    if not supervisor.wait_until(
        lambda: _accepts("127.0.0.1", code_server_port),
        timeout=READY_TIMEOUT_SEC,
        what=f"code server on port {code_server_port}",
    ):
        return
    supervisor.start("daemon", [_dagster("dagster-daemon"), "run", "-w", workspace])
    supervisor.start(
        "webserver",
        [_dagster("dagster-webserver"), "-h", host, "-p", str(port), "-w", workspace],
    )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if not supervisor.wait_until(
        lambda: _answers(f"{url}/server_info"), timeout=READY_TIMEOUT_SEC, what="webserver"
    ):
        return
    logger.info("stockpipe is up: Dagster UI on %s (Ctrl-C stops everything)", url)
    supervisor.supervise()


def _prepare_dagster_home(settings: Settings, code_server_port: int) -> Path:
    """$DAGSTER_HOME (default: under STOCKPIPE_DATA_DIR) with the project's dagster.yaml and a
    workspace naming our code server."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    template = _find_project_file("deploy/dagster.yaml")
    shutil.copyfile(template, home / "dagster.yaml")
    (home / "workspace.yaml").write_text(
        "# Written by `stockpipe up`; see deploy/workspace.yaml in the project.\n"
        "load_from:\n"
        "  - grpc_server:\n"
        "      host: 127.0.0.1\n"
        f"      port: {code_server_port}\n"
        "      location_name: stockpipe\n"
    )
    return home


def _find_project_file(name: str) -> Path:
    for directory in (Path.cwd(), _PROJECT_ROOT):
        if (directory / name).is_file():
            return directory / name
    raise click.ClickException(f"{name} not found in {Path.cwd()} or {_PROJECT_ROOT}")


def _child_env(conninfo: str, dagster_home: Path) -> dict[str, str]:
    """The environment of every Dagster process: ours, plus the database as POSTGRES_* (what
    dagster.yaml reads), so children connect to this server and never start their own."""
    params = conninfo_to_dict(conninfo)
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(dagster_home),
        POSTGRES_HOST=str(params.get("host") or "127.0.0.1"),
        POSTGRES_PORT=str(params.get("port") or "5432"),
        POSTGRES_USER=str(params.get("user") or "postgres"),
        POSTGRES_PASSWORD=str(params.get("password") or ""),
        POSTGRES_DB=str(params.get("dbname") or "postgres"),
    )
    return env


def _dagster(script: str) -> str:
    """A Dagster entry point from the same environment as this Python."""
    local = Path(sys.executable).parent / script
    return str(local) if local.exists() else (shutil.which(script) or script)


def _accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
