"""The corporate-action records every layer passes around: a split and a dividend.

Beside `Bar` and for the same reason: the vendor's parser builds them, storage writes them, and
neither layer may import the other (alphavantage/actions.py parses, store/corporate_actions.py
stores).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Split:
    symbol: str
    effective_date: date
    split_factor: Decimal  # new shares per old share: 4 for a 4-for-1 split
    raw: dict[str, Any]  # the vendor's object, strings as sent


@dataclass(frozen=True, slots=True)
class Dividend:
    symbol: str
    ex_dividend_date: date
    declaration_date: date | None
    record_date: date | None
    payment_date: date | None
    amount: Decimal  # per share, in the currency of the quotes of its ex-date
    raw: dict[str, Any]
