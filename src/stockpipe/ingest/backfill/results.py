"""Typed results of the backfill: one per unit attempted, one summary per run."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum

from stockpipe.ingest.backfill.progress import BackfillProgress
from stockpipe.ingest.backfill.units import Plan, Unit


class UnitStatus(StrEnum):
    DONE = "done"  # fetched and stored
    UNREACHABLE = "unreachable"  # the key cannot have it (premium): recorded, no call again
    FAILED = "failed"  # this unit's own failure: tried again next run
    DEFERRED = "deferred"  # not attempted: the day's budget is gone (or the API unreachable)


class BackfillStatus(StrEnum):
    COMPLETE = "complete"  # every reachable unit is done
    PAUSED = "paused"  # the day's budget is gone: the next run resumes (not a failure)
    PARTIAL = "partial"  # some units failed, others were done
    FAILED = "failed"  # units failed and none could be done (or the key was rejected)


@dataclass(frozen=True, slots=True)
class UnitResult:
    unit: Unit
    status: UnitStatus
    calls: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class SymbolTally:
    """One symbol's units after the run, for the per-symbol tables (CLI, Dagster)."""

    done: int
    left: int
    unreachable: int
    calls: int  # spent by this run
    months_done: int  # intraday months done (of the planned ones)
    months: int


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    first_plan: Plan  # what the run found to do, before its first call
    final_plan: Plan  # what is left after it
    results: tuple[UnitResult, ...]
    progress: BackfillProgress
    # Why the run stopped before the plan's end: DEFERRED (the day's budget, the API out of
    # reach: the next run resumes) or FAILED (the key was rejected).
    halt: UnitStatus | None = None
    halt_reason: str = ""

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.results)

    @property
    def counts(self) -> dict[UnitStatus, int]:
        counter = Counter(r.status for r in self.results)
        return {status: counter.get(status, 0) for status in UnitStatus}

    @property
    def status(self) -> BackfillStatus:
        counts = self.counts
        if self.halt is UnitStatus.FAILED:
            return BackfillStatus.FAILED
        if counts[UnitStatus.FAILED]:
            done = counts[UnitStatus.DONE] or self.final_plan.settled
            return BackfillStatus.PARTIAL if done else BackfillStatus.FAILED
        if not self.final_plan.todo:
            return BackfillStatus.COMPLETE
        return BackfillStatus.PAUSED

    def by_symbol(self) -> dict[str, SymbolTally]:
        plan = self.final_plan
        calls: dict[str, int] = defaultdict(int)
        for result in self.results:
            calls[result.unit.symbol] += result.calls
        tallies = {}
        for symbol in dict.fromkeys(u.symbol for u in plan.units):

            def mine(units: tuple[Unit, ...], s: str = symbol) -> list[Unit]:
                return [u for u in units if u.symbol == s]

            months = [u for u in mine(plan.units) if u.month is not None]
            tallies[symbol] = SymbolTally(
                done=len(mine(plan.settled)),
                left=len(mine(plan.todo)),
                unreachable=len(mine(plan.unreachable)),
                calls=calls[symbol],
                months_done=sum(1 for u in months if u in plan.settled),
                months=len(months),
            )
        return tallies

    @property
    def message(self) -> str:
        counts = self.counts
        tally = ", ".join(f"{counts[s]} {s.value}" for s in UnitStatus if counts[s])
        parts = [f"backfill {self.status.value}: {self.progress.describe()}"]
        if tally:
            parts.append(f"this run: {tally}")
        if self.halt_reason:
            parts.append(f"stopped: {self.halt_reason}")
        unreachable = self.final_plan.unreachable
        if unreachable:
            parts.append("unreachable with this key: " + _group(unreachable))
        failed = [r for r in self.results if r.status is UnitStatus.FAILED]
        if failed:
            parts.append("failed: " + "; ".join(f"{r.unit.label} ({r.message})" for r in failed))
        return ". ".join(parts)


def _group(units: tuple[Unit, ...]) -> str:
    """`IBM daily full, MSFT intraday (12 months)`: one entry per symbol and series."""
    grouped: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for unit in units:
        grouped[(unit.symbol, unit.series)].append(unit)
    entries = []
    for (symbol, series), members in grouped.items():
        if members[0].month is not None:
            entries.append(f"{symbol} {series} ({len(members)} months)")
        else:
            entries.append(", ".join(u.label for u in members))
    return ", ".join(entries)
