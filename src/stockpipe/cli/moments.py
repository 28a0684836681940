"""How the CLI prints moments: a bar's trading date is a New York date on every machine; a time
of day carries its zone."""

from __future__ import annotations

from datetime import datetime

from stockpipe.market_calendar import NEW_YORK, new_york_date


def trading_date(ts: datetime) -> str:
    """A daily, weekly or monthly bar's session: stored as New York midnight, shown as that
    date (the machine's zone would turn 2026-11-30 into 2026-11-29 west of New York)."""
    return new_york_date(ts).isoformat()


def local_time(moment: datetime) -> str:
    """When something happened, in the machine's zone, with the zone named."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def exchange_time(ts: datetime) -> str:
    """An intraday bar's time as the exchange (and Alpha Vantage) writes it, zone named."""
    return ts.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")
