"""Data-quality checks on `stock_data`, as typed results the Dagster checks and the CLI both show.

Each check is one SQL statement over the configured symbols only, so its cost follows the
portfolio rather than everything the table ever held. The parser already drops inconsistent
bars and the table has UNIQUE (symbol, ts): these checks guard against what slips past both
(rows written by hand or by another tool, a constraint dropped during maintenance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from stockpipe.market_calendar import latest_completed_session

# Daily bars are stamped at midnight of their trading date in the exchange's zone (see bars.py).
EXCHANGE_TZ = "America/New_York"
# Enough examples to act on in the UI without turning a broken table into a huge event.
MAX_EXAMPLES = 20

OHLC_SANITY = "ohlc_sanity"
NO_DUPLICATE_KEYS = "no_duplicate_keys"
FRESHNESS = "freshness"


@dataclass(frozen=True, slots=True)
class QualityResult:
    """The outcome of one check: passed or not, a one-line summary, and a few offenders."""

    name: str
    passed: bool
    summary: str
    checked: int  # rows or symbols looked at
    problem_count: int
    examples: tuple[str, ...] = ()


_OHLC_SQL = """
SELECT symbol, (ts AT TIME ZONE %(tz)s)::date AS day,
       concat_ws(', ',
           CASE WHEN high < low THEN 'high < low' END,
           CASE WHEN high < greatest(open, close) THEN 'high below open/close' END,
           CASE WHEN low > least(open, close) THEN 'low above open/close' END,
           CASE WHEN least(open, high, low, close) < 0 OR volume < 0 THEN 'negative value' END
       ) AS reasons,
       count(*) OVER () AS total_bad
FROM stock_data
WHERE symbol = ANY(%(symbols)s)
  AND (high < low OR high < greatest(open, close) OR low > least(open, close)
       OR least(open, high, low, close) < 0 OR volume < 0)
ORDER BY symbol, ts
LIMIT %(limit)s
"""

_ROW_COUNT_SQL = "SELECT count(*) FROM stock_data WHERE symbol = ANY(%(symbols)s)"

_DUPLICATES_SQL = """
SELECT symbol, ts, copies, count(*) OVER () AS total_bad
FROM (
    SELECT symbol, ts, count(*) AS copies
    FROM stock_data
    WHERE symbol = ANY(%(symbols)s)
    GROUP BY symbol, ts
    HAVING count(*) > 1
) AS dup
ORDER BY symbol, ts
LIMIT %(limit)s
"""

_FRESHNESS_SQL = """
SELECT s.symbol,
       (SELECT (max(d.ts) AT TIME ZONE %(tz)s)::date FROM stock_data AS d
        WHERE d.symbol = s.symbol) AS latest,
       coalesce(st.deferred, FALSE) AS deferred
FROM unnest(%(symbols)s::text[]) AS s(symbol)
LEFT JOIN symbol_state AS st ON st.symbol = s.symbol
ORDER BY s.symbol
"""


def check_ohlc_sanity(conn: psycopg.Connection[Any], symbols: Sequence[str]) -> QualityResult:
    """No bar with high < low, high below open/close, low above them, or a negative value."""
    params = {"tz": EXCHANGE_TZ, "symbols": list(symbols), "limit": MAX_EXAMPLES}
    rows = conn.execute(_OHLC_SQL, params).fetchall()
    checked = _scalar(conn, _ROW_COUNT_SQL, params)
    bad = int(rows[0][3]) if rows else 0
    examples = tuple(f"{symbol} {day}: {reasons}" for symbol, day, reasons, _ in rows)
    return QualityResult(
        name=OHLC_SANITY,
        passed=bad == 0,
        summary=f"{bad} of {checked} rows have inconsistent prices",
        checked=checked,
        problem_count=bad,
        examples=examples,
    )


def check_no_duplicate_keys(conn: psycopg.Connection[Any], symbols: Sequence[str]) -> QualityResult:
    """Each (symbol, ts) appears once."""
    params = {"symbols": list(symbols), "limit": MAX_EXAMPLES}
    rows = conn.execute(_DUPLICATES_SQL, params).fetchall()
    checked = _scalar(conn, _ROW_COUNT_SQL, params)
    bad = int(rows[0][3]) if rows else 0
    examples = tuple(
        f"{symbol} {ts.isoformat()}: {copies} copies" for symbol, ts, copies, _ in rows
    )
    return QualityResult(
        name=NO_DUPLICATE_KEYS,
        passed=bad == 0,
        summary=f"{bad} (symbol, ts) keys appear more than once among {checked} rows",
        checked=checked,
        problem_count=bad,
        examples=examples,
    )


def check_freshness(
    conn: psycopg.Connection[Any], symbols: Sequence[str], session: date
) -> QualityResult:
    """Every symbol holds `session` (the latest completed one), or is deferred for lack of quota."""
    rows = conn.execute(_FRESHNESS_SQL, {"tz": EXCHANGE_TZ, "symbols": list(symbols)}).fetchall()
    stale = [
        (symbol, latest, deferred)
        for symbol, latest, deferred in rows
        if not _fresh(latest, session)
    ]
    excused = [symbol for symbol, _, deferred in stale if deferred]
    failing = [(symbol, latest) for symbol, latest, deferred in stale if not deferred]
    summary = f"{len(rows) - len(stale)} of {len(rows)} symbols hold the session of {session}"
    if excused:
        summary += f"; deferred (quota): {', '.join(excused)}"
    if failing:
        summary += f"; stale: {', '.join(symbol for symbol, _ in failing)}"
    return QualityResult(
        name=FRESHNESS,
        passed=not failing,
        summary=summary,
        checked=len(rows),
        problem_count=len(failing),
        examples=tuple(
            f"{symbol}: latest bar {latest or 'none'}" for symbol, latest in failing[:MAX_EXAMPLES]
        ),
    )


def run_quality_checks(
    conn: psycopg.Connection[Any], symbols: Sequence[str], *, now: datetime | None = None
) -> tuple[QualityResult, ...]:
    """All three checks, in a fixed order."""
    session = latest_completed_session(now)
    return (
        check_ohlc_sanity(conn, symbols),
        check_no_duplicate_keys(conn, symbols),
        check_freshness(conn, symbols, session),
    )


def _fresh(latest: date | None, session: date) -> bool:
    return latest is not None and latest >= session


def _scalar(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
