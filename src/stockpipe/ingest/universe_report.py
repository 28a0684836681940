"""What `stockpipe universe` and `stockpipe status` say about the listing: counts by exchange
and asset type, listings and delistings since a date, re-used tickers, delisted symbols whose
history is kept, and (dry run) what a refresh would cost and what the next run would do with
the stored listing. Reads only: never a call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from stockpipe.ingest.universe import LISTING_CALLS, refresh_due, symbols
from stockpipe.settings import Settings
from stockpipe.store import Database, latest_bar_ts_by_symbol
from stockpipe.store.listings import RefreshRecord, StoredListing, last_refresh, stored_listings


@dataclass(frozen=True, slots=True)
class UniverseView:
    """The stored listing as the settings see it."""

    refresh: RefreshRecord | None
    listings: tuple[StoredListing, ...]
    tracked: tuple[str, ...]  # the universe: what the next run follows
    exchanges: tuple[str, ...]  # () = all
    asset_types: tuple[str, ...]

    def current(self) -> list[StoredListing]:
        """Active listings seen by the latest refresh."""
        day = self.refresh.day if self.refresh else None
        return [i for i in self.listings if i.status == "Active" and i.last_seen_on == day]

    def matches(self, item: StoredListing) -> bool:
        return self.tracks(item.exchange, item.asset_type)

    def tracks(self, exchange: str, asset_type: str) -> bool:
        """Whether STOCK_UNIVERSE_EXCHANGES and STOCK_UNIVERSE_ASSET_TYPES take this kind."""
        on_exchange = not self.exchanges or exchange in self.exchanges
        return on_exchange and asset_type.lower() in {t.lower() for t in self.asset_types}

    def counts(self) -> list[tuple[str, str, int, bool]]:
        """(exchange, asset type, active listings, tracked?) by exchange then type."""
        counted = Counter((i.exchange, i.asset_type) for i in self.current())
        return [
            (exchange, kind, count, self.tracks(exchange, kind))
            for (exchange, kind), count in sorted(counted.items())
        ]

    def listed_since(self, since: date) -> list[StoredListing]:
        """Tracked-kind listings with an IPO on or after `since`, newest first."""
        found = [i for i in self.current() if i.ipo_date >= since and self.matches(i)]
        return sorted(found, key=lambda i: (i.ipo_date, i.symbol), reverse=True)

    def delisted_since(self, since: date) -> list[StoredListing]:
        found = [
            i
            for i in self.listings
            if i.delisting_date is not None and i.delisting_date >= since and self.matches(i)
        ]
        return sorted(found, key=lambda i: (i.delisting_date or since, i.symbol), reverse=True)

    def reused(self) -> dict[str, list[StoredListing]]:
        """Tickers held by more than one company, each company oldest first."""
        by_symbol: dict[str, list[StoredListing]] = {}
        for item in self.listings:
            by_symbol.setdefault(item.symbol, []).append(item)
        return {s: items for s, items in by_symbol.items() if len(items) > 1}


def universe_view(db: Database, settings: Settings) -> UniverseView:
    return UniverseView(
        last_refresh(db),
        tuple(stored_listings(db)),
        symbols(db, settings) if settings.stock_universe == "listing" else (),
        settings.stock_universe_exchanges,
        settings.stock_universe_asset_types,
    )


def describe_listing(item: StoredListing) -> str:
    when = f"IPO {item.ipo_date}"
    if item.delisting_date is not None:
        when += f", delisted {item.delisting_date}"
    return f"{item.symbol} {item.name} ({item.exchange}, {item.asset_type}, {when})"


def reused_line(symbol: str, companies: Sequence[StoredListing]) -> str:
    names = " then ".join(
        f"{c.name} (IPO {c.ipo_date}"
        + (f", delisted {c.delisting_date})" if c.delisting_date else ")")
        for c in companies
    )
    return (
        f"{symbol}: ticker re-used: {names}; its bars stay in one series, told apart by"
        f" stock_data_listed (WHERE symbol = '{symbol}' AND ipo_date = ...)"
    )


def listing_lines(db: Database, shown: Sequence[str]) -> list[str]:
    """`stockpipe status`: one line per shown symbol whose ticker no longer trades (delisted,
    history kept) or was re-used by another company."""
    by_symbol: dict[str, list[StoredListing]] = {}
    for item in stored_listings(db, list(shown)):
        by_symbol.setdefault(item.symbol, []).append(item)
    lines = []
    for symbol in shown:
        companies = by_symbol.get(symbol, [])
        if len(companies) > 1:
            lines.append(reused_line(symbol, companies))
        if companies and companies[-1].status == "Delisted":
            latest = companies[-1]
            lines.append(
                f"{symbol}: delisted on {latest.delisting_date} ({latest.name},"
                f" {latest.exchange}); its history is kept and it costs no further call"
            )
    return lines


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a refresh would cost, and what the next run would do with the stored listing."""

    refresh_due: bool
    calls: int
    start_loading: tuple[str, ...]  # tracked, no daily bar stored yet
    stopped: tuple[tuple[str, str], ...]  # (symbol, why): bars stored, no longer tracked


def dry_run(db: Database, view: UniverseView, today: date) -> DryRun:
    due = refresh_due(db, today)
    tracked = set(view.tracked)
    candidates = list(dict.fromkeys([*view.tracked, *(i.symbol for i in view.listings)]))
    newest = latest_bar_ts_by_symbol(db, candidates)
    start = tuple(s for s in view.tracked if newest.get(s) is None)
    holder: dict[str, StoredListing] = {}
    for item in view.listings:  # by IPO date: the last is the company holding the ticker now
        holder[item.symbol] = item
    stopped = []
    for symbol in sorted(s for s, ts in newest.items() if ts is not None and s not in tracked):
        item = holder[symbol]
        if item.status == "Delisted":
            why = f"delisted {item.delisting_date}"
        elif not view.matches(item):
            why = f"{item.exchange} {item.asset_type}: outside the STOCK_UNIVERSE_* filters"
        else:
            why = "not in the latest listing"
        stopped.append((symbol, why))
    return DryRun(due, LISTING_CALLS if due else 0, start, tuple(stopped))
