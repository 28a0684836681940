"""Small seams shared by the Alpha Vantage tests: a recording clock and a recording gate."""

from __future__ import annotations

from stockpipe.alphavantage import AlphaVantageClient, Outcome
from stockpipe.testing import FakeAlphaVantage


class RecordingSleep:
    """A clock seam: records requested waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class RecordingGate:
    """A CallGate that only records what the client tells it."""

    def __init__(self, budget: int | None = None, next_call_in: float = 0.0) -> None:
        self.acquired = 0
        self.reported: list[Outcome] = []
        self.released = 0
        self.budget = budget
        self._next_call_in = next_call_in

    def acquire(self) -> None:
        from stockpipe.alphavantage import BudgetExhausted

        if self.budget is not None and self.acquired >= self.budget:
            raise BudgetExhausted()
        self.acquired += 1

    def report(self, outcome: Outcome, request: object = None) -> None:
        self.reported.append(outcome)

    def release(self) -> None:
        self.released += 1

    def next_call_in(self) -> float:
        return self._next_call_in


def client_for(
    fake: FakeAlphaVantage, *, max_retries: int = 0, read_timeout: float = 5.0, **kwargs: object
) -> AlphaVantageClient:
    kwargs.setdefault("sleep", RecordingSleep())
    return AlphaVantageClient(
        fake.api_key,
        fake.url,
        connect_timeout=2,
        read_timeout=read_timeout,
        max_retries=max_retries,
        **kwargs,  # type: ignore[arg-type]
    )
