"""Data-quality checks on a bars table (`stock_data` unless told), as typed results the Dagster
checks and the CLI both show. The other tables pass their series (stockpipe.series): its table
name, the key that must be unique (one row per period for weekly and monthly), and, for
intraday, the interval.

Each check is one SQL statement over the configured symbols only, so its cost follows the
portfolio rather than everything the table ever held. The parser already drops inconsistent
bars and the table has UNIQUE (symbol, ts): these checks guard against what slips past both
(rows written by hand or by another tool, a constraint dropped during maintenance).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from stockpipe.market_calendar import NEW_YORK_KEY, latest_completed_session
from stockpipe.series import DAILY, Series
from stockpipe.store.late_indexes import BAD_BAR

# Daily bars are stamped at midnight of their trading date in the exchange's zone (see bars.py).
EXCHANGE_TZ = NEW_YORK_KEY
# Enough examples to act on in the UI without turning a broken table into a huge event.
MAX_EXAMPLES = 20

OHLC_SANITY = "ohlc_sanity"
NO_DUPLICATE_KEYS = "no_duplicate_keys"
ONE_ROW_PER_PERIOD = "one_row_per_period"  # the weekly/monthly tables' name for the key check
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


# The inconsistent bars come from the partial index holding only them (store/late_indexes.py),
# filtered by symbol afterwards. The planner cannot estimate the OR of five comparisons (it
# guesses about half the table), and at 25 million rows that guess made it scan every row
# (37-55 s) with or without the symbols in the scan: `_index_only` below keeps it on the index.
_OHLC_SQL = (
    """
WITH bad AS MATERIALIZED (
    SELECT symbol, ts, open, high, low, close, volume FROM {table} WHERE """
    + BAD_BAR
    + """{scope}
)
SELECT symbol, (ts AT TIME ZONE %(tz)s)::date AS day,
       concat_ws(', ',
           CASE WHEN high < low THEN 'high < low' END,
           CASE WHEN high < greatest(open, close) THEN 'high below open/close' END,
           CASE WHEN low > least(open, close) THEN 'low above open/close' END,
           CASE WHEN least(open, high, low, close) < 0 OR volume < 0 THEN 'negative value' END
       ) AS reasons,
       count(*) OVER () AS total_bad
FROM bad
WHERE symbol = ANY(%(symbols)s)
ORDER BY symbol, ts
LIMIT %(limit)s
"""
)

_ROW_COUNT_SQL = """
SELECT count(*)
FROM (SELECT 1 FROM {table} WHERE symbol = ANY(%(symbols)s){scope} LIMIT %(cap)s) AS r
"""

_DUPLICATES_SQL = """
SELECT symbol, {key}, copies, count(*) OVER () AS total_bad
FROM (
    SELECT symbol, {key}, count(*) AS copies
    FROM {table}
    WHERE symbol = ANY(%(symbols)s){scope}
    GROUP BY symbol, {key}
    HAVING count(*) > 1
) AS dup
ORDER BY symbol, {key}
LIMIT %(limit)s
"""

_FRESHNESS_SQL = """
SELECT s.symbol,
       (SELECT (max(d.ts) AT TIME ZONE %(tz)s)::date FROM {table} AS d
        WHERE d.symbol = s.symbol{scope}) AS latest,
       coalesce(st.deferred, FALSE) AS deferred
FROM unnest(%(symbols)s::text[]) AS s(symbol)
LEFT JOIN symbol_state AS st ON st.symbol = s.symbol AND st.series = %(series)s
ORDER BY s.symbol
"""


def _sql(template: str, series: Series, interval: str | None) -> bytes:
    table = series.table
    scope = " AND interval = %(interval)s" if table.per_interval and interval else ""
    key = ", ".join(c for c in table.key if c != "symbol")
    return template.format(table=table.name, scope=scope, key=key).encode()


def check_ohlc_sanity(
    conn: psycopg.Connection[Any],
    symbols: Sequence[str],
    *,
    series: Series = DAILY,
    interval: str | None = None,
) -> QualityResult:
    """No bar with high < low, high below open/close, low above them, or a negative value."""
    params = {
        "tz": EXCHANGE_TZ, "symbols": list(symbols), "limit": MAX_EXAMPLES, "interval": interval,
    }  # fmt: skip
    with _index_only(conn):
        rows = conn.execute(_sql(_OHLC_SQL, series, interval), params).fetchall()
    checked, about = _rows_checked(conn, series, interval, params)
    bad = int(rows[0][3]) if rows else 0
    examples = tuple(f"{symbol} {day}: {reasons}" for symbol, day, reasons, _ in rows)
    return QualityResult(
        name=OHLC_SANITY,
        passed=bad == 0,
        summary=f"{bad} of {about}{checked:,} rows have inconsistent prices",
        checked=checked,
        problem_count=bad,
        examples=examples,
    )


def check_no_duplicate_keys(
    conn: psycopg.Connection[Any],
    symbols: Sequence[str],
    *,
    series: Series = DAILY,
    interval: str | None = None,
) -> QualityResult:
    """Each key of the table appears once: (symbol, ts), one row per (symbol, period) for
    weekly and monthly, (symbol, interval, ts) for intraday."""
    params = {"symbols": list(symbols), "limit": MAX_EXAMPLES, "interval": interval}
    rows = []
    if not _unique_index_holds(conn, series.table.name, series.table.key):
        rows = conn.execute(_sql(_DUPLICATES_SQL, series, interval), params).fetchall()
    checked, about = _rows_checked(conn, series, interval, params)
    bad = int(rows[-1][-1]) if rows else 0
    examples = tuple(
        f"{row[0]} {' '.join(_text(v) for v in row[1:-2])}: {row[-2]} copies" for row in rows
    )
    key = ", ".join(series.table.key)
    return QualityResult(
        name=ONE_ROW_PER_PERIOD if series.table.per_period else NO_DUPLICATE_KEYS,
        passed=bad == 0,
        summary=f"{bad} ({key}) keys appear more than once among {about}{checked:,} rows",
        checked=checked,
        problem_count=bad,
        examples=examples,
    )


@contextmanager
def _index_only(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """No sequential scan for the statements inside, in this transaction only: with the
    partial index in place the planner then always reads it (a few pages, whatever the table
    size); without it (not built yet) a scan is still the plan it falls back to."""
    # A failing statement rolls the savepoint (or transaction) back, the setting with it; a
    # restore there would only hide the error behind "current transaction is aborted".
    with conn.transaction():
        row = conn.execute("SELECT current_setting('enable_seqscan')").fetchone()
        conn.execute("SELECT set_config('enable_seqscan', 'off', true)")
        yield
        conn.execute("SELECT set_config('enable_seqscan', %s, true)", [row[0] if row else "on"])


# The checks count the rows they cover up to this many, and say "more than" beyond: counting
# every row was an index scan of every entry (4-9 s at 25 million rows, for each check) for a
# number the checks only report; the bad bars and the repeated keys are found whatever the size.
COUNTED_UP_TO = 1_000_000


def _rows_checked(
    conn: psycopg.Connection[Any], series: Series, interval: str | None, params: dict[str, Any]
) -> tuple[int, str]:
    """How many rows the configured symbols hold, up to COUNTED_UP_TO, and "more than " when
    they hold more."""
    count = _scalar(
        conn, _sql(_ROW_COUNT_SQL, series, interval), {**params, "cap": COUNTED_UP_TO + 1}
    )
    return (COUNTED_UP_TO, "more than ") if count > COUNTED_UP_TO else (count, "")


# A valid unique index on exactly the key (the table's UNIQUE constraint) makes a repeated key
# impossible: grouping every key to prove it took 2 s a million rows (50 s at 25 million). Only
# a database whose constraint is gone (or whose index build failed) is grouped.
_UNIQUE_INDEX_SQL = """
SELECT EXISTS (
    SELECT 1 FROM pg_index AS x
    WHERE x.indrelid = to_regclass(%s) AND x.indisunique AND x.indisvalid
      AND x.indpred IS NULL AND x.indexprs IS NULL
      AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute AS a
           WHERE a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)) = %s::text[]
)
"""


def _unique_index_holds(conn: psycopg.Connection[Any], table: str, key: Sequence[str]) -> bool:
    row = conn.execute(_UNIQUE_INDEX_SQL, [table, sorted(key)]).fetchone()
    return bool(row and row[0])


def check_freshness(
    conn: psycopg.Connection[Any],
    symbols: Sequence[str],
    session: date,
    *,
    series: Series = DAILY,
    interval: str | None = None,
) -> QualityResult:
    """Every symbol holds `session` (the latest completed one), or is deferred for lack of quota.
    Weekly and monthly bars are dated by their latest session, so the same test applies."""
    params = {
        "tz": EXCHANGE_TZ, "symbols": list(symbols), "series": series.name, "interval": interval,
    }  # fmt: skip
    rows = conn.execute(_sql(_FRESHNESS_SQL, series, interval), params).fetchall()
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
    conn: psycopg.Connection[Any],
    symbols: Sequence[str],
    *,
    now: datetime | None = None,
    series: Series = DAILY,
    interval: str | None = None,
) -> tuple[QualityResult, ...]:
    """All three checks, in a fixed order."""
    session = latest_completed_session(now)
    return (
        check_ohlc_sanity(conn, symbols, series=series, interval=interval),
        check_no_duplicate_keys(conn, symbols, series=series, interval=interval),
        check_freshness(conn, symbols, session, series=series, interval=interval),
    )


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _fresh(latest: date | None, session: date) -> bool:
    return latest is not None and latest >= session


def _scalar(conn: psycopg.Connection[Any], sql: bytes, params: dict[str, Any]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
