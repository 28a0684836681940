"""Write a batch of daily bars into `stock_data`: all or nothing, idempotent, close to COPY speed.

Three paths inside one transaction:
- rows newer than everything stored for their symbol (the daily top-up, a first backfill) are
  COPYed straight into `stock_data`: nothing to compare them with;
- of the others, those whose stored `fingerprint` (a column generated from the stored values,
  migration 0005, see fingerprint.py) equals the one computed here are unchanged: counted,
  never sent (an unchanged re-load costs one indexed read per symbol, no COPY);
- the rest are COPYed into a per-connection temp table, then merged by one
  INSERT .. ON CONFLICT .. DO UPDATE .. WHERE (..) IS DISTINCT FROM (..), so a re-load of
  unchanged rows writes nothing (no new row version, no WAL, updated_at kept).
A per-symbol advisory lock keeps two loaders from both taking the fast path for the same rows.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from stockpipe.bars import Bar
from stockpipe.store.db import Database
from stockpipe.store.fingerprint import bar_fingerprint

DAILY = "1d"
# Lock namespace for pg_advisory_xact_lock(int, int); the migration lock uses the bigint form.
_SYMBOL_LOCK_CLASS = 0x53504C44
_COLUMNS = (
    "symbol, ts, open, high, low, close, volume, raw,"
    " adjusted_close, dividend_amount, split_coefficient"
)
_VALUE_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "raw",
    "adjusted_close",
    "dividend_amount",
    "split_coefficient",
)
# _copy prints rows itself in this column order (the values before `raw` never need escaping).
_COPY_TEXT_COLUMNS = (
    "symbol, ts, raw, open, high, low, close, volume,"
    " adjusted_close, dividend_amount, split_coefficient"
)
_COPY_CHUNK = 10_000  # rows per COPY text built at once (bounded memory for big batches)
_COPY_SPECIAL = re.compile(r"[\t\n\r\\]")
# Tab-separated plain numbers or None, one row a line: str() of a finite Decimal or an int.
_NUMBER = r"(?:[0-9.E+-]+|None)"
_COPY_NUMBERS = re.compile(rf"{_NUMBER}(?:[\t\n]{_NUMBER})*")
# Bars of every symbol share one datetime per day (the parser's cache): print each once.
_ts_texts: dict[datetime, str] = {}
_MAX_TS_TEXTS = 50_000
_LOCK_SYMBOLS = f"""
SELECT pg_advisory_xact_lock({_SYMBOL_LOCK_CLASS}, hashtext(s))
FROM (SELECT DISTINCT s FROM unnest(%s::text[]) AS s ORDER BY s) AS sorted"""
_STORED_MAX_TS = """
SELECT s, (SELECT max(ts) FROM stock_data WHERE symbol = s) FROM unnest(%s::text[]) AS s"""
_STORED_FINGERPRINTS = """
SELECT ts, fingerprint FROM stock_data WHERE symbol = %s AND ts BETWEEN %s AND %s"""
_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stockpipe_stage (
    symbol TEXT, ts TIMESTAMPTZ, open NUMERIC, high NUMERIC, low NUMERIC, close NUMERIC,
    volume BIGINT, raw JSONB, adjusted_close NUMERIC, dividend_amount NUMERIC,
    split_coefficient NUMERIC
) ON COMMIT DELETE ROWS"""
_MERGE = f"""
WITH written AS (
    INSERT INTO stock_data ({_COLUMNS})
    SELECT {", ".join(f"s.{c.strip()}" for c in _COLUMNS.split(","))} FROM stockpipe_stage AS s
    -- Read-only pre-filter: identical rows never reach ON CONFLICT, which would lock (and so
    -- WAL-log) every conflicting row even when its WHERE then skips the update.
    WHERE NOT EXISTS (
        SELECT 1 FROM stock_data AS t
        WHERE t.symbol = s.symbol AND t.ts = s.ts
          AND ({", ".join(f"t.{c}" for c in _VALUE_COLUMNS)})
              IS NOT DISTINCT FROM ({", ".join(f"s.{c}" for c in _VALUE_COLUMNS)})
    )
    ON CONFLICT (symbol, ts) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _VALUE_COLUMNS)},
        updated_at = now()
    WHERE ({", ".join(f"stock_data.{c}" for c in _VALUE_COLUMNS)})
        IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _VALUE_COLUMNS)})
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written"""


# The temp staging table lives as long as its session: create it once per connection.
_connections_with_stage: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()


@dataclass(frozen=True)
class UpsertResult:
    """Counts over the batch's distinct (symbol, ts) keys; they add up to that number."""

    inserted: int
    updated: int
    unchanged: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def upsert_bars(db: Database, bars: Sequence[Bar], *, run_id: str | None = None) -> UpsertResult:
    """Store `bars` (any symbols) in one transaction, retried whole on transient faults.
    `run_id` labels the bars this changes in stock_data_changes (migration 0011)."""
    unique = dedupe(bars)
    if not unique:
        return UpsertResult(0, 0, 0)
    try:
        return db.run(lambda conn: upsert_bars_in(conn, unique, run_id=run_id))
    except pg_errors.UniqueViolation:
        # Someone wrote these keys without our advisory lock between our max(ts) read and our
        # COPY: the merge path is always correct, only slower.
        return db.run(lambda conn: upsert_bars_in(conn, unique, fast_path=False, run_id=run_id))


def dedupe(bars: Iterable[Bar]) -> list[Bar]:
    """One bar per (symbol, ts), the last one given winning (a later page corrects an earlier)."""
    by_key: dict[tuple[str, datetime], Bar] = {}
    for bar in bars:
        if bar.interval != DAILY:
            raise ValueError(f"stock_data holds daily bars; got interval {bar.interval!r}")
        by_key[(bar.symbol, bar.ts)] = bar
    return list(by_key.values())


def upsert_bars_in(
    conn: psycopg.Connection[Any],
    bars: Sequence[Bar],
    *,
    fast_path: bool = True,
    run_id: str | None = None,
) -> UpsertResult:
    """The upsert inside the caller's transaction; `bars` must already be deduplicated."""
    if run_id is not None:
        # Read by the audit trigger; local to this transaction, so a pooled connection's next
        # user never inherits it.
        conn.execute("SELECT set_config('stockpipe.run_id', %s, true)", [run_id])
    symbols = sorted({bar.symbol for bar in bars})
    conn.execute(_LOCK_SYMBOLS, [symbols])
    if fast_path:
        stored = dict(conn.execute(_STORED_MAX_TS, [symbols]).fetchall())
        fresh = [b for b in bars if stored[b.symbol] is None or b.ts > stored[b.symbol]]
        known = [b for b in bars if not (stored[b.symbol] is None or b.ts > stored[b.symbol])]
    else:
        fresh, known = [], list(bars)
    if fresh:
        _copy(conn, "stock_data", fresh)
    updated = merged_inserts = 0
    if known:
        known = _without_unchanged(conn, known)
    if known:
        if conn not in _connections_with_stage:
            conn.execute(_CREATE_STAGE)
            _connections_with_stage.add(conn)
        # Empty after every commit (ON COMMIT DELETE ROWS); this only matters when the caller
        # runs two upserts in one transaction, and costs nothing on an empty table.
        conn.execute("DELETE FROM stockpipe_stage")
        _copy(conn, "stockpipe_stage", known)
        row = conn.execute(_MERGE).fetchone()
        assert row is not None
        merged_inserts, updated = int(row[0]), int(row[1])
    inserted = len(fresh) + merged_inserts
    return UpsertResult(inserted, updated, len(bars) - inserted - updated)


def _without_unchanged(conn: psycopg.Connection[Any], bars: Sequence[Bar]) -> list[Bar]:
    """`bars` minus those whose stored fingerprint proves them unchanged (the rest may be)."""
    times: dict[str, list[datetime]] = {}
    for b in bars:
        times.setdefault(b.symbol, []).append(b.ts)
    stored: dict[str, dict[datetime, int]] = {}
    with conn.cursor(binary=True) as cur:  # binary: no text parsing of ts and bigint
        for symbol, symbol_times in sorted(times.items()):
            cur.execute(_STORED_FINGERPRINTS, [symbol, min(symbol_times), max(symbol_times)])
            stored[symbol] = dict(cur.fetchall())
    # A bar with no stored row, or whose fingerprint cannot be predicted (None), is sent. The
    # fingerprints of one (symbol, ts) could only match for different values by a 64-bit
    # collision, and the merge still compares the values of every bar that is sent.
    return [
        b
        for b in bars
        if (fingerprint := stored[b.symbol].get(b.ts)) is None or fingerprint != bar_fingerprint(b)
    ]


def _copy(conn: psycopg.Connection[Any], table: str, bars: Sequence[Bar]) -> None:
    # Text COPY, not binary: measured twice as fast here (numeric/jsonb are parsed server-side
    # either way). The rows are printed here in bulk (str(Decimal) keeps the exact scale);
    # a batch holding anything this shortcut cannot vouch for goes through psycopg's write_row.
    with conn.cursor() as cur:
        for start in range(0, len(bars), _COPY_CHUNK):
            chunk = bars[start : start + _COPY_CHUNK]
            text = _copy_text(chunk)
            with cur.copy(f"COPY {table} ({_COPY_TEXT_COLUMNS}) FROM STDIN") as copy:
                if text is not None:
                    copy.write(text)
                    continue
                write = copy.write_row
                for b in chunk:
                    write(
                        (
                            b.symbol,
                            b.ts,
                            b.raw.decode(),
                            b.open,
                            b.high,
                            b.low,
                            b.close,
                            b.volume,
                            b.adjusted_close,
                            b.dividend_amount,
                            b.split_coefficient,
                        )
                    )


def _copy_text(bars: Sequence[Bar]) -> str | None:
    """`bars` in COPY text format (columns as _COPY_TEXT_COLUMNS), or None if a value could
    need escaping or is not a plain finite number."""
    if any(_COPY_SPECIAL.search(symbol) for symbol in {b.symbol for b in bars}):
        return None
    numbers = "\n".join(
        # !s: str() is psycopg's text for a Decimal, and Decimal.__format__ is twice as slow.
        f"{b.open!s}\t{b.high!s}\t{b.low!s}\t{b.close!s}\t{b.volume}"
        f"\t{b.adjusted_close!s}\t{b.dividend_amount!s}\t{b.split_coefficient!s}"
        for b in bars
    )
    if _COPY_NUMBERS.fullmatch(numbers) is None:
        return None
    raws = "\n".join([b.raw.decode() for b in bars])
    # Valid JSON holds no raw control characters; a backslash is COPY's escape character.
    if "\t" in raws or "\r" in raws or raws.count("\n") != len(bars) - 1:
        return None
    if "\\" in raws:
        raws = raws.replace("\\", "\\\\")
    texts = _ts_texts
    if len(texts) > _MAX_TS_TEXTS:
        texts.clear()
    stamps = []
    for b in bars:
        stamp = texts.get(b.ts)
        if stamp is None:
            stamp = texts[b.ts] = b.ts.isoformat()
        stamps.append(stamp)
    return "".join(
        f"{b.symbol}\t{stamp}\t{raw}\t{number}\n"
        for b, stamp, raw, number in zip(
            bars, stamps, raws.split("\n"), numbers.replace("None", "\\N").split("\n"), strict=True
        )
    )


def latest_bar_ts(db: Database, symbol: str) -> datetime | None:
    """Newest stored bar time of `symbol`, or None when it has none."""
    return _scalar_ts(db, "SELECT max(ts) FROM stock_data WHERE symbol = %s", symbol)


def first_bar_ts(db: Database, symbol: str) -> datetime | None:
    """Oldest stored bar time of `symbol`, or None when it has none."""
    return _scalar_ts(db, "SELECT min(ts) FROM stock_data WHERE symbol = %s", symbol)


def latest_bar_ts_by_symbol(db: Database, symbols: Sequence[str]) -> dict[str, datetime | None]:
    """Newest stored bar time of each symbol (None for those with none), in one query."""
    rows = db.run(lambda conn: conn.execute(_STORED_MAX_TS, [list(symbols)]).fetchall())
    return {str(symbol): ts for symbol, ts in rows}


def bar_count(db: Database, symbol: str | None = None) -> int:
    """Number of stored bars, of one symbol or of all."""
    if symbol is None:
        row = db.run(lambda conn: conn.execute("SELECT count(*) FROM stock_data").fetchone())
    else:
        query = "SELECT count(*) FROM stock_data WHERE symbol = %s"
        row = db.run(lambda conn: conn.execute(query, [symbol]).fetchone())
    return int(row[0]) if row else 0


def _scalar_ts(db: Database, query: str, symbol: str) -> datetime | None:
    row = db.run(lambda conn: conn.execute(query, [symbol]).fetchone())
    value = row[0] if row else None
    return value if isinstance(value, datetime) else None
