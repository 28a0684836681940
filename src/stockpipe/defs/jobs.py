"""`stock_job`: every configured symbol in one run, one step, one process."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

JOB_NAME = "stock_job"


def build_stock_job(
    stock_data: dg.AssetsDefinition,
) -> UnresolvedAssetJobDefinition:
    # The in-process executor runs the single step inside the run worker instead of spawning
    # a second Python process for it: about a second saved per run, and nothing to parallelise.
    return dg.define_asset_job(
        name=JOB_NAME,
        selection=dg.AssetSelection.assets(stock_data),
        executor_def=dg.in_process_executor,
        description="Ingest every symbol of STOCK_SYMBOLS in one run and check the table.",
    )
