"""The fake's LISTING_STATUS: a universe of listings that changes from day to day.

A listing book holds companies, each a ticker with an IPO date and perhaps a delisting date.
Seen on a day D (the fake's end date, or the request's `date`), a company is not listed yet
before its IPO, active from its IPO, and delisted from its delisting date on: so the answer
changes as the fake's clock moves, and never depends on the wall clock.

The book is generated from (size, seed): `size` companies under tickers ZAAA, ZAAB, ... (no
real ticker starts so, so a test's IBM is never caught), on the five exchanges LISTING_STATUS
names, mostly stocks (ETFs on NYSE ARCA and BATS), IPO dates spread over weekdays from 1999 to
2030 (about one a weekday for 10,000), a quarter of them delisted later, and one delisted
company in ten followed by a new company under the same ticker (a re-used ticker). A test adds
exact companies of its own (`ListedCompany`).

The bars the fake serves follow the book: a listed ticker has bars from the IPO of the company
that holds it on that day, and none from its delisting date on (the delisting date is the
first session without trading); before its first IPO the ticker is an invalid symbol.
"""

from __future__ import annotations

import csv
import io
import random
import zlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from stockpipe.alphavantage.listings import FIRST_LISTING_DATE, HEADER
from stockpipe.testing.faults import invalid_call, notice_body
from stockpipe.testing.http import Reply

MAX_GENERATED = 26**3  # ZAAA .. ZZZZ
_FIRST_IPO = date(1999, 11, 1)
_LAST_DAY = date(2030, 12, 31)
_EXCHANGES = (("NYSE", 35), ("NASDAQ", 45), ("NYSE ARCA", 10), ("NYSE MKT", 5), ("BATS", 5))
_WORDS = ("Acme", "Blue", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iron",
          "Juniper", "Keystone", "Lumen", "Maple", "Nova", "Orion", "Pioneer", "Quartz", "River",
          "Summit", "Titan", "Union", "Vertex", "Willow", "Xenon", "Yukon", "Zephyr")  # fmt: skip
_SUFFIXES = ("Inc", "Corp", "Holdings", "Group", "Technologies", "Bancorp")


@dataclass(frozen=True, slots=True)
class ListedCompany:
    """One company under a ticker: listed on its IPO date, gone from its delisting date on."""

    symbol: str
    name: str
    exchange: str
    asset_type: str  # "Stock" or "ETF"
    ipo_date: date
    delisting_date: date | None = None

    def listed_on(self, day: date) -> bool:
        return self.ipo_date <= day

    def delisted_on(self, day: date) -> bool:
        return self.delisting_date is not None and self.delisting_date <= day

    def row(self, day: date) -> list[str]:
        delisted = self.delisted_on(day)
        return [
            self.symbol, self.name, self.exchange, self.asset_type, self.ipo_date.isoformat(),
            self.delisting_date.isoformat() if delisted and self.delisting_date else "null",
            "Delisted" if delisted else "Active",
        ]  # fmt: skip


def _weekday_after(day: date, weekdays: int) -> date:
    """The date `weekdays` weekdays after `day` (holidays count: a listing date may fall on
    one, which only means the first or last bar is the next or previous session)."""
    step = 0
    while step < weekdays:
        day += timedelta(days=1)
        if day.weekday() < 5:
            step += 1
    return day


def _random_weekday(rng: random.Random, first: date, last: date) -> date:
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    return day - timedelta(days=max(0, day.weekday() - 4))  # a weekend falls back to Friday


def _ticker(index: int) -> str:
    letters = []
    for _ in range(3):
        index, rest = divmod(index, 26)
        letters.append(chr(ord("A") + rest))
    return "Z" + "".join(reversed(letters))


def _name(rng: random.Random, etf: bool) -> str:
    words = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"
    return f"{words} ETF Trust" if etf else f"{words} {rng.choice(_SUFFIXES)}"


@lru_cache(maxsize=4)
def generated_companies(size: int, seed: int = 0) -> tuple[ListedCompany, ...]:
    """`size` companies (plus the successors of re-used tickers), the same for the same
    arguments on every machine."""
    if not 0 <= size <= MAX_GENERATED:
        raise ValueError(f"listing size {size} is outside 0..{MAX_GENERATED}")
    companies = []
    names = [name for name, _ in _EXCHANGES]
    weights = [weight for _, weight in _EXCHANGES]
    for index in range(size):
        rng = random.Random(zlib.crc32(f"listing|{seed}|{index}".encode()))
        symbol = _ticker(index)
        exchange = rng.choices(names, weights)[0]
        etf = exchange in ("NYSE ARCA", "BATS") and rng.random() < 0.8
        ipo = _random_weekday(rng, _FIRST_IPO, _LAST_DAY)
        delisting = None
        if rng.random() < 0.25 and ipo < _LAST_DAY - timedelta(days=60):
            delisting = _random_weekday(rng, _weekday_after(ipo, 20), _LAST_DAY)
        kind = "ETF" if etf else "Stock"
        companies.append(ListedCompany(symbol, _name(rng, etf), exchange, kind, ipo, delisting))
        if delisting is not None and rng.random() < 0.1:  # the ticker goes to a new company
            successor_ipo = _weekday_after(delisting, rng.randint(1, 250))
            companies.append(
                ListedCompany(symbol, _name(rng, False), exchange, "Stock", successor_ipo)
            )
    return tuple(companies)


class ListingBook:
    """Every company of the fake's universe, by ticker, oldest IPO first."""

    def __init__(self, companies: tuple[ListedCompany, ...]) -> None:
        self.companies = companies
        self._by_symbol: dict[str, list[ListedCompany]] = {}
        for company in sorted(companies, key=lambda c: (c.symbol, c.ipo_date)):
            self._by_symbol.setdefault(company.symbol, []).append(company)

    def __bool__(self) -> bool:
        return bool(self.companies)

    def holder(self, symbol: str, day: date) -> ListedCompany | None:
        """The company a ticker means on `day`: the latest to have listed by then."""
        history = self._by_symbol.get(symbol.upper())
        if not history:
            return None
        listed = bisect_right([c.ipo_date for c in history], day)
        return history[listed - 1] if listed else None

    def knows(self, symbol: str) -> bool:
        return symbol.upper() in self._by_symbol

    def csv(self, state: str, day: date) -> bytes:
        """The LISTING_STATUS answer for `state` on `day`, CSV as the vendor writes it."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for company in self.companies:
            if not company.listed_on(day) or company.delisted_on(day) != (state == "delisted"):
                continue
            writer.writerow(company.row(day))
        return out.getvalue().encode()


def listing_day(param: str | None, today: date) -> date | None:
    """The day a request asks about: `date` (from 2010-01-01, at most `today`) or today;
    None for a `date` the vendor would reject."""
    if param is None or not param.strip():
        return today
    try:
        day = date.fromisoformat(param.strip())
    except ValueError:
        return None
    return None if day < FIRST_LISTING_DATE else min(day, today)


def sessions_outside(company: ListedCompany, sessions: tuple[date, ...]) -> frozenset[date]:
    """The sessions a company has no bar for: before its IPO, from its delisting date on."""
    return frozenset(
        day
        for day in sessions
        if day < company.ipo_date
        or (company.delisting_date is not None and day >= company.delisting_date)
    )


def listing_reply(book: ListingBook, params: dict[str, str], today: date) -> tuple[Reply, str]:
    """The reply to a LISTING_STATUS request and the outcome the call log records."""
    state = params.get("state", "active").strip().lower() or "active"
    day = listing_day(params.get("date"), today)
    if state not in ("active", "delisted") or day is None:
        body = notice_body("Error Message", invalid_call("LISTING_STATUS"))
        return Reply(200, body), "invalid_call"
    return Reply(200, book.csv(state, day), "text/csv"), "data"


def companies_from(items: Iterable[ListedCompany | dict[str, Any]]) -> tuple[ListedCompany, ...]:
    """Companies given as objects or as JSON-style dicts (the HTTP control endpoint)."""
    companies = []
    for item in items:
        if isinstance(item, ListedCompany):
            companies.append(item)
            continue
        fields = dict(item)
        for name in ("ipo_date", "delisting_date"):
            if isinstance(fields.get(name), str):
                fields[name] = date.fromisoformat(fields[name])
        fields["symbol"] = str(fields["symbol"]).upper()
        companies.append(ListedCompany(**fields))
    return tuple(companies)
