"""Deterministic Alpha Vantage-shaped payloads for any symbol.

A seeded random walk over NYSE sessions starting at a fixed anchor date, so a symbol's bar
for a given day never changes when the end date moves forward (re-ingesting yields
"unchanged" rows, as with the real API). Prices carry 4 decimals as strings ("165.4500").
"""

from __future__ import annotations

import csv
import io
import math
import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import orjson

from stockpipe.alphavantage.series import SPECS, Function
from stockpipe.market_calendar import NEW_YORK, session_hours, sessions_between
from stockpipe.testing.corporate_actions import (
    DIVIDEND_EVERY,
    NO_OVERRIDE,
    ActionOverride,
    adjusted,
    adjustment_factors,
    default_dividend_rows,
    default_split_days,
    is_default_dividend,
    override_dividend_days,
    override_split_days,
)

ANCHOR = date(1999, 11, 1)
CENT = Decimal("0.0001")
ZERO = Decimal("0.0000")
Series = dict[str, dict[str, str]]  # timestamp -> JSON field name -> value, newest first

_INFORMATION = {
    Function.DAILY: "Daily Prices (open, high, low, close) and Volumes",
    Function.DAILY_ADJUSTED: "Daily Time Series with Splits and Dividend Events",
    Function.WEEKLY: "Weekly Prices (open, high, low, close) and Volumes",
    Function.WEEKLY_ADJUSTED: "Weekly Adjusted Prices and Volumes",
    Function.MONTHLY: "Monthly Prices (open, high, low, close) and Volumes",
    Function.MONTHLY_ADJUSTED: "Monthly Adjusted Prices and Volumes",
}


@dataclass(frozen=True, slots=True)
class DailyBar:
    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    adjusted_close: Decimal
    dividend: Decimal
    split: Decimal = Decimal(1)  # the factor of a split effective this day


def _seed(*parts: object) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


def _q(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")


@lru_cache(maxsize=8)
def _sessions(end: date) -> tuple[date, ...]:
    return tuple(sessions_between(ANCHOR, end))


def _ohlc(rng: random.Random, prev: float, drift: float, sigma: float) -> tuple[Decimal, ...]:
    open_ = max(1.0, prev * (1 + rng.gauss(0, sigma / 3)))
    close = max(1.0, open_ * math.exp(rng.gauss(drift, sigma)))
    high = max(open_, close) * (1 + abs(rng.gauss(0, sigma / 2)))
    low = min(open_, close) * (1 - abs(rng.gauss(0, sigma / 2)))
    # Rounding is monotonic, so the rounded high/low still bracket the rounded open/close.
    return _q(open_), _q(high), _q(low), _q(close)


@lru_cache(maxsize=64)
def daily_history(
    symbol: str, end: date, actions: ActionOverride = NO_OVERRIDE
) -> tuple[DailyBar, ...]:
    """Every session from the anchor to `end`, oldest first, as traded: a seeded walk of the
    company's value, divided by every split since (so a split leaves earlier bars alone)."""
    rng = random.Random(_seed(symbol.upper()))
    price = rng.uniform(20, 400)
    dividend_phase = rng.randrange(DIVIDEND_EVERY)
    sessions = _sessions(end)
    if actions.splits is None:
        split_days = default_split_days(symbol, sessions)
    else:
        split_days = override_split_days(actions.splits, sessions)
    dividend_days = (
        None if actions.dividends is None else override_dividend_days(actions.dividends, sessions)
    )
    scale = Decimal(1)
    raw: list[tuple[date, tuple[Decimal, ...], int, Decimal, Decimal]] = []
    for index, day in enumerate(sessions):
        o, h, low, c = _ohlc(rng, price, 0.0002, 0.015)
        price = float(c)
        volume = int(rng.lognormvariate(15, 0.5))
        split = split_days.get(day, Decimal(1))
        scale *= split
        if scale != 1:
            # Rounding is monotonic: the divided high/low still bracket the open/close.
            o, h, low, c = ((value / scale).quantize(CENT) for value in (o, h, low, c))
            volume = int(volume * scale)
        if dividend_days is not None:
            dividend = dividend_days.get(day, ZERO)
        elif is_default_dividend(index, dividend_phase):
            dividend = _q(float(c) * 0.005)
        else:
            dividend = ZERO
        raw.append((day, (o, h, low, c), volume, dividend, split))
    days = [row[0] for row in raw]
    closes = [row[1][3] for row in raw]
    dividends = {row[0]: row[3] for row in raw if row[3]}
    factors = adjustment_factors(days, closes, split_days, dividends)
    return tuple(
        DailyBar(day, o, h, low, c, volume, adjusted(c, factor), dividend, split)
        for (day, (o, h, low, c), volume, dividend, split), factor in zip(raw, factors, strict=True)
    )


def action_rows(
    symbol: str, end: date, actions: ActionOverride = NO_OVERRIDE
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The SPLITS and DIVIDENDS `data` lists, newest first: the override's objects exactly,
    or those of the default schedule the daily series follows."""
    history = daily_history(symbol, end, actions)
    if actions.splits is not None:
        splits = [dict(row) for row in actions.splits]
    else:
        splits = [
            {"effective_date": bar.day.isoformat(), "split_factor": str(bar.split)}
            for bar in reversed(history)
            if bar.split != 1
        ]
    if actions.dividends is not None:
        dividends = [dict(row) for row in actions.dividends]
    else:
        paid = [(bar.day, bar.dividend) for bar in history if bar.dividend]
        dividends = default_dividend_rows(paid, end)
    return splits, dividends


def _fields(function: Function, bar: DailyBar) -> dict[str, str]:
    names = SPECS[function].json_fields
    fields = {
        names.open: str(bar.open),
        names.high: str(bar.high),
        names.low: str(bar.low),
        names.close: str(bar.close),
    }
    if names.adjusted_close:
        fields[names.adjusted_close] = str(bar.adjusted_close)
    fields[names.volume] = str(bar.volume)
    if names.dividend_amount:
        fields[names.dividend_amount] = str(bar.dividend)
    if names.split_coefficient:
        fields[names.split_coefficient] = "1.0" if bar.split == 1 else str(bar.split)
    return fields


def _aggregate(bars: tuple[DailyBar, ...], monthly: bool) -> list[DailyBar]:
    """Weekly/monthly bars dated by their last session; the newest period may be unfinished."""
    periods: dict[tuple[int, int], list[DailyBar]] = {}
    for bar in bars:
        key = (bar.day.year, bar.day.month) if monthly else bar.day.isocalendar()[:2]
        periods.setdefault(key, []).append(bar)
    return [
        DailyBar(
            group[-1].day,
            group[0].open,
            max(b.high for b in group),
            min(b.low for b in group),
            group[-1].close,
            sum(b.volume for b in group),
            group[-1].adjusted_close,
            sum((b.dividend for b in group), Decimal("0.0000")),
        )
        for group in periods.values()
    ]


def _intraday(
    symbol: str,
    end: date,
    interval: str,
    month: str | None,
    full: bool,
    *,
    actions: ActionOverride,
    extended: bool = True,
    missing: frozenset[date] = frozenset(),
    until: datetime | None = None,
) -> list[tuple[str, dict[str, str]]]:
    days = {bar.day: bar for bar in daily_history(symbol, end, actions) if bar.day not in missing}
    # Naive New York wall time, like the bar times (bars lie inside 04:00-20:00, never in the
    # repeated hour of a DST change, so comparing wall times is exact).
    limit = until.astimezone(NEW_YORK).replace(tzinfo=None) if until is not None else None
    if month:
        year, mon = (int(part) for part in month.split("-"))
        chosen = [d for d in days if d.year == year and d.month == mon]
    else:
        # full: the trailing 30 days; compact: the latest 100 bars of those (sliced below).
        chosen = [d for d in days if d > end - timedelta(days=30)]
    step = int(interval.removesuffix("min"))
    rows: list[tuple[str, dict[str, str]]] = []
    for day in chosen:
        rng = random.Random(_seed(symbol.upper(), day, interval))
        price = float(days[day].open)
        # Extended hours: bars start 04:00 and the last one starts before 20:00 Eastern (four
        # hours after an early close); regular hours: 09:30 to the close. Wall times, naive.
        opens, closes = (
            t.astimezone(NEW_YORK).replace(tzinfo=None)
            for t in session_hours(day, extended=extended)
        )
        if limit is not None:
            closes = min(closes, limit)  # no bar before it has ended: none lies after `until`
        moment = opens
        while moment + timedelta(minutes=step) <= closes:
            o, h, low, c = _ohlc(rng, price, 0.0, 0.001 * math.sqrt(step))
            price = float(c)
            volume = str(int(rng.lognormvariate(9, 0.7)))
            fields = {"1. open": str(o), "2. high": str(h), "3. low": str(low), "4. close": str(c)}
            fields["5. volume"] = volume
            rows.append((moment.strftime("%Y-%m-%d %H:%M:%S"), fields))
            moment += timedelta(minutes=step)
    rows.reverse()
    return rows


def generate_series(
    symbol: str,
    function: Function,
    *,
    end: date,
    history_length: int,
    outputsize: str | None = None,
    interval: str | None = None,
    month: str | None = None,
    extended_hours: bool = True,
    actions: ActionOverride = NO_OVERRIDE,
    missing: frozenset[date] = frozenset(),
    until: datetime | None = None,
) -> Series:
    """The series object Alpha Vantage would send, newest first. `missing`: sessions this
    vendor has no bar for (a halted stock): every series simply lacks them, and compact's
    latest 100 bars are 100 bars it does have. `until` (aware): intraday bars are served once
    they have ended by then, as the real API serves none after now (the latest session's
    after-hours run to 20:00 New York, hours after its close)."""
    full = outputsize == "full"
    if function is Function.INTRADAY:
        rows = _intraday(
            symbol,
            end,
            interval or "5min",
            month,
            full,
            actions=actions,
            extended=extended_hours,
            missing=missing,
            until=until,
        )
        return dict(rows if full or month else rows[:100])
    daily = daily_history(symbol, end, actions)
    if missing:
        daily = tuple(bar for bar in daily if bar.day not in missing)
    if function in (Function.DAILY, Function.DAILY_ADJUSTED):
        chosen = list(daily[-history_length:] if full else daily[-100:])
    else:
        monthly = function in (Function.MONTHLY, Function.MONTHLY_ADJUSTED)
        # The window starts on a period's first session, so every period served is whole and
        # keeps its values as `end` moves on (the real API serves the whole history).
        first = daily[-history_length:][0].day
        start = first.replace(day=1) if monthly else first - timedelta(days=first.weekday())
        chosen = _aggregate(tuple(bar for bar in daily if bar.day >= start), monthly)
    return {bar.day.isoformat(): _fields(function, bar) for bar in reversed(chosen)}


def render_json(
    symbol: str,
    function: Function,
    series: Mapping[str, Mapping[str, str]],
    *,
    interval: str | None = None,
    outputsize: str | None = None,
    time_zone: str = "US/Eastern",
) -> bytes:
    last = next(iter(series), "")
    spec = SPECS[function]
    size = "Full size" if outputsize == "full" else "Compact"
    if function is Function.INTRADAY:
        meta = {
            "1. Information": f"Intraday ({interval}) open, high, low, close prices and volume",
            "2. Symbol": symbol,
            "3. Last Refreshed": last,
            "4. Interval": interval,
            "5. Output Size": size,
            "6. Time Zone": time_zone,
        }
    elif spec.takes_outputsize:
        meta = {
            "1. Information": _INFORMATION[function],
            "2. Symbol": symbol,
            "3. Last Refreshed": last,
            "4. Output Size": size,
            "5. Time Zone": time_zone,
        }
    else:
        meta = {
            "1. Information": _INFORMATION[function],
            "2. Symbol": symbol,
            "3. Last Refreshed": last,
            "4. Time Zone": time_zone,
        }
    document = {"Meta Data": meta, spec.series_key(interval): series}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def render_csv(function: Function, series: Mapping[str, Mapping[str, str]]) -> bytes:
    """CSV as Alpha Vantage writes it; missing JSON fields become empty cells."""
    spec = SPECS[function]
    to_csv = dict(zip(spec.json_fields.names(), spec.csv_fields.names(), strict=True))
    header = spec.csv_header
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for stamp, fields in series.items():
        by_csv = {to_csv.get(name, name): value for name, value in fields.items()}
        writer.writerow([stamp, *(by_csv.get(name, "") for name in header[1:])])
    return out.getvalue().encode()
