"""Waits worth telling the user about: the call gate announces each wait before it sleeps.

The gate knows why it waits (the spacing between calls, the per-minute window, a slow-down
after a rate-limit reply); a progress display knows where to show it. This module joins the
two without either importing the other: a display registers an observer for the duration of a
run (`observing_waits`), the gate calls `announce_wait`. With no observer, a wait longer than
the default spacing is logged at INFO, so an orchestrator's run log shows why a step sat still.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Shorter waits are routine (a second's spacing) and not worth a word on a display.
NOTABLE_WAIT_SEC = 3.0
# In a log, the default 12 s spacing before every call would double the lines; the per-minute
# window (up to a minute) and a rate-limit slow-down are what leave a run silent.
LOGGED_WAIT_SEC = 15.0


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    reason: str  # "the API's per-minute limit (API_CALLS_PER_MINUTE)"
    symbol: str | None = None  # the call it holds back, when known

    def describe(self) -> str:
        who = f"{self.symbol}: " if self.symbol else ""
        return f"{who}waiting {self.seconds:.0f} s for {self.reason}"


WaitObserver = Callable[[Wait], None]
_observers: list[WaitObserver] = []
_lock = threading.Lock()


def announce_wait(wait: Wait) -> None:
    """Called by whoever is about to sleep (any thread). Notable waits only reach observers."""
    if wait.seconds < NOTABLE_WAIT_SEC:
        logger.debug("%s", wait.describe())
        return
    with _lock:
        observers = list(_observers)
    if not observers:
        level = logging.INFO if wait.seconds >= LOGGED_WAIT_SEC else logging.DEBUG
        logger.log(level, "%s", wait.describe())
    for observer in observers:
        observer(wait)


@contextmanager
def observing_waits(observer: WaitObserver) -> Iterator[None]:
    with _lock:
        _observers.append(observer)
    try:
        yield
    finally:
        with _lock:
            _observers.remove(observer)
