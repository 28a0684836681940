"""The fake's LISTING_STATUS: 10,000 generated companies that list and delist from day to day
with the fake's date, re-used tickers, and bars that agree with the listing."""

from __future__ import annotations

import csv
import io
from datetime import date
from itertools import pairwise
from typing import Any

import requests

from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.listings import ListedCompany, ListingBook, generated_companies

DAY = date(2026, 6, 10)


def listing(fake: FakeAlphaVantage, **params: str) -> list[dict[str, str]]:
    reply = requests.get(
        fake.url,
        params={"function": "LISTING_STATUS", "apikey": fake.api_key, **params},
        timeout=60,
    )
    assert reply.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(reply.text)))


def daily(fake: FakeAlphaVantage, symbol: str) -> Any:
    params = {"function": "TIME_SERIES_DAILY", "symbol": symbol, "outputsize": "full"}
    return requests.get(fake.url, params={**params, "apikey": fake.api_key}, timeout=60).json()


def test_ten_thousand_companies_on_every_exchange_the_same_on_every_call() -> None:
    companies = generated_companies(10_000)
    assert companies == generated_companies(10_000, 0)
    firsts = {c.symbol for c in companies}
    assert len(firsts) == 10_000
    assert {c.exchange for c in companies} == {"NYSE", "NASDAQ", "NYSE ARCA", "NYSE MKT", "BATS"}
    assert {c.asset_type for c in companies} == {"Stock", "ETF"}
    book = ListingBook(companies)
    reused = [s for s in firsts if len([c for c in companies if c.symbol == s]) > 1]
    assert len(reused) > 100
    for symbol in reused:
        old, new = sorted((c for c in companies if c.symbol == symbol), key=lambda c: c.ipo_date)
        assert old.delisting_date is not None and new.ipo_date > old.delisting_date
        assert book.holder(symbol, new.ipo_date) == new


def test_the_listing_changes_from_day_to_day_exactly_by_the_days_listings_and_delistings(
    fake_av: FakeAlphaVantage,
) -> None:
    fake_av.configure(listing_size=10_000, end_date=date(2026, 6, 12))
    companies = generated_companies(10_000)
    days = [date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 10), date(2026, 6, 11)]
    active = {d: {(r["symbol"], r["ipoDate"]) for r in listing(fake_av, date=d.isoformat())}
              for d in days}  # fmt: skip
    changed = 0
    for before, after in pairwise(days):
        listed = {(c.symbol, c.ipo_date.isoformat()) for c in companies if c.ipo_date == after}
        gone = {(c.symbol, c.ipo_date.isoformat()) for c in companies if c.delisting_date == after}
        assert active[after] - active[before] == listed
        assert active[before] - active[after] == gone
        changed += len(listed) + len(gone)
    assert changed > 0
    delisted = listing(fake_av, state="delisted", date=days[-1].isoformat())
    assert all(r["status"] == "Delisted" and r["delistingDate"] <= "2026-06-11" for r in delisted)
    assert len(active[days[-1]]) + len(delisted) == sum(
        1 for c in companies if c.ipo_date <= days[-1]
    )


def test_a_bad_state_or_date_is_an_invalid_call(fake_av: FakeAlphaVantage) -> None:
    for params in ({"state": "all"}, {"date": "2009-12-31"}, {"date": "06/10/2026"}):
        reply = requests.get(
            fake_av.url,
            params={"function": "LISTING_STATUS", "apikey": fake_av.api_key, **params},
            timeout=30,
        ).json()
        assert reply == {
            "Error Message": "Invalid API call. Please retry or visit the documentation"
            " (https://www.alphavantage.co/documentation/) for LISTING_STATUS."
        }


def test_bars_follow_the_listing(fake_av: FakeAlphaVantage) -> None:
    fake_av.configure(end_date=DAY)
    fake_av.set_listing(
        [
            ListedCompany("YNGR", "Young Corp", "NYSE", "Stock", date(2026, 6, 3)),
            ListedCompany("OLDR", "Old Corp", "NYSE", "Stock", date(2010, 1, 4), date(2026, 6, 5)),
            ListedCompany("RUSE", "First Co", "NYSE", "Stock", date(2011, 1, 3), date(2026, 1, 2)),
            ListedCompany("RUSE", "Second Corp", "NYSE", "Stock", date(2026, 6, 1)),
            ListedCompany("LATE", "Late Corp", "NYSE", "Stock", date(2026, 7, 1)),
        ]
    )  # fmt: skip
    series = "Time Series (Daily)"
    assert sorted(daily(fake_av, "YNGR")[series]) == [
        "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-08", "2026-06-09", "2026-06-10",
    ]  # fmt: skip
    assert max(daily(fake_av, "OLDR")[series]) == "2026-06-04", "none from the delisting on"
    assert min(daily(fake_av, "RUSE")[series]) == "2026-06-01", "the new company's bars only"
    assert "Error Message" in daily(fake_av, "LATE"), "not listed yet: an invalid symbol"
    assert len(daily(fake_av, "IBM")[series]) == 5000, "a ticker outside the book is untouched"
