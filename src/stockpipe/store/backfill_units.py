"""Every SQL statement on `backfill_unit`: which units of history the backfill has settled.

The rules (what a unit is, when one is needed) live in stockpipe.ingest.backfill; this module
only stores and reads the outcome of each (symbol, series, unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from stockpipe.store.db import Database


@dataclass(frozen=True, slots=True)
class StoredUnit:
    symbol: str
    series: str
    unit: str
    status: str  # done, unreachable, failed
    calls: int
    key_fingerprint: str
    finished_at: datetime | None
    message: str


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    """One attempt at a unit, as recorded: `calls` adds to what earlier attempts spent."""

    symbol: str
    series: str
    unit: str
    status: str
    calls: int
    inserted: int
    updated: int
    message: str


def load_units(db: Database, symbols: Sequence[str]) -> dict[tuple[str, str, str], StoredUnit]:
    """Every recorded unit of these symbols, by (symbol, series, unit)."""
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT symbol, series, unit, status, calls, key_fingerprint, finished_at, message"
            " FROM backfill_unit WHERE symbol = ANY(%s)",
            (list(symbols),),
        ).fetchall()
    )
    units = (
        StoredUnit(
            str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]), r[6], str(r[7])
        )
        for r in rows
    )
    return {(u.symbol, u.series, u.unit): u for u in units}


def record_unit(
    db: Database, outcome: UnitOutcome, *, key_fingerprint: str, run_id: str, at: datetime
) -> None:
    """Upsert one unit's outcome. A unit already `done` stays done (a concurrent backfill may
    have finished it first); calls always add up, so the table holds what the unit cost."""
    finished = at if outcome.status in ("done", "unreachable") else None
    params = {
        "symbol": outcome.symbol, "series": outcome.series, "unit": outcome.unit,
        "status": outcome.status, "calls": outcome.calls, "ins": outcome.inserted,
        "upd": outcome.updated, "fp": key_fingerprint, "at": at, "finished": finished,
        "run": run_id, "message": outcome.message,
    }  # fmt: skip
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO backfill_unit AS b (symbol, series, unit, status, calls, rows_inserted,"
            " rows_updated, key_fingerprint, attempted_at, finished_at, run_id, message)"
            " VALUES (%(symbol)s, %(series)s, %(unit)s, %(status)s, %(calls)s, %(ins)s,"
            " %(upd)s, %(fp)s, %(at)s, %(finished)s, %(run)s, %(message)s)"
            " ON CONFLICT (symbol, series, unit) DO UPDATE SET"
            " status = CASE WHEN b.status = 'done' THEN 'done' ELSE EXCLUDED.status END,"
            " calls = b.calls + EXCLUDED.calls,"
            " rows_inserted = b.rows_inserted + EXCLUDED.rows_inserted,"
            " rows_updated = b.rows_updated + EXCLUDED.rows_updated,"
            " key_fingerprint = EXCLUDED.key_fingerprint, attempted_at = EXCLUDED.attempted_at,"
            " finished_at = COALESCE(EXCLUDED.finished_at, b.finished_at),"
            " run_id = EXCLUDED.run_id, message = EXCLUDED.message",
            params,
        )
    )
