"""`make airflow-up`: Airflow 3 on this machine with stockpipe's DAGs, on stockpipe's PostgreSQL.

The Airflow counterpart of `stockpipe up`. With no POSTGRES_* / DATABASE_URL it starts the
embedded PostgreSQL under STOCKPIPE_DATA_DIR (the same server `stockpipe up` uses), and Airflow
keeps its own metadata there in a database of its own, `airflow` (Dagster keeps its storage
beside stock_data; Airflow's tables would collide with Dagster's alembic_version). With a
configured server, `airflow` is created on that server unless
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names another database. Then `airflow db migrate`, the
one-slot pool `alphavantage`, and `airflow standalone` (API server and UI, scheduler, DAG
processor, triggerer), supervised: Ctrl-C stops it, then the embedded server.

Run it with the .venv-airflow Python: `python -m stockpipe.airflow.up`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe.airflow import API_POOL, DAGS_FOLDER
from stockpipe.cli import configure_logging
from stockpipe.cli.supervisor import ChildDied, Supervisor
from stockpipe.redact import redact
from stockpipe.settings import Settings, SettingsError
from stockpipe.store import EmbeddedServer
from stockpipe.store.db import serve_and_migrate
from stockpipe.store.errors import DatabaseError, describe_conninfo

logger = logging.getLogger("stockpipe.airflow.up")

AIRFLOW_DBNAME = "airflow"
_METADATA_VARIABLE = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"


def main() -> int:
    try:
        settings = Settings.load()
    except SettingsError as exc:
        sys.stderr.write(f"stockpipe: {exc}\n")
        return 2
    configure_logging(settings)
    home = Path(os.environ.get("AIRFLOW_HOME") or settings.data_dir / "airflow").resolve()
    home.mkdir(parents=True, exist_ok=True)
    server: EmbeddedServer | None = None
    try:
        server, conninfo = serve_and_migrate(settings)
        metadata = os.environ.get(_METADATA_VARIABLE) or _airflow_database(conninfo)
    except (DatabaseError, psycopg.Error) as exc:
        # The same line and exit code as every stockpipe command (stockpipe.cli.exit_for_database).
        sys.stderr.write(f"stockpipe airflow-up: {redact(str(exc), settings.secrets)}\n")
        return 3
    logger.info("stock_data in %s; Airflow home %s", describe_conninfo(conninfo), home)
    supervisor = Supervisor(_airflow_env(conninfo, metadata, home))
    supervisor.install_signal_handlers()
    try:
        _airflow(supervisor.env, "db", "migrate")
        _airflow(supervisor.env, "pools", "set", API_POOL, "1", "Alpha Vantage calls (stockpipe)")
        supervisor.start("airflow standalone", [_airflow_bin(), "standalone"])
        logger.info(
            "Airflow is starting: UI on http://127.0.0.1:%s (user admin, password in %s)",
            supervisor.env.get("AIRFLOW__API__PORT", "8080"),
            home / "simple_auth_manager_passwords.json.generated",
        )
        supervisor.supervise()
    except (ChildDied, subprocess.CalledProcessError) as exc:
        logger.error("%s", exc)
        return 1
    finally:
        supervisor.stop_all()
        if server is not None:
            server.stop()
    return 0


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


def _airflow_env(conninfo: str, metadata: str, home: Path) -> dict[str, str]:
    """Airflow's configuration, plus stockpipe's database as POSTGRES_*, so every task
    connects to this server and never starts an embedded one of its own."""
    params = conninfo_to_dict(conninfo)
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # Like Dagster's daily_stock_schedule (default RUNNING): scheduled once loaded.
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        # `airflow standalone` starts its components as `airflow ...` from PATH.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        POSTGRES_HOST=str(params.get("host") or "127.0.0.1"),
        POSTGRES_PORT=str(params.get("port") or "5432"),
        POSTGRES_USER=str(params.get("user") or "postgres"),
        POSTGRES_PASSWORD=str(params.get("password") or ""),
        POSTGRES_DB=str(params.get("dbname") or "postgres"),
    )
    # Task processes report to the API server's execution API: follow its port.
    port = env.get("AIRFLOW__API__PORT", "8080")
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://localhost:{port}/execution/")
    env[_METADATA_VARIABLE] = metadata
    if metadata.startswith("postgresql+psycopg://"):
        # Airflow's API server also wants an async driver; it would pick asyncpg, which is not
        # installed. SQLAlchemy's psycopg dialect does asyncio as well.
        env.setdefault(_METADATA_VARIABLE + "_ASYNC", metadata)
    env.pop("DATABASE_URL", None)  # POSTGRES_* above say the same
    return env


def _airflow(env: dict[str, str], *args: str) -> None:
    logger.info("airflow %s", " ".join(args[:2]))
    subprocess.run([_airflow_bin(), *args], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


if __name__ == "__main__":
    sys.exit(main())
