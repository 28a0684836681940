"""Virtual time for workers that hold call slots at once: a Clock whose sleeps end in the order
of their wake times, one thread running at a time, so a run of many workers is deterministic
and takes no real waiting.

A sleep may be made late on purpose (`lateness`): the thread wakes that much after it asked,
as a worker does on a loaded machine. Every worker must end with done(), or the others wait.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from tests.ingest.helpers import WEDNESDAY_EVENING

BOUND_SEC = 60.0  # a sleep in virtual time is never waited for in real time longer than this


class VirtualClock:
    def __init__(
        self, workers: int, lateness: Callable[[float], float], start: datetime = WEDNESDAY_EVENING
    ) -> None:
        self._now = start
        self._lateness = lateness  # seconds late for a sleep of the given length
        self._cond = threading.Condition()
        self._running = workers
        self._sleepers: list[tuple[datetime, int, int]] = []  # (wake, worker, sequence)
        self._released: set[int] = set()
        self._sequence = 0
        self._local = threading.local()

    def bind(self, worker: int) -> None:
        """Name the calling thread: ties between equal wake times go to the lower number."""
        self._local.worker = worker

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        """A sleep of the gate: it may end late."""
        self.wait(seconds, late=True)

    def wait(self, seconds: float, *, late: bool = False) -> None:
        extra = self._lateness(seconds) if late else 0.0
        with self._cond:
            self._sequence += 1
            ticket = self._sequence
            wake = self._now + timedelta(seconds=max(0.0, seconds) + extra)
            heapq.heappush(self._sleepers, (wake, getattr(self._local, "worker", 0), ticket))
            self._running -= 1
            self._dispatch()
            if not self._cond.wait_for(lambda: ticket in self._released, timeout=BOUND_SEC):
                raise TimeoutError("a virtual sleep was never woken (a worker did not end)")
            self._released.discard(ticket)

    def done(self) -> None:
        with self._cond:
            self._running -= 1
            self._dispatch()

    def _dispatch(self) -> None:
        """With every thread asleep, wake the earliest (time stands still while one runs)."""
        if self._running or not self._sleepers:
            return
        wake, _, ticket = heapq.heappop(self._sleepers)
        self._now = max(self._now, wake)
        self._running = 1
        self._released.add(ticket)
        self._cond.notify_all()


def busiest_window(times: list[datetime], seconds: float = 60.0) -> int:
    """The most calls in any closed window of `seconds` (each window starting at a call)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while (at - ordered[first]).total_seconds() > seconds:
            first += 1
        most = max(most, last - first + 1)
    return most
