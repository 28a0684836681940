"""Every SQL statement on the daily series' sessions: which trading dates each symbol holds, and
the memory of migration 0012 (sessions the vendor has no bar for, premium-only gaps already
reported). The rules that read them live in stockpipe.ingest.gaps.

A daily bar stands at midnight of its trading date in New York (stockpipe.bars). Rather than
sending every stored date of every symbol (5,000 a symbol on a full history), the read compares
each bar with the next and returns only the pairs the exchange calendar does not have as
consecutive sessions: a history without gaps costs one row per symbol. It stays in `ts` space
(the calendar is sent as New York midnights), because converting every stored time to a date
costs more than the rest of the scan; only steps longer than a day (weekends, holidays, gaps:
a fifth of the rows) meet the calendar, and only a symbol's first, newest and hole rows are
aggregated. Measured: 1.1-1.9 s for 100 symbols x 5,200 bars on a busy 2-core machine,
where the index scan alone takes half of it. That full read now runs once per symbol: it leaves
a "verified through" mark (stockpipe.store.session_marks, migration 0018) and later reads scan
only the bars stored after it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import psycopg

from stockpipe.market_calendar import (
    NEW_YORK_KEY,
    new_york_date,
    new_york_midnight,
    sessions_between,
)
from stockpipe.store.db import Database
from stockpipe.store.errors import DatabaseError
from stockpipe.store.session_marks import (
    STORE_MARKS,
    TAIL_READ,
    Mark,
    calendar_digest,
    marks_param,
)
from stockpipe.store.session_sql import CALENDAR, hole_test, memory_of

logger = logging.getLogger(__name__)
DAILY_SERIES = "daily"
# The calendar sent with the read starts where Alpha Vantage's daily history does.
_CALENDAR_START = date(1999, 11, 1)


@dataclass(frozen=True, slots=True)
class StoredSessions:
    """One symbol's stored daily history as the gap rules need it."""

    first: date  # trading date of the oldest stored bar
    latest_ts: datetime  # time of the newest stored bar
    # (a, b): consecutive stored dates that are not consecutive sessions; the sessions strictly
    # between them have no bar (a non-session date in the table also shows up here).
    holes: tuple[tuple[date, date], ...]
    vendor_missing: frozenset[date]  # sessions the vendor is known to have no bar for
    reported: frozenset[date]  # premium-only missing sessions already reported
    bars: int | None = None  # how many bars are stored (`stockpipe status` shows it)

    @property
    def latest(self) -> date:
        return new_york_date(self.latest_ts)


# Only a symbol's first, newest and hole rows are aggregated, so nothing sorts the whole
# history; the row number of the newest is the symbol's count of bars.
_READ = f"""
WITH ends AS (
    SELECT symbol, ts, lead(ts) OVER w AS next_ts, lag(ts) OVER w AS previous_ts,
           row_number() OVER w AS n
    FROM stock_data
    WHERE symbol = ANY(%(symbols)s)
    WINDOW w AS (PARTITION BY symbol ORDER BY ts)
),
rare AS (
    SELECT * FROM ends
    WHERE previous_ts IS NULL OR next_ts IS NULL OR next_ts > ts + interval '26 hours'
),
{CALENDAR},
spans AS (
    SELECT e.symbol, min(e.ts) AS first_ts, max(e.ts) AS latest_ts, max(e.n) AS bars,
           array_agg(e.ts) FILTER (WHERE hole) AS hole_from,
           array_agg(e.next_ts) FILTER (WHERE hole) AS hole_to
    FROM rare AS e
    {hole_test("e")}
    GROUP BY e.symbol
)
SELECT s.symbol, s.first_ts, s.latest_ts, s.hole_from, s.hole_to,
       (SELECT k.generation FROM daily_session_mark AS k WHERE k.symbol = s.symbol), s.bars,
       {memory_of("s.symbol")}
FROM spans AS s
"""


@lru_cache(maxsize=4)
def _calendar_pairs(until: date) -> tuple[str, str]:
    """Where each session's bar stands (New York midnight) up to `until`, and where the
    following session's does (the last session has none), as array literals: psycopg took
    0.5 s to send two lists of 6,800 datetimes, a cached text literal costs nothing."""
    stamps = [new_york_midnight(day) for day in sessions_between(_CALENDAR_START, until)]

    def literal(moments: list[datetime]) -> str:
        return "{" + ",".join(moment.isoformat() for moment in moments) + "}"

    return literal(stamps[:-1]), literal(stamps[1:])


def read_stored_sessions(
    db: Database, symbols: Sequence[str], *, today: date | None = None
) -> dict[str, StoredSessions]:
    """Per symbol with daily bars: first and newest bar, the holes between stored dates, the
    count of bars, and the remembered vendor-missing and reported sessions. Symbols with a
    trusted mark (stockpipe.store.session_marks) cost the bars stored since it; the others one
    full read, which leaves them a mark. Two queries for all symbols, and one write of the
    marks that moved."""
    today = today or date.today()
    # A week past today: the calendar must know the session after every stored date.
    sessions, following = _calendar_pairs(today + timedelta(days=7))
    params: dict[str, object] = {
        "symbols": list(symbols),
        "sessions": sessions,
        "following": following,
        "series": DAILY_SERIES,
        "tz": NEW_YORK_KEY,
    }
    found: dict[str, StoredSessions] = {}
    moved: list[Mark] = []
    unmarked: list[str] = []
    for row in db.run(lambda c: c.execute(TAIL_READ, params).fetchall()):
        symbol, generation, intact, calendar, verified_day, verified_ts, first_ts = row[:7]
        if not intact or calendar != calendar_digest(verified_day):
            unmarked.append(symbol)
            continue
        first_day, latest_ts, uncounted, added, bars, from_days, to_days = row[7:14]
        new_from, new_to, missing, told = row[14:]
        found[symbol] = StoredSessions(
            first_day,
            latest_ts,
            tuple(zip(from_days, to_days, strict=True)),
            frozenset(missing or ()),
            frozenset(told or ()),
            bars,
        )
        if latest_ts > verified_ts or uncounted:  # moved on, or counted for the first time
            holes = (tuple(new_from or ()), tuple(new_to or ()))
            extends = (verified_ts, calendar)
            mark = Mark(symbol, generation, first_ts, latest_ts, *holes, bars, extends, added)
            moved.append(mark)
    if unmarked:
        params["symbols"] = unmarked
        for row in db.run(lambda conn: conn.execute(_READ, params).fetchall()):
            mark = _full_mark(row)
            found[mark.symbol] = _from_mark(mark, frozenset(row[7] or ()), frozenset(row[8] or ()))
            moved.append(mark)
    # A mark only ever covers completed history: bars dated after `today` (a test's fixed
    # clock) would be judged against a calendar that ends a week later.
    keep = [m for m in moved if new_york_date(m.verified_ts) <= today]
    if keep:
        marks = marks_param(keep)
        try:
            db.run(lambda conn: conn.execute(STORE_MARKS, {"marks": marks}))
        except DatabaseError as exc:
            # The answer stands without them (a read-only role, a standby): the next read
            # scans in full again.
            logger.warning("gap read marks not stored: %s", exc)
    return {symbol: found[symbol] for symbol in symbols if symbol in found}


def _full_mark(row: tuple[Any, ...]) -> Mark:
    symbol, first_ts, latest_ts, hole_from, hole_to, generation, bars = row[:7]
    pairs = sorted(zip(hole_from or (), hole_to or (), strict=True))
    return Mark(
        str(symbol),
        generation,
        first_ts,
        latest_ts,
        tuple(start for start, _ in pairs),
        tuple(end for _, end in pairs),
        int(bars),
    )


def _from_mark(
    mark: Mark, vendor_missing: frozenset[date], reported: frozenset[date]
) -> StoredSessions:
    holes = tuple(
        (new_york_date(start), new_york_date(end))
        for start, end in zip(mark.hole_from, mark.hole_to, strict=True)
    )
    return StoredSessions(
        new_york_date(mark.first_ts), mark.verified_ts, holes, vendor_missing, reported, mark.bars
    )


def record_session_memory(
    db: Database,
    symbol: str,
    *,
    vendor_missing: Collection[date] = (),
    present: Collection[date] = (),
    reported: Collection[date] = (),
    at: datetime,
    run_id: str | None = None,
) -> None:
    """In one transaction: remember sessions the vendor has no bar for, forget both memories of
    sessions an answer held after all (`present`), and note premium-only sessions reported."""
    if not (vendor_missing or present or reported):
        return

    def write(conn: psycopg.Connection[Any]) -> None:
        write_session_memory(
            conn, symbol, vendor_missing=vendor_missing, present=present, reported=reported,
            at=at, run_id=run_id,
        )  # fmt: skip

    db.run(write)


def write_session_memory(
    conn: psycopg.Connection[Any],
    symbol: str,
    *,
    vendor_missing: Collection[date] = (),
    present: Collection[date] = (),
    reported: Collection[date] = (),
    at: datetime,
    run_id: str | None = None,
) -> None:
    """record_session_memory inside the caller's transaction."""
    series = DAILY_SERIES
    if present:
        for table in ("vendor_missing_session", "premium_gap_notice"):
            conn.execute(
                f"DELETE FROM {table} WHERE symbol = %s AND series = %s AND day = ANY(%s)",
                (symbol, series, sorted(present)),
            )
    if vendor_missing:
        conn.execute(
            "INSERT INTO vendor_missing_session (symbol, series, day, first_seen_at, run_id)"
            " SELECT %s, %s, day, %s, %s FROM unnest(%s::date[]) AS day"
            " ON CONFLICT DO NOTHING",
            (symbol, series, at, run_id, sorted(vendor_missing)),
        )
    if reported:
        conn.execute(
            "INSERT INTO premium_gap_notice (symbol, series, day, reported_at, run_id)"
            " SELECT %s, %s, day, %s, %s FROM unnest(%s::date[]) AS day"
            " ON CONFLICT DO NOTHING",
            (symbol, series, at, run_id, sorted(reported)),
        )


def vendor_missing_sessions(db: Database, symbol: str) -> list[date]:
    """The remembered vendor-missing sessions of `symbol`, oldest first."""
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT day FROM vendor_missing_session WHERE symbol = %s AND series = %s ORDER BY day",
            (symbol, DAILY_SERIES),
        ).fetchall()
    )
    return [row[0] for row in rows]
