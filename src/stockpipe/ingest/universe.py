"""The universe: the symbols every series, the backfill, corporate actions, the alerts and both
orchestrators follow. `symbols(db, settings)` reads it; `tracked_symbols(ctx)` refreshes the
listing first when the day's refresh is due, then reads it: what every API-spending run calls.

- STOCK_UNIVERSE=symbols (the default): STOCK_SYMBOLS, exactly as before; no table, no call.
- STOCK_UNIVERSE=listing: the active listings of Alpha Vantage's LISTING_STATUS on the exchanges
  of STOCK_UNIVERSE_EXCHANGES (all when unset) and of the asset types of
  STOCK_UNIVERSE_ASSET_TYPES (Stock), kept in stock_listing (stockpipe.store.listings).

The listing is refreshed at most once per Alpha Vantage day (US/Eastern, the quota's day), by
the first run of the day that needs it, before it picks its symbols: two calls (state=active,
state=delisted) through the same gate, budget and ledger as the bars. A new listing is thus in
the universe, and loaded, on its first day; a delisted one leaves it (no further call) and
keeps its bars and its row, with the delisting date.

A refresh that cannot be made (budget spent, rate limit, a broken answer) keeps the stored
listing, says so, and is tried again by the next run; with no listing stored at all there is no
universe, and the run fails with UniverseUnavailable. An active answer holding less than half of
the previous day's active listings is refused the same way (a truncated answer must not delist
half the market).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from stockpipe.alphavantage import AlphaVantageError, RateLimited
from stockpipe.alphavantage.listings import ListingState
from stockpipe.errors import StockpipeError
from stockpipe.ingest.context import IngestContext
from stockpipe.listing import Listing
from stockpipe.market_calendar import sessions_between
from stockpipe.quota import quota_day
from stockpipe.settings import Settings
from stockpipe.store import Database, latest_bar_ts_by_symbol
from stockpipe.store.listings import (
    StoredRefresh,
    last_refresh,
    refresh_lock,
    store_listing,
    stored_listings,
    universe_symbols,
)
from stockpipe.store.sessions import record_session_memory

logger = logging.getLogger(__name__)

LISTING_CALLS = 2  # one per state
_LEDGER_LABEL = ("LISTING_STATUS", "LISTING_STATUS")  # (symbol, function) in api_call_ledger
# An active answer this much smaller than the last stored one is refused.
MIN_ACTIVE_RATIO = 0.5


class UniverseUnavailable(StockpipeError):
    """STOCK_UNIVERSE=listing, and no listing is stored nor could be fetched."""


@dataclass(frozen=True, slots=True)
class ListingRefresh:
    """What one attempt to refresh the listing did."""

    status: str  # "refreshed", "not_due" (already today), "failed" (stored listing kept)
    day: date
    calls: int = 0
    stored: StoredRefresh | None = None
    skipped: dict[str, int] = field(default_factory=dict)  # malformed rows by reason
    message: str = ""
    reason: str = ""  # why a failed refresh failed


def uses_listing(settings: Settings) -> bool:
    return settings.stock_universe == "listing"


def symbols(db: Database, settings: Settings) -> tuple[str, ...]:
    """The universe as stored, without a call: STOCK_SYMBOLS, or the filtered active listing
    of the latest refresh (empty before the first)."""
    if not uses_listing(settings):
        return settings.stock_symbols
    return tuple(
        universe_symbols(db, settings.stock_universe_exchanges, settings.stock_universe_asset_types)
    )


def tracked_symbols(ctx: IngestContext) -> tuple[str, ...]:
    """The universe a run should follow: the listing refreshed first when today's refresh is
    due (two calls). Raises UniverseUnavailable when listing mode has no listing at all."""
    if not uses_listing(ctx.settings):
        return ctx.settings.stock_symbols
    refresh = refresh_listing(ctx)
    chosen = symbols(ctx.db, ctx.settings)
    if not chosen and refresh.status == "failed" and last_refresh(ctx.db) is None:
        raise UniverseUnavailable(
            f"STOCK_UNIVERSE=listing: no listing stored yet, and {refresh.reason}; the next"
            " run tries again"
        )
    if not chosen:
        logger.warning(
            "universe: no active listing matches STOCK_UNIVERSE_EXCHANGES=%s and"
            " STOCK_UNIVERSE_ASSET_TYPES=%s; nothing to refresh",
            ",".join(ctx.settings.stock_universe_exchanges) or "(all)",
            ",".join(ctx.settings.stock_universe_asset_types),
        )
    return chosen


def refresh_due(db: Database, today: date) -> bool:
    stored = last_refresh(db)
    return stored is None or stored.day < today


def refresh_listing(ctx: IngestContext, *, force: bool = False) -> ListingRefresh:
    """Fetch both states of LISTING_STATUS and store them, unless today's refresh is done
    (`force`: again). Never raises for the API's or the answer's faults: the stored listing
    is kept and the result says why; a database that cannot be read raises DatabaseError."""
    today = quota_day(ctx.clock.now())
    if not force and not refresh_due(ctx.db, today):
        return _not_due(today)
    with refresh_lock(ctx.db):
        # Another process may have refreshed while this one waited for the lock.
        if not force and not refresh_due(ctx.db, today):
            return _not_due(today)
        return _refresh(ctx, today)


def _not_due(today: date) -> ListingRefresh:
    return ListingRefresh("not_due", today, message=f"the listing was refreshed on {today}")


def _refresh(ctx: IngestContext, today: date) -> ListingRefresh:
    fetched: list[Listing] = []
    skipped: Counter[str] = Counter()
    with ctx.gate.attribute(*_LEDGER_LABEL) as tally:
        try:
            for state in ListingState:
                answer = ctx.client.fetch_listing(state)
                fetched.extend(answer.items)
                skipped.update(answer.skipped)
        except AlphaVantageError as exc:
            if isinstance(exc, RateLimited):
                ctx.gate.note_rate_limit(exc)
            return _kept(today, tally.calls, f"LISTING_STATUS failed: {exc.message}")
    refused = _implausible(ctx.db, fetched)
    if refused:
        return _kept(today, tally.calls, refused)
    stored = store_listing(ctx.db, fetched, day=today, now=ctx.clock.now(), skipped=dict(skipped))
    _note_reused_tickers(ctx, stored)
    result = ListingRefresh("refreshed", today, tally.calls, stored, dict(skipped))
    logger.info("%s", describe_refresh(result))
    return result


def _note_reused_tickers(ctx: IngestContext, stored: StoredRefresh) -> None:
    """A new company under a ticker with stored daily bars of an older one: the sessions from
    the old company's delisting to the new one's IPO have no bar at the vendor (nobody traded
    under the ticker), so they are remembered as such (stockpipe.ingest.gaps) instead of being
    holes a refresh would spend a full call on, or report as premium history."""
    added = {c.symbol: c.ipo_date for c in stored.added}
    if not added:
        return
    with_bars = {s for s, ts in latest_bar_ts_by_symbol(ctx.db, list(added)).items() if ts}
    if not with_bars:
        return
    for item in stored_listings(ctx.db, sorted(with_bars)):
        ipo = added[item.symbol]
        if item.ipo_date < ipo and item.delisting_date is not None and item.delisting_date < ipo:
            between = sessions_between(item.delisting_date, ipo - timedelta(days=1))
            record_session_memory(
                ctx.db, item.symbol, vendor_missing=between, at=ctx.clock.now(),
                run_id=ctx.run_id,
            )  # fmt: skip


def _kept(day: date, calls: int, reason: str) -> ListingRefresh:
    message = f"{reason}; the stored listing is kept and the refresh is tried again next run"
    logger.warning("universe: %s", message)
    return ListingRefresh("failed", day, calls, message=message, reason=reason)


def _implausible(db: Database, fetched: list[Listing]) -> str:
    """Why an answer must not replace the stored listing ('' when it may)."""
    previous = last_refresh(db)
    active = sum(1 for item in fetched if item.status == "Active")
    if previous is not None and active < previous.active_rows * MIN_ACTIVE_RATIO:
        return (
            f"LISTING_STATUS named {active:,} active listings against {previous.active_rows:,}"
            f" on {previous.day}; refused as a truncated answer"
        )
    return ""


def describe_refresh(refresh: ListingRefresh) -> str:
    """One line for logs and the CLI."""
    if refresh.stored is None:
        return f"universe listing {refresh.status}: {refresh.message}"
    stored = refresh.stored
    skipped = sum(refresh.skipped.values())
    line = (
        f"universe listing refreshed for {stored.day}: {stored.active_rows:,} active,"
        f" {stored.delisted_rows:,} delisted listings; {len(stored.added):,} added,"
        f" {len(stored.delisted):,} newly delisted; {refresh.calls} API calls"
    )
    return line + (f"; {skipped} malformed rows skipped" if skipped else "")
