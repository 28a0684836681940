"""The listing record every layer passes around: a company's listing under a ticker.

Beside `Bar` and the corporate-action records for the same reason: the vendor's parser builds it
(alphavantage/listings.py), storage writes it (store/listings.py), and neither layer may import
the other. A ticker is not a company: a listing is keyed by (symbol, ipo_date), never by symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Listing:
    """One row of LISTING_STATUS: a company's listing under a ticker."""

    symbol: str
    name: str
    exchange: str
    asset_type: str  # "Stock" or "ETF", as the vendor writes it
    ipo_date: date
    delisting_date: date | None
    status: str  # "Active" or "Delisted"
