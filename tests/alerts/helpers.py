"""Finished runs as the Dagster layer would report them, for the alert rules' tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from stockpipe.alerts import CheckOutcome, FinishedRun, SymbolOutcome

START = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
_counter = itertools.count(1)


def symbol(name: str, status: str, message: str = "", **extra: bool) -> SymbolOutcome:
    return SymbolOutcome("stock_data", name, status, message, **extra)


def run(
    *symbols: SymbolOutcome,
    succeeded: bool | None = None,
    checks: tuple[CheckOutcome, ...] = (),
    job: str = "stock_job",
    error: str = "",
) -> FinishedRun:
    """A run one hour after the previous one; failed when any symbol failed, unless told."""
    n = next(_counter)
    ok = succeeded if succeeded is not None else all(s.status != "failed" for s in symbols)
    return FinishedRun(
        run_id=f"run-{n:04d}",
        job=job,
        succeeded=ok,
        finished_at=START + timedelta(hours=n),
        symbols=symbols,
        checks=checks,
        error=error,
        url=f"http://ui.test/runs/run-{n:04d}",
    )
