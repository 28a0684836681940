"""The one record every layer passes around: a validated OHLCV bar."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class Bar(NamedTuple):
    """One validated bar, ready to store.

    `ts` is timezone-aware UTC. Prices are exact decimals as Alpha Vantage sent them (never
    round-tripped through float). `raw` is the bar's original JSON object, already encoded,
    so the loader can hand it to PostgreSQL's JSONB without re-serialising it.

    A NamedTuple rather than a frozen dataclass: immutable and typed all the same, but built
    by tuple.__new__ in C, where a frozen dataclass sets each of its 12 fields through
    object.__setattr__ (~4 ms per 5,000-bar payload, a tenth of a symbol's ingest).
    Copy with changes through `bar._replace(...)`.
    """

    symbol: str
    interval: str  # "1d", "1w", "1mo", "1min" ... "60min"
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    raw: bytes
    adjusted_close: Decimal | None = None
    dividend_amount: Decimal | None = None
    split_coefficient: Decimal | None = None
