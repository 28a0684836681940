"""LISTING_STATUS: the CSV parsed exactly ("null" delisting dates are None, one listing per
symbol and IPO date), malformed rows skipped and counted, broken answers refused, failures
classified like every other function's."""

from __future__ import annotations

from datetime import date

import pytest

from stockpipe.alphavantage import InvalidCall, MalformedResponse, RateLimited
from stockpipe.alphavantage.listings import (
    Listing,
    ListingRequest,
    ListingState,
    parse_listing_csv,
)
from stockpipe.testing import FakeAlphaVantage, Fault
from stockpipe.testing.listings import ListedCompany
from tests.alphavantage.helpers import RecordingGate, client_for

HEADER = "symbol,name,exchange,assetType,ipoDate,delistingDate,status\r\n"
ACTIVE = ListingRequest(ListingState.ACTIVE)
DELISTED = ListingRequest(ListingState.DELISTED)


def test_active_rows_are_parsed_exactly() -> None:
    text = HEADER + (
        'A,"Agilent Technologies, Inc",NYSE,Stock,1999-11-18,null,Active\r\n'
        "SPY,SPDR S&P 500 ETF Trust,NYSE ARCA,ETF,1993-01-22,null,Active\r\n"
    )
    parsed = parse_listing_csv(text, ACTIVE)
    assert parsed.items == [
        Listing("A", "Agilent Technologies, Inc", "NYSE", "Stock", date(1999, 11, 18), None,
                "Active"),
        Listing("SPY", "SPDR S&P 500 ETF Trust", "NYSE ARCA", "ETF", date(1993, 1, 22), None,
                "Active"),
    ]  # fmt: skip
    assert parsed.skipped == {}


def test_a_reused_ticker_gives_two_listings_and_a_repeated_row_is_skipped() -> None:
    text = HEADER + (
        "RUSE,Old Reuse Corp,NYSE,Stock,2012-06-01,2020-03-02,Delisted\r\n"
        "RUSE,Old Reuse Corp,NYSE,Stock,2012-06-01,2020-03-02,Delisted\r\n"
        "RUSE,Older Reuse Co,NYSE,Stock,2001-02-01,2008-03-03,Delisted\r\n"
    )
    parsed = parse_listing_csv(text, DELISTED)
    assert [(i.symbol, i.ipo_date, i.delisting_date) for i in parsed.items] == [
        ("RUSE", date(2012, 6, 1), date(2020, 3, 2)),
        ("RUSE", date(2001, 2, 1), date(2008, 3, 3)),
    ]
    assert parsed.skipped == {"duplicate": 1}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("AB,Short Row,NYSE,Stock,2001-01-02,null", "short_row"),
        ("ab c,Bad Ticker,NYSE,Stock,2001-01-02,null,Active", "bad_symbol"),
        ("NOIPO,No Ipo,NYSE,Stock,null,null,Active", "missing_ipo_date"),
        ("BADDT,Bad Date,NYSE,Stock,2001-13-02,null,Active", "bad_date"),
        ("DLST,Delisted In Active,NYSE,Stock,2001-01-02,2003-01-02,Delisted", "bad_status"),
    ],
    ids=["a short row", "a ticker with a space", "no IPO date", "month 13",
         "a delisted row in the active answer"],
)  # fmt: skip
def test_a_malformed_row_is_skipped_and_counted(row: str, reason: str) -> None:
    text = HEADER + row + "\r\nIBM,IBM,NYSE,Stock,1962-01-02,null,Active\r\n"
    parsed = parse_listing_csv(text, ACTIVE)
    assert [i.symbol for i in parsed.items] == ["IBM"]
    assert parsed.skipped == {reason: 1}


def test_an_answer_without_its_header_or_any_valid_active_row_is_refused() -> None:
    with pytest.raises(MalformedResponse, match="expected the header symbol,name,exchange"):
        parse_listing_csv("timestamp,open\r\n", ACTIVE)
    with pytest.raises(MalformedResponse, match="state=active holds no valid listing"):
        parse_listing_csv(HEADER, ACTIVE)
    assert parse_listing_csv(HEADER, DELISTED).items == [], "nothing delisted yet is an answer"


def test_the_request_says_which_state_and_day(fake_av: FakeAlphaVantage) -> None:
    assert ListingRequest(ListingState.DELISTED, date(2015, 1, 2)).query_params() == {
        "function": "LISTING_STATUS", "state": "delisted", "date": "2015-01-02",
    }  # fmt: skip
    with pytest.raises(ValueError, match="reaches back to 2010-01-01"):
        ListingRequest(ListingState.ACTIVE, date(2009, 12, 31))


def test_the_client_fetches_both_states_from_the_fake(fake_av: FakeAlphaVantage) -> None:
    fake_av.configure(end_date=date(2024, 5, 8))
    fake_av.set_listing(
        [
            ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
            ListedCompany("GONE", "Gone Inc", "NASDAQ", "Stock", date(2016, 1, 4),
                          date(2024, 5, 7)),
        ]
    )  # fmt: skip
    gate = RecordingGate()
    with client_for(fake_av, gate=gate) as client:
        active = client.fetch_listing(ListingState.ACTIVE)
        delisted = client.fetch_listing(ListingState.DELISTED)
        earlier = client.fetch_listing(ListingState.DELISTED, date(2024, 5, 6))
    assert [i.symbol for i in active.items] == ["KEEP"]
    assert [(i.symbol, i.delisting_date) for i in delisted.items] == [("GONE", date(2024, 5, 7))]
    assert earlier.items == []
    assert gate.acquired == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Fault.RATE_LIMIT_DAY, RateLimited), (Fault.INVALID_CALL, InvalidCall)],
    ids=["a rate-limit notice", "an invalid call"],
)
def test_a_notice_is_classified_like_any_other_functions(
    fake_av: FakeAlphaVantage, fault: Fault, error: type[Exception]
) -> None:
    fake_av.inject(fault, function="LISTING_STATUS")
    with client_for(fake_av) as client, pytest.raises(error):
        client.fetch_listing(ListingState.ACTIVE)
