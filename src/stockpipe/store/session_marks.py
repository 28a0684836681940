"""The daily gap read's "verified through" marks (migration 0018): read only what changed.

A full read of a symbol's daily history (stockpipe.store.sessions) leaves a mark: its first bar,
the holes it found and the newest bar it saw. The next read scans that symbol's bars from the
mark on (one index range scan: the bars stored since) and adds the holes found there to the
remembered ones, so a run's read costs what changed since the last one, not all history.
Measured at 10,000 symbols x 2,500 bars: docs/benchmarks.md.

A mark is only trusted while nothing happened at or below it. The triggers of migration 0018
take it away (verified_ts NULL, a fresh generation) when a bar is inserted, deleted or moved at
or below it (a hole filled, a vendor-missing session served later, a backfill moving the first
bar earlier, a bar deleted by hand) and on TRUNCATE. A mark judged against another exchange
calendar (`calendar_digest`) is not trusted either. An untrusted symbol is read in full once.

Storing a mark is conditional on the generation read in the same statement as the bars: a
writer committing in between always changed it, so no mark ever hides a bar it did not see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from stockpipe.market_calendar import new_york_date, sessions_between

# A mark's holes depend on the sessions up to the one after its newest bar: a week covers it.
_CALENDAR_REACH = timedelta(days=7)
_CALENDAR_START = date(1999, 11, 1)


@lru_cache(maxsize=64)
def calendar_digest(through: date) -> str:
    """A digest of every exchange session from the calendar's start to a week after `through`."""
    days = sessions_between(_CALENDAR_START, through + _CALENDAR_REACH)
    return hashlib.sha256(",".join(day.isoformat() for day in days).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Mark:
    """What a read knows of one symbol's history up to `verified_ts`, and the generation of its
    mark row as read together with the bars (None: the symbol had no row)."""

    symbol: str
    generation: int | None
    first_ts: datetime
    verified_ts: datetime
    hole_from: tuple[datetime, ...]
    hole_to: tuple[datetime, ...]


# One statement, so the marks and the bars after them come from one snapshot. The lateral
# index range scan per symbol reads only the bars from the mark on (the bar at the mark is the
# predecessor of the first new one); symbols without a trusted mark only report their row.
TAIL_READ = """
WITH marks AS (
    SELECT s.symbol, k.generation, k.first_ts, k.verified_ts, k.hole_from, k.hole_to,
           k.calendar
    FROM unnest(%(symbols)s::text[]) AS s(symbol)
    LEFT JOIN daily_session_mark AS k ON k.symbol = s.symbol
),
ends AS (
    SELECT m.symbol, d.ts, lead(d.ts) OVER w AS next_ts
    FROM marks AS m
    CROSS JOIN LATERAL (
        -- OFFSET 0 keeps this a probe per symbol: once the marks table had statistics, the
        -- planner merged all 25M index entries with it instead (27 s where probes take 1 s).
        SELECT b.ts FROM stock_data AS b WHERE b.symbol = m.symbol AND b.ts >= m.verified_ts
        OFFSET 0
    ) AS d
    WHERE m.verified_ts IS NOT NULL
    WINDOW w AS (PARTITION BY m.symbol ORDER BY d.ts)
),
calendar AS (
    SELECT session_ts, following_ts
    FROM unnest(%(sessions)s::timestamptz[], %(following)s::timestamptz[])
        AS c(session_ts, following_ts)
),
tails AS (
    SELECT e.symbol, min(e.ts) AS low_ts, max(e.ts) AS latest_ts,
           array_agg(e.ts ORDER BY e.ts) FILTER (WHERE hole) AS hole_from,
           array_agg(e.next_ts ORDER BY e.ts) FILTER (WHERE hole) AS hole_to
    FROM ends AS e
    LEFT JOIN calendar AS c ON c.session_ts = e.ts
    CROSS JOIN LATERAL (
        SELECT e.next_ts > e.ts + interval '26 hours' AND e.next_ts IS DISTINCT FROM c.following_ts
    ) AS h(hole)
    GROUP BY e.symbol
)
SELECT m.symbol, m.generation, m.first_ts, m.verified_ts, m.hole_from, m.hole_to, m.calendar,
       t.low_ts, t.latest_ts, t.hole_from, t.hole_to,
       (SELECT array_agg(v.day) FROM vendor_missing_session AS v
        WHERE v.symbol = m.symbol AND v.series = %(series)s),
       (SELECT array_agg(n.day) FROM premium_gap_notice AS n
        WHERE n.symbol = m.symbol AND n.series = %(series)s)
FROM marks AS m
LEFT JOIN tails AS t ON t.symbol = m.symbol
"""


@dataclass(frozen=True, slots=True)
class TailRead:
    """One symbol's row of TAIL_READ: its mark extended by the bars since (`mark` None: the
    symbol has no trusted mark and must be read in full)."""

    symbol: str
    generation: int | None
    mark: Mark | None
    moved: bool  # bars were stored after the old mark: store the extended one
    vendor_missing: frozenset[date]
    reported: frozenset[date]


def tail_read(row: tuple[Any, ...]) -> TailRead:
    (symbol, generation, first_ts, verified_ts, old_from, old_to, calendar,
     low_ts, latest_ts, new_from, new_to, vendor_missing, reported) = row  # fmt: skip
    memory = (frozenset(vendor_missing or ()), frozenset(reported or ()))
    trusted = (
        verified_ts is not None
        and first_ts is not None
        and calendar == calendar_digest(new_york_date(verified_ts))
        # The bar at the mark itself must still be there (a trigger would have cleared the
        # mark otherwise; this costs nothing and keeps a hand-edited mark from lying).
        and low_ts == verified_ts
    )
    if not trusted:
        return TailRead(symbol, generation, None, False, *memory)
    mark = Mark(
        symbol,
        generation,
        first_ts,
        latest_ts,
        (*old_from, *(new_from or ())),
        (*old_to, *(new_to or ())),
    )
    return TailRead(symbol, generation, mark, latest_ts > verified_ts, *memory)


# Stored only if the row's generation is still the one read with the bars; a symbol that had
# no row brings a fresh generation, which no row inserted since can hold.
STORE_MARKS = """
INSERT INTO daily_session_mark AS k
    (symbol, generation, first_ts, verified_ts, hole_from, hole_to, calendar, verified_at)
SELECT m.symbol, coalesce(m.generation, nextval('daily_session_mark_generation')), m.first_ts,
       m.verified_ts, m.hole_from::timestamptz[], m.hole_to::timestamptz[], m.calendar, now()
FROM jsonb_to_recordset(%(marks)s::jsonb) AS m(
    symbol text, generation bigint, first_ts timestamptz, verified_ts timestamptz,
    hole_from text[], hole_to text[], calendar text)
ORDER BY m.symbol
ON CONFLICT (symbol) DO UPDATE
SET first_ts = EXCLUDED.first_ts, verified_ts = EXCLUDED.verified_ts,
    hole_from = EXCLUDED.hole_from, hole_to = EXCLUDED.hole_to, calendar = EXCLUDED.calendar,
    verified_at = EXCLUDED.verified_at
WHERE k.generation = EXCLUDED.generation
"""


def marks_json(marks: Sequence[Mark]) -> list[dict[str, object]]:
    """The marks as STORE_MARKS reads them (one parameter for any number of symbols)."""
    return [
        {
            "symbol": m.symbol,
            "generation": m.generation,
            "first_ts": m.first_ts.isoformat(),
            "verified_ts": m.verified_ts.isoformat(),
            "hole_from": [t.isoformat() for t in m.hole_from],
            "hole_to": [t.isoformat() for t in m.hole_to],
            "calendar": calendar_digest(new_york_date(m.verified_ts)),
        }
        for m in marks
    ]
