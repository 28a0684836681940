"""The fake server's corporate actions: each symbol's splits and dividends, and the adjusted
prices they imply.

By default every symbol gets a deterministic schedule: a dividend every 63 sessions (0.5 % of
that day's close) and a split every 2,520 sessions (about ten years; 2-, 3-, 3:2- or 4-for-1),
each at a phase seeded by the symbol. The control API replaces either list for one symbol with
vendor objects served exactly as given ("None" dates, restated amounts, odd rows), and the
daily series follows them: as-traded prices divide by a split's factor from its effective date
on, the bar of an ex-date carries the dividend, and the adjusted close is recomputed.

`adjustment_factors` is the reference of the adjustment method (CRSP/LEAN, see
docs/architecture.md): the stock_data_adjusted view (migration 0011) computes the very same
numbers in SQL, including where it rounds, so tests can compare them exactly.
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

# A vendor object as hashable items, in the vendor's key order (the fake caches by them).
ActionRow = tuple[tuple[str, str], ...]
ActionRows = tuple[ActionRow, ...]

SPLIT_EVERY = 2520
DIVIDEND_EVERY = 63
_SPLIT_FACTORS = (Decimal("2.0000"), Decimal("3.0000"), Decimal("1.5000"), Decimal("4.0000"))
# Where the method rounds (PostgreSQL's round(): half away from zero, as ROUND_HALF_UP here).
FACTOR_PLACES = 12  # one ex-date's price factor
CUMULATIVE_PLACES = 16  # the running product of factors
PRICE_PLACES = 4  # adjusted prices, like Alpha Vantage's


@dataclass(frozen=True)
class ActionOverride:
    """A symbol's actions set through the control API; None keeps that kind's default."""

    splits: ActionRows | None = None
    dividends: ActionRows | None = None


NO_OVERRIDE = ActionOverride()


def as_rows(objects: Iterable[Mapping[str, object]]) -> ActionRows:
    return tuple(tuple((str(k), str(v)) for k, v in obj.items()) for obj in objects)


def _seed(*parts: object) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


def default_split_days(symbol: str, sessions: Sequence[date]) -> dict[date, Decimal]:
    """Session of each default split -> its factor."""
    rng = random.Random(_seed(symbol.upper(), "splits"))
    phase = rng.randrange(SPLIT_EVERY)
    return {
        sessions[i]: _SPLIT_FACTORS[rng.randrange(len(_SPLIT_FACTORS))]
        for i in range(phase, len(sessions), SPLIT_EVERY)
    }


def is_default_dividend(index: int, phase: int) -> bool:
    return index % DIVIDEND_EVERY == phase


def _on_session(day: date, sessions: Sequence[date]) -> date | None:
    """The first session on or after `day` (an action dated on a weekend takes effect then)."""
    at = bisect.bisect_left(sessions, day)
    return sessions[at] if at < len(sessions) else None


def _valued(rows: ActionRows, date_key: str, value_key: str) -> list[tuple[date, Decimal]]:
    """(date, value) of the rows whose two fields parse; odd rows are served, never applied."""
    found = []
    for row in rows:
        fields = dict(row)
        try:
            day = date.fromisoformat(fields.get(date_key, ""))
            value = Decimal(fields.get(value_key, ""))
        except (ValueError, InvalidOperation):
            continue
        if value.is_finite() and value >= 0:
            found.append((day, value))
    return found


def override_split_days(rows: ActionRows, sessions: Sequence[date]) -> dict[date, Decimal]:
    days: dict[date, Decimal] = {}
    for day, factor in _valued(rows, "effective_date", "split_factor"):
        session = _on_session(day, sessions)
        if session is not None and factor > 0:
            days[session] = days.get(session, Decimal(1)) * factor
    return days


def override_dividend_days(rows: ActionRows, sessions: Sequence[date]) -> dict[date, Decimal]:
    days: dict[date, Decimal] = {}
    for day, amount in _valued(rows, "ex_dividend_date", "amount"):
        session = _on_session(day, sessions)
        if session is not None:
            days[session] = days.get(session, Decimal(0)) + amount
    return days


def default_dividend_rows(paid: Sequence[tuple[date, Decimal]], end: date) -> list[dict[str, str]]:
    """Vendor objects for dividends on (ex-date, amount), newest first, plus a declared one whose
    ex-date lies after `end`. Old ones lack a declaration date ("None"), as the vendor's do."""
    rows = []
    for ex_date, amount in paid:
        rows.append(
            {
                "ex_dividend_date": ex_date.isoformat(),
                "declaration_date": "None"
                if ex_date.year < 2004
                else (ex_date - timedelta(days=21)).isoformat(),
                "record_date": (ex_date + timedelta(days=1)).isoformat(),
                "payment_date": (ex_date + timedelta(days=24)).isoformat(),
                "amount": str(amount),
            }
        )
    if paid:
        declared = end + timedelta(days=35)
        rows.append(
            {
                "ex_dividend_date": declared.isoformat(),
                "declaration_date": end.isoformat(),
                "record_date": (declared + timedelta(days=1)).isoformat(),
                "payment_date": "None",
                "amount": str(paid[-1][1]),
            }
        )
    rows.reverse()
    return rows


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def adjustment_factors(
    days: Sequence[date],
    closes: Sequence[Decimal],
    splits: Mapping[date, Decimal],
    dividends: Mapping[date, Decimal],
) -> list[Decimal]:
    """The cumulative price factor of each bar (days ascending, as-traded closes).

    An ex-date E (a split factor s and/or a dividend d; s = 1 without a split) that the bars
    have reached, with a bar before it whose close is P, has the factor
        f(E) = round((P - d * s) / (P * s), 12)
    i.e. 1/s for the split times 1 - d / (P / s) for the dividend, P / s being the previous
    close in post-split shares. A bar's factor is the product of f(E) over every ex-date after
    it, multiplied newest first and rounded to 16 places at each step; its adjusted price is
    round(price * factor, 4). Ex-dates without a bar before them, or after the last bar, adjust
    nothing (yet).
    """
    factors = [Decimal(1)] * len(days)
    if not days:
        return factors
    events = sorted(
        (day for day in set(splits) | set(dividends) if days[0] < day <= days[-1]), reverse=True
    )
    with localcontext() as context:
        context.prec = 80  # every product and quotient exact before its explicit rounding
        cumulative = Decimal(1)
        at = len(days) - 1
        for event in events:
            while days[at] >= event:  # bars on or after the ex-date keep the factor so far
                factors[at] = cumulative
                at -= 1
            prev_close = closes[at]
            split = splits.get(event, Decimal(1))
            dividend = dividends.get(event, Decimal(0))
            if prev_close > 0:
                factor = _round((prev_close - dividend * split) / (prev_close * split), 12)
                cumulative = _round(cumulative * factor, CUMULATIVE_PLACES)
        for index in range(at, -1, -1):
            factors[index] = cumulative
    return factors


def adjusted(price: Decimal, factor: Decimal) -> Decimal:
    with localcontext() as context:
        context.prec = 80
        return _round(price * factor, PRICE_PLACES)
