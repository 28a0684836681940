"""Dagster wiring only: settings become a resource, the library does the work.

`build_definitions(settings)` is what `stockpipe.definitions` exposes to Dagster; tests call
it with their own settings.
"""

from __future__ import annotations

import dagster as dg

from stockpipe.defs.alerts import build_alert_sensors
from stockpipe.defs.assets import backfill_policy, build_series_asset
from stockpipe.defs.backfill import backfill_job, backfill_schedule
from stockpipe.defs.corporate_actions import (
    build_corporate_actions_job,
    build_corporate_actions_schedule,
    corporate_actions,
)
from stockpipe.defs.jobs import build_series_job
from stockpipe.defs.resources import stockpipe_resource_from_env
from stockpipe.defs.schedules import build_series_schedule
from stockpipe.defs.shards import shard_keys, uses_shards
from stockpipe.ingest import universe
from stockpipe.series import SERIES
from stockpipe.settings import Settings


def symbol_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    """One partition per symbol of a short STOCK_SYMBOLS list, in the configured order; the
    fixed shards for the listing or a long list (stockpipe.defs.shards).

    Static either way, and read without touching the database. Per symbol: the variable is
    read when the code server starts, so the partitions always equal the configured symbols;
    a removed symbol leaves the UI (its history stays in the event log) and a new one appears
    after a restart. Shards never change: which symbols they hold is decided when a run
    starts, so a listing that grows needs no restart and no sensor.
    """
    symbols = settings.stock_symbols
    if uses_shards(symbols, listing=universe.uses_listing(settings)):
        return dg.StaticPartitionsDefinition(shard_keys())
    return dg.StaticPartitionsDefinition(list(symbols))


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every series gets its asset, job and schedule (stock_data, stock_job and
    daily_stock_schedule for daily); STOCK_SERIES decides which schedules start running.
    Corporate actions have their own (corporate_actions, corporate_actions_job,
    corporate_actions_schedule), always running."""
    partitions = symbol_partitions(settings)
    policy = backfill_policy(settings.stock_symbols_per_run)
    assets, jobs, schedules = [], [], []
    for series in SERIES.values():
        asset = build_series_asset(series, partitions, policy)
        job = build_series_job(series, asset)
        assets.append(asset)
        jobs.append(job)
        schedules.append(build_series_schedule(series, job, partitions, settings))
    actions_job = build_corporate_actions_job()
    assets.append(corporate_actions)
    jobs.append(actions_job)
    schedules.append(build_corporate_actions_schedule(actions_job, settings))
    return dg.Definitions(
        assets=assets,
        jobs=[*jobs, backfill_job],
        schedules=[*schedules, backfill_schedule],
        resources={"stockpipe": stockpipe_resource_from_env()},
        sensors=build_alert_sensors(settings),
    )
