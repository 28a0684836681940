"""Payloads of every function become validated bars; invalid bars are skipped and counted."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest

from stockpipe.alphavantage import (
    Function,
    MalformedResponse,
    NoValidBars,
    ParsedSeries,
    SeriesRequest,
    parse_csv,
    parse_json,
)
from stockpipe.testing import FakeAlphaVantage
from tests.alphavantage.helpers import client_for

END = date(2024, 5, 1)  # a Wednesday: the newest weekly bar is an unfinished week
GOOD = {
    "1. open": "10.0000",
    "2. high": "11.0000",
    "3. low": "9.0000",
    "4. close": "10.5000",
    "5. volume": "1000",
}


def fetch(fake: FakeAlphaVantage, request: SeriesRequest) -> ParsedSeries:
    with client_for(fake) as client:
        return client.fetch(request)


@pytest.mark.parametrize(
    ("function", "interval", "label", "newest", "adjusted", "split"),
    [
        pytest.param(Function.DAILY, None, "1d", "2024-05-01", False, False, id="daily bars are 1d"),  # noqa: E501
        pytest.param(Function.DAILY_ADJUSTED, None, "1d", "2024-05-01", True, True, id="daily adjusted bars carry dividend and split"),  # noqa: E501
        pytest.param(Function.WEEKLY, None, "1w", "2024-05-01", False, False, id="the newest weekly bar is the unfinished week"),  # noqa: E501
        pytest.param(Function.WEEKLY_ADJUSTED, None, "1w", "2024-05-01", True, False, id="weekly adjusted bars have no split coefficient"),  # noqa: E501
        pytest.param(Function.MONTHLY, None, "1mo", "2024-05-01", False, False, id="the newest monthly bar is the unfinished month"),  # noqa: E501
        pytest.param(Function.MONTHLY_ADJUSTED, None, "1mo", "2024-05-01", True, False, id="monthly adjusted bars have no split coefficient"),  # noqa: E501
        pytest.param(Function.INTRADAY, "15min", "15min", "2024-05-01 19:45:00", False, False, id="intraday bars carry their interval"),  # noqa: E501
    ],
)  # fmt: skip
def test_every_function_parses_the_same_from_json_and_csv(
    fake_av: FakeAlphaVantage,
    function: Function,
    interval: str | None,
    label: str,
    newest: str,
    adjusted: bool,
    split: bool,
) -> None:
    fake_av.configure(end_date=END)
    as_json = fetch(fake_av, SeriesRequest("IBM", function, interval=interval))
    as_csv = fetch(fake_av, SeriesRequest("IBM", function, interval=interval, datatype="csv"))
    assert as_json.skipped == {} and as_csv.skipped == {}
    assert as_json.interval == label
    assert {bar.interval for bar in as_json.bars} == {label}
    assert as_json.last_refreshed == newest
    assert as_json.time_zone == "America/New_York"
    first = as_json.bars[0]
    assert first.ts.tzinfo is UTC
    assert (first.adjusted_close is not None) is adjusted
    assert (first.dividend_amount is not None) is adjusted
    assert (first.split_coefficient is not None) is split
    # Same bars either way; only `raw` differs (JSON object vs CSV row keyed by header).
    assert [b._replace(raw=b"") for b in as_json.bars] == [b._replace(raw=b"") for b in as_csv.bars]


def test_compact_daily_is_the_latest_100_sessions_and_full_the_configured_length(
    fake_av: FakeAlphaVantage,
) -> None:
    fake_av.configure(end_date=END, history_length=300)
    compact = fetch(fake_av, SeriesRequest("IBM"))
    full = fetch(fake_av, SeriesRequest("IBM", outputsize="full"))
    assert len(compact.bars) == 100 and len(full.bars) == 300
    assert full.bars[:100] == compact.bars


def test_intraday_by_month_covers_every_session_of_that_month(fake_av: FakeAlphaVantage) -> None:
    fake_av.configure(end_date=END)
    request = SeriesRequest("IBM", Function.INTRADAY, interval="60min", month="2024-02")
    series = fetch(fake_av, request)
    days = {bar.ts.astimezone().date() for bar in series.bars}
    assert len(series.bars) == 20 * 16  # 20 sessions in Feb 2024, 04:00-19:00 hourly
    assert min(days) >= date(2024, 2, 1) and max(days) <= date(2024, 3, 1)


def test_prices_are_exact_decimals_and_raw_is_the_original_object(
    fake_av: FakeAlphaVantage,
) -> None:
    bar = {
        "1. open": "165.4500",
        "2. high": "166.2700",
        "3. low": "0.0001",
        "4. close": "165.7100",
        "5. volume": "3807545",
    }
    fake_av.set_series("IBM", Function.DAILY, {"2024-05-03": bar})
    (parsed,) = fetch(fake_av, SeriesRequest("IBM")).bars
    assert parsed.open == Decimal("165.4500") and str(parsed.open) == "165.4500"
    assert str(parsed.low) == "0.0001"
    assert parsed.volume == 3807545
    assert orjson.loads(parsed.raw) == bar


def test_csv_raw_is_the_row_keyed_by_the_header(fake_av: FakeAlphaVantage) -> None:
    fake_av.set_series("IBM", Function.DAILY, {"2024-05-03": GOOD})
    (parsed,) = fetch(fake_av, SeriesRequest("IBM", datatype="csv")).bars
    assert orjson.loads(parsed.raw) == {
        "timestamp": "2024-05-03",
        "open": "10.0000",
        "high": "11.0000",
        "low": "9.0000",
        "close": "10.5000",
        "volume": "1000",
    }


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        pytest.param("2024-01-05", 5, id="a winter trading date starts at 05:00 UTC"),
        pytest.param("2024-07-05", 4, id="a summer trading date starts at 04:00 UTC"),
        pytest.param("2024-03-11", 4, id="the Monday after the spring change starts at 04:00 UTC"),
        pytest.param("2024-11-04", 5, id="the Monday after the autumn change starts at 05:00 UTC"),
    ],
)
def test_a_daily_bar_is_midnight_eastern_in_utc(
    fake_av: FakeAlphaVantage, day: str, utc_hour: int
) -> None:
    fake_av.set_series("IBM", Function.DAILY, {day: GOOD})
    (bar,) = fetch(fake_av, SeriesRequest("IBM")).bars
    assert bar.ts == datetime.fromisoformat(day).replace(hour=utc_hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "stamp", "expected"),
    [
        pytest.param("US/Eastern", "2024-03-08 09:30:00", "2024-03-08T14:30:00+00:00", id="an EST wall time is five hours behind UTC"),  # noqa: E501
        pytest.param("US/Eastern", "2024-03-11 09:30:00", "2024-03-11T13:30:00+00:00", id="an EDT wall time is four hours behind UTC"),  # noqa: E501
        pytest.param("UTC", "2024-03-11 09:30:00", "2024-03-11T09:30:00+00:00", id="a UTC zone is taken as UTC"),  # noqa: E501
        pytest.param("US/Pacific", "2024-03-11 09:30:00", "2024-03-11T16:30:00+00:00", id="another named zone is honoured"),  # noqa: E501
    ],
)  # fmt: skip
def test_intraday_wall_times_convert_from_the_named_zone(
    fake_av: FakeAlphaVantage, zone: str, stamp: str, expected: str
) -> None:
    fake_av.set_series("IBM", Function.INTRADAY, {stamp: GOOD}, time_zone=zone)
    (bar,) = fetch(fake_av, SeriesRequest("IBM", Function.INTRADAY, interval="5min")).bars
    assert bar.ts == datetime.fromisoformat(expected)


def test_an_unknown_time_zone_is_malformed(fake_av: FakeAlphaVantage) -> None:
    fake_av.set_series("IBM", Function.DAILY, {"2024-05-03": GOOD}, time_zone="Mars/Olympus")
    with pytest.raises(MalformedResponse, match="unknown time zone 'Mars/Olympus'"):
        fetch(fake_av, SeriesRequest("IBM"))


def _bad(**changes: str | None) -> dict[str, str]:
    bar = {**GOOD, **changes}
    return {key: value for key, value in bar.items() if value is not None}


GOOD_DAYS = {"2024-05-03": GOOD, "2024-05-02": GOOD}
SKIPS = [
    pytest.param({"2024-05-01": _bad(**{"4. close": None})}, {"missing_field": 1}, id="a missing close is missing_field"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"1. open": ""})}, {"missing_field": 1}, id="an empty open is missing_field"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"4. close": "abc"}), "2024-04-30": _bad(**{"2. high": "NaN"})}, {"not_a_number": 2}, id="text and NaN prices are not_a_number"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"5. volume": "12.5"})}, {"not_a_number": 1}, id="a fractional volume is not_a_number"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"3. low": "-1.0000"})}, {"negative_price": 1}, id="a negative low is negative_price"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"5. volume": "-5"})}, {"negative_volume": 1}, id="a negative volume is negative_volume"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"2. high": "8.0000"})}, {"high_below_low": 1}, id="high under low is high_below_low"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"2. high": "10.2000"})}, {"high_below_open_close": 1}, id="high under close is high_below_open_close"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"3. low": "10.2000"})}, {"low_above_open_close": 1}, id="low over open is low_above_open_close"),  # noqa: E501
    pytest.param({"2024-13-45": GOOD, "yesterday": GOOD}, {"bad_timestamp": 2}, id="unparseable dates are bad_timestamp"),  # noqa: E501
    pytest.param({"2999-01-04": GOOD}, {"future_timestamp": 1}, id="a date after today is future_timestamp"),  # noqa: E501
    pytest.param({"2024-05-01": _bad(**{"4. close": None}), "2024-04-30": _bad(**{"5. volume": "-1"}), "2024-04-29": _bad(**{"5. volume": "-2"})}, {"missing_field": 1, "negative_volume": 2}, id="mixed reasons are counted apart"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize(("bad_bars", "expected"), SKIPS)
def test_invalid_bars_are_skipped_and_counted_by_reason(
    fake_av: FakeAlphaVantage,
    bad_bars: dict[str, dict[str, str]],
    expected: dict[str, int],
    datatype: str,
) -> None:
    fake_av.set_series("IBM", Function.DAILY, {**GOOD_DAYS, **bad_bars})
    series = fetch(fake_av, SeriesRequest("IBM", datatype=datatype))  # type: ignore[arg-type]
    assert series.skipped == expected
    assert [bar.ts.date().isoformat() for bar in series.bars] == ["2024-05-03", "2024-05-02"]


# Replies recorded in 2017 key the session in progress with the time its values were taken.
IN_SESSION = [
    pytest.param(Function.DAILY, "1d", id="daily"),
    pytest.param(Function.WEEKLY, "1w", id="weekly"),
    pytest.param(Function.MONTHLY, "1mo", id="monthly"),
]


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize(("function", "label"), IN_SESSION)
def test_a_bar_keyed_with_the_time_of_a_session_in_progress_belongs_to_that_date(
    fake_av: FakeAlphaVantage, function: Function, label: str, datatype: str
) -> None:
    in_session = {**GOOD, "4. close": "10.2500"}
    fake_av.set_series("IBM", function, {"2017-04-27 12:11:00": in_session, "2017-04-21": GOOD})
    request = SeriesRequest("IBM", function, datatype=datatype)  # type: ignore[arg-type]
    parsed = fetch(fake_av, request)
    assert parsed.skipped == {}
    assert [(bar.interval, bar.ts, bar.close) for bar in parsed.bars] == [
        (label, datetime(2017, 4, 27, 4, 0, tzinfo=UTC), Decimal("10.2500")),
        (label, datetime(2017, 4, 21, 4, 0, tzinfo=UTC), Decimal("10.5000")),
    ]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        pytest.param("2017-04-27 25:00:00", "bad_timestamp", id="an hour past 24 is bad_timestamp"),
        pytest.param("2017-04-27 noon", "bad_timestamp", id="a word for a time is bad_timestamp"),
        pytest.param("2017-04-27/12:11", "bad_timestamp", id="an odd separator is bad_timestamp"),
        pytest.param("2017-04-26 15:59:00", "duplicate_timestamp", id="a second bar for one date is duplicate_timestamp"),  # noqa: E501
    ],
)  # fmt: skip
def test_a_time_of_day_that_is_not_one_is_still_skipped(key: str, reason: str) -> None:
    series = {"2017-04-26": GOOD, key: GOOD}
    document = {"Meta Data": {"5. Time Zone": "US/Eastern"}, "Time Series (Daily)": series}
    parsed = parse_json(document, SeriesRequest("IBM"))
    assert parsed.skipped == {reason: 1}
    assert [bar.ts.date() for bar in parsed.bars] == [date(2017, 4, 26)]


def test_a_csv_whose_first_column_is_named_time_parses_as_timestamp() -> None:
    # The header of the retired TIME_SERIES_INTRADAY_EXTENDED (2020): "time", not "timestamp".
    text = "time,open,high,low,close,volume\r\n2020-12-18 19:58:00,10.0,11.0,9.0,10.5,1491\r\n"
    request = SeriesRequest("MSFT", Function.INTRADAY, interval="1min", datatype="csv")
    [bar] = parse_csv(text, request).bars
    assert (bar.ts, bar.close, bar.volume) == (
        datetime(2020, 12, 19, 0, 58, tzinfo=UTC),
        Decimal("10.5"),
        1491,
    )


def test_a_repeated_timestamp_keeps_the_first_bar(fake_av: FakeAlphaVantage) -> None:
    later = {**GOOD, "4. close": "10.9000"}
    # Two spellings of one intraday moment; CSV can also simply repeat a row.
    series = {
        "2024-05-02 10:00:00": GOOD,
        "2024-05-02T10:00:00": later,
        "2024-05-02 09:55:00": GOOD,
    }
    fake_av.set_series("IBM", Function.INTRADAY, series)
    for datatype in ("json", "csv"):
        request = SeriesRequest("IBM", Function.INTRADAY, interval="5min", datatype=datatype)  # type: ignore[arg-type]
        parsed = fetch(fake_av, request)
        assert parsed.skipped == {"duplicate_timestamp": 1}
        assert parsed.bars[0].close == Decimal("10.5000")


def test_each_skipped_bar_is_logged_with_symbol_date_and_reason(
    fake_av: FakeAlphaVantage, caplog: pytest.LogCaptureFixture
) -> None:
    fake_av.set_series(
        "IBM", Function.DAILY, {**GOOD_DAYS, "2024-05-01": _bad(**{"5. volume": "-5"})}
    )
    with caplog.at_level(logging.WARNING, logger="stockpipe.alphavantage.parse"):
        fetch(fake_av, SeriesRequest("IBM"))
    assert [r.getMessage() for r in caplog.records if r.name.endswith("parse")] == [
        "skipped bar: symbol=IBM date=2024-05-01 reason=negative_volume"
    ]


def test_many_skips_of_one_reason_are_summed_up(caplog: pytest.LogCaptureFixture) -> None:
    series = {f"2999-01-{day:02d}": GOOD for day in range(1, 26)} | {"2024-05-03": GOOD}
    document = {"Meta Data": {"5. Time Zone": "US/Eastern"}, "Time Series (Daily)": series}
    with caplog.at_level(logging.WARNING, logger="stockpipe.alphavantage.parse"):
        parsed = parse_json(document, SeriesRequest("IBM"))
    assert parsed.skipped == {"future_timestamp": 25}
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 11
    assert messages[-1] == "skipped 15 more bars of IBM for reason=future_timestamp"


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_a_payload_of_only_invalid_bars_raises_no_valid_bars(
    fake_av: FakeAlphaVantage, datatype: str
) -> None:
    fake_av.set_series(
        "IBM", Function.DAILY, {"2024-05-02": _bad(**{"4. close": "x"}), "bad-date": GOOD}
    )
    with pytest.raises(NoValidBars, match="every bar of IBM is invalid") as caught:
        fetch(fake_av, SeriesRequest("IBM", datatype=datatype))  # type: ignore[arg-type]
    assert caught.value.skipped == {"not_a_number": 1, "bad_timestamp": 1}
    assert caught.value.retryable is False
