"""SPLITS and DIVIDENDS: parsed exactly ("None" dates are None, vendor objects kept), malformed
rows skipped and counted, failures classified like the time series' (HTTP 200 notices)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from stockpipe.alphavantage import (
    ActionFunction,
    ActionRequest,
    InvalidCall,
    MalformedResponse,
    PremiumEndpoint,
    RateLimited,
)
from stockpipe.alphavantage.actions import parse_dividends, parse_splits
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.alphavantage.helpers import client_for

SPLITS = ActionRequest("IBM", ActionFunction.SPLITS)
DIVIDENDS = ActionRequest("IBM", ActionFunction.DIVIDENDS)
IBM_DIVIDEND = {
    "ex_dividend_date": "2024-05-09",
    "declaration_date": "2024-04-30",
    "record_date": "2024-05-10",
    "payment_date": "None",
    "amount": "1.67",
}


def test_a_split_keeps_its_exact_factor_and_the_vendor_object() -> None:
    row = {"effective_date": "2021-11-04", "split_factor": "1.0460"}
    parsed = parse_splits({"symbol": "IBM", "data": [row]}, SPLITS)
    [split] = parsed.items
    assert (split.effective_date, str(split.split_factor), split.raw) == (
        date(2021, 11, 4),
        "1.0460",
        row,
    )
    assert parsed.skipped == {}


def test_none_dates_of_a_dividend_become_none() -> None:
    [dividend] = parse_dividends({"symbol": "IBM", "data": [IBM_DIVIDEND]}, DIVIDENDS).items
    assert dividend.ex_dividend_date == date(2024, 5, 9)
    assert (dividend.declaration_date, dividend.record_date) == (
        date(2024, 4, 30),
        date(2024, 5, 10),
    )
    assert dividend.payment_date is None
    assert dividend.amount == Decimal("1.67") and dividend.raw is IBM_DIVIDEND


def test_a_symbol_without_actions_is_an_empty_list_not_an_error() -> None:
    assert parse_splits({"symbol": "IBM", "data": []}, SPLITS).items == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param("2024-01-01", "not_an_object", id="a row that is not an object"),
        pytest.param(
            {**IBM_DIVIDEND, "ex_dividend_date": "None"},
            "missing_ex_date",
            id="a dividend without ex-date",
        ),
        pytest.param(
            {**IBM_DIVIDEND, "record_date": "10/05/2024"}, "bad_date", id="a date in another format"
        ),
        pytest.param({**IBM_DIVIDEND, "amount": "-0.5"}, "bad_amount", id="a negative amount"),
        pytest.param({**IBM_DIVIDEND, "amount": "None"}, "bad_amount", id="an unknown amount"),
        pytest.param(IBM_DIVIDEND, "duplicate_date", id="a second dividend on the same ex-date"),
    ],
)
def test_a_malformed_dividend_is_skipped_and_counted(row: Any, reason: str) -> None:
    parsed = parse_dividends({"symbol": "IBM", "data": [IBM_DIVIDEND, row]}, DIVIDENDS)
    assert len(parsed.items) == 1 and parsed.skipped == {reason: 1}


@pytest.mark.parametrize(
    "factor",
    [
        pytest.param("0", id="zero"),
        pytest.param("abc", id="not a number"),
        pytest.param("NaN", id="NaN"),
    ],
)
def test_a_split_with_a_bad_factor_is_skipped(factor: str) -> None:
    good = {"effective_date": "2020-08-31", "split_factor": "4.0000"}
    data = [good, {"effective_date": "2021-01-04", "split_factor": factor}]
    assert parse_splits({"symbol": "IBM", "data": data}, SPLITS).skipped == {"bad_split_factor": 1}


def test_an_answer_whose_every_row_is_malformed_is_an_error() -> None:
    with pytest.raises(
        MalformedResponse, match=r"every row of IBM SPLITS is invalid \(bad_date=1\)"
    ):
        parse_splits({"symbol": "IBM", "data": [{"effective_date": "soon"}]}, SPLITS)


def test_an_answer_for_another_symbol_is_refused() -> None:
    with pytest.raises(
        MalformedResponse, match="asked for IBM but the SPLITS response is for MSFT"
    ):
        parse_splits({"symbol": "MSFT", "data": []}, SPLITS)


def test_the_client_fetches_both_from_the_fake_over_http(fake_av: FakeAlphaVantage) -> None:
    fake_av.set_actions("IBM", splits=[{"effective_date": "2021-11-04", "split_factor": "1.0460"}])
    with client_for(fake_av) as client:
        splits = client.fetch_splits("IBM")
        dividends = client.fetch_dividends("IBM")
    assert [(s.effective_date, str(s.split_factor)) for s in splits.items] == [
        (date(2021, 11, 4), "1.0460")
    ]
    assert dividends.items and all(d.amount > 0 for d in dividends.items)
    assert [(c.function, c.symbol) for c in fake_av.calls()] == [
        ("SPLITS", "IBM"),
        ("DIVIDENDS", "IBM"),
    ]


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        pytest.param(
            Fault.RATE_LIMIT_DAY, RateLimited, "daily call limit", id="the daily rate limit"
        ),
        pytest.param(
            Fault.PREMIUM_ENDPOINT,
            PremiumEndpoint,
            "DIVIDENDS is a premium endpoint",
            id="a premium endpoint",
        ),
        pytest.param(
            Fault.INVALID_CALL,
            InvalidCall,
            "rejected IBM DIVIDENDS as an invalid API call",
            id="an invalid symbol",
        ),
        pytest.param(
            Fault.WRONG_KEYS, MalformedResponse, "names no symbol", id="a body with other keys"
        ),
    ],
)
def test_failures_arrive_as_http_200_and_are_classified_like_the_time_series(
    fake_av: FakeAlphaVantage, fault: Fault, error: type[Exception], message: str
) -> None:
    fake_av.inject(fault, function="DIVIDENDS")
    with client_for(fake_av) as client, pytest.raises(error, match=message):
        client.fetch_dividends("IBM")
    assert [c.outcome for c in fake_av.calls()] == [fault.value]
