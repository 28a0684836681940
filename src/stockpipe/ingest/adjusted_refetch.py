"""Adjusted series fetched again after a corporate action.

Where the stored series itself is adjusted (STOCK_ADJUSTED=true: TIME_SERIES_DAILY_ADJUSTED,
TIME_SERIES_WEEKLY_ADJUSTED, TIME_SERIES_MONTHLY_ADJUSTED), a new, changed or removed split or
dividend changes Alpha Vantage's adjusted values of every bar before it, and the daily refresh
only asks for what is newer than the stored newest bar. So the corporate-actions refresh marks
that symbol's stored adjusted series (table adjusted_refetch); the next refresh of each marked
series fetches its whole history again (daily `full`, weekly/monthly their one call) even if
it is up to date, and a successful load deletes the mark. Unmarked symbols cost nothing extra.

The first fetch of a symbol's actions is a baseline, not news: everything in it is "new", but
an adjusted series stored from the same vendor already holds it, so it marks nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.series_run import SeriesRun
from stockpipe.series import SERIES
from stockpipe.store import Database, DatabaseError
from stockpipe.store.adjusted_refetch import clear_refetch, load_refetch_marks, mark_refetch
from stockpipe.store.corporate_actions import ActionChange

logger = logging.getLogger(__name__)

# Series with an adjusted variant (intraday has none).
ADJUSTED_SERIES = tuple(s for s in SERIES.values() if s.adjusted_function != s.function)
_REASON_CHARS = 500


def mark_adjusted_series(
    ctx: IngestContext, changes: Sequence[ActionChange]
) -> tuple[tuple[str, str], ...]:
    """Mark the stored adjusted series of every symbol with a change; (symbol, series) of the
    marks set. Nothing when the series are stored raw (STOCK_ADJUSTED=false): their bars do
    not move with an action, and stock_data_adjusted is computed when read."""
    if not ctx.settings.stock_adjusted or not changes:
        return ()
    by_symbol: dict[str, list[ActionChange]] = {}
    for change in changes:
        by_symbol.setdefault(change.symbol, []).append(change)
    targets = [(s.name, s.table) for s in ADJUSTED_SERIES]
    marked: list[tuple[str, str]] = []
    for symbol, its in by_symbol.items():
        reason = "; ".join(c.describe() for c in its)[:_REASON_CHARS]
        try:
            names = mark_refetch(ctx.db, symbol, targets, reason=reason, at=ctx.clock.now())
        except DatabaseError as exc:
            logger.error("%s: could not mark the adjusted series for a refetch: %s", symbol, exc)
            continue
        marked.extend((symbol, name) for name in names)
    for mark in marked:
        logger.info("%s: the stored adjusted %s series is refetched on its next refresh", *mark)
    return tuple(marked)


def refetch_marks(db: Database, symbols: Sequence[str], run: SeriesRun) -> dict[str, datetime]:
    """When each marked symbol of the run's series was marked; none for a raw series."""
    if not run.adjusted:
        return {}
    try:
        marks = load_refetch_marks(db, symbols, run.series.name)
    except DatabaseError as exc:  # the mark stays: the next run honours it
        logger.error("could not read the adjusted series to refetch: %s", exc)
        return {}
    return {symbol: at for symbol, (at, _reason) in marks.items()}


def forget_refetch(db: Database, symbol: str, run: SeriesRun, marked_at: datetime) -> None:
    try:
        clear_refetch(db, symbol, run.series.name, marked_at)
    except DatabaseError as exc:  # it costs one more refetch next run: only log it
        logger.error("%s: could not clear the refetch mark of %s: %s", symbol, run.label, exc)
