"""`make airflow-import-errors`: the DAG processor's import errors, from the command line.

A bad setting in `.env` while `make airflow-up` runs (the DAG file reads the settings each
time it is parsed) shows only on the UI's DAGs page. This runs `airflow dags
list-import-errors --local` in the environment `make airflow-up` gives Airflow (its home, its
metadata database on stockpipe's PostgreSQL, the DAGs folder), so it parses the DAGs folder as
the DAG processor does. A bad stockpipe setting is reported before, in the words the DAGs page
shows, with exit code 2 (the command could not even find Airflow's database with it).

Run it with the .venv-airflow Python: `python -m stockpipe.airflow.import_errors`.
"""

from __future__ import annotations

import logging
import subprocess
import sys

import psycopg

from stockpipe.airflow.up import airflow_bin, environment, run_airflow
from stockpipe.logs import configure_logging
from stockpipe.settings import Settings, SettingsError
from stockpipe.store.db import embedded_server_for, serve_and_migrate
from stockpipe.store.errors import DatabaseError

logger = logging.getLogger("stockpipe.airflow.import_errors")


def main() -> int:
    try:
        settings = Settings.load()
    except SettingsError as exc:
        sys.stderr.write(f"stockpipe: {exc}\n")
        sys.stderr.write("(the DAGs page shows this as the import error of stockpipe_dags.py)\n")
        return 2
    configure_logging(settings)
    # The embedded server may be `make airflow-up`'s: stop it afterwards only if we started it.
    was_running = settings.uses_embedded_database and embedded_server_for(settings).is_running()
    try:
        server, conninfo = serve_and_migrate(settings)
    except (DatabaseError, psycopg.Error) as exc:
        logger.error("%s", exc)
        return 1
    try:
        env = environment(settings, conninfo)
        run_airflow(env, "db", "migrate")  # nothing to do once `make airflow-up` ran
        command = [airflow_bin(), "dags", "list-import-errors", "--local"]
        return subprocess.run(command, env=env, check=False).returncode  # noqa: S603
    except (DatabaseError, psycopg.Error, subprocess.CalledProcessError) as exc:
        logger.error("%s", exc)
        return 1
    finally:
        if server is not None and not was_running:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
