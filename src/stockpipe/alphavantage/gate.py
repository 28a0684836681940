"""The seam through which every HTTP attempt asks for permission and reports back.

The client stays ignorant of quotas: a gate (the PostgreSQL-backed one lives in
stockpipe.quota) spaces calls, enforces the daily budget and slows down after a rate limit.
"""

from __future__ import annotations

from typing import Protocol

from stockpipe.alphavantage.classify import CallRequest
from stockpipe.alphavantage.errors import Outcome


class CallGate(Protocol):
    def acquire(self) -> None:
        """Called before every HTTP attempt (retries too); may block, may raise BudgetExhausted."""

    def report(self, outcome: Outcome, request: CallRequest | None = None) -> None:
        """Called after every attempt that reached the API, with its classified outcome and
        the request it answered (what a reply teaches about the key depends on both: a `full`
        answered with data proves the key may have full history)."""

    def release(self) -> None:
        """Called instead of report() after an attempt that provably never reached the API
        (name resolution, connect, TLS handshake): it must not count against any budget."""

    def next_call_in(self) -> float:
        """Seconds until acquire() would let the next call through (spacing, slow-down); used
        to log the real wait before a retry."""


class OpenGate:
    """No spacing, no budget: the default when the caller brings no gate."""

    def acquire(self) -> None:
        return None

    def report(self, outcome: Outcome, request: CallRequest | None = None) -> None:
        return None

    def release(self) -> None:
        return None

    def next_call_in(self) -> float:
        return 0.0
