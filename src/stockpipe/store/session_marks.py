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

Since migration 0020 a mark also counts the bars at or below it, for `stockpipe status`; a
mark from before has them counted once by the next read. A read that moves a mark on sends
only what it found after it, appended to the stored holes while that mark is still the stored
one (two readers of one mark append once).

Storing a mark is conditional on the generation read in the same statement as the bars: a
writer that changed anything at or below the mark the reader read, committing in between,
always changed it. A bar inserted or deleted between the old mark and the newest bar the
reader saw changes no generation (it is above the old mark): a mark that extends one is
stored only if the bars there are still as many as the read saw. Not covered (known, open):
such a writer committing while the store statement itself runs; a full read (`UPDATE
daily_session_mark SET verified_ts = NULL`) clears what it left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import orjson
from psycopg.types.json import Jsonb

from stockpipe.market_calendar import new_york_date, sessions_between
from stockpipe.store.session_sql import CALENDAR, hole_test, memory_of

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
    """A mark to store: what a read knows of one symbol's history up to `verified_ts`, with
    the generation of its row as read together with the bars (None: the symbol had no row).

    A full read's mark holds every hole. A read since a mark sends only what it found after
    it (`extends`: the verified_ts and calendar digest of the mark it read), and the holes
    are appended to the stored ones if that mark is still the stored one."""

    symbol: str
    generation: int | None
    first_ts: datetime
    verified_ts: datetime
    hole_from: tuple[datetime, ...]
    hole_to: tuple[datetime, ...]
    bars: int | None = None  # bars at or below verified_ts
    extends: tuple[datetime, str] | None = None
    added: int = 0  # an extension: the bars it saw after the mark it extends


_DAYS = "ARRAY(SELECT (x AT TIME ZONE %(tz)s)::date FROM unnest({}) AS x)"

# One statement, so the marks and the bars after them come from one snapshot. The lateral
# index range scan per symbol reads only the bars from the mark on (the bar at the mark is the
# predecessor of the first new one); symbols without a mark only report their row. Holes come
# back as New York dates (the answer) and, for the ones found after the mark, as times (to
# store); a mark from before migration 0020 has its bars counted here, once.
TAIL_READ = f"""
WITH marks AS (
    SELECT s.symbol, k.generation, k.first_ts, k.verified_ts, k.hole_from, k.hole_to,
           k.calendar, k.bars
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
{CALENDAR},
tails AS (
    SELECT e.symbol, min(e.ts) AS low_ts, max(e.ts) AS latest_ts, count(*) - 1 AS added,
           array_agg(e.ts ORDER BY e.ts) FILTER (WHERE hole) AS hole_from,
           array_agg(e.next_ts ORDER BY e.ts) FILTER (WHERE hole) AS hole_to
    FROM ends AS e
    {hole_test("e")}
    GROUP BY e.symbol
),
read AS (
    -- intact: a mark whose own bar is still there (a trigger would have cleared it
    -- otherwise; this keeps a hand-edited mark from lying)
    SELECT m.*, t.latest_ts, t.added, t.hole_from AS new_from, t.hole_to AS new_to,
           coalesce(m.first_ts IS NOT NULL AND t.low_ts = m.verified_ts, FALSE) AS intact
    FROM marks AS m
    LEFT JOIN tails AS t ON t.symbol = m.symbol
)
SELECT r.symbol, r.generation, r.intact, r.calendar,
       (r.verified_ts AT TIME ZONE %(tz)s)::date, r.verified_ts, r.first_ts,
       (r.first_ts AT TIME ZONE %(tz)s)::date, r.latest_ts,
       r.bars IS NULL, r.added,
       CASE WHEN r.intact THEN coalesce(r.bars, (
           SELECT count(*) FROM stock_data AS b
           WHERE b.symbol = r.symbol AND b.ts <= r.verified_ts)) + r.added END,
       CASE WHEN r.intact THEN {_DAYS.format("r.hole_from || r.new_from")} END,
       CASE WHEN r.intact THEN {_DAYS.format("r.hole_to || r.new_to")} END,
       r.new_from, r.new_to,
       {memory_of("r.symbol")}
FROM read AS r
"""


# Stored only if the row's generation is still the one read with the bars (a symbol that had
# no row brings a fresh generation, which no row inserted since can hold) and, for a mark that
# extends one, that one is still the stored one: its holes are the start of the new list.
STORE_MARKS = """
INSERT INTO daily_session_mark AS k
    (symbol, generation, first_ts, verified_ts, hole_from, hole_to, calendar, bars, verified_at)
SELECT m.symbol, coalesce(m.generation, nextval('daily_session_mark_generation')), m.first_ts,
       m.verified_ts, coalesce(o.hole_from, '{}') || m.hole_from::timestamptz[],
       coalesce(o.hole_to, '{}') || m.hole_to::timestamptz[], m.calendar, m.bars, now()
FROM jsonb_to_recordset(%(marks)s::jsonb) AS m(
    symbol text, generation bigint, first_ts timestamptz, verified_ts timestamptz,
    hole_from text[], hole_to text[], calendar text, bars bigint,
    extends_ts timestamptz, extends_calendar text, added bigint)
LEFT JOIN daily_session_mark AS o ON o.symbol = m.symbol AND m.extends_ts IS NOT NULL
WHERE m.extends_ts IS NULL
   OR (o.generation = m.generation AND o.verified_ts = m.extends_ts
       AND o.calendar = m.extends_calendar
       -- a writer that filled or opened a hole above the old mark, committing since the
       -- read, changed no generation (its bar was above the mark): count what is there now
       AND m.added = (SELECT count(*) FROM stock_data AS b WHERE b.symbol = m.symbol
                      AND b.ts > m.extends_ts AND b.ts <= m.verified_ts))
ORDER BY m.symbol
ON CONFLICT (symbol) DO UPDATE
SET first_ts = EXCLUDED.first_ts, verified_ts = EXCLUDED.verified_ts,
    hole_from = EXCLUDED.hole_from, hole_to = EXCLUDED.hole_to, calendar = EXCLUDED.calendar,
    bars = EXCLUDED.bars, verified_at = EXCLUDED.verified_at
WHERE k.generation = EXCLUDED.generation
"""


def marks_json(marks: Sequence[Mark]) -> list[dict[str, object]]:
    """The marks as STORE_MARKS reads them (one parameter for any number of symbols); times
    stay datetimes, for `marks_param`'s serializer."""
    digests: dict[datetime, str] = {}  # a run's marks mostly share their newest session
    rows: list[dict[str, object]] = []
    for m in marks:
        digest = digests.get(m.verified_ts)
        if digest is None:
            digest = digests[m.verified_ts] = calendar_digest(new_york_date(m.verified_ts))
        rows.append(
            {
                "symbol": m.symbol,
                "generation": m.generation,
                "first_ts": m.first_ts,
                "verified_ts": m.verified_ts,
                "hole_from": m.hole_from,
                "hole_to": m.hole_to,
                "calendar": digest,
                "bars": m.bars,
                "extends_ts": m.extends[0] if m.extends else None,
                "extends_calendar": m.extends[1] if m.extends else None,
                "added": m.added,
            }
        )
    return rows


def marks_param(marks: Sequence[Mark]) -> Jsonb:
    """STORE_MARKS's parameter: orjson writes the 10,000 marks of a daily run (and their
    times) in a few milliseconds where json and isoformat took a quarter of a second."""
    return Jsonb(marks_json(marks), dumps=_json_text)


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()
