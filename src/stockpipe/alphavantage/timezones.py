"""Alpha Vantage's time-zone names -> zoneinfo.

Its Meta Data says `US/Eastern` (a legacy alias that some tz builds drop), and other endpoints
have said `UTC` or an abbreviation. Map the known spellings explicitly, then try the name
as an IANA key; an unknown zone is an error rather than a guess.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stockpipe.errors import StockpipeError
from stockpipe.market_calendar import NEW_YORK_KEY

# CSV bodies carry no Meta Data; every Alpha Vantage stock series is dated in US/Eastern.
DEFAULT_ZONE = NEW_YORK_KEY

_ALIASES = {
    "us/eastern": "America/New_York",
    "eastern": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "est5edt": "America/New_York",
    "america/new_york": "America/New_York",
    "us/central": "America/Chicago",
    "us/mountain": "America/Denver",
    "us/pacific": "America/Los_Angeles",
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
}


class UnknownTimeZone(StockpipeError, ValueError):
    pass


@lru_cache(maxsize=64)
def resolve_zone(name: str | None) -> ZoneInfo:
    """The zone a Meta Data `Time Zone` value names (None -> US/Eastern)."""
    if name is None or not name.strip():
        return ZoneInfo(DEFAULT_ZONE)
    cleaned = name.strip()
    key = _ALIASES.get(cleaned.lower(), cleaned)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(f"unknown time zone {name!r} in the Meta Data") from exc
