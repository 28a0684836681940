"""Airflow only: DAG wiring over stockpipe.ingest, no logic of its own.

    factory.py  build_ingest_dag: chunk the symbols, one mapped ingest task per chunk in the
                `alphavantage` pool, one task that fails naming every failed symbol
    tasks.py    the task bodies: settings -> IngestContext -> the library -> a JSON summary
    up.py       `make airflow-up`: Airflow standalone on the embedded (or configured) PostgreSQL
    dags/       the folder Airflow's DAG processor reads (AIRFLOW__CORE__DAGS_FOLDER)

Only this package imports airflow (tests/test_layers.py); it runs in its own virtual
environment (.venv-airflow, the `airflow` extra), never beside Dagster.
"""

from pathlib import Path

# What AIRFLOW__CORE__DAGS_FOLDER points at (make airflow-up, the tests).
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
# The pool every task that may call Alpha Vantage runs in; one slot, like Dagster's pool of the
# same name, so two runs never spend the key's rate limit against each other. The PostgreSQL
# quota ledger holds across pools, runs and orchestrators anyway.
API_POOL = "alphavantage"
