"""Typed results of the ingest step: one per symbol, and one summary per run.

The CLI and the Dagster asset both render these; neither re-derives a status on its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from stockpipe.alphavantage.errors import UNREACHABLE
from stockpipe.status import SymbolStatus

__all__ = ["RunStatus", "RunSummary", "SymbolResult", "SymbolStatus"]


class RunStatus(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"


# Why a run (Dagster) or check task (Airflow) fails although no symbol failed: every symbol was
# deferred (the day's budget was spent before it started, the API unreachable). The table got
# nothing, so someone must look; the CLI's `ingest` exits 3 for the same summary.
NO_DATA = "no data at all (no symbol loaded or up to date)"


@dataclass(frozen=True, slots=True)
class SymbolResult:
    symbol: str
    status: SymbolStatus
    calls: int = 0  # HTTP attempts spent on this symbol, retries included
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # invalid bars dropped, by reason
    latest_bar: date | None = None  # trading date of the newest stored bar after this step
    output_size: str | None = None  # the outputsize of the call that delivered the data
    history_limited: bool = False  # full history was wanted but the key only gets compact
    # Alpha Vantage rejected the symbol itself (invalid symbol): now (calls > 0), or earlier and
    # it was skipped without a call (calls == 0). See stockpipe.ingest.rejection.
    rejected: bool = False
    # DEFERRED without a call because Alpha Vantage recently had no bar for the target session
    # yet (see stockpipe.ingest.publication): not a problem of the run, so it does not make it
    # partial.
    awaiting_publication: bool = False
    message: str = ""

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True, slots=True)
class RunSummary:
    """All results of one run, in the order the symbols were processed.

    status (a symbol DEFERRED while awaiting publication counts like LOADED here: the run that
    spent the call and got the same "no bar yet" answer was a success too):
      success  every symbol is LOADED or UP_TO_DATE (also: no symbols at all);
      partial  at least one symbol is LOADED or UP_TO_DATE, and at least one FAILED or DEFERRED;
      failed   no symbol is LOADED or UP_TO_DATE: nothing could be fetched and nothing was
               already current (every symbol failed or was deferred).
    """

    results: tuple[SymbolResult, ...]

    @property
    def counts(self) -> dict[SymbolStatus, int]:
        counter = Counter(result.status for result in self.results)
        return {status: counter.get(status, 0) for status in SymbolStatus}

    @property
    def calls(self) -> int:
        return sum(result.calls for result in self.results)

    @property
    def inserted(self) -> int:
        return sum(result.inserted for result in self.results)

    @property
    def updated(self) -> int:
        return sum(result.updated for result in self.results)

    @property
    def unchanged(self) -> int:
        return sum(result.unchanged for result in self.results)

    @property
    def skipped(self) -> int:
        return sum(result.skipped_total for result in self.results)

    @property
    def failed(self) -> tuple[SymbolResult, ...]:
        return tuple(r for r in self.results if r.status is SymbolStatus.FAILED)

    @property
    def deferred(self) -> tuple[SymbolResult, ...]:
        return tuple(r for r in self.results if r.status is SymbolStatus.DEFERRED)

    @property
    def status(self) -> RunStatus:
        good = sum(
            1
            for r in self.results
            if r.status in (SymbolStatus.LOADED, SymbolStatus.UP_TO_DATE) or r.awaiting_publication
        )
        if good == len(self.results):
            return RunStatus.SUCCESS
        return RunStatus.PARTIAL if good else RunStatus.FAILED

    @property
    def failure(self) -> str:
        """Why a run with these results fails, "" if it does not: a failed symbol, or no data
        at all. Deferred symbols do not fail a run that got data (they go first next run)."""
        if self.results and self.status is RunStatus.FAILED and not self.failed:
            return f"{NO_DATA}. {self.message}"
        return self.message if self.failed else ""

    @property
    def message(self) -> str:
        """One line for logs and run metadata; names every failed and deferred symbol."""
        counts = self.counts
        tally = ", ".join(
            f"{counts[s]} {s.value.replace('_', ' ')}" for s in SymbolStatus if counts[s]
        )
        parts = [f"{len(self.results)} symbols: {tally or 'none'}; {self.calls} API calls"]
        if self.failed:
            parts.append("failed: " + "; ".join(f"{r.symbol} ({r.message})" for r in self.failed))
        if self.deferred:
            parts.append("deferred: " + ", ".join(r.symbol for r in self.deferred))
        # The one deferral whose cause the reader must act on (a run failed by it would
        # otherwise name the symbols and not why): the network or ALPHAVANTAGE_BASE_URL.
        unreachable = next((r for r in self.deferred if r.message.startswith(UNREACHABLE)), None)
        if unreachable is not None:
            parts.append(unreachable.message)
        return ". ".join(parts)
