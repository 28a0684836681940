"""Every SQL statement on `symbol_state`: the memory of each (symbol, series) between runs.

One row per symbol and series (migration 0009): the last result, whether and since when it is
deferred, whether Alpha Vantage rejected the symbol, and the session it had not published yet.
The rules that read this memory live in stockpipe.ingest (state, rejection, publication); this
module only stores and reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from stockpipe.series import DAILY, Series
from stockpipe.status import SymbolStatus
from stockpipe.store.db import Database


@dataclass(frozen=True, slots=True)
class SymbolState:
    symbol: str
    last_status: SymbolStatus
    last_message: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    deferred: bool
    deferred_since: datetime | None
    last_calls: int
    history_limited: bool
    rejected_at: datetime | None
    rejected_reason: str


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """One run's outcome for a symbol, as symbol_state records it."""

    symbol: str
    status: SymbolStatus
    message: str
    calls: int
    history_limited: bool
    full_loaded: bool  # a full history was loaded: history_limited no longer holds
    rejected: bool  # Alpha Vantage rejected the symbol in this run (a call was spent)


_COLUMNS = (
    "symbol, last_status, last_message, last_attempt_at, last_success_at, deferred,"
    " deferred_since, last_calls, history_limited, rejected_at, rejected_reason"
)
_RECORD = f"""
INSERT INTO symbol_state ({_COLUMNS}, series) VALUES (%(symbol)s, %(status)s, %(message)s,
 %(at)s, %(success_at)s, %(deferred)s, CASE WHEN %(deferred)s THEN %(at)s END,
 %(calls)s, %(limited)s, CASE WHEN %(rejected)s THEN %(at)s END,
 CASE WHEN %(rejected)s THEN %(message)s ELSE '' END, %(series)s)
ON CONFLICT (symbol, series) DO UPDATE SET last_status = EXCLUDED.last_status,
 last_message = EXCLUDED.last_message, last_attempt_at = EXCLUDED.last_attempt_at,
 last_success_at = COALESCE(EXCLUDED.last_success_at, symbol_state.last_success_at),
 deferred = EXCLUDED.deferred,
 -- A symbol deferred again keeps its place in the queue: the first deferral counts.
 deferred_since = CASE WHEN EXCLUDED.deferred
  THEN COALESCE(symbol_state.deferred_since, EXCLUDED.deferred_since) END,
 last_calls = EXCLUDED.last_calls,
 history_limited = CASE WHEN %(full_loaded)s THEN FALSE
  ELSE symbol_state.history_limited OR EXCLUDED.history_limited END,
 rejected_at = CASE WHEN %(loaded)s THEN NULL WHEN %(rejected)s THEN %(at)s
  ELSE symbol_state.rejected_at END,
 rejected_reason = CASE WHEN %(loaded)s THEN '' WHEN %(rejected)s THEN %(message)s
  ELSE symbol_state.rejected_reason END"""


def record_state(db: Database, update: StateUpdate, at: datetime, series: Series = DAILY) -> None:
    """Store one symbol's outcome. `history_limited` sticks until a full fetch succeeds; a
    rejection sticks until a load succeeds, and only a rejection that cost a call dates it (a
    skipped, quarantined symbol must not push its own retry day further out)."""
    params = _record_params(update, at, series)
    db.run(lambda conn: conn.execute(_RECORD, params))


def record_states_in(
    conn: psycopg.Connection[Any], updates: Sequence[StateUpdate], at: datetime, series: Series
) -> None:
    """record_state for many symbols inside the caller's transaction, in one round trip
    (psycopg pipelines executemany)."""
    if updates:
        with conn.cursor() as cursor:
            cursor.executemany(_RECORD, [_record_params(u, at, series) for u in updates])


def _record_params(update: StateUpdate, at: datetime, series: Series) -> dict[str, object]:
    ok = update.status in (SymbolStatus.LOADED, SymbolStatus.UP_TO_DATE)
    return {
        "symbol": update.symbol,
        "series": series.name,
        "status": update.status.value,
        "message": update.message,
        "at": at,
        "success_at": at if ok else None,
        "deferred": update.status is SymbolStatus.DEFERRED,
        "calls": update.calls,
        "limited": update.history_limited,
        "full_loaded": update.full_loaded,
        "loaded": update.status is SymbolStatus.LOADED,
        "rejected": update.rejected,
    }


def load_states(
    db: Database, symbols: Iterable[str] | None = None, series: Series = DAILY
) -> dict[str, SymbolState]:
    """Stored state of `series` by symbol; every symbol when `symbols` is None."""
    wanted = None if symbols is None else list(symbols)

    def read(conn: psycopg.Connection[Any]) -> dict[str, SymbolState]:
        query = f"SELECT {_COLUMNS} FROM symbol_state WHERE series = %s"
        if wanted is None:
            rows = conn.execute(query, (series.name,)).fetchall()
        else:
            rows = conn.execute(query + " AND symbol = ANY(%s)", (series.name, wanted)).fetchall()
        return {row[0]: SymbolState(row[0], SymbolStatus(row[1]), *row[2:]) for row in rows}

    return db.run(read)


def order_symbols(
    db: Database, symbols: Sequence[str], series: Series = DAILY, interval: str | None = None
) -> list[str]:
    """Deferred first (longest waiting first), then never loaded, then stalest; symbols Alpha
    Vantage rejected last of all. Ties keep the given order. Duplicates are dropped."""
    unique = list(dict.fromkeys(symbols))
    if not unique:
        return []
    table = series.table
    scope = " AND d.interval = %(interval)s" if table.per_interval else ""

    def read(conn: psycopg.Connection[Any]) -> list[str]:
        rows = conn.execute(
            "SELECT given.symbol FROM unnest(%(symbols)s::text[]) WITH ORDINALITY"
            " AS given(symbol, pos)"
            " LEFT JOIN symbol_state s ON s.symbol = given.symbol AND s.series = %(series)s"
            f" LEFT JOIN LATERAL (SELECT max(ts) AS latest FROM {table.name} d"
            f"  WHERE d.symbol = given.symbol{scope}) bars ON TRUE"
            " ORDER BY s.rejected_at IS NOT NULL, COALESCE(s.deferred, FALSE) DESC,"
            " s.deferred_since NULLS LAST, bars.latest NULLS FIRST, given.pos",
            {"symbols": unique, "series": series.name, "interval": interval},
        ).fetchall()
        return [row[0] for row in rows]

    return db.run(read)


def load_rejections(
    db: Database, symbols: Iterable[str], series: Series = DAILY
) -> list[tuple[str, datetime, str]]:
    """(symbol, rejected_at, reason) of the rejected symbols among `symbols`."""
    wanted = list(symbols)
    if not wanted:
        return []
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT symbol, rejected_at, rejected_reason FROM symbol_state"
            " WHERE series = %s AND symbol = ANY(%s) AND rejected_at IS NOT NULL",
            (series.name, wanted),
        ).fetchall()
    )
    return [(str(r[0]), r[1], str(r[2])) for r in rows]


_MARK_UNPUBLISHED = (
    "UPDATE symbol_state SET unpublished_session = %s, unpublished_asked_at = %s"
    " WHERE symbol = %s AND series = %s"
)


def mark_unpublished(
    db: Database, symbol: str, session: date, at: datetime, series: Series = DAILY
) -> None:
    """Remember that a call at `at` did not get `session` yet (the row must exist)."""
    db.run(lambda conn: conn.execute(_MARK_UNPUBLISHED, (session, at, symbol, series.name)))


def mark_unpublished_in(
    conn: psycopg.Connection[Any],
    marks: Sequence[tuple[str, date]],
    at: datetime,
    series: Series,
) -> None:
    """mark_unpublished for many (symbol, session) inside the caller's transaction."""
    if marks:
        with conn.cursor() as cursor:
            cursor.executemany(
                _MARK_UNPUBLISHED, [(session, at, symbol, series.name) for symbol, session in marks]
            )


def load_unpublished(
    db: Database, symbols: Iterable[str], series: Series = DAILY
) -> list[tuple[str, date, datetime]]:
    """(symbol, session, asked_at) of the remembered unpublished sessions among `symbols`."""
    wanted = list(symbols)
    if not wanted:
        return []
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT symbol, unpublished_session, unpublished_asked_at FROM symbol_state"
            " WHERE series = %s AND symbol = ANY(%s) AND unpublished_session IS NOT NULL",
            (series.name, wanted),
        ).fetchall()
    )
    return [(str(r[0]), r[1], r[2]) for r in rows]


# One index probe per distinct symbol (the next symbol after the last one found) instead of
# a DISTINCT over every row: 10,000 probes where SELECT DISTINCT read 25 million index entries.
_DISTINCT_SYMBOLS = """
WITH RECURSIVE found AS (
    (SELECT symbol FROM {table} ORDER BY symbol LIMIT 1)
    UNION ALL
    SELECT (SELECT b.symbol FROM {table} AS b WHERE b.symbol > f.symbol ORDER BY b.symbol LIMIT 1)
    FROM found AS f
    WHERE f.symbol IS NOT NULL
)
SELECT symbol FROM found WHERE symbol IS NOT NULL
UNION SELECT symbol FROM symbol_state WHERE series = %s
ORDER BY 1
"""


def stored_symbols(db: Database, series: Series = DAILY) -> list[str]:
    """Every symbol with bars in the series' table or a result of the series, sorted."""
    query = _DISTINCT_SYMBOLS.format(table=series.table.name)
    rows = db.run(lambda conn: conn.execute(query, (series.name,)).fetchall())
    return [str(row[0]) for row in rows]
