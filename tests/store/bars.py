"""Bars for storage tests: predictable values, real JSON in `raw`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson

from stockpipe.bars import Bar

START = datetime(2024, 1, 2, tzinfo=UTC)


def make_bar(symbol: str = "IBM", day: int = 0, close: str = "100.0000", **changes: object) -> Bar:
    ts = START + timedelta(days=day)
    fields: dict[str, object] = {
        "symbol": symbol,
        "interval": "1d",
        "ts": ts,
        "open": Decimal("99.5000"),
        "high": Decimal("101.2500"),
        "low": Decimal("98.0100"),
        "close": Decimal(close),
        "volume": 1_000 + day,
        "adjusted_close": None,
        "dividend_amount": None,
        "split_coefficient": None,
    }
    fields.update(changes)
    raw = {
        "1. open": str(fields["open"]),
        "2. high": str(fields["high"]),
        "3. low": str(fields["low"]),
        "4. close": str(fields["close"]),
        "5. volume": str(fields["volume"]),
    }
    fields.setdefault("raw", orjson.dumps(raw))
    return Bar(**fields)  # type: ignore[arg-type]


def make_bars(symbols: tuple[str, ...] = ("IBM",), days: int = 10) -> list[Bar]:
    return [make_bar(symbol, day) for symbol in symbols for day in range(days)]
