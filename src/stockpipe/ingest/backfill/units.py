"""The backfill's plan: the distinct units of history still needed, one API call each.

Pure: what is stored, what the key is known to be denied and the clock go in, the plan comes
out, so the rules are tested without a database or a server.

Per configured symbol and series:

- daily: `full` (20+ years; premium). While the key is known to be denied `full` (the call
  gate's memory of a premium-parameter reply), `full` is unreachable and the reachable unit is
  `compact` (the latest 100 bars), needed only while the symbol has no daily bar at all;
- weekly, monthly: `full` (one call returns the whole history), needed only while the symbol
  has no row in the table: the regular refresh of these series returns the whole history too;
- intraday: one unit per month, `<interval> YYYY-MM` (`month=YYYY-MM&outputsize=full`), from
  the configured start up to the last complete month; the current month is the regular
  refresh's trailing 30 days.

A unit recorded `done` is never planned again. A unit of a series (or of daily `full`) the key
is denied is unreachable: no call, reported, and planned again only once the denial is gone (an
upgraded key), under another key, or when asked (`retry_unreachable`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from stockpipe.series import DAILY, INTRADAY, MONTHLY, WEEKLY, Planning, series_named

# The order units are spent in: the long, cheap histories first (a free key's only way to
# decades of prices), then daily, then intraday months newest first (the most used ones).
SERIES_ORDER = (WEEKLY.name, MONTHLY.name, DAILY.name, INTRADAY.name)
FULL, COMPACT = "full", "compact"


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str
    series: str  # a stockpipe.series name
    unit: str  # full, compact, or "<interval> YYYY-MM"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.symbol, self.series, self.unit)

    @property
    def month(self) -> str | None:
        return self.unit.split(" ")[1] if self.series == INTRADAY.name else None

    @property
    def interval(self) -> str | None:
        return self.unit.split(" ")[0] if self.series == INTRADAY.name else None

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.series} {self.unit}"


@dataclass(frozen=True, slots=True)
class Known:
    """What the plan is made from (read by stockpipe.ingest.backfill.run)."""

    # symbols with at least one stored row, per series name (daily, weekly, monthly)
    has_rows: Mapping[str, frozenset[str]]
    done: frozenset[tuple[str, str, str]]  # units recorded done
    # units recorded unreachable for this key: already reported, not warned about again
    reported: frozenset[tuple[str, str, str]] = frozenset()
    full_denied: bool = False  # the key is known to get only compact daily history
    denied_series: frozenset[str] = frozenset()  # series the key got a premium-only reply for


@dataclass(frozen=True, slots=True)
class Plan:
    todo: tuple[Unit, ...]  # one call each, in spending order
    unreachable: tuple[Unit, ...]  # no call: the key cannot have them
    settled: tuple[Unit, ...]  # done, or made needless by what is stored
    months: tuple[str, ...] = ()
    newly_unreachable: tuple[Unit, ...] = field(default=())  # not reported before

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.settled + self.todo + self.unreachable

    @property
    def calls(self) -> int:
        """Exactly one call per unit to do; unreachable units cost none."""
        return len(self.todo)


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_since(since: str, today: date) -> tuple[str, ...]:
    """YYYY-MM labels from `since` up to the last complete month before `today`'s, oldest
    first (empty when `since` is the current month or later)."""
    year, month = (int(part) for part in since.split("-"))
    labels = []
    while (year, month) < (today.year, today.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(labels)


def plan_units(
    symbols: Sequence[str],
    series: Iterable[str],
    known: Known,
    *,
    interval: str,
    months: Sequence[str],
    retry_unreachable: bool = False,
) -> Plan:
    chosen = {series_named(name).name for name in series}
    todo: list[Unit] = []
    unreachable: list[Unit] = []
    settled: list[Unit] = []
    for name in (s for s in SERIES_ORDER if s in chosen):
        denied = name in known.denied_series and not retry_unreachable
        units = _candidates(name, symbols, known, interval, months, retry=retry_unreachable)
        for unit, state in units:
            if unit.key in known.done or state == _SETTLED:
                settled.append(unit)
            elif denied or state == _OUT_OF_REACH:
                unreachable.append(unit)
            else:
                todo.append(unit)
    fresh = tuple(u for u in unreachable if u.key not in known.reported)
    return Plan(tuple(todo), tuple(unreachable), tuple(settled), tuple(months), fresh)


# What _candidates says of a unit: still needed, settled by what is stored, or needed but
# out of this key's reach.
_NEEDED, _SETTLED, _OUT_OF_REACH = "needed", "settled", "out of reach"


def _candidates(
    series: str,
    symbols: Sequence[str],
    known: Known,
    interval: str,
    months: Sequence[str],
    *,
    retry: bool,
) -> Iterable[tuple[Unit, str]]:
    """Every unit of `series` for these symbols, with its state."""
    described = series_named(series)
    stored = known.has_rows.get(series, frozenset())
    for symbol in symbols:
        if described.planning is Planning.INTRADAY:
            for month in reversed(months):
                yield Unit(symbol, series, f"{interval} {month}"), _NEEDED
        elif described.planning is Planning.SESSIONS:
            if known.full_denied and not retry:
                yield Unit(symbol, series, FULL), _OUT_OF_REACH
                yield Unit(symbol, series, COMPACT), _SETTLED if symbol in stored else _NEEDED
            else:
                yield Unit(symbol, series, FULL), _NEEDED
        else:
            yield Unit(symbol, series, FULL), _SETTLED if symbol in stored else _NEEDED
