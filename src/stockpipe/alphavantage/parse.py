"""Data payload (JSON or CSV) -> validated bars, with invalid bars skipped and counted.

Hot path: a full daily history is ~5,000 bars, so per bar we do dict lookups, Decimal(str)
and date.fromisoformat; no regexes, no pandas, and `raw` is encoded only for kept bars.
"""

from __future__ import annotations

import csv
import io
import logging
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from stockpipe.alphavantage.errors import EmptySeries, MalformedResponse, NoValidBars
from stockpipe.alphavantage.series import FieldNames, Function, SeriesRequest
from stockpipe.alphavantage.timezones import UnknownTimeZone, resolve_zone
from stockpipe.bars import Bar

log = logging.getLogger(__name__)
_dumps = orjson.dumps
_new_bar = tuple.__new__
_ZERO = Decimal(0)

SKIP_REASONS = (
    "missing_field",
    "not_a_number",
    "negative_price",
    "negative_volume",
    "high_below_low",
    "high_below_open_close",
    "low_above_open_close",
    "bad_timestamp",
    "future_timestamp",
    "duplicate_timestamp",
)
# Beyond this many warnings per reason, the rest are summed up in one line.
_WARNINGS_PER_REASON = 10
# Clocks drift: an intraday bar a few minutes "ahead" of ours is not from the future.
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class ParsedSeries:
    symbol: str
    function: Function
    interval: str
    time_zone: str
    last_refreshed: str | None
    bars: list[Bar]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count


class _Skip(Exception):  # control flow only, never escapes this module
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _number(value: object) -> Decimal:
    if isinstance(value, str):
        if not value:
            raise _Skip("missing_field")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _Skip("not_a_number") from None
        if not number.is_finite():
            raise _Skip("not_a_number")
        return number
    # JSON numbers would already have gone through float: only exact integers are safe.
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if value is None:
        raise _Skip("missing_field")
    raise _Skip("not_a_number")


# Zone -> date text -> (date, midnight of that date in the zone, in UTC), shared by all
# payloads. Bounded: a daily history is ~5,000 dates, weekly and monthly are subsets.
_stamps_by_zone: dict[tzinfo, dict[object, tuple[date, datetime]]] = {}
_MAX_STAMPS_PER_ZONE = 20_000
# Zone -> intraday timestamp text -> its UTC instant. A month of 1min bars with extended hours
# is ~21,000 texts, shared by every symbol of a run; bounded a little above that (~10 MB).
_instants_by_zone: dict[tzinfo, dict[str, datetime]] = {}
_MAX_INSTANTS_PER_ZONE = 50_000


def _day_stamp(text: object, zone: tzinfo) -> tuple[date, datetime]:
    """A daily, weekly or monthly key: "YYYY-MM-DD", or, in replies of 2017, the session in
    progress as "YYYY-MM-DD HH:MM:SS" (the moment its values were taken). Either way the bar
    belongs to that date; whether its session had closed is the caller's question (a bar of a
    session still trading is provisional: stockpipe.ingest.series_run.SeriesRun.storable)."""
    if not isinstance(text, str) or len(text) < 10 or text[4] != "-":
        raise _Skip("bad_timestamp")
    try:
        day = date.fromisoformat(text[:10])
        if len(text) > 10:
            if text[10] not in " T":
                raise ValueError(text)
            time.fromisoformat(text[11:])  # a time of day, or the key is not a date at all
    except ValueError:
        raise _Skip("bad_timestamp") from None
    return day, datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _volume(value: object) -> int:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = _number(value)  # "1e3" or "100.0" are whole; "12.5" is not
            if number != number.to_integral_value():
                raise _Skip("not_a_number") from None
            return int(number)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Skip("missing_field" if value is None else "not_a_number")


class _Builder:
    """Validates one payload's bars; the same rules for JSON and CSV."""

    def __init__(self, request: SeriesRequest, zone: tzinfo, now: datetime) -> None:
        self.symbol = request.symbol
        self.label = request.interval_label
        self.zone = zone
        self.intraday = request.function is Function.INTRADAY
        self.latest_date = now.astimezone(zone).date()
        self.latest_ts = now.astimezone(UTC) + _CLOCK_SKEW
        self.bars: list[Bar] = []
        self.seen: set[datetime] = set()
        self.stamps = _stamps_by_zone.setdefault(zone, {})
        self.instants = _instants_by_zone.setdefault(zone, {})
        self.skipped: Counter[str] = Counter()
        self.warned: Counter[str] = Counter()

    def timestamp(self, text: str) -> datetime:
        if self.intraday:
            # Every symbol repeats the same bar times: remember each text's instant (the zone
            # conversion is most of the cost). Naive wall times take the Meta Data zone.
            moment = self.instants.get(text)
            if moment is None:
                try:
                    moment = datetime.fromisoformat(text)
                except (TypeError, ValueError):
                    raise _Skip("bad_timestamp") from None
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.zone)
                moment = moment.astimezone(UTC)
                if len(self.instants) >= _MAX_INSTANTS_PER_ZONE:
                    self.instants.clear()
                self.instants[text] = moment
            if moment > self.latest_ts:
                raise _Skip("future_timestamp")
            return moment
        # Daily, weekly and monthly bars are dated YYYY-MM-DD; a bar stands at midnight of
        # its trading date in the Meta Data zone. Every symbol repeats the same dates, and the
        # zone conversion is most of the cost: remember each valid date's instant.
        stamp = self.stamps.get(text)
        if stamp is None:
            stamp = _day_stamp(text, self.zone)
            if len(self.stamps) >= _MAX_STAMPS_PER_ZONE:
                self.stamps.clear()
            self.stamps[text] = stamp
        if stamp[0] > self.latest_date:
            raise _Skip("future_timestamp")
        return stamp[1]

    def add(self, key: str, values: Sequence[Any], original: object) -> None:
        # Fast path for the usual bar, every value a plain number string: the same Decimal(str)
        # and int(str) as the checked path, without its per-value calls. Anything else (None,
        # a JSON number, an empty or odd string, NaN/Infinity: every spelling holds an "n")
        # takes the checked path, which finds the exact skip reason.
        try:
            joined = "".join(values)
        except TypeError:
            joined = "n"
        if "n" in joined or "N" in joined or len(values) != 5:
            self._add_checked(key, values, original)
            return
        try:
            ts = self.timestamp(key)
            open_ = Decimal(values[0])
            high = Decimal(values[1])
            low = Decimal(values[2])
            close = Decimal(values[3])
            volume = int(values[4])
        except (_Skip, ArithmeticError, ValueError, TypeError):
            self._add_checked(key, values, original)
            return
        # Every check of _keep at once (a non-negative low that is the lowest and a high that
        # is the highest price make all prices non-negative); _keep names the failing one.
        if (
            _ZERO <= low <= open_ <= high
            and low <= close <= high
            and volume >= 0
            and ts not in self.seen
        ):
            self.seen.add(ts)
            # tuple.__new__ directly: Bar(...) goes through the NamedTuple's generated Python
            # __new__, a frame per bar (a fifth of the fetch thread's time on a 21,000-bar
            # intraday payload, py-spy). Same object: the 12 fields, the defaults spelled out.
            self.bars.append(
                _new_bar(
                    Bar,
                    (
                        self.symbol,
                        self.label,
                        ts,
                        open_,
                        high,
                        low,
                        close,
                        volume,
                        _dumps(original),
                        None,
                        None,
                        None,
                    ),
                )
            )
            return
        self._keep(key, ts, [open_, high, low, close], volume, original)

    def _add_checked(self, key: str, values: Sequence[Any], original: object) -> None:
        try:
            ts = self.timestamp(key)
            if any(value is None for value in values):
                raise _Skip("missing_field")
            open_, high, low, close = (_number(v) for v in values[:4])
            volume = _volume(values[4])
            extras = [_number(v) for v in values[5:]]
        except _Skip as skip:
            self.skip(key, skip.reason)
            return
        self._keep(key, ts, [open_, high, low, close, *extras], volume, original)

    def _keep(
        self, key: str, ts: datetime, prices: list[Decimal], volume: int, original: object
    ) -> None:
        """Checks converted values (open, high, low, close, then the optional ones)."""
        open_, high, low, close = prices[:4]
        extras: list[Decimal | None] = list(prices[4:])
        try:
            adjusted = extras[0] if extras else None
            if (
                open_ < 0
                or high < 0
                or low < 0
                or close < 0
                or (adjusted is not None and adjusted < 0)
            ):
                raise _Skip("negative_price")
            if volume < 0:
                raise _Skip("negative_volume")
            if high < low:
                raise _Skip("high_below_low")
            if high < open_ or high < close:
                raise _Skip("high_below_open_close")
            if low > open_ or low > close:
                raise _Skip("low_above_open_close")
            # Kept: the first bar for a timestamp (Alpha Vantage lists newest first).
            if ts in self.seen:
                raise _Skip("duplicate_timestamp")
        except _Skip as skip:
            self.skip(key, skip.reason)
            return
        self.seen.add(ts)
        extras += [None] * (3 - len(extras))
        self.bars.append(
            Bar(
                self.symbol,
                self.label,
                ts,
                open_,
                high,
                low,
                close,
                volume,
                _dumps(original),
                *extras,
            )
        )

    def skip(self, key: object, reason: str) -> None:
        self.skipped[reason] += 1
        self.warned[reason] += 1
        if self.warned[reason] <= _WARNINGS_PER_REASON:
            log.warning("skipped bar: symbol=%s date=%s reason=%s", self.symbol, key, reason)

    def finish(
        self, time_zone: str, last_refreshed: str | None, function: Function
    ) -> ParsedSeries:
        for reason, count in self.warned.items():
            if count > _WARNINGS_PER_REASON:
                log.warning(
                    "skipped %d more bars of %s for reason=%s",
                    count - _WARNINGS_PER_REASON,
                    self.symbol,
                    reason,
                )
        skipped = dict(self.skipped)
        if not self.bars:
            summary = ", ".join(f"{reason}={count}" for reason, count in sorted(skipped.items()))
            raise NoValidBars(f"every bar of {self.symbol} is invalid ({summary})", skipped)
        return ParsedSeries(
            self.symbol, function, self.label, time_zone, last_refreshed, self.bars, skipped
        )


def _zone(name: str | None) -> tzinfo:
    try:
        return resolve_zone(name)
    except UnknownTimeZone as exc:
        raise MalformedResponse(str(exc)) from None


def _field_order(fields: FieldNames) -> list[str]:
    order = [fields.open, fields.high, fields.low, fields.close, fields.volume]
    optional = (fields.adjusted_close, fields.dividend_amount, fields.split_coefficient)
    return order + [name for name in optional if name is not None]


def parse_json(
    document: Mapping[str, Any], request: SeriesRequest, *, now: datetime | None = None
) -> ParsedSeries:
    meta = document.get("Meta Data")
    zone_name: str | None = None
    last_refreshed: str | None = None
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key.endswith("Time Zone"):
                zone_name = str(value)
            elif key.endswith("Last Refreshed"):
                last_refreshed = str(value)
    series = document.get(request.series_key)
    if isinstance(series, dict) and not series:
        raise EmptySeries(f"{request.describe()}: {request.series_key!r} holds no bars")
    if not isinstance(series, dict):
        raise MalformedResponse(f"{request.describe()}: {request.series_key!r} holds no bars")
    zone = _zone(zone_name)
    builder = _Builder(request, zone, now or datetime.now(UTC))
    names = _field_order(request.spec.json_fields)
    fields_of = operator.itemgetter(*names)
    for key, values in series.items():
        if not isinstance(values, dict):
            builder.skip(key, "missing_field")
            continue
        try:
            fields = fields_of(values)
        except KeyError:
            fields = [values.get(name) for name in names]
        builder.add(key, fields, values)
    return builder.finish(str(zone), last_refreshed, request.function)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", " ")


def parse_csv(text: str, request: SeriesRequest, *, now: datetime | None = None) -> ParsedSeries:
    rows: Iterable[list[str]] = csv.reader(io.StringIO(text))
    iterator = iter(rows)
    header = next(iterator, None)
    if not header:
        raise MalformedResponse(f"{request.describe()}: the CSV body is empty")
    position = {_normalise(name): index for index, name in enumerate(header)}
    # The retired TIME_SERIES_INTRADAY_EXTENDED (2020-2023) named the first column "time".
    if "timestamp" not in position and "time" in position:
        position["timestamp"] = position["time"]
    wanted = ["timestamp", *_field_order(request.spec.csv_fields)]
    missing = [name for name in wanted if _normalise(name) not in position]
    if missing:
        raise MalformedResponse(
            f"{request.describe()}: CSV header lacks {', '.join(missing)} (got {','.join(header)})"
        )
    columns = [position[_normalise(name)] for name in wanted]
    zone = _zone(None)
    builder = _Builder(request, zone, now or datetime.now(UTC))
    width = len(header)
    seen_rows = 0
    for row in iterator:
        if not row:
            continue
        seen_rows += 1
        values: list[Any] = [row[i] if i < len(row) else None for i in columns]
        raw = dict(zip(header, row[:width], strict=False))
        builder.add(values[0], values[1:], raw)
    if not seen_rows:
        raise EmptySeries(f"{request.describe()}: the CSV body has a header but no bars")
    return builder.finish(str(zone), None, request.function)
