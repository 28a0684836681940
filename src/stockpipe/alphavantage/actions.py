"""Corporate actions: the SPLITS and DIVIDENDS functions, their request and their parsers.

Both answer `{"symbol": "IBM", "data": [...]}` with every action Alpha Vantage knows (dividends
include declared future ones). Values arrive as strings; an unknown date is the string "None".
Each action keeps the vendor's object exactly (`raw`), and its typed values: dates (None for
"None"), exact decimals. A malformed row is skipped, logged and counted by reason, like a bar;
a payload whose every row is malformed is an error (storing nothing beats storing garbage).
Failures arrive as HTTP 200 notices, exactly as for the time series, and go through the same
classifier (stockpipe.alphavantage.classify).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from stockpipe.alphavantage.errors import MalformedResponse
from stockpipe.corporate_actions import Dividend, Split

log = logging.getLogger(__name__)

ACTION_SKIP_REASONS = (
    "not_an_object",
    "bad_date",
    "missing_ex_date",
    "bad_split_factor",
    "bad_amount",
    "duplicate_date",
)
NONE = "None"  # how Alpha Vantage writes an unknown date


class ActionFunction(StrEnum):
    SPLITS = "SPLITS"
    DIVIDENDS = "DIVIDENDS"


@dataclass(frozen=True)
class ActionRequest:
    """One SPLITS or DIVIDENDS call, without the API key (the client adds it)."""

    symbol: str
    function: ActionFunction
    outputsize: str | None = None  # the classifier's question; these functions have none
    datatype: str = "json"  # JSON only: the payload is a list of objects
    series_key: str = "data"

    def __post_init__(self) -> None:
        if not self.symbol or self.symbol != self.symbol.strip():
            raise ValueError(f"symbol {self.symbol!r} must be a non-empty ticker")

    def query_params(self) -> dict[str, str]:
        return {"function": self.function.value, "symbol": self.symbol}

    def describe(self) -> str:
        return f"{self.symbol} {self.function.value}"


@dataclass
class Splits:
    symbol: str
    items: list[Split]
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class Dividends:
    symbol: str
    items: list[Dividend]
    skipped: dict[str, int] = field(default_factory=dict)


class _Skip(Exception):  # control flow only, never escapes this module
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _date(value: object, *, required: str = "") -> date | None:
    """An ISO date, or None for Alpha Vantage's "None" (a skip when `required` names a reason)."""
    if value is None or value in (NONE, ""):
        if required:
            raise _Skip(required)
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise _Skip("bad_date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Skip("bad_date") from None


def _decimal(value: object, reason: str, *, positive: bool) -> Decimal:
    if not isinstance(value, str):
        raise _Skip(reason)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _Skip(reason) from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise _Skip(reason)
    return number


def _rows(document: dict[str, Any], request: ActionRequest) -> list[Any]:
    symbol = document.get("symbol")
    if symbol is None:  # a body that merely holds a "data" key is not an answer
        keys = ", ".join(repr(key) for key in list(document)[:5])
        raise MalformedResponse(f"{request.describe()}: the answer names no symbol (keys: {keys})")
    if str(symbol).upper() != request.symbol.upper():
        raise MalformedResponse(
            f"asked for {request.symbol} but the {request.function.value} response is for "
            f"{str(symbol)[:20]}; not storing it"
        )
    rows = document.get("data")
    if not isinstance(rows, list):
        raise MalformedResponse(f"{request.describe()}: 'data' is not a list")
    return rows


class _Tally:
    def __init__(self, request: ActionRequest) -> None:
        self.request = request
        self.skipped: Counter[str] = Counter()

    def skip(self, row: object, reason: str) -> None:
        self.skipped[reason] += 1
        if self.skipped[reason] <= 10:
            log.warning("skipped %s row of %s: %s (%.120r)", self.request.function.value,
                        self.request.symbol, reason, row)  # fmt: skip

    def finish(self, rows: list[Any], kept: int) -> dict[str, int]:
        if rows and not kept:
            summary = ", ".join(f"{r}={n}" for r, n in sorted(self.skipped.items()))
            raise MalformedResponse(
                f"every row of {self.request.describe()} is invalid ({summary})"
            )
        return dict(self.skipped)


def parse_splits(document: dict[str, Any], request: ActionRequest) -> Splits:
    rows = _rows(document, request)
    tally = _Tally(request)
    items: dict[date, Split] = {}
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise _Skip("not_an_object")
            day = _date(row.get("effective_date"), required="bad_date")
            factor = _decimal(row.get("split_factor"), "bad_split_factor", positive=True)
            assert day is not None
            if day in items:
                raise _Skip("duplicate_date")
        except _Skip as skip:
            tally.skip(row, skip.reason)
            continue
        items[day] = Split(request.symbol, day, factor, row)
    skipped = tally.finish(rows, len(items))
    return Splits(request.symbol, sorted(items.values(), key=lambda s: s.effective_date), skipped)


def parse_dividends(document: dict[str, Any], request: ActionRequest) -> Dividends:
    """One dividend per ex-date: a second row for the same ex-date is skipped and counted
    (the table is keyed by it; Alpha Vantage has not been seen listing two)."""
    rows = _rows(document, request)
    tally = _Tally(request)
    items: dict[date, Dividend] = {}
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise _Skip("not_an_object")
            ex_date = _date(row.get("ex_dividend_date"), required="missing_ex_date")
            assert ex_date is not None
            dividend = Dividend(
                request.symbol,
                ex_date,
                _date(row.get("declaration_date")),
                _date(row.get("record_date")),
                _date(row.get("payment_date")),
                _decimal(row.get("amount"), "bad_amount", positive=False),
                row,
            )
            if ex_date in items:
                raise _Skip("duplicate_date")
        except _Skip as skip:
            tally.skip(row, skip.reason)
            continue
        items[ex_date] = dividend
    skipped = tally.finish(rows, len(items))
    ordered = sorted(items.values(), key=lambda d: d.ex_dividend_date)
    return Dividends(request.symbol, ordered, skipped)
