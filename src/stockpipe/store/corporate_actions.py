"""SQL of the corporate-action tables: stock_splits, stock_dividends, corporate_action_refresh.

Alpha Vantage answers SPLITS and DIVIDENDS with a symbol's whole list, so one answer replaces
what is stored for that symbol and kind: new actions are inserted, changed ones updated, ones
the vendor no longer lists deleted, all in one transaction, and each difference is returned so
the caller can report it. Re-storing the same answer writes nothing.

One safeguard: an answer listing no action at all for a symbol that has some stored removes
nothing (a vendor hiccup must not wipe a history); the caller is told and reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from stockpipe.store.db import Database

if TYPE_CHECKING:
    from stockpipe.corporate_actions import Dividend, Split

ActionKind = Literal["split", "dividend"]
ChangeKind = Literal["new", "changed", "removed"]
# Per-symbol lock for storing actions (pg_advisory_xact_lock(int, int) namespace "CACT").
_LOCK_CLASS = 0x43414354


@dataclass(frozen=True, slots=True)
class ActionChange:
    """One difference between the stored actions and a fresh answer."""

    symbol: str
    kind: ActionKind
    day: date  # effective date of a split, ex-date of a dividend
    change: ChangeKind
    old: dict[str, Any] | None  # the vendor objects, before and after
    new: dict[str, Any] | None

    def describe(self) -> str:
        label = f"{self.symbol} {self.kind} {self.day}"
        if self.change == "new":
            return f"{label}: new {_summary(self.kind, self.new)}"
        if self.change == "removed":
            return f"{label}: removed (was {_summary(self.kind, self.old)})"
        return f"{label}: changed {self.difference()}"

    def difference(self) -> str:
        """Old -> new in a few words: the factor or amount, or each vendor field that changed."""
        if self.change != "changed":
            old = _summary(self.kind, self.old) if self.old else "-"
            new = _summary(self.kind, self.new) if self.new else "-"
            return f"{old} -> {new}"
        assert self.old is not None and self.new is not None
        fields = sorted(k for k in {*self.old, *self.new} if self.old.get(k) != self.new.get(k))
        return ", ".join(f"{k} {self.old.get(k)} -> {self.new.get(k)}" for k in fields)


def _summary(kind: ActionKind, raw: dict[str, Any] | None) -> str:
    raw = raw or {}
    return str(raw.get("split_factor" if kind == "split" else "amount", "?"))


@dataclass(frozen=True)
class StoredActions:
    """What storing one answer did."""

    changes: tuple[ActionChange, ...] = ()
    unchanged: int = 0
    kept_on_empty: int = 0  # stored actions kept although the answer listed none

    def count(self, change: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.change == change)


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: ActionKind
    table: str
    key: str
    columns: tuple[str, ...]  # typed value columns after the key


_SPLITS = _Spec("split", "stock_splits", "effective_date", ("split_factor",))
_DIVIDENDS = _Spec(
    "dividend",
    "stock_dividends",
    "ex_dividend_date",
    ("declaration_date", "record_date", "payment_date", "amount"),
)


def store_splits(db: Database, symbol: str, splits: Sequence[Split]) -> StoredActions:
    rows = {s.effective_date: ((s.split_factor,), s.raw) for s in splits}
    return db.run(lambda conn: _store(conn, _SPLITS, symbol, rows))


def store_dividends(db: Database, symbol: str, dividends: Sequence[Dividend]) -> StoredActions:
    rows = {
        d.ex_dividend_date: (
            (d.declaration_date, d.record_date, d.payment_date, d.amount),
            d.raw,
        )
        for d in dividends
    }
    return db.run(lambda conn: _store(conn, _DIVIDENDS, symbol, rows))


_Values = tuple[date | Decimal | None, ...]


def _store(
    conn: psycopg.Connection[Any],
    spec: _Spec,
    symbol: str,
    fresh: Mapping[date, tuple[_Values, dict[str, Any]]],
) -> StoredActions:
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, symbol])
    columns = ", ".join(spec.columns)
    stored = {
        row[0]: (tuple(row[1:-1]), row[-1])
        for row in conn.execute(
            f"SELECT {spec.key}, {columns}, raw FROM {spec.table} WHERE symbol = %s".encode(),
            [symbol],
        ).fetchall()
    }
    changes: list[ActionChange] = []
    unchanged = 0
    upserts = []
    for day, (values, raw) in sorted(fresh.items()):
        before = stored.get(day)
        if before is not None and before == (values, raw):
            unchanged += 1
            continue
        kind: ChangeKind = "new" if before is None else "changed"
        changes.append(
            ActionChange(symbol, spec.kind, day, kind, before[1] if before else None, raw)
        )
        upserts.append((symbol, day, *values, Jsonb(raw)))
    if upserts:
        placeholders = ", ".join(["%s"] * (len(spec.columns) + 3))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*spec.columns, "raw"))
        conn.cursor().executemany(
            f"INSERT INTO {spec.table} (symbol, {spec.key}, {columns}, raw)"
            f" VALUES ({placeholders}) ON CONFLICT (symbol, {spec.key})"
            f" DO UPDATE SET {updates}, updated_at = now()".encode(),
            upserts,
        )
    gone = sorted(day for day in stored if day not in fresh)
    if gone and not fresh:
        return StoredActions(tuple(changes), unchanged, kept_on_empty=len(gone))
    if gone:
        conn.execute(
            f"DELETE FROM {spec.table} WHERE symbol = %s AND {spec.key} = ANY(%s)".encode(),
            [symbol, gone],
        )
        changes.extend(
            ActionChange(symbol, spec.kind, day, "removed", stored[day][1], None) for day in gone
        )
    return StoredActions(tuple(sorted(changes, key=lambda c: c.day)), unchanged)


# ---- refresh cadence -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshState:
    symbol: str
    function: str  # SPLITS or DIVIDENDS
    last_attempt_at: datetime
    last_success_at: datetime | None
    last_status: str
    last_message: str


def load_refresh_states(
    db: Database, symbols: Sequence[str]
) -> dict[tuple[str, str], RefreshState]:
    rows = db.run(
        lambda conn: conn.execute(
            "SELECT symbol, function, last_attempt_at, last_success_at, last_status, last_message"
            " FROM corporate_action_refresh WHERE symbol = ANY(%s)",
            [list(symbols)],
        ).fetchall()
    )
    return {(row[0], row[1]): RefreshState(*row) for row in rows}


def record_refresh(
    db: Database,
    symbol: str,
    function: str,
    status: str,
    message: str,
    *,
    succeeded: bool,
    at: datetime,
) -> None:
    """One fetch attempt of a symbol's SPLITS or DIVIDENDS; a success dates the next one."""
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO corporate_action_refresh (symbol, function, last_attempt_at,"
            " last_success_at, last_status, last_message) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (symbol, function) DO UPDATE SET"
            " last_attempt_at = EXCLUDED.last_attempt_at,"
            " last_success_at = COALESCE(EXCLUDED.last_success_at,"
            "  corporate_action_refresh.last_success_at),"
            " last_status = EXCLUDED.last_status, last_message = EXCLUDED.last_message",
            [symbol, function, at, at if succeeded else None, status, message],
        )
    )


def stored_splits(db: Database, symbol: str) -> list[tuple[date, Decimal]]:
    """(effective date, factor) of `symbol`'s stored splits, oldest first."""
    query = "SELECT effective_date, split_factor FROM stock_splits WHERE symbol = %s ORDER BY 1"
    return [tuple(r) for r in db.run(lambda conn: conn.execute(query, [symbol]).fetchall())]


def stored_dividends(db: Database, symbol: str) -> list[tuple[date, Decimal]]:
    """(ex-date, amount) of `symbol`'s stored dividends, oldest first."""
    query = "SELECT ex_dividend_date, amount FROM stock_dividends WHERE symbol = %s ORDER BY 1"
    return [tuple(r) for r in db.run(lambda conn: conn.execute(query, [symbol]).fetchall())]
