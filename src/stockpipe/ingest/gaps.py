"""Missing sessions of the daily series: which, which call can repair them, what an answer
teaches about sessions the vendor has no bar for, and how they read in status and checks.

Pure functions of the NYSE calendar and what stockpipe.store.sessions reads, tested without a
database:

- expected: every session from the symbol's first stored bar to the latest completed one, by
  the exchange calendar, so a holiday is never expected and a half-day is a session like any;
- missing: expected, minus the stored ones, minus those the vendor is known to have no bar for;
- reach: a `compact` call returns the latest 100 bars, so a missing session within the latest
  COMPACT_SAFE_GAP sessions is one compact call away (stockpipe.ingest.plan); an older one
  needs `full`, which a free key is denied: then only premium history reaches it;
- an answer whose bars span a missing session and lack it shows the vendor has no bar for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from stockpipe.bars import Bar
from stockpipe.ingest.plan import compact_reach
from stockpipe.market_calendar import (
    is_session,
    new_york_date,
    new_york_midnight,
    session_count,
    sessions_between,
)
from stockpipe.settings import OutputSizePolicy
from stockpipe.store.quality import MAX_EXAMPLES, QualityResult
from stockpipe.store.sessions import StoredSessions

MISSING_SESSIONS = "missing_sessions"  # the daily asset's check
_DAY = timedelta(days=1)
# Dates or ranges shown per symbol before "and N more".
SHOWN_RANGES = 4


class Reach(StrEnum):
    """Which call can repair a missing session, for this key and policy."""

    COMPACT = "compact"  # within compact's reach: the next daily refresh repairs it
    FULL = "full"  # older: the next daily refresh repairs it with a full call
    PREMIUM = "premium"  # older, and this key gets no full history: premium history only


@dataclass(frozen=True, slots=True)
class SessionGaps:
    """One symbol's missing sessions on the way to `target` (the latest completed session)."""

    symbol: str
    holes: tuple[date, ...] = ()  # between the first and the newest stored bar
    after: tuple[date, ...] = ()  # after the newest stored bar, up to the target
    vendor_missing: frozenset[date] = frozenset()  # known to have no bar at the vendor
    reported: frozenset[date] = frozenset()  # premium-only sessions already reported
    stored: bool = False  # whether the symbol has any bar (nothing is missing before one)

    @property
    def missing(self) -> tuple[date, ...]:
        return self.holes + self.after


def session_gaps(symbol: str, stored: StoredSessions | None, target: date) -> SessionGaps:
    """The missing sessions of a symbol whose stored history `stored` describes."""
    if stored is None:
        return SessionGaps(symbol)
    known = stored.vendor_missing
    holes = tuple(
        day
        for start, end in stored.holes
        for day in sessions_between(start + _DAY, min(end - _DAY, target))
        if day not in known
    )
    after = tuple(day for day in sessions_between(stored.latest + _DAY, target) if day not in known)
    return SessionGaps(symbol, holes, after, known, stored.reported, stored=True)


def full_history_allowed(policy: OutputSizePolicy, full_denied: bool) -> bool:
    """Whether the daily refresh may ask this key for full history."""
    return policy != "compact" and not full_denied


def by_reach(days: Iterable[date], target: date, *, full_allowed: bool) -> dict[Reach, list[date]]:
    """`days` grouped by the call that can repair them (only the groups holding some)."""
    reach = compact_reach(target)
    groups: dict[Reach, list[date]] = {}
    for day in days:
        kind = Reach.COMPACT if day >= reach else Reach.FULL if full_allowed else Reach.PREMIUM
        groups.setdefault(kind, []).append(day)
    return groups


@dataclass(frozen=True, slots=True)
class Answer:
    """The sessions a daily answer holds, asked cheaply: its bars stand at New York midnight,
    so a session is looked up by that time instead of converting every bar to a date."""

    oldest: date
    newest: date
    stamps: frozenset[datetime]

    @classmethod
    def of(cls, bars: Sequence[Bar]) -> Answer | None:
        if not bars:
            return None
        stamps = frozenset(bar.ts for bar in bars)
        return cls(new_york_date(min(stamps)), new_york_date(max(stamps)), stamps)

    def holds(self, day: date) -> bool:
        return new_york_midnight(day) in self.stamps

    @property
    def complete(self) -> bool:
        """Whether it holds a bar for every session it spans (counted: a bar on a non-session
        date would hide one lacking, which the vendor has never been seen to send)."""
        return len(self.stamps) >= session_count(self.oldest, self.newest)


def answer_lacks(answer: Answer, gaps: SessionGaps, *, whole_history: bool) -> list[date]:
    """Sessions an answer spans but lacks, among those missing before it: the vendor has no
    bar for them. A compact answer spans its oldest to its newest bar; a full one is all the
    vendor has, so it also speaks for missing sessions older than its oldest bar."""
    if gaps.stored:
        candidates: Sequence[date] = gaps.missing
    elif answer.complete:
        return []
    else:
        candidates = sessions_between(answer.oldest, answer.newest)
    return [
        day
        for day in candidates
        if (whole_history or answer.oldest < day) and day < answer.newest and not answer.holds(day)
    ]


def format_days(days: Sequence[date], shown: int = SHOWN_RANGES) -> str:
    """Sorted sessions as dates and ranges of consecutive sessions: "2024-03-12,
    2024-04-02..2024-04-04 (3)", at most `shown` of them, then how many more."""
    if not days:
        return ""
    runs: list[list[date]] = []
    for day in sorted(days):
        last = runs[-1][-1] if runs else None
        if last is not None and _next_sessions(last, day):
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        str(run[0]) if len(run) == 1 else f"{run[0]}..{run[-1]} ({len(run)})"
        for run in runs[:shown]
    ]
    if len(runs) > shown:
        rest = sum(len(run) for run in runs[shown:])
        parts.append(f"and {rest} more")
    return ", ".join(parts)


def _next_sessions(earlier: date, later: date) -> bool:
    """Whether `later` is the session right after the session `earlier`: two bisections, where
    listing the sessions between a symbol's first and last missing day cost 2 s for the
    status of 10,000 symbols."""
    return is_session(earlier) and is_session(later) and session_count(earlier, later) == 2


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


_LABELS = {
    Reach.COMPACT: "repairable: the next daily refresh, compact",
    Reach.FULL: "repairable: the next daily refresh, full",
    Reach.PREMIUM: "premium (full) history only",
}


def describe_missing(gaps: SessionGaps, target: date, *, full_allowed: bool) -> str:
    """One line for `stockpipe status`: the missing sessions, grouped by what repairs them.
    Empty when nothing is missing."""
    if not gaps.missing:
        return ""
    groups = by_reach(gaps.missing, target, full_allowed=full_allowed)
    parts = [f"{format_days(days)} ({_LABELS[kind]})" for kind, days in groups.items()]
    return f"{gaps.symbol}: {_plural(len(gaps.missing), 'missing session')}: " + "; ".join(parts)


def describe_vendor_missing(gaps: SessionGaps) -> str:
    if not gaps.vendor_missing:
        return ""
    days = sorted(gaps.vendor_missing)
    return (
        f"{gaps.symbol}: Alpha Vantage has no bar for {_plural(len(days), 'session')}"
        f" ({format_days(days)}): remembered, not counted as missing, not fetched again"
    )


def premium_only_message(days: Sequence[date], policy: OutputSizePolicy) -> str:
    """What a symbol's result says, once, about missing sessions no call of this key reaches."""
    why = (
        "API_OUTPUT_SIZE=compact never asks for full history"
        if policy == "compact"
        else "this key gets the latest 100 bars only (outputsize=full is premium)"
    )
    stays = "it stays missing and is" if len(days) == 1 else "they stay missing and are"
    return (
        f"{_plural(len(days), 'missing session')} only premium (full) history reaches:"
        f" {format_days(days)}; {why}, so {stays} not asked for again"
        " (docs/operations.md: missing sessions)"
    )


def vendor_missing_message(days: Sequence[date]) -> str:
    return (
        f"Alpha Vantage has no bar for {format_days(days)} (its answer spans"
        f" {'it' if len(days) == 1 else 'them'}): remembered, not fetched again"
    )


def missing_sessions_check(
    gaps: Mapping[str, SessionGaps], symbols: Sequence[str], target: date, *, full_allowed: bool
) -> QualityResult:
    """The daily asset's check: every symbol's missing sessions between its first and newest
    stored bar (sessions after the newest bar are the freshness check's), grouped by reach."""
    found = {s: gaps[s] for s in dict.fromkeys(symbols) if s in gaps and gaps[s].holes}
    examples = []
    for symbol, symbol_gaps in found.items():
        groups = by_reach(symbol_gaps.holes, target, full_allowed=full_allowed)
        parts = [f"{format_days(days)} ({_LABELS[kind]})" for kind, days in groups.items()]
        examples.append(f"{symbol}: {len(symbol_gaps.holes)} missing: " + "; ".join(parts))
    total = sum(len(g.holes) for g in found.values())
    summary = (
        f"{len(found)} of {len(set(symbols))} symbols miss sessions between their first and"
        f" newest bar ({_plural(total, 'session')})"
    )
    if found:
        summary += ": " + ", ".join(f"{s} ({len(g.holes)})" for s, g in found.items())
    return QualityResult(
        name=MISSING_SESSIONS,
        passed=not found,
        summary=summary,
        checked=len(set(symbols)),
        problem_count=len(found),
        examples=tuple(examples[:MAX_EXAMPLES]),
    )
