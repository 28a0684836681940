"""Asset checks on `stock_data`: thin wrappers over stockpipe.store.quality, evaluated in stock_job.

They are check specs of the asset itself (not separate @asset_check ops) because the asset
reports its partitions with explicit events and yields no output, which would skip any
downstream check op; evaluating them in the same step also saves a step per run.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from stockpipe.store import Database
from stockpipe.store.quality import (
    FRESHNESS,
    NO_DUPLICATE_KEYS,
    OHLC_SANITY,
    QualityResult,
    run_quality_checks,
)

ASSET_NAME = "stock_data"

CHECK_SPECS = (
    dg.AssetCheckSpec(
        OHLC_SANITY,
        asset=ASSET_NAME,
        description="No bar has high < low, high below open/close, low above them, "
        "or a negative price or volume.",
    ),
    dg.AssetCheckSpec(
        NO_DUPLICATE_KEYS,
        asset=ASSET_NAME,
        description="Each (symbol, ts) appears once.",
    ),
    dg.AssetCheckSpec(
        FRESHNESS,
        asset=ASSET_NAME,
        description="Every configured symbol holds the latest completed NYSE session, "
        "or is deferred because the API quota ran out.",
    ),
)


def evaluate_checks(db: Database, symbols: Sequence[str]) -> list[dg.AssetCheckResult]:
    """One AssetCheckResult per spec, with the offending rows as metadata."""
    outcomes = db.run(lambda conn: run_quality_checks(conn, symbols))
    return [_to_check_result(outcome) for outcome in outcomes]


def _to_check_result(outcome: QualityResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.name,
        asset_key=ASSET_NAME,
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
