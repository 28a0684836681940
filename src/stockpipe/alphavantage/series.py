"""Catalog of the Alpha Vantage time-series functions and the request for one series.

Each function's JSON series key, the `Bar.interval` label it yields and its field names (JSON
and CSV) live here, so the client, the parser and the fake server agree on one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

INTRADAY_INTERVALS = ("1min", "5min", "15min", "30min", "60min")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Function(StrEnum):
    DAILY = "TIME_SERIES_DAILY"
    DAILY_ADJUSTED = "TIME_SERIES_DAILY_ADJUSTED"
    WEEKLY = "TIME_SERIES_WEEKLY"
    WEEKLY_ADJUSTED = "TIME_SERIES_WEEKLY_ADJUSTED"
    MONTHLY = "TIME_SERIES_MONTHLY"
    MONTHLY_ADJUSTED = "TIME_SERIES_MONTHLY_ADJUSTED"
    INTRADAY = "TIME_SERIES_INTRADAY"


@dataclass(frozen=True, slots=True)
class FieldNames:
    """Where each bar value sits in one payload format; None when the function lacks it."""

    open: str
    high: str
    low: str
    close: str
    volume: str
    adjusted_close: str | None = None
    dividend_amount: str | None = None
    split_coefficient: str | None = None

    def names(self) -> tuple[str, ...]:
        optional = (self.adjusted_close, self.dividend_amount, self.split_coefficient)
        present = tuple(name for name in optional if name is not None)
        return (self.open, self.high, self.low, self.close, self.volume, *present)


_JSON_PLAIN = FieldNames("1. open", "2. high", "3. low", "4. close", "5. volume")
_JSON_DAILY_ADJUSTED = FieldNames(
    "1. open", "2. high", "3. low", "4. close", "6. volume",
    adjusted_close="5. adjusted close", dividend_amount="7. dividend amount",
    split_coefficient="8. split coefficient",
)  # fmt: skip
# Weekly/monthly adjusted stop at the dividend: they have no split coefficient.
_JSON_PERIOD_ADJUSTED = FieldNames(
    "1. open", "2. high", "3. low", "4. close", "6. volume",
    adjusted_close="5. adjusted close", dividend_amount="7. dividend amount",
)  # fmt: skip
_CSV_PLAIN = FieldNames("open", "high", "low", "close", "volume")
_CSV_DAILY_ADJUSTED = FieldNames(
    "open", "high", "low", "close", "volume",
    adjusted_close="adjusted_close", dividend_amount="dividend_amount",
    split_coefficient="split_coefficient",
)  # fmt: skip
# Weekly/monthly adjusted CSV headers use spaces where daily adjusted uses underscores.
_CSV_PERIOD_ADJUSTED = FieldNames(
    "open", "high", "low", "close", "volume",
    adjusted_close="adjusted close", dividend_amount="dividend amount",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    function: Function
    json_series_key: str  # "{interval}" is replaced by the intraday interval
    interval_label: str  # Bar.interval; "{interval}" for intraday
    json_fields: FieldNames
    csv_fields: FieldNames
    csv_header: tuple[str, ...]
    takes_outputsize: bool
    adjusted: bool

    def series_key(self, interval: str | None = None) -> str:
        return self.json_series_key.replace("{interval}", interval or "")

    def label(self, interval: str | None = None) -> str:
        return self.interval_label.replace("{interval}", interval or "")


def _spec(
    function: Function, key: str, label: str, *, outputsize: bool = False, adjusted: str = ""
) -> SeriesSpec:
    """adjusted: "" (plain), "daily" or "period" (weekly/monthly: no split coefficient)."""
    json, csv = {
        "": (_JSON_PLAIN, _CSV_PLAIN),
        "daily": (_JSON_DAILY_ADJUSTED, _CSV_DAILY_ADJUSTED),
        "period": (_JSON_PERIOD_ADJUSTED, _CSV_PERIOD_ADJUSTED),
    }[adjusted]
    header = ["timestamp", csv.open, csv.high, csv.low, csv.close]
    # CSV puts the adjusted close before the volume, as the JSON numbering does.
    optional_tail = [csv.dividend_amount, csv.split_coefficient]
    header += [name for name in [csv.adjusted_close, csv.volume, *optional_tail] if name]
    return SeriesSpec(function, key, label, json, csv, tuple(header), outputsize, bool(adjusted))


SPECS: dict[Function, SeriesSpec] = {
    spec.function: spec
    for spec in (
        _spec(Function.DAILY, "Time Series (Daily)", "1d", outputsize=True),
        _spec(
            Function.DAILY_ADJUSTED, "Time Series (Daily)", "1d", outputsize=True, adjusted="daily"
        ),
        _spec(Function.WEEKLY, "Weekly Time Series", "1w"),
        _spec(Function.WEEKLY_ADJUSTED, "Weekly Adjusted Time Series", "1w", adjusted="period"),
        _spec(Function.MONTHLY, "Monthly Time Series", "1mo"),
        _spec(Function.MONTHLY_ADJUSTED, "Monthly Adjusted Time Series", "1mo", adjusted="period"),
        _spec(Function.INTRADAY, "Time Series ({interval})", "{interval}", outputsize=True),
    )
}


@dataclass(frozen=True)
class SeriesRequest:
    """One call's worth of parameters, without the API key (the client adds it)."""

    symbol: str
    function: Function = Function.DAILY
    outputsize: Literal["compact", "full"] | None = None
    interval: str | None = None  # intraday only
    month: str | None = None  # intraday only, YYYY-MM
    datatype: Literal["json", "csv"] = "json"
    # intraday only: None leaves Alpha Vantage's default (true: 04:00-20:00 New York)
    extended_hours: bool | None = None

    def __post_init__(self) -> None:
        if not self.symbol or self.symbol != self.symbol.strip():
            raise ValueError(f"symbol {self.symbol!r} must be a non-empty ticker")
        if self.function is Function.INTRADAY:
            if self.interval not in INTRADAY_INTERVALS:
                raise ValueError(f"intraday needs interval in {', '.join(INTRADAY_INTERVALS)}")
            if self.month is not None and not _MONTH.match(self.month):
                raise ValueError(f"month {self.month!r} must look like YYYY-MM")
        elif self.interval is not None or self.month is not None:
            raise ValueError(f"interval and month apply to intraday only, not {self.function}")
        elif self.extended_hours is not None:
            raise ValueError(f"extended_hours applies to intraday only, not {self.function}")
        if self.outputsize is not None and not self.spec.takes_outputsize:
            raise ValueError(f"{self.function} has no outputsize parameter")
        if self.outputsize not in (None, "compact", "full"):
            raise ValueError(f"outputsize {self.outputsize!r} must be compact or full")
        if self.datatype not in ("json", "csv"):
            raise ValueError(f"datatype {self.datatype!r} must be json or csv")

    @property
    def spec(self) -> SeriesSpec:
        return SPECS[self.function]

    @property
    def interval_label(self) -> str:
        return self.spec.label(self.interval)

    @property
    def series_key(self) -> str:
        return self.spec.series_key(self.interval)

    def query_params(self) -> dict[str, str]:
        """The query string without the API key: safe to log."""
        params = {"function": self.function.value, "symbol": self.symbol}
        if self.outputsize is not None:
            params["outputsize"] = self.outputsize
        if self.interval is not None:
            params["interval"] = self.interval
        if self.month is not None:
            params["month"] = self.month
        if self.extended_hours is not None:
            params["extended_hours"] = "true" if self.extended_hours else "false"
        if self.datatype != "json":
            params["datatype"] = self.datatype
        return params

    def describe(self) -> str:
        """A short human label such as `IBM TIME_SERIES_DAILY (compact, json)`."""
        extras = [v for v in (self.interval, self.month, self.outputsize, self.datatype) if v]
        return f"{self.symbol} {self.function.value} ({', '.join(extras)})"
