"""What is stored, per symbol and series: rows, first and last bar, missing sessions (daily,
intraday) or periods (weekly, monthly), last ingest result.

Backs `stockpipe status`; "missing" is measured against the NYSE calendar, so weekends and
holidays never count as holes, and a week without sessions is no missing week. Daily missing
sessions are the ingest's own (stockpipe.ingest.gaps): sessions Alpha Vantage is known to have
no bar for are not counted. The daily overview is the gap read's answer, counts included, so
all 10,000 symbols of a large universe cost what changed since the last read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from stockpipe.ingest.gaps import SessionGaps, session_gaps
from stockpipe.ingest.state import SymbolState, load_states
from stockpipe.market_calendar import period_start, periods_between, sessions_between
from stockpipe.series import DAILY, Planning, Series
from stockpipe.store import Database
from stockpipe.store.bars_read import bar_summary
from stockpipe.store.sessions import StoredSessions, read_stored_sessions
from stockpipe.store.symbol_state import stored_symbols as _stored_symbols


@dataclass(frozen=True, slots=True)
class SymbolOverview:
    symbol: str
    rows: int
    first_bar: date | None
    last_bar: date | None
    missing_inside: int  # sessions (periods) between the first and the last bar with no row
    missing_after: int  # sessions (periods) after the last bar up to the latest completed one
    state: SymbolState | None
    first_ts: datetime | None = None  # the bars' own times (intraday shows these)
    last_ts: datetime | None = None
    provisional: int = 0  # rows of a period that had not closed when they were fetched
    gaps: SessionGaps | None = None  # daily: which sessions are missing

    @property
    def missing(self) -> int | None:
        """Sessions (periods) without a bar; None when nothing is stored (no range yet)."""
        return None if self.rows == 0 else self.missing_inside + self.missing_after


def stored_symbols(db: Database, series: Series = DAILY) -> list[str]:
    """Every symbol with bars or an ingest result of `series`, sorted."""
    return _stored_symbols(db, series)


def _units(series: Series) -> Callable[[date, date], list[date]]:
    """The calendar units "missing" counts: sessions, or the starts of weeks / months."""
    if series.planning is Planning.WEEKS:
        return lambda first, last: periods_between(first, last, "week")
    if series.planning is Planning.MONTHS:
        return lambda first, last: periods_between(first, last, "month")
    return sessions_between


def _unit_of(series: Series) -> Callable[[date], date]:
    if series.planning is Planning.WEEKS:
        return lambda day: period_start(day, "week")
    if series.planning is Planning.MONTHS:
        return lambda day: period_start(day, "month")
    return lambda day: day


def symbol_overview(
    db: Database,
    symbols: Sequence[str],
    *,
    target: date,
    series: Series = DAILY,
    interval: str | None = None,
) -> list[SymbolOverview]:
    """One overview per symbol, in the given order; `target` is the latest completed session."""
    wanted = list(dict.fromkeys(symbols))
    states = load_states(db, wanted, series)
    if series is DAILY:
        histories = read_stored_sessions(db, wanted, today=target)
        return [_daily(s, histories.get(s), states.get(s), target) for s in wanted]
    stored = bar_summary(db, wanted, table=series.table, interval=interval)
    units, unit_of = _units(series), _unit_of(series)
    overviews = []
    for symbol in wanted:
        summary = stored.get(symbol)
        count, first_ts, last_ts = (
            (summary.rows, summary.first_ts, summary.last_ts) if summary else (0, None, None)
        )
        open_rows = summary.provisional if summary else 0
        dates = summary.dates if summary else []
        first, last = (dates[0], dates[-1]) if dates else (None, None)
        inside = after = 0
        if first is not None and last is not None:
            have = {unit_of(day) for day in dates}
            inside = sum(1 for unit in units(first, last) if unit not in have)
            after = len([u for u in units(last, target) if u > unit_of(last)])
        overviews.append(
            SymbolOverview(
                symbol,
                int(count),
                first,
                last,
                inside,
                after,
                states.get(symbol),
                first_ts,
                last_ts,
                int(open_rows),
            )
        )
    return overviews


def _daily(
    symbol: str, stored: StoredSessions | None, state: SymbolState | None, target: date
) -> SymbolOverview:
    """All from the gap read: its marks hold the count of bars, the first and the newest bar
    and the holes, so 10,000 symbols cost what changed since the last read, not 25 million
    rows (stockpipe.store.session_marks)."""
    gaps = session_gaps(symbol, stored, target)
    if stored is None:
        return SymbolOverview(symbol, 0, None, None, 0, 0, state, gaps=gaps)
    return SymbolOverview(
        symbol,
        stored.bars or 0,
        stored.first,
        stored.latest,
        len(gaps.holes),
        len(gaps.after),
        state,
        last_ts=stored.latest_ts,
        gaps=gaps,
    )
