"""Trading sessions of the exchange Alpha Vantage dates its bars by (NYSE, US/Eastern), and the
New York zone itself: the one place both are defined.

Backed by `exchange_calendars`, a maintained calendar library, so holidays and early closes
are never hand-written here. Loading the calendar takes about a second: it is cached.

Weeks and months are calendar periods (a week starts on Monday, a month on its first day);
which sessions they hold comes from the exchange calendar, so a holiday week is short and its
last session may be a Thursday.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

EXCHANGE = "XNYS"
# The zone Alpha Vantage dates every US series in, the quota's day, and the sessions' dates.
NEW_YORK_KEY = "America/New_York"
NEW_YORK = ZoneInfo(NEW_YORK_KEY)
# Far enough back for any history Alpha Vantage serves (its daily series starts in 1999).
_FIRST_DAY = date(1999, 11, 1)
# Extended hours: pre-market from 04:00, after-hours until four hours after the close.
EXTENDED_OPEN = time(4, 0)
AFTER_HOURS = timedelta(hours=4)

PeriodKind = Literal["week", "month"]


@lru_cache(maxsize=1)
def _calendar() -> Any:
    import exchange_calendars

    end = datetime.now(UTC).date() + timedelta(days=400)
    return exchange_calendars.get_calendar(
        EXCHANGE, start=_FIRST_DAY.isoformat(), end=end.isoformat()
    )


def new_york_date(moment: datetime) -> date:
    """The New York calendar date of an aware moment."""
    return moment.astimezone(NEW_YORK).date()


def new_york_midnight(day: date) -> datetime:
    """Midnight of `day` in New York, in UTC: where a daily, weekly or monthly bar stands."""
    return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(UTC)


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


@lru_cache(maxsize=1)
def _sessions() -> tuple[date, ...]:
    # Every session the calendar holds, as dates: the gap rules ask for whole histories per
    # symbol, which the calendar's own range query answers in milliseconds, a bisect in
    # microseconds.
    return tuple(ts.date() for ts in _calendar().sessions)


def sessions_between(first: date, last: date) -> list[date]:
    """Every trading date from `first` to `last`, both included."""
    if last < first:
        return []
    sessions = _sessions()
    return list(sessions[bisect_left(sessions, first) : bisect_right(sessions, last)])


def session_count(first: date, last: date) -> int:
    """len(sessions_between(first, last)), without building the list."""
    if last < first:
        return 0
    sessions = _sessions()
    return bisect_right(sessions, last) - bisect_left(sessions, first)


def is_session(day: date) -> bool:
    return bool(sessions_between(day, day))


def period_start(day: date, kind: PeriodKind) -> date:
    """The first calendar day of the week (Monday) or month holding `day`: a period's key."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(day: date, kind: PeriodKind) -> date:
    """The last calendar day of the week (Sunday) or month holding `day`."""
    start = period_start(day, kind)
    if kind == "week":
        return start + timedelta(days=6)
    following = (start + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def period_last_session(day: date, kind: PeriodKind) -> date | None:
    """The period's last trading date by the exchange calendar (None: it holds no session)."""
    sessions = sessions_between(period_start(day, kind), period_end(day, kind))
    return sessions[-1] if sessions else None


def periods_between(first: date, last: date, kind: PeriodKind) -> list[date]:
    """The starts of every period holding a session from `first` to `last`, in order."""
    return list(dict.fromkeys(period_start(day, kind) for day in sessions_between(first, last)))


def session_hours(day: date, *, extended: bool) -> tuple[datetime, datetime]:
    """Open and close of the session `day` (aware UTC): regular hours from the calendar (early
    closes included), or extended hours 04:00 New York to four hours after the close."""
    calendar = _calendar()
    label = day.isoformat()
    close = calendar.session_close(label).to_pydatetime()
    if extended:
        return datetime.combine(day, EXTENDED_OPEN, tzinfo=NEW_YORK).astimezone(UTC), (
            close + AFTER_HOURS
        ).astimezone(UTC)
    return calendar.session_open(label).to_pydatetime().astimezone(UTC), close.astimezone(UTC)
