"""Alpha Vantage's day and a key's public name: what every budget reckoning is keyed by.

"Today" is Alpha Vantage's day, taken to be the calendar date in US/Eastern (the zone the API
dates everything in); the budget resets at midnight New York time. The vendor does not say
when its counter resets, so this is an assumption: a budget that resets a few hours late only
defers symbols, it never overspends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time

from stockpipe.market_calendar import NEW_YORK

QUOTA_ZONE = NEW_YORK  # Alpha Vantage's day (see the module docstring)


def key_fingerprint(api_key: str) -> str:
    """A short, stable, one-way label for a key: safe to store, log and show."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


def quota_day(moment: datetime) -> date:
    return moment.astimezone(QUOTA_ZONE).date()


def quota_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=QUOTA_ZONE).astimezone(UTC)
