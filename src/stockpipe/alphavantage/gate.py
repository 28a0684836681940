"""The seam through which every HTTP attempt asks for permission and reports back.

The client stays ignorant of quotas: a gate (the PostgreSQL-backed one lives in
stockpipe.ingest.quota) spaces calls, enforces the daily budget and slows down after a rate limit.
"""

from __future__ import annotations

from typing import Protocol

from stockpipe.alphavantage.errors import Outcome


class CallGate(Protocol):
    def acquire(self) -> None:
        """Called before every HTTP attempt (retries too); may block, may raise BudgetExhausted."""

    def report(self, outcome: Outcome) -> None:
        """Called after every attempt with its classified outcome."""


class OpenGate:
    """No spacing, no budget: the default when the caller brings no gate."""

    def acquire(self) -> None:
        return None

    def report(self, outcome: Outcome) -> None:
        return None
