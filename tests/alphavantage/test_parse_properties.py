"""Property tests: any decimal string keeps its exact value, any date round-trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from stockpipe.alphavantage import Function, SeriesRequest, parse_csv, parse_json

EASTERN = ZoneInfo("America/New_York")
NOW = datetime(2030, 1, 1, tzinfo=UTC)
prices = st.integers(0, 8).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("0"), max_value=Decimal("1e9"), allow_nan=False, places=places
    )
)


def _payload(day: str, fields: dict[str, str]) -> dict[str, object]:
    return {"Meta Data": {"5. Time Zone": "US/Eastern"}, "Time Series (Daily)": {day: fields}}


@given(price=prices, volume=st.integers(0, 10**15))
def test_a_decimal_string_becomes_exactly_that_decimal(price: Decimal, volume: int) -> None:
    text = format(price, "f")
    fields = {
        "1. open": text,
        "2. high": text,
        "3. low": text,
        "4. close": text,
        "5. volume": str(volume),
    }
    (bar,) = parse_json(_payload("2024-05-03", fields), SeriesRequest("IBM"), now=NOW).bars
    assert bar.open == Decimal(text)
    # Same digits and exponent: "165.4500" keeps its trailing zeros.
    assert bar.close.as_tuple() == Decimal(text).as_tuple()
    assert format(bar.close, "f") == text
    assert bar.volume == volume


@given(low=prices, spread=prices)
def test_csv_and_json_agree_on_every_value(low: Decimal, spread: Decimal) -> None:
    high = low + spread
    values = [format(v, "f") for v in (low, high, low, high)]
    fields = dict(zip(["1. open", "2. high", "3. low", "4. close"], values, strict=True))
    fields["5. volume"] = "7"
    (from_json,) = parse_json(_payload("2024-05-03", fields), SeriesRequest("IBM"), now=NOW).bars
    csv_text = "timestamp,open,high,low,close,volume\r\n2024-05-03," + ",".join(values) + ",7\r\n"
    request = SeriesRequest("IBM", datatype="csv")
    (from_csv,) = parse_csv(csv_text, request, now=NOW).bars
    assert (from_csv.open, from_csv.high, from_csv.low, from_csv.close) == (low, high, low, high)
    assert (from_json.open, from_json.high, from_json.low, from_json.close) == (
        low,
        high,
        low,
        high,
    )


GOOD = {"1. open": "1", "2. high": "1", "3. low": "1", "4. close": "1", "5. volume": "1"}


@given(day=st.dates(min_value=date(1990, 1, 1), max_value=date(2029, 12, 31)))
def test_a_trading_date_round_trips_through_its_utc_timestamp(day: date) -> None:
    (bar,) = parse_json(_payload(day.isoformat(), GOOD), SeriesRequest("IBM"), now=NOW).bars
    local = bar.ts.astimezone(EASTERN)
    assert local.date() == day
    assert (local.hour, local.minute) == (0, 0)
    assert bar.ts.utcoffset() == timedelta(0)


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2029, 12, 31)).map(
        lambda m: m.replace(second=0, microsecond=0)
    )
)
def test_an_intraday_wall_time_round_trips(moment: datetime) -> None:
    # Skip wall times that do not exist or exist twice around DST changes (02:00-03:00).
    if moment.hour == 1 or moment.hour == 2:
        return
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    document = {
        "Meta Data": {"6. Time Zone": "US/Eastern"},
        "Time Series (5min)": {stamp: GOOD},
    }
    request = SeriesRequest("IBM", Function.INTRADAY, interval="5min")
    (bar,) = parse_json(document, request, now=NOW).bars
    assert bar.ts.astimezone(EASTERN).replace(tzinfo=None) == moment
