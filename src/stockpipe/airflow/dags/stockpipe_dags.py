"""The file Airflow's DAG processor loads (AIRFLOW__CORE__DAGS_FOLDER points at this folder).

Wiring only: every DAG comes from stockpipe.airflow.factory.build_ingest_dag. A bad setting
fails the parse with the settings' own message (the variable named), shown in Airflow's UI
as an import error.
"""

from stockpipe.airflow.factory import build_ingest_dag
from stockpipe.settings import Settings

_settings = Settings.load()

# Daily bars of STOCK_SYMBOLS on DAG_SCHEDULE_CRON: the same job as Dagster's stock_job.
stock_dag = build_ingest_dag("stock_dag", schedule=_settings.dag_schedule_cron)

# --- other series: generate their DAGs here -------------------------------------------------
# When ingest_symbols takes `series=` and Settings has STOCK_SERIES (weekly / monthly /
# intraday, on the series branch), add one DAG per configured series other than daily, e.g.
#     for series in _settings.stock_series:
#         if series != "daily":
#             globals()[f"stock_{series}_dag"] = build_ingest_dag(
#                 f"stock_{series}_dag", schedule=..., series=series
#             )
# build_ingest_dag already passes `series` through to the library (airflow/tasks.py).
