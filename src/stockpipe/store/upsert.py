"""Write a batch of bars into a bars table: all or nothing, idempotent, close to COPY speed.

Every bars table (`stock_data`, `stock_data_weekly`, `_monthly`, `_intraday`) is described by
one `BarsTable` spec (stockpipe.series): its name, the key rows merge on, the columns it adds.
The statements below are built from that spec once per table; `stock_data`'s are exactly the
ones it always had.

Three paths inside one transaction:
- rows newer than everything stored for their symbol (the daily top-up, a first backfill) are
  COPYed straight into the table: nothing to compare them with (a per-period table compares
  periods, so the open period's moving bar never takes this path while its row exists);
- of the others, those whose stored `fingerprint` (a column generated from the stored values,
  migration 0005, see fingerprint.py) equals the one computed here are unchanged: counted,
  never sent (an unchanged re-load costs one indexed read per symbol, no COPY);
- the rest are COPYed into a per-connection temp table, then merged by one
  INSERT .. ON CONFLICT .. DO UPDATE .. WHERE (..) IS DISTINCT FROM (..), so a re-load of
  unchanged rows writes nothing (no new row version, no WAL, updated_at kept).
A per-symbol advisory lock keeps two loaders from both taking the fast path for the same rows.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from stockpipe.bars import Bar
from stockpipe.series import DAILY_TABLE, BarsTable
from stockpipe.store.bars_sql import TableSql, table_sql
from stockpipe.store.copy_text import copy_rows as _copy
from stockpipe.store.db import Database
from stockpipe.store.fingerprint import bar_fingerprint
from stockpipe.store.partitions import ensure_months, months_of

DAILY = "1d"
# What a table adds per bar, in the order of its extra_columns (see upsert_bars' `extras`).
Extras = Callable[[Bar], tuple[object, ...]]
# A temp staging table lives as long as its session: create each once per connection.
# Per database: the months a partitioned table is known to have partitions for. A month
# dropped by retention later is not loaded again by this process's backfill (it skips them).
_months_with_partitions: dict[str, set[date]] = {}
_stages_of: weakref.WeakKeyDictionary[psycopg.Connection[Any], set[str]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class UpsertResult:
    """Counts over the batch's distinct (symbol, ts) keys; they add up to that number."""

    inserted: int
    updated: int
    unchanged: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def upsert_bars(
    db: Database,
    bars: Sequence[Bar],
    *,
    table: BarsTable = DAILY_TABLE,
    extras: Extras | None = None,
    unique: bool = False,
    run_id: str | None = None,
) -> UpsertResult:
    """Store `bars` (any symbols) into `table` in one transaction, retried whole on transient
    faults. `extras` gives a per-period table each bar's (period_start, provisional); an
    intraday table takes its interval from the bar. `unique`: the caller vouches that no two
    bars share a key (one parsed payload: the parser drops repeated timestamps), so the
    intraday dedupe is skipped (~30 ms of a 21,000-bar batch). `run_id` labels the bars this
    changes in stock_data_changes (migration 0011)."""
    rows = rows_of(bars, table, extras, unique=unique)
    if not rows:
        return UpsertResult(0, 0, 0)
    if table.partitioned:
        _ensure_partitions(db, rows.bars)
    try:
        return db.run(lambda conn: upsert_rows_in(conn, rows, table, run_id=run_id))
    except pg_errors.UniqueViolation:
        # Someone wrote these keys without our advisory lock between our max(ts) read and our
        # COPY: the merge path is always correct, only slower.
        return db.run(
            lambda conn: upsert_rows_in(conn, rows, table, fast_path=False, run_id=run_id)
        )


def rows_of(
    bars: Sequence[Bar], table: BarsTable, extras: Extras | None, *, unique: bool = False
) -> Rows:
    """`bars` deduplicated on `table`'s key, with their extra column values (upsert_bars)."""
    if table is DAILY_TABLE:
        return Rows(dedupe(bars))
    return dedupe_rows(bars, table, extras, unique=unique)


def _ensure_partitions(db: Database, bars: Sequence[Bar]) -> None:
    """Partitions for every month of `bars`, in their own short transaction (a backfill loads
    months long past; the months ahead exist already). Months seen once are remembered."""
    months = months_of(bar.ts for bar in bars)
    known = _months_with_partitions.setdefault(db.conninfo, set())
    if months <= known:
        return
    db.run(lambda conn: ensure_months(conn, months))
    known |= months


@dataclass(frozen=True, slots=True)
class Rows:
    """Deduplicated bars and, for a table with extra columns, each bar's extra values."""

    bars: list[Bar]
    extras: list[tuple[object, ...]] | None = None

    def __len__(self) -> int:
        return len(self.bars)

    def pick(self, wanted: Iterable[int]) -> Rows:
        indexes = list(wanted)
        extras = None if self.extras is None else [self.extras[i] for i in indexes]
        return Rows([self.bars[i] for i in indexes], extras)


def dedupe(bars: Iterable[Bar]) -> list[Bar]:
    """One bar per (symbol, ts), the last one given winning (a later page corrects an earlier)."""
    by_key: dict[tuple[str, datetime], Bar] = {}
    for bar in bars:
        if bar.interval != DAILY:
            raise ValueError(f"stock_data holds daily bars; got interval {bar.interval!r}")
        by_key[(bar.symbol, bar.ts)] = bar
    return list(by_key.values())


def dedupe_rows(
    bars: Iterable[Bar], table: BarsTable, extras: Extras | None, *, unique: bool = False
) -> Rows:
    """Like dedupe, on the key of `table`, with each kept bar's extra column values."""
    bars = list(bars)
    intervals = {bar.interval for bar in bars}
    wrong = sorted(intervals - table.intervals)
    if wrong:
        raise ValueError(f"{table.name} does not hold bars of interval {wrong[0]!r}")
    if table.per_period:
        if extras is None:
            raise ValueError(f"{table.name} needs each bar's period (extras)")
        by_period: dict[tuple[str, object], tuple[Bar, tuple[object, ...]]] = {}
        for bar in bars:
            extra = extras(bar)
            by_period[(bar.symbol, extra[0])] = (bar, extra)
        kept = list(by_period.values())
        return Rows([bar for bar, _ in kept], [extra for _, extra in kept])
    if len(intervals) > 1:
        raise ValueError(f"one batch for {table.name} holds one interval")
    # One interval per batch: (symbol, ts) is the key, and every row shares one extras tuple.
    rows: list[Bar] = bars if unique else list({(bar.symbol, bar.ts): bar for bar in bars}.values())
    shared = (rows[0].interval,) if rows else ()
    return Rows(rows, [shared] * len(rows))


def upsert_bars_in(
    conn: psycopg.Connection[Any],
    bars: Sequence[Bar],
    *,
    fast_path: bool = True,
    run_id: str | None = None,
) -> UpsertResult:
    """The stock_data upsert inside the caller's transaction; `bars` must be deduplicated."""
    return upsert_rows_in(conn, Rows(list(bars)), DAILY_TABLE, fast_path=fast_path, run_id=run_id)


def upsert_rows_in(
    conn: psycopg.Connection[Any],
    rows: Rows | list[Bar],
    table: BarsTable,
    *,
    fast_path: bool = True,
    run_id: str | None = None,
) -> UpsertResult:
    """The upsert of deduplicated rows inside the caller's transaction."""
    if run_id is not None:
        # Read by the audit trigger; local to this transaction, so a pooled connection's next
        # user never inherits it.
        conn.execute("SELECT set_config('stockpipe.run_id', %s, true)", [run_id])
    if not isinstance(rows, Rows):
        rows = Rows(rows)
    statements = table_sql(table)
    bars = rows.bars
    symbols = sorted({bar.symbol for bar in bars})
    conn.execute(statements.lock_symbols, [symbols])
    if fast_path:
        params: list[object] = [symbols] if not table.per_interval else [bars[0].interval, symbols]
        stored = dict(conn.execute(statements.stored_max, params).fetchall())
        order = _order_values(rows, table)
        is_fresh = [
            stored[b.symbol] is None or v > stored[b.symbol]
            for b, v in zip(bars, order, strict=True)
        ]
        fresh = rows.pick(i for i, new in enumerate(is_fresh) if new)
        known = rows.pick(i for i, new in enumerate(is_fresh) if not new)
    else:
        fresh, known = Rows([]), rows
    if fresh:
        _copy(conn, table.name, fresh.bars, fresh.extras, statements.copy_columns)
    updated = merged_inserts = 0
    if known and table.fingerprint:
        known = _without_unchanged(conn, known, statements.stored_fingerprints, table)
    if known:
        merged_inserts, updated = _merge(conn, known, statements)
    inserted = len(fresh) + merged_inserts
    return UpsertResult(inserted, updated, len(bars) - inserted - updated)


def upsert_each_in(
    conn: psycopg.Connection[Any],
    groups: Sequence[Rows],
    table: BarsTable,
    *,
    run_id: str | None = None,
) -> list[UpsertResult]:
    """Several symbols' deduplicated rows (one symbol per group, no symbol in two groups, one
    interval in all) inside the caller's transaction, with each group's own counts: what
    upsert_rows_in does for one, with one lock, one read of the stored maxima and one COPY of
    the new rows for all of them (a run's storing thread writes many symbols per commit). Only
    groups with changed rows go through the merge, one merge each, for their counts. The
    caller ensures a partitioned table's partitions first (ensure_partitions)."""
    statements = table_sql(table)
    filled = [group for group in groups if group]
    if not filled:
        return [UpsertResult(0, 0, 0) for _ in groups]
    symbols = sorted({bar.symbol for group in filled for bar in group.bars})
    first = filled[0].bars[0]
    params: list[object] = [symbols] if not table.per_interval else [first.interval, symbols]
    # One round trip (with the transaction's BEGIN): the run's label, the locks, the maxima
    # read after the locks are held (a statement's snapshot is taken when it starts).
    with conn.pipeline():
        if run_id is not None:
            conn.execute("SELECT set_config('stockpipe.run_id', %s, true)", [run_id])
        conn.execute(statements.lock_symbols, [symbols])
        maxima = conn.execute(statements.stored_max, params)
    stored = dict(maxima.fetchall())
    splits: list[tuple[Rows, Rows]] = []
    for group in groups:
        order = _order_values(group, table)
        fresh_flags = [
            stored.get(b.symbol) is None or v > stored[b.symbol]
            for b, v in zip(group.bars, order, strict=True)
        ]
        splits.append(
            (
                group.pick(i for i, new in enumerate(fresh_flags) if new),
                group.pick(i for i, new in enumerate(fresh_flags) if not new),
            )
        )
    fresh_bars = [bar for fresh, _ in splits for bar in fresh.bars]
    if fresh_bars:
        fresh_extras = (
            None
            if filled[0].extras is None
            else [extra for fresh, _ in splits for extra in (fresh.extras or [])]
        )
        _copy(conn, table.name, fresh_bars, fresh_extras, statements.copy_columns)
    results = []
    for group, (fresh, known) in zip(groups, splits, strict=True):
        changed = known
        if changed and table.fingerprint:
            changed = _without_unchanged(conn, changed, statements.stored_fingerprints, table)
        merged_inserts, updated = _merge(conn, changed, statements) if changed else (0, 0)
        inserted = len(fresh) + merged_inserts
        results.append(UpsertResult(inserted, updated, len(group) - inserted - updated))
    return results


def _merge(conn: psycopg.Connection[Any], known: Rows, statements: TableSql) -> tuple[int, int]:
    """Stage `known` and merge it: (rows inserted, rows updated)."""
    stages = _stages_of.setdefault(conn, set())
    if statements.stage not in stages:
        conn.execute(statements.create_stage)
        stages.add(statements.stage)
    # Empty after every commit (ON COMMIT DELETE ROWS); this only matters when the caller
    # runs two merges in one transaction, and costs nothing on an empty table.
    conn.execute(f"DELETE FROM {statements.stage}")
    _copy(conn, statements.stage, known.bars, known.extras, statements.copy_columns)
    row = conn.execute(statements.merge).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def ensure_partitions(db: Database, table: BarsTable, bars: Sequence[Bar]) -> None:
    """Before upsert_each_in into a partitioned table: the partitions of every month of `bars`."""
    if table.partitioned and bars:
        _ensure_partitions(db, bars)


def _order_values(rows: Rows, table: BarsTable) -> list[Any]:
    if table.per_period:
        assert rows.extras is not None
        return [extra[0] for extra in rows.extras]
    return [bar.ts for bar in rows.bars]


def _without_unchanged(
    conn: psycopg.Connection[Any], rows: Rows, query: str, table: BarsTable
) -> Rows:
    """`rows` minus those whose stored fingerprint proves them unchanged (the rest may be)."""
    bars = rows.bars
    times: dict[str, list[datetime]] = {}
    for b in bars:
        times.setdefault(b.symbol, []).append(b.ts)
    scope: list[object] = [bars[0].interval] if table.per_interval else []
    stored: dict[str, dict[datetime, int]] = {}
    with conn.cursor(binary=True) as cur:  # binary: no text parsing of ts and bigint
        for symbol, symbol_times in sorted(times.items()):
            cur.execute(query, [symbol, *scope, min(symbol_times), max(symbol_times)])
            stored[symbol] = dict(cur.fetchall())
    # A bar with no stored row, or whose fingerprint cannot be predicted (None), is sent. The
    # fingerprints of one (symbol, ts) could only match for different values by a 64-bit
    # collision, and the merge still compares the values of every bar that is sent.
    return rows.pick(
        i
        for i, b in enumerate(bars)
        if (fingerprint := stored[b.symbol].get(b.ts)) is None or fingerprint != bar_fingerprint(b)
    )
