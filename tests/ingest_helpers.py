"""Helpers shared by the quota and ingest tests: a driven clock and settings without a .env."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from stockpipe.settings import Settings

# A Wednesday afternoon in New York, after the close: 2024-05-08 is the latest completed session.
WEDNESDAY_EVENING = datetime(2024, 5, 8, 22, 0, tzinfo=UTC)


class FakeClock:
    """A Clock whose sleep() advances time at once and remembers how long it was asked to wait."""

    def __init__(self, start: datetime = WEDNESDAY_EVENING) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 6))
            self._now += timedelta(seconds=max(0.0, seconds))

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


def make_settings(**env: Any) -> Settings:
    """Settings from explicit values only (by variable name), ignoring any .env file."""
    values: dict[str, Any] = {
        "API_KEY": "test-key-not-secret-0001",
        "API_POLITE_DELAY_SEC": 0,
        "API_CALLS_PER_MINUTE": 1000,
        "API_DAILY_BUDGET": 25,
        "API_MAX_RETRIES": 2,
    }
    values.update(env)
    return Settings.load(_env_file=None, **values)
