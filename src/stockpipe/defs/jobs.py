"""One job per series (`stock_job` for daily, `weekly_stock_job`, `monthly_stock_job`,
`intraday_stock_job`): every configured symbol in one run, one step, one process."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from stockpipe.series import DAILY, Series, job_name

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

JOB_NAME = job_name(DAILY)


def build_stock_job(
    stock_data: dg.AssetsDefinition,
) -> UnresolvedAssetJobDefinition:
    return build_series_job(DAILY, stock_data)


def build_series_job(series: Series, asset: dg.AssetsDefinition) -> UnresolvedAssetJobDefinition:
    # The in-process executor runs the single step inside the run worker instead of spawning
    # a second Python process for it: about a second saved per run, and nothing to parallelise.
    return dg.define_asset_job(
        name=job_name(series),
        selection=dg.AssetSelection.assets(asset),
        executor_def=dg.in_process_executor,
        description="Ingest every symbol of the universe (STOCK_SYMBOLS, or the listing) in one"
        " run and check the table."
        if series is DAILY
        else f"Ingest every symbol of the universe into {series.table.name} in one run"
        " and check the table.",
    )
