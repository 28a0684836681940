"""Dagster wiring only: settings become a resource, the library does the work.

`build_definitions(settings)` is what `stockpipe.definitions` exposes to Dagster; tests call
it with their own settings.
"""

from __future__ import annotations

import dagster as dg

from stockpipe.defs.alerts import build_alert_sensors
from stockpipe.defs.assets import build_stock_data_asset
from stockpipe.defs.jobs import build_stock_job
from stockpipe.defs.resources import stockpipe_resource_from_env
from stockpipe.defs.schedules import build_daily_schedule
from stockpipe.settings import Settings


def symbol_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    """One partition per STOCK_SYMBOLS entry, in the configured order.

    Static and rebuilt at every code load: the variable is read when the code server starts, so
    the partitions always equal the configured symbols; a removed symbol leaves the UI (its
    history stays in the event log) and a new one appears after a restart. No sensor to keep a
    dynamic set in step, and no stale partition lingering after a symbol is dropped.
    """
    return dg.StaticPartitionsDefinition(list(settings.stock_symbols))


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = symbol_partitions(settings)
    stock_data = build_stock_data_asset(partitions)
    stock_job = build_stock_job(stock_data)
    return dg.Definitions(
        assets=[stock_data],
        jobs=[stock_job],
        schedules=[build_daily_schedule(stock_job, partitions, settings.dag_schedule_cron)],
        resources={"stockpipe": stockpipe_resource_from_env()},
        sensors=build_alert_sensors(settings),
    )
