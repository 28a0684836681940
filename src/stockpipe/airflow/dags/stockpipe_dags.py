"""The file Airflow's DAG processor loads (AIRFLOW__CORE__DAGS_FOLDER points at this folder).

Wiring only: one DAG per series from stockpipe.airflow.factory, on the schedule rule Dagster's
schedules follow (stockpipe.scheduling): `stock_dag` (daily, DAG_SCHEDULE_CRON, UTC, the same
job as Dagster's stock_job), `stock_weekly_dag`, `stock_monthly_dag`, `stock_intraday_dag`.
STOCK_SERIES names the ones that start unpaused; the others are paused at creation. Beside
them `corporate_actions_dag` (CORPORATE_ACTIONS_SCHEDULE_CRON, UTC, like Dagster's
corporate_actions_schedule), unpaused, and `backfill_dag` (07:00 UTC, like Dagster's
backfill_schedule), paused until started. A bad setting fails the parse with the settings' own
message (the variable named), shown in Airflow's UI as an import error.
"""

from stockpipe.airflow.factory import (
    ACTIONS_DAG_ID,
    BACKFILL_DAG_ID,
    build_backfill_dag,
    build_corporate_actions_dag,
    build_series_dag,
    dag_id_of,
)
from stockpipe.series import SERIES_NAMES
from stockpipe.settings import Settings

_settings = Settings.load()

for _series in SERIES_NAMES:
    globals()[dag_id_of(_series)] = build_series_dag(_series, _settings)
globals()[ACTIONS_DAG_ID] = build_corporate_actions_dag(_settings)
globals()[BACKFILL_DAG_ID] = build_backfill_dag()
