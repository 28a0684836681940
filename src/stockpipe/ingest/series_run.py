"""One series as a run sees it: the description (stockpipe.series) bound to the settings.

Daily, weekly, monthly and intraday differ only here: which function and parameters a call
uses, how a symbol's stored newest bar becomes a plan, and what a table adds to each bar
(a period's key and whether it is provisional). run.py and steps.py are the same for all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stockpipe.alphavantage import Function, SeriesRequest
from stockpipe.bars import Bar
from stockpipe.ingest.plan import FetchPlan, OutputSize, plan_fetch
from stockpipe.ingest.series_plan import plan_intraday, plan_period
from stockpipe.market_calendar import (
    PeriodKind,
    latest_completed_session,
    new_york_date,
    new_york_midnight,
    period_last_session,
    period_start,
)
from stockpipe.series import DAILY, Planning, Series, series_named
from stockpipe.settings import OutputSizePolicy, Settings

_PERIOD_KIND: dict[Planning, PeriodKind] = {Planning.WEEKS: "week", Planning.MONTHS: "month"}


@dataclass(frozen=True, slots=True)
class SeriesRun:
    series: Series
    function: Function
    interval: str | None = None  # intraday only
    extended_hours: bool | None = None  # intraday only

    @classmethod
    def of(cls, series: Series | str, settings: Settings) -> SeriesRun:
        described = series_named(series)
        function = Function(
            described.adjusted_function if settings.stock_adjusted else described.function
        )
        if described.planning is Planning.INTRADAY:
            return cls(
                described,
                function,
                settings.stock_intraday_interval,
                settings.stock_intraday_extended_hours,
            )
        return cls(described, function)

    @property
    def is_daily(self) -> bool:
        return self.series is DAILY

    @property
    def intraday(self) -> bool:
        return self.series.planning is Planning.INTRADAY

    @property
    def adjusted(self) -> bool:
        """The series is stored as Alpha Vantage adjusts it (STOCK_ADJUSTED): its history
        moves when a corporate action arrives (stockpipe.ingest.adjusted_refetch)."""
        return self.function.value == self.series.adjusted_function != self.series.function

    @property
    def label(self) -> str:
        """The series' name as messages show it (with the interval for intraday)."""
        return f"{self.series.name} {self.interval}" if self.interval else self.series.name

    def request(self, symbol: str, size: OutputSize | None, datatype: str) -> SeriesRequest:
        takes_size = self.function in (Function.DAILY, Function.DAILY_ADJUSTED, Function.INTRADAY)
        return SeriesRequest(
            symbol,
            self.function,
            outputsize=size if takes_size else None,
            interval=self.interval,
            datatype="csv" if datatype == "csv" else "json",
            extended_hours=self.extended_hours,
        )

    def plan(
        self,
        symbol: str,
        latest: datetime | None,
        now: datetime,
        *,
        policy: OutputSizePolicy,
        full_denied: bool,
        refetch: bool = False,
        holes: Sequence[date] = (),
    ) -> FetchPlan:
        """`refetch`: the whole history again (an adjusted series after a corporate action;
        intraday has no adjusted variant and ignores it). `holes`: daily only, the missing
        sessions before the newest stored bar."""
        latest_day = new_york_date(latest) if latest else None
        planning = self.series.planning
        if planning is Planning.INTRADAY:
            assert self.interval is not None
            return plan_intraday(
                symbol,
                latest_stored=latest,
                now=now,
                interval=self.interval,
                extended=bool(self.extended_hours),
                policy=policy,
            )
        target = latest_completed_session(now)
        if planning is Planning.SESSIONS:
            return plan_fetch(
                symbol,
                latest_stored=latest_day,
                target=target,
                policy=policy,
                full_denied=full_denied,
                refetch=refetch,
                holes=holes,
            )
        return plan_period(
            symbol, _PERIOD_KIND[planning], latest_stored=latest_day, target=target, refetch=refetch
        )

    def storable(self, bars: list[Bar], target: date) -> list[Bar]:
        """The bars worth storing. A daily, weekly or monthly bar dated after `target` (the
        latest completed session) holds a session still trading (Alpha Vantage serves it
        during the session, in 2017 keyed with the time of its values): stored, it would
        count as up to date after the close and keep the partial values, so it waits for a
        run after the close (a period's row keeps its previous bar meanwhile). Intraday is
        not filtered: each bar stands for its own interval."""
        if self.intraday:
            return bars
        # Such a bar stands at New York midnight of its date: compare instants, not dates
        # (a 5,000-bar daily history pays one comparison per bar, and no copy when all pass).
        cutoff = new_york_midnight(target + timedelta(days=1))
        if all(bar.ts < cutoff for bar in bars):
            return bars
        return [bar for bar in bars if bar.ts < cutoff]

    def extras(self, target: date) -> Callable[[Bar], tuple[object, ...]] | None:
        """For a one-row-per-period table: each bar's (period_start, provisional). A bar is
        final once it is dated by its period's last session and that session had closed at
        planning time (`target`, the latest completed session); until then it moves."""
        kind = _PERIOD_KIND.get(self.series.planning)
        if kind is None:
            return None
        cache: dict[datetime, tuple[object, ...]] = {}

        def of(bar: Bar) -> tuple[object, ...]:
            known = cache.get(bar.ts)
            if known is None:
                day = new_york_date(bar.ts)
                last = period_last_session(day, kind)
                final = last is not None and day >= last and day <= target
                known = cache[bar.ts] = (period_start(day, kind), not final)
            return known

        return of
