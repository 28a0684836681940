"""When each series is refreshed: one rule for every orchestrator (Dagster and Airflow).

Daily runs on DAG_SCHEDULE_CRON (UTC). Weekly and monthly tick every weekday evening in New
York and launch a run only on the last session of their week (month) by the NYSE calendar,
so a period is fetched once, after it closed; setting their cron variable makes every tick
run. Intraday ticks every 15 minutes of the (extended or regular) trading hours on sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stockpipe.market_calendar import PeriodKind, is_session, period_last_session
from stockpipe.series import DAILY, Planning, Series, series_named
from stockpipe.settings import Settings

REGULAR_HOURS_CRON = "*/15 9-16 * * 1-5"  # intraday without extended hours (New York)
# The backfill (Dagster's backfill_schedule, Airflow's backfill_dag), UTC: an hour after the
# daily refresh's default (DAG_SCHEDULE_CRON, 06:00 UTC), so the refresh spends first; the
# one-slot `alphavantage` pool keeps the two from overlapping anyway. Off until started.
BACKFILL_CRON = "0 7 * * *"


@dataclass(frozen=True, slots=True)
class SeriesSchedule:
    """A series' cron in its zone, and whether ticks are filtered by the exchange calendar."""

    series: Series
    cron: str
    timezone: str
    filtered: bool  # False once the operator set the cron: then every tick runs

    def runs_on(self, day: date) -> bool:
        """Whether a scheduled tick on New York date `day` launches a run."""
        return runs_on(self.series, day, filtered=self.filtered)


def series_schedule(series: Series | str, settings: Settings) -> SeriesSchedule:
    """The schedule of `series` under `settings` (its cron variable, else its default)."""
    described = series_named(series)
    if described is DAILY:
        return SeriesSchedule(described, settings.dag_schedule_cron, "UTC", filtered=False)
    override = settings.series_cron(described.name)
    cron = override or described.default_cron
    if override is None and described.planning is Planning.INTRADAY:
        cron = (
            described.default_cron if settings.stock_intraday_extended_hours else REGULAR_HOURS_CRON
        )
    return SeriesSchedule(described, cron, described.cron_timezone, filtered=override is None)


def runs_on(series: Series, day: date, *, filtered: bool) -> bool:
    """Whether a tick on New York date `day` launches a run of `series`."""
    if series.planning is Planning.INTRADAY:
        return is_session(day)
    if series.planning is Planning.SESSIONS or not filtered:
        return True
    kind: PeriodKind = "week" if series.planning is Planning.WEEKS else "month"
    return period_last_session(day, kind) == day
