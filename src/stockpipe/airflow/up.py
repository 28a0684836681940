"""`make airflow-up`: Airflow 3 on this machine with stockpipe's DAGs, on stockpipe's PostgreSQL.

The Airflow counterpart of `stockpipe up`. With no POSTGRES_* / DATABASE_URL it starts the
embedded PostgreSQL under STOCKPIPE_DATA_DIR (the same server `stockpipe up` uses), and Airflow
keeps its own metadata there in a database of its own, `airflow` (Dagster keeps its storage
beside stock_data; Airflow's tables would collide with Dagster's alembic_version). With a
configured server, `airflow` is created on that server unless
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names another database. Then `airflow db migrate`, the
one-slot pool `alphavantage`, and what `airflow standalone` runs (API server and UI, scheduler,
DAG processor, triggerer), supervised: Ctrl-C stops them, then the embedded server.

Everything listens on STOCKPIPE_BIND (127.0.0.1: this machine only), as docker compose
publishes its ports. `airflow standalone` cannot do that: the log servers its scheduler and
triggerer start listen on every interface whatever the configuration
(airflow.utils.serve_logs), so the components are started here one by one, those two with
--skip-serve-logs, and the same log server app runs on STOCKPIPE_BIND instead.

Run it with the .venv-airflow Python: `python -m stockpipe.airflow.up`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe.airflow import API_POOL, DAGS_FOLDER
from stockpipe.logs import configure_logging
from stockpipe.redact import redact
from stockpipe.settings import Settings, SettingsError
from stockpipe.store import EmbeddedServer
from stockpipe.store.db import serve_and_migrate
from stockpipe.store.errors import DatabaseError, describe_conninfo
from stockpipe.supervisor import ChildDied, Supervisor

logger = logging.getLogger("stockpipe.airflow.up")

AIRFLOW_DBNAME = "airflow"
_METADATA_VARIABLE = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
# Airflow's own defaults, overridable by the usual AIRFLOW__... variables.
API_PORT, WORKER_LOG_PORT, TRIGGER_LOG_PORT = "8080", "8793", "8794"
_LOG_SERVER_APP = "airflow.utils.serve_logs.log_server:get_app"


def main() -> int:
    try:
        settings = Settings.load()
    except SettingsError as exc:
        sys.stderr.write(f"stockpipe: {exc}\n")
        return 2
    configure_logging(settings)
    server: EmbeddedServer | None = None
    try:
        server, conninfo = serve_and_migrate(settings)
        env = environment(settings, conninfo)
    except (DatabaseError, psycopg.Error) as exc:
        # The same line and exit code as every stockpipe command (stockpipe.cli.exit_for_database).
        sys.stderr.write(f"stockpipe airflow-up: {redact(str(exc), settings.secrets)}\n")
        return 3
    home = env["AIRFLOW_HOME"]
    logger.info("stock_data in %s; Airflow home %s", describe_conninfo(conninfo), home)
    bind = str(settings.bind)
    supervisor = Supervisor(env)
    supervisor.install_signal_handlers()
    try:
        run_airflow(env, "db", "migrate")
        run_airflow(env, "pools", "set", API_POOL, "1", "Alpha Vantage calls (stockpipe)")
        for name, command in components(env, bind):
            supervisor.start(name, command)
        logger.info(
            "Airflow is starting: UI on http://%s:%s (user admin, password in %s)",
            reach(bind), supervisor.env["AIRFLOW__API__PORT"],
            Path(home) / "simple_auth_manager_passwords.json.generated",
        )  # fmt: skip
        supervisor.supervise()
    except (ChildDied, subprocess.CalledProcessError) as exc:
        logger.error("%s", exc)
        return 1
    finally:
        supervisor.stop_all()
        if server is not None:
            server.stop()
    return 0


def environment(settings: Settings, conninfo: str) -> dict[str, str]:
    """The environment every Airflow process of `make airflow-up` gets (and the command line
    checks, stockpipe.airflow.import_errors): its home (AIRFLOW_HOME, else
    STOCKPIPE_DATA_DIR/airflow, outside the clone), its metadata database, the DAGs folder."""
    home = Path(os.environ.get("AIRFLOW_HOME") or settings.data_dir / "airflow").resolve()
    home.mkdir(parents=True, exist_ok=True)
    metadata = os.environ.get(_METADATA_VARIABLE) or _airflow_database(conninfo)
    return _airflow_env(conninfo, metadata, home, str(settings.bind))


def components(env: dict[str, str], bind: str) -> list[tuple[str, list[str]]]:
    """What `airflow standalone` runs, every listening socket on `bind`: the API server
    follows [api] host (set in _airflow_env), the log servers are ours."""
    airflow = airflow_bin()

    def log_server(port: str) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "--factory", _LOG_SERVER_APP, "--host", bind,
            "--port", port, "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    tasks, triggers = (env[f"AIRFLOW__LOGGING__{k}_LOG_SERVER_PORT"] for k in ("WORKER", "TRIGGER"))
    return [
        ("airflow log server (tasks)", log_server(tasks)),
        ("airflow log server (triggers)", log_server(triggers)),
        ("airflow api-server", [airflow, "api-server"]),
        ("airflow dag-processor", [airflow, "dag-processor"]),
        ("airflow scheduler", [airflow, "scheduler", "--skip-serve-logs"]),
        ("airflow triggerer", [airflow, "triggerer", "--skip-serve-logs"]),
    ]


def reach(bind: str) -> str:
    """The address to connect to a server listening on `bind` from this machine."""
    address = ip_address(bind)
    if address.is_unspecified:
        return "127.0.0.1"
    return f"[{address}]" if address.version == 6 else str(address)


def _airflow_database(conninfo: str) -> str:
    """SQLAlchemy URL of a database `airflow` beside stockpipe's (created if missing)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [AIRFLOW_DBNAME])
        if found.fetchone() is None:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(AIRFLOW_DBNAME)))
    params = conninfo_to_dict(make_conninfo(conninfo, dbname=AIRFLOW_DBNAME))
    password = params.get("password")
    auth = quote(str(params.get("user") or "postgres"), safe="")
    if password:
        auth += ":" + quote(str(password), safe="")
    host = params.get("host") or "127.0.0.1"
    port = params.get("port") or "5432"
    # psycopg 3 (SQLAlchemy's postgresql+psycopg): the driver stockpipe already ships.
    return f"postgresql+psycopg://{auth}@{host}:{port}/{AIRFLOW_DBNAME}"


def _airflow_env(conninfo: str, metadata: str, home: Path, bind: str) -> dict[str, str]:
    """Airflow's configuration, plus stockpipe's database as POSTGRES_*, so every task
    connects to this server and never starts an embedded one of its own."""
    params = conninfo_to_dict(conninfo)
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # Like Dagster's daily_stock_schedule (default RUNNING): scheduled once loaded, the
        # first run at the next tick (stockpipe.airflow.factory: no start date).
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        # `airflow standalone` starts its components as `airflow ...` from PATH.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        POSTGRES_HOST=str(params.get("host") or "127.0.0.1"),
        POSTGRES_PORT=str(params.get("port") or "5432"),
        POSTGRES_USER=str(params.get("user") or "postgres"),
        POSTGRES_PASSWORD=str(params.get("password") or ""),
        POSTGRES_DB=str(params.get("dbname") or "postgres"),
    )
    env.setdefault("AIRFLOW__API__PORT", API_PORT)
    env.setdefault("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", WORKER_LOG_PORT)
    env.setdefault("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", TRIGGER_LOG_PORT)
    # STOCKPIPE_BIND decides where Airflow listens, as it decides what compose publishes.
    env.update(STOCKPIPE_BIND=bind, AIRFLOW__API__HOST=bind)
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] = bind
    # A task records this as its host; the UI fetches a running task's log from there.
    env.setdefault("AIRFLOW__CORE__HOSTNAME_CALLABLE", "stockpipe.airflow.log_server_hostname")
    # Task processes report to the API server's execution API: follow its address and port.
    port = env["AIRFLOW__API__PORT"]
    env.setdefault(
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://{reach(bind)}:{port}/execution/"
    )
    env[_METADATA_VARIABLE] = metadata
    if metadata.startswith("postgresql+psycopg://"):
        # Airflow's API server also wants an async driver; it would pick asyncpg, which is not
        # installed. SQLAlchemy's psycopg dialect does asyncio as well.
        env.setdefault(_METADATA_VARIABLE + "_ASYNC", metadata)
    env.pop("DATABASE_URL", None)  # POSTGRES_* above say the same
    return env


def run_airflow(env: dict[str, str], *args: str) -> None:
    logger.info("airflow %s", " ".join(args[:2]))
    subprocess.run([airflow_bin(), *args], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


if __name__ == "__main__":
    sys.exit(main())
