"""The call gate: every process asks PostgreSQL for permission before an Alpha Vantage call.

Every HTTP attempt is reserved in `api_call_ledger` BEFORE it is made, under a per-key advisory
lock, so two processes (or two concurrent runs) can never spend more than the budget together,
and a crash between reserving and calling only errs on the side of counting a call. The SQL
lives in stockpipe.store.call_gate.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import psycopg

from stockpipe.alphavantage.classify import CallRequest
from stockpipe.alphavantage.errors import BudgetExhausted, Outcome, RateLimited
from stockpipe.clock import Clock, SystemClock
from stockpipe.quota.budget import full_denial_in_force
from stockpipe.quota.classes import ACTIVE_POLL_SEC, ACTIVE_TTL, CallClass
from stockpipe.quota.day import key_fingerprint, quota_day, quota_day_start
from stockpipe.settings import Settings
from stockpipe.store import Database, DatabaseError
from stockpipe.store import call_gate as sql

logger = logging.getLogger(__name__)

# After a rate-limit reply: space calls at least this far apart, doubling on every further
# reply up to the cap, for this long after the last one.
SLOW_SPACING_FLOOR_SEC = 1.0
SLOW_SPACING_CAP_SEC = 120.0
SLOW_WINDOW = timedelta(minutes=10)
# The ledger only needs today's calls and the last minute; keep a week for people to read.
LEDGER_RETENTION = timedelta(days=7)
# The functions whose outputsize=full a free key is refused (the key's full-history denial).
_FULL_HISTORY_FUNCTIONS = ("TIME_SERIES_DAILY", "TIME_SERIES_DAILY_ADJUSTED")


def proves_full_history(outcome: Outcome, request: CallRequest | None) -> bool:
    """A daily `full` answered with data: whatever the key was refused before, it has full
    history now (an upgraded key)."""
    return (
        outcome is Outcome.DATA
        and request is not None
        and request.outputsize == "full"
        and request.function.value in _FULL_HISTORY_FUNCTIONS
    )


@dataclass(slots=True)
class CallTally:
    """Calls reserved while a symbol was attributed (see PostgresCallGate.attribute)."""

    calls: int = 0


class PostgresCallGate:
    """A CallGate (see stockpipe.alphavantage) whose state lives in PostgreSQL.

    acquire() blocks until a call may be made (polite delay since the last call, the per-minute
    cap, any rate-limit slow-down, no run of a higher class active) and reserves it, or raises
    BudgetExhausted. One gate may be shared by threads: the reservation being reported is
    tracked per thread. A gate serves the scheduled refreshes unless `serving` says otherwise
    (stockpipe.quota.classes).
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        key: str | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._db = db
        self._budget = settings.api_daily_budget
        self._per_minute = settings.api_calls_per_minute
        self._polite_delay = settings.api_polite_delay_sec
        self._clock = clock or SystemClock()
        secret = key if key is not None else settings.api_key.get_secret_value()
        self.fingerprint = key_fingerprint(secret)
        self._lock_key = int(self.fingerprint[:8], 16) - 2**31  # fits PostgreSQL's int4
        self._local = threading.local()
        self._pruned = False
        self.call_class = CallClass.REFRESH
        self._reserve: Callable[[], int] = lambda: 0
        self._holder = uuid.uuid4().hex  # this gate's registration while a run is active
        self._active = 0

    def __repr__(self) -> str:
        return f"PostgresCallGate(key={self.fingerprint}, budget={self._budget}/day)"

    @contextmanager
    def attribute(self, symbol: str, function: str) -> Iterator[CallTally]:
        """Label this thread's reservations with a symbol and count them."""
        tally = CallTally()
        self._local.labels = (symbol, function)
        self._local.tally = tally
        try:
            yield tally
        finally:
            self._local.labels = None
            self._local.tally = None

    @contextmanager
    def serving(
        self, call_class: CallClass, reserve: Callable[[], int] | None = None
    ) -> Iterator[None]:
        """Spend calls as `call_class` while inside, holding back `reserve()` calls of today's
        budget for the higher classes (asked again on every call), and register the run as
        active so lower classes wait for it."""
        previous = (self.call_class, self._reserve)
        self.call_class, self._reserve = call_class, reserve or (lambda: 0)
        try:
            with self.active():
                yield
        finally:
            self.call_class, self._reserve = previous

    @contextmanager
    def active(self) -> Iterator[None]:
        """Register a run of this gate's class as active on the key while inside: lower
        classes take no slot meanwhile. Renewed on every call; lapses after ACTIVE_TTL if the
        process dies. A database fault only costs the priority, never the run."""
        self._active += 1
        if self._active == 1:
            self._renew()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                try:
                    self._db.run(
                        lambda conn: sql.drop_claimant(conn, self.fingerprint, self._holder)
                    )
                except DatabaseError as exc:
                    logger.debug("could not end the run's registration: %s", exc)

    def _renew(self) -> None:
        until = self._clock.now() + ACTIVE_TTL
        try:
            self._db.run(
                lambda conn: sql.renew_claimant(
                    conn, self.fingerprint, self._holder, int(self.call_class), until
                )
            )
        except DatabaseError as exc:
            logger.debug("could not register the run as active: %s", exc)

    def acquire(self) -> None:
        while True:
            reserve = self._reserve() if self.call_class is not CallClass.REFRESH else 0
            verdict = self._db.run(partial(self._try_reserve, reserve=reserve))
            if isinstance(verdict, str):
                raise BudgetExhausted(verdict)
            if verdict is None:
                return
            logger.debug("API call spacing: waiting %.2f s", verdict)
            self._clock.sleep(verdict)

    def _try_reserve(self, conn: psycopg.Connection[Any], reserve: int) -> float | str | None:
        """None: reserved. A float: seconds to wait first. A str: why the budget is spent."""
        now = self._clock.now()
        day = quota_day(now)
        symbol, function = getattr(self._local, "labels", None) or (None, None)
        # One network round trip: the lock and the checking insert are pipelined. They must stay
        # two statements: a statement's snapshot is taken when it starts, so checks inside the
        # locking statement could miss a reservation committed while it waited for the lock.
        with conn.pipeline():
            sql.lock_key(conn, self._lock_key)
            if not self._pruned:
                sql.prune_ledger(conn, self.fingerprint, now - LEDGER_RETENTION)
                self._pruned = True
            if self._active:
                sql.renew_claimant(
                    conn, self.fingerprint, self._holder, int(self.call_class), now + ACTIVE_TTL
                )
            verdict = sql.try_reserve(
                conn, fingerprint=self.fingerprint, now=now, day=day,
                day_start=quota_day_start(day), per_minute=self._per_minute,
                polite_sec=self._polite_delay, budget=self._budget, reserve=reserve,
                call_class=int(self.call_class), symbol=symbol, function=function,
            )  # fmt: skip
        if verdict.exhausted:
            return f"Alpha Vantage reported the daily quota spent for {day}; the rest waits"
        if verdict.spent >= self._budget:
            return (
                f"the daily budget of {self._budget} API calls is spent ({verdict.spent} calls"
                f" on {day}, US/Eastern); raise API_DAILY_BUDGET or wait for tomorrow"
            )
        if verdict.spent + reserve >= self._budget:
            return (
                f"the rest of today's budget is kept for higher-priority work: {reserve} of"
                f" API_DAILY_BUDGET={self._budget} for what comes before the"
                f" {self.call_class.label} ({verdict.spent} calls spent on {day}, US/Eastern)"
            )
        if verdict.higher_until is not None:
            # A higher class is active: wait for it, asking again now and then (it may end
            # long before its registration would lapse).
            return ACTIVE_POLL_SEC
        if verdict.reserved is None:
            return float((verdict.earliest - now).total_seconds())
        self._local.pending = verdict.reserved
        tally: CallTally | None = getattr(self._local, "tally", None)
        if tally is not None:
            tally.calls += 1
        return None

    def release(self) -> None:
        """The attempt just made never reached the API (DNS, refused, TLS): un-reserve it, so
        it counts against neither the budget nor the spacing, nor the symbol's calls."""
        pending = getattr(self._local, "pending", None)
        self._local.pending = None
        if pending is None:
            return
        tally: CallTally | None = getattr(self._local, "tally", None)
        if tally is not None:
            tally.calls -= 1
        self._db.run(lambda conn: sql.unreserve(conn, pending))

    def next_call_in(self) -> float:
        """Seconds until the spacing, a slow-down or the per-minute cap let the next call go."""
        now = self._clock.now()
        try:
            at = self._db.run(
                lambda conn: sql.next_call_at(
                    conn,
                    fingerprint=self.fingerprint,
                    now=now,
                    per_minute=self._per_minute,
                    polite_sec=self._polite_delay,
                )
            )
        except DatabaseError as exc:  # only a log line depends on it
            logger.debug("could not read the next call time: %s", exc)
            return 0.0
        return max(0.0, (at - now).total_seconds()) if at else 0.0

    def report(self, outcome: Outcome, request: CallRequest | None = None) -> None:
        """Record the outcome in the call's ledger row and what it teaches about the key. Every
        caller's calls come through here (refresh, backfill, corporate actions; CLI, Dagster,
        Airflow), so a lesson is learnt once for all of them."""
        pending = getattr(self._local, "pending", None)
        self._local.pending = None
        now = self._clock.now()

        def record(conn: psycopg.Connection[Any]) -> bool:
            if pending is not None:
                sql.record_outcome(conn, pending, outcome.value)
            if outcome is Outcome.RATE_LIMITED:
                self._slow_down(conn, now)
            elif outcome is Outcome.PREMIUM_PARAMETER:
                sql.upsert_key_state(conn, self.fingerprint, now, full_history_denied_at=now)
            elif proves_full_history(outcome, request):
                return sql.grant_full_history(conn, self.fingerprint, now)
            return False

        if self._db.run(record):
            logger.info(
                "key %s got full history: it is no longer treated as compact-only",
                self.fingerprint,
            )

    def _slow_down(self, conn: psycopg.Connection[Any], now: datetime) -> None:
        # Double the spacing on every rate-limit reply within the window, bounded: hammering a
        # throttled API only burns calls that count against the day.
        cap = max(SLOW_SPACING_CAP_SEC, self._polite_delay)
        first = min(cap, max(SLOW_SPACING_FLOOR_SEC, 2 * self._polite_delay))
        sql.slow_down(
            conn, self.fingerprint, now, first_sec=first, cap_sec=cap, until=now + SLOW_WINDOW
        )
        logger.warning("Alpha Vantage throttled key %s: slowing down API calls", self.fingerprint)

    def mark_day_exhausted(self) -> None:
        """The API said today's quota is gone: no further call today, from any process."""
        now = self._clock.now()
        self._db.run(
            lambda conn: sql.upsert_key_state(
                conn, self.fingerprint, now, day_exhausted_on=quota_day(now)
            )
        )

    def note_rate_limit(self, exc: RateLimited) -> None:
        """After a rate-limit reply: when the API said today's quota is gone (not this gate's
        own budget check), record it for every process. A database fault is only logged: the
        budget check still stops today's calls."""
        if exc.scope != "day" or isinstance(exc, BudgetExhausted):
            return
        try:
            self.mark_day_exhausted()
        except DatabaseError as err:
            logger.error("could not record that the daily quota is spent: %s", err)

    def mark_full_history_denied(self) -> None:
        now = self._clock.now()
        self._db.run(
            lambda conn: sql.upsert_key_state(
                conn, self.fingerprint, now, full_history_denied_at=now
            )
        )

    def full_history_denied(self) -> bool:
        """True when this key got the premium-parameter reply for outputsize=full lately."""
        state = self._db.run(lambda conn: sql.read_key_state(conn, self.fingerprint))
        denied_at = state.full_history_denied_at if state else None
        return full_denial_in_force(denied_at, self._clock.now())

    def slow_spacing(self) -> float:
        """The rate-limit spacing in force now (0 when none)."""
        now = self._clock.now()
        state = self._db.run(lambda conn: sql.read_key_state(conn, self.fingerprint))
        if state is None or state.slow_until is None or state.slow_until <= now:
            return 0.0
        return state.slow_spacing_sec
