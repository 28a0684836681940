"""What the incident rules read: a finished run as plain data, and a stale symbol.

The Dagster layer builds these from a run's events; nothing here knows where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# SymbolStatus values (stockpipe.ingest.results) as the run reports them.
GOOD_STATUSES = frozenset({"loaded", "up_to_date"})
BAD_STATUSES = frozenset({"failed", "deferred"})


@dataclass(frozen=True, slots=True)
class SymbolOutcome:
    """One symbol's result in one run, e.g. asset `stock_data`, symbol `IBM`, status `failed`."""

    asset: str
    symbol: str
    status: str
    message: str = ""
    # Deferred only because Alpha Vantage has not published the session yet: not a problem,
    # so it neither extends nor ends a streak.
    awaiting_publication: bool = False

    @property
    def subject(self) -> str:
        return f"{self.asset}/{self.symbol}"

    @property
    def is_bad(self) -> bool:
        return self.status in BAD_STATUSES and not self.awaiting_publication

    @property
    def is_good(self) -> bool:
        return self.status in GOOD_STATUSES


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One asset check's evaluation in a run."""

    asset: str
    check: str
    passed: bool
    summary: str = ""
    examples: tuple[str, ...] = ()  # "IBM 2024-05-03: high < low": each starts with the symbol
    symbols: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        return f"{self.asset}:{self.check}"


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """A run that ended in success or failure (canceled runs are not reported)."""

    run_id: str
    job: str
    succeeded: bool
    finished_at: datetime
    symbols: tuple[SymbolOutcome, ...] = ()
    checks: tuple[CheckOutcome, ...] = ()
    error: str = ""  # why it failed, in one paragraph (empty for a success)
    url: str = ""  # the run's page in the UI

    def counts(self) -> dict[str, int]:
        tally: dict[str, int] = {}
        for outcome in self.symbols:
            tally[outcome.status] = tally.get(outcome.status, 0) + 1
        return tally


@dataclass(frozen=True, slots=True)
class StaleSymbol:
    """A configured symbol whose newest bar is older than its series' freshness window allows."""

    series: str  # "daily", "weekly", "monthly", "intraday"
    symbol: str
    latest: date | None  # trading date of the newest stored bar; None: no bar at all
    missing_since: date | None  # first completed session without a bar
    sessions_behind: int

    @property
    def subject(self) -> str:
        return f"{self.series}/{self.symbol}"
