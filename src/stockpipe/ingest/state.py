"""Per-symbol memory between runs (table `symbol_state`): last result, and who goes first.

Deferred symbols are fetched first on the next run, then symbols with no bars at all, then
the stalest; so a small daily budget rotates through a long symbol list instead of starving
its tail. Symbols Alpha Vantage rejected come after all of those (stockpipe.ingest.rejection).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.store import Database


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


_COLUMNS = (
    "symbol, last_status, last_message, last_attempt_at, last_success_at, deferred,"
    " deferred_since, last_calls, history_limited, rejected_at, rejected_reason"
)


def record_result(db: Database, result: SymbolResult, at: datetime) -> None:
    """Store one symbol's outcome. `history_limited` sticks until a full fetch succeeds; a
    rejection sticks until a load succeeds, and only a rejection that cost a call dates it (a
    skipped, quarantined symbol must not push its own retry day further out)."""
    ok = result.status in (SymbolStatus.LOADED, SymbolStatus.UP_TO_DATE)
    full_loaded = result.status is SymbolStatus.LOADED and result.output_size == "full"
    params = {
        "symbol": result.symbol,
        "status": result.status.value,
        "message": result.message,
        "at": at,
        "success_at": at if ok else None,
        "deferred": result.status is SymbolStatus.DEFERRED,
        "calls": result.calls,
        "limited": result.history_limited,
        "full_loaded": full_loaded,
        "loaded": result.status is SymbolStatus.LOADED,
        "rejected": result.rejected and result.calls > 0,
    }
    db.run(
        lambda conn: conn.execute(
            f"INSERT INTO symbol_state ({_COLUMNS}) VALUES (%(symbol)s, %(status)s, %(message)s,"
            " %(at)s, %(success_at)s, %(deferred)s, CASE WHEN %(deferred)s THEN %(at)s END,"
            " %(calls)s, %(limited)s, CASE WHEN %(rejected)s THEN %(at)s END,"
            " CASE WHEN %(rejected)s THEN %(message)s ELSE '' END)"
            " ON CONFLICT (symbol) DO UPDATE SET last_status = EXCLUDED.last_status,"
            " last_message = EXCLUDED.last_message, last_attempt_at = EXCLUDED.last_attempt_at,"
            " last_success_at = COALESCE(EXCLUDED.last_success_at, symbol_state.last_success_at),"
            " deferred = EXCLUDED.deferred,"
            # A symbol deferred again keeps its place in the queue: the first deferral counts.
            " deferred_since = CASE WHEN EXCLUDED.deferred"
            "  THEN COALESCE(symbol_state.deferred_since, EXCLUDED.deferred_since) END,"
            " last_calls = EXCLUDED.last_calls,"
            " history_limited = CASE WHEN %(full_loaded)s THEN FALSE"
            "  ELSE symbol_state.history_limited OR EXCLUDED.history_limited END,"
            " rejected_at = CASE WHEN %(loaded)s THEN NULL WHEN %(rejected)s THEN %(at)s"
            "  ELSE symbol_state.rejected_at END,"
            " rejected_reason = CASE WHEN %(loaded)s THEN '' WHEN %(rejected)s THEN %(message)s"
            "  ELSE symbol_state.rejected_reason END",
            params,
        )
    )


def load_states(db: Database, symbols: Iterable[str] | None = None) -> dict[str, SymbolState]:
    """Stored state by symbol; every symbol when `symbols` is None."""
    wanted = None if symbols is None else list(symbols)

    def read(conn: psycopg.Connection[Any]) -> dict[str, SymbolState]:
        if wanted is None:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM symbol_state").fetchall()
        else:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM symbol_state WHERE symbol = ANY(%s)", (wanted,)
            ).fetchall()
        return {row[0]: SymbolState(row[0], SymbolStatus(row[1]), *row[2:]) for row in rows}

    return db.run(read)


def order_symbols(db: Database, symbols: Sequence[str]) -> list[str]:
    """Deferred first (longest waiting first), then never loaded, then stalest; symbols Alpha
    Vantage rejected last of all, so a tight budget goes to symbols that work. Ties keep the
    given order. Duplicates are dropped."""
    unique = list(dict.fromkeys(symbols))
    if not unique:
        return []

    def read(conn: psycopg.Connection[Any]) -> list[str]:
        rows = conn.execute(
            "SELECT given.symbol FROM unnest(%s::text[]) WITH ORDINALITY AS given(symbol, pos)"
            " LEFT JOIN symbol_state s ON s.symbol = given.symbol"
            " LEFT JOIN LATERAL (SELECT max(ts) AS latest FROM stock_data d"
            "  WHERE d.symbol = given.symbol) bars ON TRUE"
            " ORDER BY s.rejected_at IS NOT NULL, COALESCE(s.deferred, FALSE) DESC,"
            " s.deferred_since NULLS LAST, bars.latest NULLS FIRST, given.pos",
            (unique,),
        ).fetchall()
        return [row[0] for row in rows]

    return db.run(read)
