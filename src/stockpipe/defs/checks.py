"""Asset checks per bars table: thin wrappers over stockpipe.store.quality, evaluated in the
series' job.

They are check specs of the asset itself (not separate @asset_check ops) because the asset
reports its partitions with explicit events and yields no output, which would skip any
downstream check op; evaluating them in the same step also saves a step per run.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from stockpipe.series import DAILY, Series
from stockpipe.store import Database
from stockpipe.store.quality import (
    FRESHNESS,
    NO_DUPLICATE_KEYS,
    OHLC_SANITY,
    ONE_ROW_PER_PERIOD,
    QualityResult,
    run_quality_checks,
)

ASSET_NAME = "stock_data"


def check_specs(series: Series) -> tuple[dg.AssetCheckSpec, ...]:
    """OHLC sanity, the table's key unique (one row per period for weekly and monthly), and
    freshness, on the asset named like the series' table."""
    asset = series.table.name
    if series.table.per_period:
        unique = dg.AssetCheckSpec(
            ONE_ROW_PER_PERIOD,
            asset=asset,
            description="Each (symbol, period) has exactly one row: the open period's moving "
            "bar replaced its row.",
        )
    else:
        unique = dg.AssetCheckSpec(
            NO_DUPLICATE_KEYS,
            asset=asset,
            description=f"Each ({', '.join(series.table.key)}) appears once.",
        )
    return (
        dg.AssetCheckSpec(
            OHLC_SANITY,
            asset=asset,
            description="No bar has high < low, high below open/close, low above them, "
            "or a negative price or volume.",
        ),
        unique,
        dg.AssetCheckSpec(
            FRESHNESS,
            asset=asset,
            description="Every configured symbol holds the latest completed NYSE session, "
            "or is deferred because the API quota ran out.",
        ),
    )


CHECK_SPECS = check_specs(DAILY)


def evaluate_checks(
    db: Database,
    symbols: Sequence[str],
    series: Series = DAILY,
    interval: str | None = None,
) -> list[dg.AssetCheckResult]:
    """One AssetCheckResult per spec, with the offending rows as metadata."""
    outcomes = db.run(
        lambda conn: run_quality_checks(conn, symbols, series=series, interval=interval)
    )
    return [_to_check_result(outcome, series.table.name) for outcome in outcomes]


def _to_check_result(outcome: QualityResult, asset: str = ASSET_NAME) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.name,
        asset_key=asset,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.summary,
        metadata={
            "checked": dg.MetadataValue.int(outcome.checked),
            "problems": dg.MetadataValue.int(outcome.problem_count),
            "examples": dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in outcome.examples) or "none"
            ),
        },
    )
