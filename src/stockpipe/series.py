"""The series stockpipe keeps: one description each drives plan -> fetch -> parse -> upsert.

A description names the Alpha Vantage function, the table (a `BarsTable` spec the upsert and
the quality checks read), how a run decides whether a call is needed (`Planning`), and the
schedule's default cron with the variable that overrides it. Adding a series is one more
description here and a migration creating its table; the ingest, the store, the CLI and the
Dagster layer all loop over `SERIES`.

Below `ingest/`, `store/` and `alphavantage/`: the function is kept as its API name (a string)
so this module imports nothing of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stockpipe.market_calendar import NEW_YORK_KEY


class Planning(StrEnum):
    """How "up to date" is measured, and which bars a call should ask for."""

    SESSIONS = "sessions"  # one bar per NYSE session (daily)
    WEEKS = "weeks"  # one row per calendar week that has sessions
    MONTHS = "months"  # one row per calendar month
    INTRADAY = "intraday"  # one bar per interval inside the (extended) trading hours


@dataclass(frozen=True, slots=True)
class BarsTable:
    """What the upsert, the reads and the quality checks need to know of one bars table.

    Every bars table has the columns of `stock_data` (id, symbol, ts, open, high, low, close,
    volume, raw, the adjusted columns, ingested_at, updated_at); `extra_columns` are what a
    table adds, in COPY order after those.
    """

    name: str
    key: tuple[str, ...]  # the UNIQUE constraint rows are merged on
    intervals: frozenset[str]  # Bar.interval values this table accepts
    # "ts", or "period_start" for one-row-per-period tables: rows whose value is above the
    # symbol's stored maximum cannot conflict with a stored row and go straight in by COPY.
    order_column: str = "ts"
    extra_columns: tuple[str, ...] = ()
    # The table has the generated `fingerprint` column (migration 0005's expression), so
    # unchanged rows are recognised without sending them.
    fingerprint: bool = True
    # Range-partitioned by month of `ts` (migration 0019, stockpipe.store.partitions): a load
    # first makes sure its months have partitions.
    partitioned: bool = False

    @property
    def per_period(self) -> bool:
        return self.order_column == "period_start"

    @property
    def per_interval(self) -> bool:
        return "interval" in self.key


DAILY_TABLE = BarsTable("stock_data", ("symbol", "ts"), frozenset({"1d"}))
WEEKLY_TABLE = BarsTable(
    "stock_data_weekly",
    ("symbol", "period_start"),
    frozenset({"1w"}),
    order_column="period_start",
    extra_columns=("period_start", "provisional"),
    fingerprint=False,  # ts and provisional move while the period is open: compared by value
)
MONTHLY_TABLE = BarsTable(
    "stock_data_monthly",
    ("symbol", "period_start"),
    frozenset({"1mo"}),
    order_column="period_start",
    extra_columns=("period_start", "provisional"),
    fingerprint=False,
)
INTRADAY_TABLE = BarsTable(
    "stock_data_intraday",
    ("symbol", "interval", "ts"),
    frozenset({"1min", "5min", "15min", "30min", "60min"}),
    extra_columns=("interval",),
    partitioned=True,
)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    function: str  # Alpha Vantage function (stockpipe.alphavantage.Function value)
    adjusted_function: str  # the variant with adjusted close and dividends
    table: BarsTable
    planning: Planning
    default_cron: str  # in `cron_timezone`
    cron_variable: str  # the environment variable overriding default_cron
    cron_timezone: str
    description: str

    def __str__(self) -> str:
        return self.name


DAILY = Series(
    "daily",
    "TIME_SERIES_DAILY",
    "TIME_SERIES_DAILY_ADJUSTED",
    DAILY_TABLE,
    Planning.SESSIONS,
    "0 6 * * *",
    "DAG_SCHEDULE_CRON",
    "UTC",
    "Daily bars, one row per symbol and NYSE session",
)
# Weekly and monthly: every weekday evening in New York; the schedule skips a tick unless that
# day is the last session of its week (month), so a period is fetched once, after it closed.
WEEKLY = Series(
    "weekly",
    "TIME_SERIES_WEEKLY",
    "TIME_SERIES_WEEKLY_ADJUSTED",
    WEEKLY_TABLE,
    Planning.WEEKS,
    "30 18 * * 1-5",
    "WEEKLY_SCHEDULE_CRON",
    NEW_YORK_KEY,
    "Weekly bars, one row per symbol and calendar week (the open week provisional)",
)
MONTHLY = Series(
    "monthly",
    "TIME_SERIES_MONTHLY",
    "TIME_SERIES_MONTHLY_ADJUSTED",
    MONTHLY_TABLE,
    Planning.MONTHS,
    "30 18 * * 1-5",
    "MONTHLY_SCHEDULE_CRON",
    NEW_YORK_KEY,
    "Monthly bars, one row per symbol and calendar month (the open month provisional)",
)
# Every 15 minutes from 04:00 to 20:00 New York time: the extended trading hours.
INTRADAY = Series(
    "intraday",
    "TIME_SERIES_INTRADAY",
    "TIME_SERIES_INTRADAY",
    INTRADAY_TABLE,
    Planning.INTRADAY,
    "*/15 4-20 * * 1-5",
    "INTRADAY_SCHEDULE_CRON",
    NEW_YORK_KEY,
    "Intraday bars, one row per symbol, interval and bar time (UTC)",
)

SERIES: dict[str, Series] = {s.name: s for s in (DAILY, WEEKLY, MONTHLY, INTRADAY)}
SERIES_NAMES = tuple(SERIES)


def job_name(series: Series) -> str:
    """The name of the series' Dagster job (`stock_job` for daily, as it always was): defined
    here, below the Dagster layer, so the CLI that launches it by name needs no Dagster."""
    return "stock_job" if series is DAILY else f"{series.name}_stock_job"


def series_named(name: str | Series) -> Series:
    """The description of `name`; a ValueError naming the choices for anything else."""
    if isinstance(name, Series):
        return name
    try:
        return SERIES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"unknown series {name!r}; choose from {', '.join(SERIES_NAMES)}"
        ) from None
