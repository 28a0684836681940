"""SQL of the universe: stock_listing (one row per company: symbol and IPO date) and
stock_listing_refresh (one row per day the listing was refreshed), migration 0017.

A refresh stores both LISTING_STATUS answers in one transaction (COPY to a temp table, then one
merge), so a reader never sees half a day's listing; what it changed (added, delisted) is
returned for the caller to report. The universe is the active listings seen by the latest
refresh, filtered by exchange and asset type: a listing the vendor stopped naming without a
delisting leaves the universe, and keeps its row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from stockpipe.store.db import Database

if TYPE_CHECKING:
    from stockpipe.listing import Listing

# pg_advisory_lock(int, int) namespace "LIST": one listing refresh at a time, every process.
_LOCK_CLASS, _LOCK_KEY = 0x4C495354, 0
_COLUMNS = ("symbol", "ipo_date", "name", "exchange", "asset_type", "delisting_date", "status")
# Every part of one statement sees the same snapshot: `previous` is the table before the merge.
_MERGE = """
WITH previous AS (
    SELECT symbol, ipo_date, status FROM stock_listing
), incoming AS (
    SELECT DISTINCT ON (symbol, ipo_date) * FROM listing_incoming
    ORDER BY symbol, ipo_date, status = 'Active'  -- named in both answers: delisted wins
), merged AS (
    INSERT INTO stock_listing AS l (symbol, ipo_date, name, exchange, asset_type,
        delisting_date, status, first_seen_on, last_seen_on, updated_at)
    SELECT symbol, ipo_date, name, exchange, asset_type, delisting_date, status,
           %(day)s, %(day)s, %(now)s
    FROM incoming
    ON CONFLICT (symbol, ipo_date) DO UPDATE SET
        name = EXCLUDED.name, exchange = EXCLUDED.exchange, asset_type = EXCLUDED.asset_type,
        delisting_date = EXCLUDED.delisting_date, status = EXCLUDED.status,
        last_seen_on = EXCLUDED.last_seen_on, updated_at = EXCLUDED.updated_at
    RETURNING l.symbol, l.ipo_date, l.status, (xmax = 0) AS inserted
)
SELECT m.symbol, m.ipo_date, m.status, m.inserted, p.status AS was
FROM merged AS m LEFT JOIN previous AS p USING (symbol, ipo_date)
WHERE m.inserted OR p.status IS DISTINCT FROM m.status
ORDER BY m.symbol, m.ipo_date
"""
_UNIVERSE = """
SELECT DISTINCT symbol FROM stock_listing
WHERE status = 'Active'
  AND last_seen_on = (SELECT max(refreshed_on) FROM stock_listing_refresh)
  AND (cardinality(%(exchanges)s::text[]) = 0 OR exchange = ANY(%(exchanges)s))
  AND lower(asset_type) = ANY(%(types)s)
ORDER BY symbol
"""


@dataclass(frozen=True, slots=True)
class ListingChange:
    symbol: str
    ipo_date: date
    status: str  # now: "Active" or "Delisted"
    was: str | None  # before this refresh (None: not stored)


@dataclass(frozen=True, slots=True)
class StoredRefresh:
    """What one refresh stored: the rows of both answers and what changed."""

    day: date
    active_rows: int
    delisted_rows: int
    changes: tuple[ListingChange, ...]

    @property
    def added(self) -> tuple[ListingChange, ...]:
        """Active listings this table did not hold (every one, on the first refresh)."""
        return tuple(c for c in self.changes if c.was is None and c.status == "Active")

    @property
    def delisted(self) -> tuple[ListingChange, ...]:
        """Listings stored as active that are now delisted."""
        return tuple(c for c in self.changes if c.was == "Active" and c.status == "Delisted")


@dataclass(frozen=True, slots=True)
class StoredListing:
    symbol: str
    ipo_date: date
    name: str
    exchange: str
    asset_type: str
    delisting_date: date | None
    status: str
    first_seen_on: date
    last_seen_on: date


def store_listing(
    db: Database,
    listings: Sequence[Listing],
    *,
    day: date,
    now: datetime,
    skipped: dict[str, int],
) -> StoredRefresh:
    """Merge both answers of a day's refresh (active and delisted rows together) and record
    the refresh, in one transaction."""

    def work(conn: psycopg.Connection[Any]) -> StoredRefresh:
        conn.execute(
            "CREATE TEMP TABLE listing_incoming ON COMMIT DROP AS"
            f" SELECT {', '.join(_COLUMNS)} FROM stock_listing WITH NO DATA"
        )
        columns = ", ".join(_COLUMNS)
        with conn.cursor().copy(f"COPY listing_incoming ({columns}) FROM STDIN") as copy:
            for item in listings:
                copy.write_row((item.symbol, item.ipo_date, item.name, item.exchange,
                                item.asset_type, item.delisting_date, item.status))  # fmt: skip
        rows = conn.execute(_MERGE, {"day": day, "now": now}).fetchall()
        changes = tuple(ListingChange(r[0], r[1], r[2], r[4]) for r in rows)
        active = sum(1 for item in listings if item.status == "Active")
        refresh = StoredRefresh(day, active, len(listings) - active, changes)
        conn.execute(
            "INSERT INTO stock_listing_refresh AS r (refreshed_on, refreshed_at, active_rows,"
            " delisted_rows, added, delisted, skipped) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (refreshed_on) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at,"
            " active_rows = EXCLUDED.active_rows, delisted_rows = EXCLUDED.delisted_rows,"
            " added = r.added + EXCLUDED.added, delisted = r.delisted + EXCLUDED.delisted,"
            " skipped = EXCLUDED.skipped",
            (day, now, refresh.active_rows, refresh.delisted_rows, len(refresh.added),
             len(refresh.delisted), Jsonb(skipped)),
        )  # fmt: skip
        return refresh

    return db.run(work)


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    day: date  # Alpha Vantage's day (US/Eastern)
    refreshed_at: datetime
    active_rows: int
    delisted_rows: int


@contextmanager
def refresh_lock(db: Database) -> Iterator[None]:
    """Held while one process refreshes the listing (its calls included): a second process
    starting the day's first run waits, then finds the refresh done instead of making its two
    calls again. A session lock on a connection kept out of the pool meanwhile; a process that
    dies releases it with its connection."""
    with db.pool.connection() as conn:
        conn.autocommit = True
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (_LOCK_CLASS, _LOCK_KEY))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_CLASS, _LOCK_KEY))
            conn.autocommit = False


def last_refresh(db: Database) -> RefreshRecord | None:
    """The latest refresh of the listing, None before the first."""
    row = db.run(
        lambda conn: conn.execute(
            "SELECT refreshed_on, refreshed_at, active_rows, delisted_rows"
            " FROM stock_listing_refresh ORDER BY refreshed_on DESC LIMIT 1"
        ).fetchone()
    )
    return RefreshRecord(*row) if row else None


def universe_symbols(
    db: Database, exchanges: Sequence[str], asset_types: Sequence[str]
) -> list[str]:
    """Tickers of the active listings seen by the latest refresh on these exchanges (all when
    empty) and of these asset types, sorted."""
    params = {"exchanges": list(exchanges), "types": [t.lower() for t in asset_types]}
    rows = db.run(lambda conn: conn.execute(_UNIVERSE, params).fetchall())
    return [row[0] for row in rows]


def stored_listings(db: Database, symbols: Sequence[str] | None = None) -> list[StoredListing]:
    """Every stored listing (of these tickers), by symbol then IPO date."""
    where = "" if symbols is None else "WHERE symbol = ANY(%(symbols)s)"
    query = (
        "SELECT symbol, ipo_date, name, exchange, asset_type, delisting_date, status,"
        f" first_seen_on, last_seen_on FROM stock_listing {where} ORDER BY symbol, ipo_date"
    )
    rows = db.run(lambda conn: conn.execute(query, {"symbols": list(symbols or ())}).fetchall())
    return [StoredListing(*row) for row in rows]
