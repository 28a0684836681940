"""Trading sessions of the exchange Alpha Vantage dates its bars by (NYSE, US/Eastern).

Backed by `exchange_calendars`, a maintained calendar library, so holidays and early closes
are never hand-written here. Loading the calendar takes about a second: it is cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

EXCHANGE = "XNYS"
# Far enough back for any history Alpha Vantage serves (its daily series starts in 1999).
_FIRST_DAY = date(1999, 11, 1)


@lru_cache(maxsize=1)
def _calendar() -> Any:
    import exchange_calendars

    end = datetime.now(UTC).date() + timedelta(days=400)
    return exchange_calendars.get_calendar(
        EXCHANGE, start=_FIRST_DAY.isoformat(), end=end.isoformat()
    )


def latest_completed_session(now: datetime | None = None) -> date:
    """The newest trading date whose market close lies at or before `now` (aware, any zone)."""
    import pandas as pd

    moment = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC").floor("min")
    calendar = _calendar()
    # The session in progress at `moment`, or the one before it when the market is shut.
    current = calendar.minute_to_session(moment, direction="previous")
    if calendar.session_close(current) <= moment:
        return current.date()  # type: ignore[no-any-return]
    return calendar.previous_session(current).date()  # type: ignore[no-any-return]


def sessions_between(first: date, last: date) -> list[date]:
    """Every trading date from `first` to `last`, both included."""
    if last < first:
        return []
    calendar = _calendar()
    first = max(first, calendar.first_session.date())
    last = min(last, calendar.last_session.date())
    return [ts.date() for ts in calendar.sessions_in_range(first.isoformat(), last.isoformat())]
