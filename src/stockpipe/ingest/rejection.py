"""Symbols Alpha Vantage itself rejected: remembered, then skipped without a call for a while.

A typo or delisted ticker in STOCK_SYMBOLS gets "Invalid API call" on every request. Calling
it each run would burn one call of a 25-a-day budget forever, so after a rejection the symbol
is reported FAILED (the run still shows the problem) but costs nothing until
API_REJECTED_SYMBOL_RETRY_DAYS have passed; then it is tried once more, after every symbol
that works. Days are Alpha Vantage's days (US/Eastern, like the quota), not 24-hour spans: a
daily schedule firing a few seconds earlier than last week must not wait a day longer.

Only a rejection of the symbol counts. Errors about the key (InvalidApiKey, DemoKeyMisuse: the
demo key serves IBM alone) or the plan (PremiumEndpoint, PremiumParameter) would reject every
symbol alike, and an HTTP 404 means a wrong endpoint. NoValidBars is not a rejection either:
Alpha Vantage served the symbol, the bars it sent failed validation, and the next day's data
(or a corrected series) may well pass, so skipping it would silently stall a real ticker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stockpipe.alphavantage import AlphaVantageError, InvalidCall
from stockpipe.quota import quota_day
from stockpipe.series import DAILY, Series
from stockpipe.store import Database, DatabaseError
from stockpipe.store.symbol_state import load_rejections as stored_rejections

logger = logging.getLogger(__name__)
RETRY_HINT = "Fix or remove it in STOCK_SYMBOLS, or run `stockpipe ingest --retry-rejected`"


@dataclass(frozen=True, slots=True)
class Rejection:
    symbol: str
    at: datetime
    reason: str  # what Alpha Vantage said when it rejected the symbol

    @property
    def day(self) -> date:
        return quota_day(self.at)

    def retry_day(self, retry_days: int) -> date:
        """The first day on which the symbol is called again."""
        return self.day + timedelta(days=retry_days)


def is_symbol_rejection(error: AlphaVantageError) -> bool:
    """Whether `error` says the symbol itself is invalid (see the module docstring)."""
    return isinstance(error, InvalidCall) and error.http_status == 200


def quarantined_until(rejection: Rejection | None, now: datetime, retry_days: int) -> date | None:
    """The day the symbol may be called again, while that day is still ahead; else None."""
    if rejection is None:
        return None
    retry_day = rejection.retry_day(retry_days)
    return retry_day if quota_day(now) < retry_day else None


def quarantine_message(rejection: Rejection, retry_day: date) -> str:
    return (
        f"Alpha Vantage rejected {rejection.symbol} as an invalid symbol on {rejection.day};"
        f" skipped without a call until {retry_day}. {RETRY_HINT}"
    )


def rejection_note(now: datetime, retry_days: int) -> str:
    """What a fresh rejection's message adds: how long the symbol will be left alone."""
    if retry_days == 0:
        return ""
    return f"; skipped without a call until {quota_day(now) + timedelta(days=retry_days)}"


def remembered_rejections(
    db: Database, symbols: Iterable[str], series: Series = DAILY
) -> dict[str, Rejection]:
    """Like load_rejections, but an unreachable database means none: each symbol's own
    database read then reports the outage as that symbol's failure."""
    try:
        return load_rejections(db, symbols, series)
    except DatabaseError as exc:
        logger.error("could not read rejected symbols: %s", exc)
        return {}


def load_rejections(
    db: Database, symbols: Iterable[str], series: Series = DAILY
) -> dict[str, Rejection]:
    """The remembered rejections among `symbols`, by symbol."""
    return {row[0]: Rejection(*row) for row in stored_rejections(db, symbols, series)}
