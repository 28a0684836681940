"""Whether a weekly, monthly or intraday series needs a call, and which bars to ask for.

Pure functions of what is stored, the clock and the exchange calendar (daily: plan.py).

- Weekly/monthly: one call returns the whole history, so the only question is whether to call.
  The stored newest bar is dated by the latest session its period held when it was fetched;
  once that date reaches the latest completed session, the stored (open or closed) period
  already holds it: no call. The open period's row is thus refreshed at most once per session.
- Intraday: up to date once the newest stored bar is within one interval of the newest bar
  that is complete now (inside the session's regular or extended hours; outside them, the last
  bar of the latest session). Otherwise `compact` (the latest 100 bars) when the bars missing
  fit well inside it, else `full` (the trailing 30 days).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from stockpipe.ingest.plan import COMPACT_SAFE_GAP, FetchPlan
from stockpipe.market_calendar import (
    PeriodKind,
    new_york_date,
    periods_between,
    session_hours,
    sessions_between,
)
from stockpipe.settings import OutputSizePolicy

# The newest sessions looked at to find the latest one with a complete bar (a long weekend
# with a holiday is four days; the calendar is cached, so a wider look costs nothing).
_LOOKBACK_DAYS = 10


def plan_period(
    symbol: str,
    kind: PeriodKind,
    *,
    latest_stored: date | None,
    target: date,
    refetch: bool = False,
) -> FetchPlan:
    """No call once the stored newest bar's date reaches `target` (the latest completed
    session) unless a `refetch` is asked, else one call for the whole history; `gap` counts
    the periods to refresh."""
    if latest_stored is not None and latest_stored >= target and not refetch:
        return FetchPlan(symbol, target, latest_stored, 0, None)
    gap = -1 if latest_stored is None else len(periods_between(latest_stored, target, kind))
    return FetchPlan(symbol, target, latest_stored, gap, "full")


def interval_minutes(interval: str) -> int:
    return int(interval.removesuffix("min"))


def latest_complete_bar(now: datetime, step: timedelta, *, extended: bool) -> tuple[date, datetime]:
    """The session and start time (UTC) of the newest bar that is complete at `now`."""
    today = new_york_date(now)
    for day in reversed(sessions_between(today - timedelta(days=_LOOKBACK_DAYS), today)):
        opens, closes = session_hours(day, extended=extended)
        end = min(now, closes)
        complete = (end - opens) // step
        if complete >= 1:
            return day, opens + (complete - 1) * step
    raise ValueError(f"no session in the {_LOOKBACK_DAYS} days before {today}")


def bars_between(after: datetime, until: datetime, step: timedelta, *, extended: bool) -> int:
    """Bar starts later than `after`, up to and including `until`, inside session hours."""
    count = 0
    for day in sessions_between(new_york_date(after), new_york_date(until)):
        opens, closes = session_hours(day, extended=extended)
        first = max(opens, after + step if after >= opens else opens)
        last = min(until, closes - step)
        if last >= first:
            count += (last - first) // step + 1
    return count


def plan_intraday(
    symbol: str,
    *,
    latest_stored: datetime | None,
    now: datetime,
    interval: str,
    extended: bool,
    policy: OutputSizePolicy,
) -> FetchPlan:
    step = timedelta(minutes=interval_minutes(interval))
    session, target_ts = latest_complete_bar(now, step, extended=extended)
    stored_day = new_york_date(latest_stored) if latest_stored is not None else None
    if latest_stored is not None and latest_stored >= target_ts - step:
        return FetchPlan(symbol, session, stored_day, 0, None, target_ts=target_ts)
    if latest_stored is None:
        gap = -1
    else:
        # Bars are aligned on the session's opening: count from the stored bar's grid.
        gap = bars_between(latest_stored, target_ts, step, extended=extended)
    if policy != "auto":
        size = policy
    else:
        size = "compact" if latest_stored is not None and gap <= COMPACT_SAFE_GAP else "full"
    return FetchPlan(symbol, session, stored_day, gap, size, target_ts=target_ts)
