"""The call gate: every process asks PostgreSQL for permission before an Alpha Vantage call,
and PostgreSQL answers with *when* the call may start.

The answer holds the daily budget, the spacing, the per-minute cap, the throttle slow-down and
the priority classes (stockpipe.quota.classes) for every thread, process and orchestrator at
once. One round trip claims a slot for every thread of this process waiting for one (a GCRA
"next start" per key, stockpipe.store.call_gate), so the gate is not the bottleneck with many
calls in flight; each thread then sleeps until its slot starts, and one that wakes too late
claims a fresh slot (see stockpipe.quota.concurrency). Every slot is a row of
`api_call_ledger` from the moment it is claimed, before its call is sent, so two processes can
never spend more than the budget together, and a crash only ever over-counts; the row's time
becomes the moment the call left once its outcome is written. Outcomes are
written in batches; what a reply teaches about the key (a throttle, full history refused or
granted) is written at once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg

from stockpipe.alphavantage.classify import CallRequest
from stockpipe.alphavantage.errors import BudgetExhausted, Outcome, RateLimited
from stockpipe.clock import Clock, SystemClock
from stockpipe.quota.budget import full_denial_in_force
from stockpipe.quota.classes import ACTIVE_POLL_SEC, ACTIVE_TTL, CallClass
from stockpipe.quota.concurrency import LATE_SLOT_SEC, spacing_sec
from stockpipe.quota.day import key_fingerprint, quota_day, quota_day_start
from stockpipe.settings import Settings
from stockpipe.store import Database, DatabaseError
from stockpipe.store import call_gate as sql
from stockpipe.waits import NOTABLE_WAIT_SEC, Wait, announce_wait

logger = logging.getLogger(__name__)

# After a rate-limit reply: space calls at least this far apart, doubling on every further
# reply up to the cap, for this long after the last one.
SLOW_SPACING_FLOOR_SEC = 1.0
SLOW_SPACING_CAP_SEC = 120.0
SLOW_WINDOW = timedelta(minutes=10)
# The ledger only needs today's calls and the last minute; keep a week for people to read.
LEDGER_RETENTION = timedelta(days=7)
# A lower class's reserve (stockpipe.quota.classes) is read again after this long: a value
# kept may be a few seconds stale (see PostgresCallGate._reserve_now).
RESERVE_KEPT_SEC = 5.0
# Outcomes wait in memory until this many (or the next claim, or close) write them together.
OUTCOME_BATCH = 32
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


class _Slot(NamedTuple):
    ledger_id: int
    start: datetime
    epoch: int  # the gate's throttle count when claimed: a throttle since voids the slot


class PostgresCallGate:
    """A CallGate (see stockpipe.alphavantage) whose state lives in PostgreSQL.

    acquire() blocks until a call may start (its slot: the spacing, the per-minute cap, a
    throttle slow-down; no run of a higher class active) and reserves it, or raises
    BudgetExhausted. Shared by the threads of a run: each thread's reservation is tracked per
    thread, and the thread that asks PostgreSQL claims a slot for every thread waiting. A gate
    serves the scheduled refreshes unless `serving` says otherwise (stockpipe.quota.classes).
    close() writes the outcomes not yet written and gives back slots never used.
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
        self._polite_delay = settings.api_polite_delay_sec
        self._step = spacing_sec(settings)
        self._clock = clock or SystemClock()
        secret = key if key is not None else settings.api_key.get_secret_value()
        self.fingerprint = key_fingerprint(secret)
        self._lock_key = int(self.fingerprint[:8], 16) - 2**31  # fits PostgreSQL's int4
        self._local = threading.local()
        self._pruned = False
        self.call_class = CallClass.REFRESH
        self._reserve: Callable[[], int] = lambda: 0
        self._reserve_read: tuple[datetime, int] | None = None  # (when, value): see _reserve_now
        self._holder = uuid.uuid4().hex  # this gate's registration while a run is active
        self._active = 0
        self._claiming = threading.Lock()  # one claim at a time in this process
        self._state = threading.Lock()  # the pool, the waiters, the outcomes, the epoch
        self._pool: deque[_Slot] = deque()
        self._waiting = 0
        self._epoch = 0
        self._outcomes: list[sql.Outcome] = []

    def __repr__(self) -> str:
        budget = "no daily cap" if self._budget is None else f"budget={self._budget}/day"
        return f"PostgresCallGate(key={self.fingerprint}, {budget})"

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
        budget for the higher classes (read again every few seconds and before a refusal), and
        register the run as active so lower classes wait for it."""
        previous = (self.call_class, self._reserve)
        self.call_class, self._reserve = call_class, reserve or (lambda: 0)
        self._reserve_read = None
        try:
            with self.active():
                yield
        finally:
            self.call_class, self._reserve = previous
            self._reserve_read = None

    @contextmanager
    def active(self) -> Iterator[None]:
        """Register a run of this gate's class as active on the key while inside: lower
        classes take no slot meanwhile. Renewed on every claim; lapses after ACTIVE_TTL if the
        process dies. A database fault only costs the priority, never the run."""
        self._active += 1
        if self._active == 1:
            self._renew()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:  # the run is over: its outcomes and unused slots too
                self.close()
                try:
                    self._db.run(
                        lambda conn: sql.drop_claimant(conn, self.fingerprint, self._holder)
                    )
                except DatabaseError as exc:
                    logger.debug("could not end the run's registration: %s", exc)

    def higher_run_active(self, call_class: CallClass) -> bool:
        """Whether a run of a class above `call_class` is active on the key now: what it has
        in flight counts as spent and, until it records its work, still as needed, so a reserve
        read meanwhile is too high (the gate waits for such a run rather than refusing)."""
        now = self._clock.now()
        until = self._db.run(
            lambda conn: sql.higher_run_until(conn, self.fingerprint, int(call_class), now)
        )
        return until is not None

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
            with self._state:
                self._waiting += 1
            try:
                slot = self._next_slot()
            finally:
                with self._state:
                    self._waiting -= 1
            if isinstance(slot, float):
                self._announce(slot, "a higher-priority run using the key (refreshes first)")
                self._clock.sleep(slot)
                continue
            wait = (slot.start - self._clock.now()).total_seconds()
            if wait > 0:
                self._announce(wait)
                self._clock.sleep(wait)
            if slot.epoch != self._epoch:  # a throttle reply since: the slot starts too soon
                self._give_back([slot.ledger_id])
                continue
            sent_at = self._clock.now()
            if (sent_at - slot.start).total_seconds() > LATE_SLOT_SEC:
                # Woke too late: sent now, the call could land within a minute of the call
                # the per-minute cap counts from. A fresh slot is after every slot granted.
                self._give_back([slot.ledger_id])
                continue
            self._local.pending = slot.ledger_id
            self._local.pending_start = slot.start
            self._local.pending_sent = sent_at  # the ledger keeps when it left, not its slot
            tally: CallTally | None = getattr(self._local, "tally", None)
            if tally is not None:
                tally.calls += 1
            return

    def _announce(self, seconds: float, reason: str | None = None) -> None:
        """Say why this thread sleeps (stockpipe.waits: a progress display, else the log)."""
        symbol = (getattr(self._local, "labels", None) or (None, None))[0]
        announce_wait(Wait(seconds, reason or self._why(seconds), symbol))

    def _why(self, seconds: float) -> str:
        """Why a slot starts `seconds` from now, as far as the settings tell (a display's line)."""
        # The pacing step is the larger of the polite delay and the per-minute rate's spacing.
        paced_by = (
            "the API's per-minute limit (API_CALLS_PER_MINUTE)"
            if self._step > self._polite_delay
            else "the spacing between calls (API_POLITE_DELAY_SEC)"
        )
        if seconds <= self._step + 1:
            return paced_by
        try:
            slowed = self.slow_spacing() if seconds >= NOTABLE_WAIT_SEC else 0.0
        except DatabaseError:  # only the wording of a progress line depends on it
            slowed = 0.0
        if slowed > self._step:
            return "a slow-down after a rate-limit reply"
        return paced_by

    def _next_slot(self) -> _Slot | float:
        """A slot from the pool, claiming for every waiting thread when it is empty; or the
        seconds to wait before asking again. Raises BudgetExhausted."""
        with self._claiming:
            with self._state:
                if self._pool:
                    return self._pool.popleft()
                want = max(1, self._waiting)
            reserve, kept = self._reserve_now()
            verdict: list[_Slot] | float | str = self._db.run(
                lambda conn: self._claim(conn, want, reserve)
            )
            if isinstance(verdict, str) and kept:
                # Never refuse on a kept reserve: it may be too high by now (the higher
                # classes' work recorded since).
                reserve, _ = self._reserve_now(fresh=True)
                verdict = self._db.run(lambda conn: self._claim(conn, want, reserve))
            if isinstance(verdict, str):
                raise BudgetExhausted(verdict)
            if isinstance(verdict, float):
                return verdict
            with self._state:
                self._pool.extend(verdict[1:])
                return verdict[0]

    def _reserve_now(self, *, fresh: bool = False) -> tuple[int, bool]:
        """The calls kept for the higher classes, and whether that is a value kept from an
        earlier claim. Read at most once every RESERVE_KEPT_SEC of the same quota day: at
        10,000 symbols a read costs about half a second (the universe and every symbol's
        state), more than a claim's whole share of the pace. The refresh, and any class without
        a daily cap, keep nothing back."""
        if self.call_class is CallClass.REFRESH or self._budget is None:
            return 0, False
        now, read = self._clock.now(), self._reserve_read
        if (
            not fresh
            and read is not None
            and quota_day(read[0]) == quota_day(now)
            and timedelta(0) <= now - read[0] < timedelta(seconds=RESERVE_KEPT_SEC)
        ):
            return read[1], True
        value = self._reserve()
        self._reserve_read = (now, value)
        return value, False

    def _claim(
        self, conn: psycopg.Connection[Any], want: int, reserve: int
    ) -> list[_Slot] | float | str:
        """Slots granted; or seconds to wait (a higher class is active); or why the budget is
        spent."""
        now = self._clock.now()
        day = quota_day(now)
        with self._state:
            outcomes, self._outcomes = self._outcomes, []
            epoch = self._epoch
        # One network round trip: the lock, the outcomes waiting, the run's registration and
        # the claim are pipelined. The claim must stay a statement of its own after the lock:
        # a statement's snapshot is taken when it starts, so a claim inside the locking
        # statement could miss slots committed while it waited for the lock.
        with conn.pipeline():
            sql.lock_key(conn, self._lock_key)
            if not self._pruned:
                sql.prune_ledger(conn, self.fingerprint, now - LEDGER_RETENTION)
                self._pruned = True
            sql.record_outcomes(conn, outcomes)
            if self._active:
                sql.renew_claimant(
                    conn, self.fingerprint, self._holder, int(self.call_class), now + ACTIVE_TTL
                )
            claim = sql.claim_slots(
                conn, fingerprint=self.fingerprint, now=now, day=day,
                day_start=quota_day_start(day), step_sec=self._step, budget=self._budget,
                want=want, reserve=reserve, call_class=int(self.call_class),
            )  # fmt: skip
        if claim.slots:
            return [_Slot(ledger_id, start, epoch) for ledger_id, start in claim.slots]
        if claim.exhausted:
            return f"Alpha Vantage reported the daily quota spent for {day}; the rest waits"
        if claim.higher_until is not None:
            # A higher class is active: wait for it, asking again now and then (it may end
            # long before its registration would lapse).
            return ACTIVE_POLL_SEC
        assert self._budget is not None  # without a daily cap a claim is always granted
        if claim.spent >= self._budget:
            return (
                f"the daily budget of {self._budget} API calls is spent ({claim.spent} calls"
                f" on {day}, US/Eastern); raise API_DAILY_BUDGET or wait for tomorrow"
            )
        return (
            f"the rest of today's budget is kept for higher-priority work: {reserve} of"
            f" API_DAILY_BUDGET={self._budget} for what comes before the"
            f" {self.call_class.label} ({claim.spent} calls spent on {day}, US/Eastern)"
        )

    def _give_back(self, ledger_ids: list[int]) -> None:
        if ledger_ids:
            self._db.run(lambda conn: sql.unreserve(conn, ledger_ids))

    def release(self) -> None:
        """The attempt just made never reached the API (DNS, refused, TLS): un-reserve it, so
        it counts against neither the budget nor the symbol's calls."""
        pending = getattr(self._local, "pending", None)
        self._local.pending = None
        if pending is None:
            return
        tally: CallTally | None = getattr(self._local, "tally", None)
        if tally is not None:
            tally.calls -= 1
        start = getattr(self._local, "pending_start", None)
        self._db.run(
            lambda conn: sql.unreserve(
                conn, [pending], fingerprint=self.fingerprint, rewind_to=start
            )
        )

    def next_call_in(self) -> float:
        """Seconds until the key's next call may start (spacing, slow-down, per-minute cap)."""
        now = self._clock.now()
        try:
            at = self._db.run(lambda conn: sql.next_start(conn, self.fingerprint, now))
        except DatabaseError as exc:  # only a log line depends on it
            logger.debug("could not read the next call time: %s", exc)
            return 0.0
        return max(0.0, (at - now).total_seconds())

    def report(self, outcome: Outcome, request: CallRequest | None = None) -> None:
        """Record the outcome in the call's ledger row (batched) and what it teaches about the
        key (at once). Every caller's calls come through here (refresh, backfill, corporate
        actions; CLI, Dagster, Airflow), so a lesson is learnt once for all of them."""
        pending = getattr(self._local, "pending", None)
        self._local.pending = None
        now = self._clock.now()
        if pending is not None:
            symbol, function = getattr(self._local, "labels", None) or (None, None)
            sent_at: datetime = self._local.pending_sent
            with self._state:
                self._outcomes.append((pending, outcome.value, symbol, function, sent_at))
                full = len(self._outcomes) >= OUTCOME_BATCH
            if full:
                self.flush()
        if outcome is Outcome.RATE_LIMITED:
            self._throttled(now)
        elif outcome is Outcome.PREMIUM_PARAMETER:
            self._db.run(
                lambda conn: sql.upsert_key_state(
                    conn, self.fingerprint, now, full_history_denied_at=now
                )
            )
        elif proves_full_history(outcome, request) and self._db.run(
            lambda conn: sql.grant_full_history(conn, self.fingerprint, now)
        ):
            logger.info(
                "key %s got full history: it is no longer treated as compact-only",
                self.fingerprint,
            )

    def _throttled(self, now: datetime) -> None:
        """Slow every worker of every process down at once: the key's next start moves back
        (stockpipe.store.call_gate.slow_down); this process's slots claimed before are void."""
        cap = max(SLOW_SPACING_CAP_SEC, self._polite_delay)
        first = min(cap, max(SLOW_SPACING_FLOOR_SEC, 2 * self._polite_delay))
        with self._state:
            self._epoch += 1
            unused = [slot.ledger_id for slot in self._pool]
            self._pool.clear()
        spacing = self._db.run(
            lambda conn: sql.slow_down(
                conn, self.fingerprint, now, first_sec=first, cap_sec=cap, until=now + SLOW_WINDOW
            )
        )
        self._give_back(unused)
        logger.warning(
            "Alpha Vantage throttled key %s: every call of the key now %.1f s apart for %d min",
            self.fingerprint,
            spacing,
            SLOW_WINDOW.total_seconds() // 60,
        )

    def flush(self) -> None:
        """Write the outcomes waiting in memory."""
        with self._state:
            outcomes, self._outcomes = self._outcomes, []
        if outcomes:
            self._db.run(lambda conn: sql.record_outcomes(conn, outcomes))

    def close(self) -> None:
        """Write the outcomes waiting and give back the slots claimed and never used. Errors are
        only logged: the slots then count as spent, never the other way round."""
        with self._state:
            unused = [slot.ledger_id for slot in self._pool]
            self._pool.clear()
        try:
            self.flush()
            self._give_back(unused)
        except DatabaseError as exc:
            logger.warning("could not close the call gate cleanly: %s", exc)

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
