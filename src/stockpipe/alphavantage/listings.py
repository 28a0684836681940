"""LISTING_STATUS: every US listing Alpha Vantage knows, active or delisted, as CSV.

`GET ?function=LISTING_STATUS&state=active|delisted[&date=YYYY-MM-DD]` answers CSV only, with the
header `symbol,name,exchange,assetType,ipoDate,delistingDate,status`; `delistingDate` is the
string "null" for an active listing. Failures arrive as JSON notices (HTTP 200), like every other
function, and go through the same classifier (stockpipe.alphavantage.classify).

A ticker is not a company: one delisted company's ticker may later be given to another, which
then has a later `ipoDate`. A listing is therefore keyed by (symbol, ipoDate), never by symbol.

A malformed row is skipped, logged and counted by reason, like a bar. An answer without its
header, an active answer with no valid row, or a delisted one whose every row is invalid, is a
MalformedResponse: an empty active listing would otherwise read as "every company delisted".
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from stockpipe.alphavantage.errors import MalformedResponse
from stockpipe.listing import Listing

log = logging.getLogger(__name__)

HEADER = ("symbol", "name", "exchange", "assetType", "ipoDate", "delistingDate", "status")
LISTING_SKIP_REASONS = (
    "short_row",
    "bad_symbol",
    "missing_ipo_date",
    "bad_date",
    "bad_status",
    "duplicate",
)
# Tickers as LISTING_STATUS writes them: IBM, BRK-A, AAM-WS; anything else is a broken row.
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")
_NULL = ("", "null", "None")
# LISTING_STATUS's `date` parameter reaches back to the start of 2010.
FIRST_LISTING_DATE = date(2010, 1, 1)


class ListingState(StrEnum):
    ACTIVE = "active"
    DELISTED = "delisted"


class ListingFunction(StrEnum):
    LISTING_STATUS = "LISTING_STATUS"


@dataclass(frozen=True)
class ListingRequest:
    """One LISTING_STATUS call, without the API key (the client adds it). `symbol` is what the
    classifier and the ledger label the call with: the function takes none."""

    state: ListingState
    on: date | None = None  # None: today, as the vendor sees it
    function: ListingFunction = ListingFunction.LISTING_STATUS
    outputsize: str | None = None
    datatype: str = "csv"  # CSV only
    series_key: str = "data"  # never in a CSV answer; a JSON answer is a notice or garbage

    def __post_init__(self) -> None:
        if self.on is not None and self.on < FIRST_LISTING_DATE:
            raise ValueError(f"LISTING_STATUS reaches back to {FIRST_LISTING_DATE}, not {self.on}")

    @property
    def symbol(self) -> str:
        return f"LISTING:{self.state.value}"

    def query_params(self) -> dict[str, str]:
        params = {"function": self.function.value, "state": self.state.value}
        if self.on is not None:
            params["date"] = self.on.isoformat()
        return params

    def describe(self) -> str:
        when = f" on {self.on}" if self.on is not None else ""
        return f"LISTING_STATUS state={self.state.value}{when}"


@dataclass
class Listings:
    state: ListingState
    items: list[Listing]
    skipped: dict[str, int] = field(default_factory=dict)


class _Skip(Exception):  # control flow only, never escapes this module
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _date(value: str, *, required: str = "") -> date | None:
    if value.strip() in _NULL:
        if required:
            raise _Skip(required)
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _Skip("bad_date") from None


def _listing(row: list[str], state: ListingState) -> Listing:
    if len(row) != len(HEADER):
        raise _Skip("short_row")
    symbol, name, exchange, asset_type, ipo, delisting, status = (cell.strip() for cell in row)
    if not _TICKER.match(symbol):
        raise _Skip("bad_symbol")
    ipo_date = _date(ipo, required="missing_ipo_date")
    assert ipo_date is not None
    delisting_date = _date(delisting)
    expected = "Active" if state is ListingState.ACTIVE else "Delisted"
    if status.capitalize() != expected or (state is ListingState.DELISTED) != (
        delisting_date is not None
    ):
        raise _Skip("bad_status")
    return Listing(symbol, name, exchange, asset_type, ipo_date, delisting_date, expected)


def parse_listing_csv(text: str, request: ListingRequest) -> Listings:
    """The rows of one LISTING_STATUS answer; one listing per (symbol, ipoDate)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(cell.strip() for cell in header) != HEADER:
        shown = ",".join(header or [])[:80]
        raise MalformedResponse(
            f"{request.describe()}: expected the header {','.join(HEADER)}, got {shown!r}"
        )
    skipped: Counter[str] = Counter()
    items: dict[tuple[str, date], Listing] = {}
    rows = 0
    for row in reader:
        if not row:
            continue
        rows += 1
        try:
            listing = _listing(row, request.state)
            if (listing.symbol, listing.ipo_date) in items:
                raise _Skip("duplicate")
        except _Skip as skip:
            skipped[skip.reason] += 1
            if skipped[skip.reason] <= 10:
                log.warning("skipped %s row: %s (%.120r)", request.describe(), skip.reason, row)
            continue
        items[(listing.symbol, listing.ipo_date)] = listing
    # An empty delisted list is possible (a young universe); an empty active one never is.
    if not items and (rows or request.state is ListingState.ACTIVE):
        summary = ", ".join(f"{r}={n}" for r, n in sorted(skipped.items())) or "no rows"
        raise MalformedResponse(f"{request.describe()} holds no valid listing ({summary})")
    return Listings(request.state, list(items.values()), dict(skipped))
