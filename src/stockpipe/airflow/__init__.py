"""Airflow only: DAG wiring over stockpipe.ingest, no logic of its own.

    factory.py  build_ingest_dag: chunk the symbols, one mapped ingest task per chunk in the
                `alphavantage` pool, one task that fails naming every failed symbol
    tasks.py    the task bodies: settings -> IngestContext -> the library -> a JSON summary
    up.py       `make airflow-up`: Airflow's components on the embedded (or configured)
                PostgreSQL, listening on STOCKPIPE_BIND
    dags/       the folder Airflow's DAG processor reads (AIRFLOW__CORE__DAGS_FOLDER)

Only this package imports airflow (tests/test_layers.py); it runs in its own virtual
environment (.venv-airflow, the `airflow` extra), never beside Dagster.
"""

import os
import socket
from ipaddress import ip_address
from pathlib import Path

# What AIRFLOW__CORE__DAGS_FOLDER points at (make airflow-up, the tests).
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
# The pool every task that may call Alpha Vantage runs in; one slot, like Dagster's pool of the
# same name, so two runs never spend the key's rate limit against each other. The PostgreSQL
# quota ledger holds across pools, runs and orchestrators anyway.
API_POOL = "alphavantage"


def log_server_hostname() -> str:
    """[core] hostname_callable under `make airflow-up` (stockpipe.airflow.up): a task records
    it, and the UI fetches a running task's log from `http://<it>:8793`. The log servers listen
    on STOCKPIPE_BIND, so that address; on every interface, the machine's name (Airflow's own
    default)."""
    address = ip_address(os.environ.get("STOCKPIPE_BIND") or "127.0.0.1")
    if address.is_unspecified:
        return socket.getfqdn()
    return f"[{address}]" if address.version == 6 else str(address)
