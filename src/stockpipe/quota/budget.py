"""Today's spend on a key, read from the call gate's tables: for `stockpipe status` and the
backfill's share of the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from stockpipe.quota.day import key_fingerprint, quota_day, quota_day_start
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.store.call_gate import count_calls_since, read_key_state

# A key denied outputsize=full is not asked again for this long (it may be upgraded later;
# any successful full reply clears the denial at once).
FULL_DENIAL_MEMORY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class BudgetInfo:
    key_fingerprint: str
    day: date  # Alpha Vantage's day (US/Eastern)
    calls_today: int
    budget: int | None  # None: no daily cap (API_DAILY_BUDGET=none)
    day_exhausted: bool  # the API itself said the day's quota is gone
    full_history_denied: bool
    slowed_until: datetime | None  # a rate-limit slow-down in force until then
    # The key's latest successful outputsize=full reply (it cleared any denial), if any.
    full_history_granted_at: datetime | None = None

    @property
    def remaining(self) -> int | None:
        """Calls left today; None without a daily cap (while the API has not said otherwise)."""
        if self.day_exhausted:
            return 0
        return None if self.budget is None else max(0, self.budget - self.calls_today)


def full_denial_in_force(denied_at: datetime | None, now: datetime) -> bool:
    return denied_at is not None and now - denied_at < FULL_DENIAL_MEMORY


def calls_today(db: Database, key: str, *, now: datetime | None = None) -> int:
    """Calls reserved with `key` since midnight US/Eastern, rejected ones included."""
    moment = now or datetime.now(UTC)
    start = quota_day_start(quota_day(moment))
    fingerprint = key_fingerprint(key)
    return db.run(lambda conn: count_calls_since(conn, fingerprint, start))


def budget_info(db: Database, settings: Settings, *, now: datetime | None = None) -> BudgetInfo:
    """Today's spend against API_DAILY_BUDGET for the configured key, for `stockpipe status`."""
    moment = now or datetime.now(UTC)
    day = quota_day(moment)
    fingerprint = key_fingerprint(settings.api_key.get_secret_value())

    def read(conn: psycopg.Connection[Any]) -> BudgetInfo:
        spent = count_calls_since(conn, fingerprint, quota_day_start(day))
        state = read_key_state(conn, fingerprint)
        slow_until = state.slow_until if state else None
        return BudgetInfo(
            key_fingerprint=fingerprint,
            day=day,
            calls_today=spent,
            budget=settings.api_daily_budget,
            day_exhausted=state is not None and state.day_exhausted_on == day,
            full_history_denied=full_denial_in_force(
                state.full_history_denied_at if state else None, moment
            ),
            slowed_until=slow_until if slow_until is not None and slow_until > moment else None,
            full_history_granted_at=state.full_history_granted_at if state else None,
        )

    return db.run(read)
