"""Which configured symbols are stale: their newest bar older than the freshness window allows.

The clock starts when the first session without a bar closed (16:00 New York; an early close
only makes the deadline later, never too early). With the 36-hour default a symbol is stale
once a whole scheduled day went by without its bar: the budget ran out, the schedule is off,
or the daemon was down. A symbol with no bar at all is left to the run and streak alerts, which
say why it never loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from stockpipe.alerts.model import StaleSymbol
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.store import Database

DAILY = "daily"
EXCHANGE_ZONE = ZoneInfo("America/New_York")
SESSION_CLOSE = time(16, 0)

_LATEST_DAILY_SQL = """
SELECT s.symbol,
       (SELECT (max(d.ts) AT TIME ZONE 'America/New_York')::date
        FROM stock_data AS d WHERE d.symbol = s.symbol) AS latest
FROM unnest(%s::text[]) AS s(symbol)
"""


@dataclass(frozen=True, slots=True)
class FreshnessReport:
    series: str
    window_hours: float
    stale: tuple[StaleSymbol, ...]
    latest: dict[str, date | None] = field(default_factory=dict)  # every symbol looked at


def daily_freshness(
    db: Database, symbols: Sequence[str], *, window_hours: float, now: datetime
) -> FreshnessReport:
    """Look at the newest daily bar of each symbol against the latest completed session."""

    def read(conn: psycopg.Connection[Any]) -> dict[str, date | None]:
        rows = conn.execute(_LATEST_DAILY_SQL, (list(symbols),)).fetchall()
        return {str(symbol): latest for symbol, latest in rows}

    latest = db.run(read)
    target = latest_completed_session(now)
    stale = []
    for symbol, newest in latest.items():
        item = stale_symbol(DAILY, symbol, newest, target, window_hours=window_hours, now=now)
        if item is not None:
            stale.append(item)
    return FreshnessReport(DAILY, window_hours, tuple(stale), latest)


def stale_symbol(
    series: str,
    symbol: str,
    newest: date | None,
    target: date,
    *,
    window_hours: float,
    now: datetime,
) -> StaleSymbol | None:
    """The StaleSymbol, or None when `newest` is recent enough (or there is no bar at all)."""
    if newest is None or newest >= target:
        return None
    missing = sessions_between(newest + timedelta(days=1), target)
    if not missing:
        return None
    first_close = datetime.combine(missing[0], SESSION_CLOSE, tzinfo=EXCHANGE_ZONE)
    if now < first_close + timedelta(hours=window_hours):
        return None
    return StaleSymbol(series, symbol, newest, missing[0], len(missing))
