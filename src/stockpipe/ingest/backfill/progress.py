"""What callers show of a backfill: the day's budget left to it, and how far the plan is.

Pure values and arithmetic; stockpipe.ingest.backfill.run fills them in, the CLI prints them,
the Dagster job turns them into metadata.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BudgetView:
    """The backfill's share of one Alpha Vantage day (US/Eastern, stockpipe.quota)."""

    budget: int  # API_DAILY_BUDGET
    reserve: int  # kept for the scheduled refreshes (BACKFILL_RESERVE_CALLS or its default)
    spent_today: int  # calls of every stockpipe process on this key today
    day_exhausted: bool = False  # Alpha Vantage itself said the day's quota is gone

    @property
    def per_day(self) -> int:
        """Calls a whole day leaves the backfill."""
        return max(0, self.budget - self.reserve)

    @property
    def left_today(self) -> int:
        if self.day_exhausted:
            return 0
        return max(0, self.per_day - self.spent_today)

    def days_needed(self, calls: int) -> int | None:
        """Days (today counted while it has calls left) `calls` more calls take at this budget;
        None when the reserve leaves the backfill nothing, so it would never finish."""
        if calls <= 0:
            return 0
        if self.per_day == 0:
            return None
        today = min(calls, self.left_today)
        later = calls - today
        return (1 if today else 0) + -(-later // self.per_day)


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """Where the backfill stands after a unit (or before the first)."""

    done: int  # units settled: stored, or made needless by what is stored
    left: int  # units still to fetch: one call each
    unreachable: int  # units the key cannot have (no call)
    calls_spent: int  # by this run
    budget: BudgetView

    @property
    def total(self) -> int:
        return self.done + self.left + self.unreachable

    @property
    def days_needed(self) -> int | None:
        return self.budget.days_needed(self.left)

    def describe(self) -> str:
        """One line: what is done and left, calls left today, days still needed."""
        days = self.days_needed
        if self.left == 0:
            when = "nothing left to fetch"
        elif days is None:
            when = (
                f"never at this budget: the reserve of {self.budget.reserve} leaves no call of"
                f" API_DAILY_BUDGET={self.budget.budget}"
            )
        else:
            when = f"{days} day{'s' if days != 1 else ''} at {self.budget.per_day} calls/day"
        return (
            f"{self.done}/{self.total} units done, {self.left} left ({_calls(self.left)}),"
            f" {self.unreachable} unreachable; {_calls(self.calls_spent)} spent,"
            f" {self.budget.left_today} left today; {when}"
        )


def _calls(count: int) -> str:
    return f"{count} call{'' if count == 1 else 's'}"
