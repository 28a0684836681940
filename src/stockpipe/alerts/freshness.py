"""Which configured symbols are stale: a series' newest bar older than its freshness window allows.

Each series of STOCK_SERIES is held to what its schedule promises (a series nobody schedules is
never stale):

    daily     a bar for every completed session
    weekly    the newest row holds the last session of the last completed week
    monthly   the same for the last completed month
    intraday  a bar of STOCK_INTRADAY_INTERVAL on every completed session

A period still open counts as holding the sessions its provisional row holds, so the open week
is never overdue and last week's row fetched on Wednesday is. The clock starts when the first
session that should have a bar (for weekly/monthly: the first period's last session) closed
(16:00 New York; an early close only makes the deadline later, never too early). With the
36-hour default a daily symbol is stale once a whole scheduled day went by without its bar: the
budget ran out, the schedule is off, or the daemon was down. A symbol with no bar at all is left
to the run and streak alerts, which say why it never loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from stockpipe.alerts.model import StaleSymbol
from stockpipe.market_calendar import (
    NEW_YORK,
    PeriodKind,
    latest_completed_session,
    new_york_date,
    period_last_session,
    period_start,
    sessions_between,
)
from stockpipe.series import SERIES, Planning, series_named
from stockpipe.store import Database
from stockpipe.store.bars_read import latest_bar_ts_by_symbol

DAILY = "daily"
EXCHANGE_ZONE = NEW_YORK
SESSION_CLOSE = time(16, 0)
_PERIODS: dict[Planning, PeriodKind] = {Planning.WEEKS: "week", Planning.MONTHS: "month"}


@dataclass(frozen=True, slots=True)
class FreshnessReport:
    series: str
    window_hours: float
    stale: tuple[StaleSymbol, ...]
    latest: dict[str, date | None] = field(default_factory=dict)  # every symbol looked at
    table: str = "stock_data"  # where the bars are looked for (intraday: with the interval)
    note: str = ""  # why every open incident of the series closes (it left STOCK_SERIES)


def series_freshness(
    db: Database,
    series: str,
    symbols: Sequence[str],
    *,
    window_hours: float,
    now: datetime,
    interval: str = "5min",
) -> FreshnessReport:
    """Look at the newest bar of each symbol in the series' table, in one query."""
    described = series_named(series)
    table = described.table
    scope = interval if table.per_interval else None
    newest = latest_bar_ts_by_symbol(db, symbols, table=table, interval=scope)
    latest = {s: None if ts is None else new_york_date(ts) for s, ts in newest.items()}
    target = latest_completed_session(now)
    kind = _PERIODS.get(described.planning)
    stale = []
    for symbol, day in latest.items():
        item = stale_symbol(
            described.name, symbol, day, target, window_hours=window_hours, now=now, kind=kind
        )
        if item is not None:
            stale.append(item)
    where = f"{table.name} ({interval})" if scope else table.name
    return FreshnessReport(described.name, window_hours, tuple(stale), latest, where)


def daily_freshness(
    db: Database, symbols: Sequence[str], *, window_hours: float, now: datetime
) -> FreshnessReport:
    return series_freshness(db, DAILY, symbols, window_hours=window_hours, now=now)


def stale_symbol(
    series: str,
    symbol: str,
    newest: date | None,
    target: date,
    *,
    window_hours: float,
    now: datetime,
    kind: PeriodKind | None = None,
) -> StaleSymbol | None:
    """The StaleSymbol, or None when `newest` is recent enough (or there is no bar at all).

    `target` is the latest completed session; `kind` makes only the last session of each
    week (month) due, and the open period's not yet.
    """
    if newest is None or newest >= target:
        return None
    missing = sessions_between(newest + timedelta(days=1), target)
    if kind is not None:
        missing = _period_ends(missing, kind)
    if not missing:
        return None
    # In UTC: the window is hours that pass, across a DST change too.
    first_close = datetime.combine(missing[0], SESSION_CLOSE, tzinfo=EXCHANGE_ZONE)
    if now < first_close.astimezone(UTC) + timedelta(hours=window_hours):
        return None
    return StaleSymbol(series, symbol, newest, missing[0], len(missing))


def _period_ends(sessions: list[date], kind: PeriodKind) -> list[date]:
    """The last of `sessions` in each period, without the period still open at the end."""
    ends = list({period_start(day, kind): day for day in sessions}.values())
    if ends and period_last_session(ends[-1], kind) != ends[-1]:
        ends.pop()
    return ends


def unscheduled(configured: Sequence[str], window_hours: float) -> list[FreshnessReport]:
    """Empty reports for the series outside STOCK_SERIES: their open incidents close."""
    note = "series no longer in STOCK_SERIES"
    return [
        FreshnessReport(name, window_hours, (), {}, SERIES[name].table.name, note)
        for name in SERIES
        if name not in configured
    ]
