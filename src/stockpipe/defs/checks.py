"""Asset checks per bars table: thin wrappers over stockpipe.store.quality (and, for the daily
table's missing sessions, stockpipe.ingest.gaps), evaluated in the series' job.

They are check specs of the asset itself (not separate @asset_check ops) because the asset
reports its partitions with explicit events and yields no output, which would skip any
downstream check op; evaluating them in the same step also saves a step per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from stockpipe.ingest.gap_memory import read_gaps
from stockpipe.ingest.gaps import MISSING_SESSIONS, missing_sessions_check
from stockpipe.market_calendar import latest_completed_session
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
    gaps = (
        dg.AssetCheckSpec(
            MISSING_SESSIONS,
            asset=asset,
            description="No symbol misses an NYSE session between its first and newest bar"
            " (sessions Alpha Vantage has no bar for excepted). WARN: each failing symbol is"
            " listed with its sessions, marked repairable by the next refresh or premium"
            " history only.",
        ),
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
        *(gaps if series is DAILY else ()),
    )


CHECK_SPECS = check_specs(DAILY)


def evaluate_checks(
    db: Database,
    symbols: Sequence[str],
    series: Series = DAILY,
    interval: str | None = None,
    *,
    full_allowed: bool = True,
    now: datetime | None = None,
) -> list[dg.AssetCheckResult]:
    """One AssetCheckResult per spec, with the offending rows as metadata. `full_allowed`:
    whether the key may fetch full history (daily missing sessions older than compact's reach
    are otherwise premium history only)."""
    outcomes = db.run(
        lambda conn: run_quality_checks(conn, symbols, series=series, interval=interval, now=now)
    )
    results = [_to_check_result(outcome, series.table.name) for outcome in outcomes]
    if series is DAILY:
        # WARN, not ERROR: the bars that are there are right, and a gap only premium history
        # reaches cannot be fixed by the operator; the list says which is which.
        target = latest_completed_session(now)
        gaps = missing_sessions_check(
            read_gaps(db, symbols, target), symbols, target, full_allowed=full_allowed
        )
        results.append(_to_check_result(gaps, series.table.name, dg.AssetCheckSeverity.WARN))
    return results


def _to_check_result(
    outcome: QualityResult,
    asset: str = ASSET_NAME,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.name,
        asset_key=asset,
        passed=outcome.passed,
        severity=severity,
        description=outcome.summary,
        metadata={
            "checked": dg.MetadataValue.int(outcome.checked),
            "problems": dg.MetadataValue.int(outcome.problem_count),
            "examples": dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in outcome.examples) or "none"
            ),
        },
    )
