"""The API quota, shared by every process through PostgreSQL: daily budget, spacing, slow-down.

"Today" is Alpha Vantage's day, taken to be the calendar date in US/Eastern (the zone the API
dates everything in); the budget resets at midnight New York time. The vendor does not say
when its counter resets, so this is an assumption: a budget that resets a few hours late only
defers symbols, it never overspends.

Every HTTP attempt is reserved in `api_call_ledger` BEFORE it is made, under a per-key advisory
lock, so two processes (or two concurrent runs) can never spend more than the budget together,
and a crash between reserving and calling only errs on the side of counting a call.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

from stockpipe.alphavantage.errors import BudgetExhausted, Outcome, RateLimited
from stockpipe.clock import Clock, SystemClock
from stockpipe.market_calendar import NEW_YORK
from stockpipe.settings import Settings
from stockpipe.store import Database, DatabaseError
from stockpipe.waits import NOTABLE_WAIT_SEC, Wait, announce_wait

logger = logging.getLogger(__name__)

QUOTA_ZONE = NEW_YORK  # Alpha Vantage's day (see the module docstring)
# First argument of the two-key pg_advisory_xact_lock: keeps our locks apart from other users'.
_LOCK_NAMESPACE = 0x51554F54  # "QUOT"
# After a rate-limit reply: space calls at least this far apart, doubling on every further
# reply up to the cap, for this long after the last one.
SLOW_SPACING_FLOOR_SEC = 1.0
SLOW_SPACING_CAP_SEC = 120.0
SLOW_WINDOW = timedelta(minutes=10)
# A key denied outputsize=full is not asked again for this long (it may be upgraded later).
FULL_DENIAL_MEMORY = timedelta(days=30)
# The ledger only needs today's calls and the last minute; keep a week for people to read.
LEDGER_RETENTION = timedelta(days=7)


# Reserve a call if the key may make one now, in one statement (run under the key's advisory
# lock): the API's own "day exhausted", today's count against the budget, the spacing since the
# last call (the polite delay, or a rate-limit slow-down while in force) and the per-minute
# window (the oldest call still in it, when it is full). Returns the verdict and the new
# ledger id, NULL when nothing was reserved; `earliest` is when a call may be made.
_STATE = """state AS (
    SELECT slow_spacing_sec, slow_until, day_exhausted_on
    FROM api_key_state WHERE key_fingerprint = %(fp)s
)"""
_EARLIEST = """GREATEST(
            %(now)s,
            (SELECT max(called_at) FROM api_call_ledger WHERE key_fingerprint = %(fp)s)
            + make_interval(secs => GREATEST(%(polite)s, (SELECT slow_spacing_sec FROM state
                                                          WHERE slow_until > %(now)s))),
            (SELECT called_at FROM api_call_ledger
             WHERE key_fingerprint = %(fp)s AND called_at > %(window)s
             ORDER BY called_at DESC OFFSET %(offset)s LIMIT 1) + interval '1 minute'
        )"""
_RESERVE = f"""
WITH {_STATE}, verdict AS (
    SELECT
        COALESCE((SELECT day_exhausted_on FROM state) = %(day)s, FALSE) AS exhausted,
        (SELECT count(*) FROM api_call_ledger
         WHERE key_fingerprint = %(fp)s AND called_at >= %(day_start)s) AS spent,
        {_EARLIEST} AS earliest
), reserved AS (
    INSERT INTO api_call_ledger (key_fingerprint, called_at, symbol, function)
    SELECT %(fp)s, %(now)s, %(symbol)s, %(function)s FROM verdict
    WHERE NOT exhausted AND spent < %(budget)s AND earliest <= %(now)s
    RETURNING id
)
SELECT exhausted, spent, earliest, (SELECT id FROM reserved) FROM verdict"""
# When the spacing and the per-minute window would let the next call through (read-only).
_NEXT_CALL = f"WITH {_STATE} SELECT {_EARLIEST}"


def key_fingerprint(api_key: str) -> str:
    """A short, stable, one-way label for a key: safe to store, log and show."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


def quota_day(moment: datetime) -> date:
    return moment.astimezone(QUOTA_ZONE).date()


def quota_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=QUOTA_ZONE).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BudgetInfo:
    key_fingerprint: str
    day: date  # Alpha Vantage's day (US/Eastern)
    calls_today: int
    budget: int
    day_exhausted: bool  # the API itself said the day's quota is gone
    full_history_denied: bool
    slowed_until: datetime | None  # a rate-limit slow-down in force until then

    @property
    def remaining(self) -> int:
        return 0 if self.day_exhausted else max(0, self.budget - self.calls_today)


@dataclass(slots=True)
class CallTally:
    """Calls reserved while a symbol was attributed (see PostgresCallGate.attribute)."""

    calls: int = 0


def calls_today(db: Database, key: str, *, now: datetime | None = None) -> int:
    """Calls reserved with `key` since midnight US/Eastern, rejected ones included."""
    moment = now or datetime.now(UTC)
    start = quota_day_start(quota_day(moment))
    fingerprint = key_fingerprint(key)

    def count(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT count(*) FROM api_call_ledger WHERE key_fingerprint = %s AND called_at >= %s",
            (fingerprint, start),
        ).fetchone()
        return int(row[0]) if row else 0

    return db.run(count)


def budget_info(db: Database, settings: Settings, *, now: datetime | None = None) -> BudgetInfo:
    """Today's spend against API_DAILY_BUDGET for the configured key, for `stockpipe status`."""
    moment = now or datetime.now(UTC)
    day = quota_day(moment)
    fingerprint = key_fingerprint(settings.api_key.get_secret_value())

    def read(conn: psycopg.Connection[Any]) -> BudgetInfo:
        row = conn.execute(
            "SELECT count(*) FROM api_call_ledger WHERE key_fingerprint = %s AND called_at >= %s",
            (fingerprint, quota_day_start(day)),
        ).fetchone()
        state = _read_key_state(conn, fingerprint)
        exhausted_on, denied_at, slow_until = (
            (state[2], state[3], state[1]) if state else (None,) * 3
        )
        return BudgetInfo(
            key_fingerprint=fingerprint,
            day=day,
            calls_today=int(row[0]) if row else 0,
            budget=settings.api_daily_budget,
            day_exhausted=exhausted_on == day,
            full_history_denied=denied_at is not None and moment - denied_at < FULL_DENIAL_MEMORY,
            slowed_until=slow_until if slow_until is not None and slow_until > moment else None,
        )

    return db.run(read)


def _read_key_state(
    conn: psycopg.Connection[Any], fingerprint: str
) -> tuple[float, datetime | None, date | None, datetime | None] | None:
    row = conn.execute(
        "SELECT slow_spacing_sec, slow_until, day_exhausted_on, full_history_denied_at"
        " FROM api_key_state WHERE key_fingerprint = %s",
        (fingerprint,),
    ).fetchone()
    return (float(row[0]), row[1], row[2], row[3]) if row else None


class PostgresCallGate:
    """A CallGate (see stockpipe.alphavantage) whose state lives in PostgreSQL.

    acquire() blocks until a call may be made (polite delay since the last call, the per-minute
    cap, any rate-limit slow-down) and reserves it, or raises BudgetExhausted. One gate may be
    shared by threads: the reservation being reported is tracked per thread.
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

    def acquire(self) -> None:
        while True:
            verdict = self._db.run(self._try_reserve)
            if isinstance(verdict, str):
                raise BudgetExhausted(verdict)
            if verdict is None:
                return
            announce_wait(self._wait(verdict))
            self._clock.sleep(verdict)

    def _wait(self, seconds: float) -> Wait:
        """Why the next call waits `seconds`, as far as the settings tell (a display's line)."""
        symbol = (getattr(self._local, "labels", None) or (None, None))[0]
        if seconds > self._polite_delay + 1:
            try:
                slowed = self.slow_spacing() if seconds >= NOTABLE_WAIT_SEC else 0.0
            except DatabaseError:  # only the wording of a progress line depends on it
                slowed = 0.0
            if slowed > self._polite_delay:
                return Wait(seconds, "a slow-down after a rate-limit reply", symbol)
            return Wait(seconds, "the API's per-minute limit (API_CALLS_PER_MINUTE)", symbol)
        return Wait(seconds, "the spacing between calls (API_POLITE_DELAY_SEC)", symbol)

    def _try_reserve(self, conn: psycopg.Connection[Any]) -> float | str | None:
        """None: reserved. A float: seconds to wait first. A str: why the budget is spent."""
        now = self._clock.now()
        day = quota_day(now)
        symbol, function = getattr(self._local, "labels", None) or (None, None)
        # One network round trip: the lock and the checking insert are pipelined. They must stay
        # two statements: a statement's snapshot is taken when it starts, so checks inside the
        # locking statement could miss a reservation committed while it waited for the lock.
        with conn.pipeline():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, self._lock_key))
            if not self._pruned:
                conn.execute(
                    "DELETE FROM api_call_ledger WHERE key_fingerprint = %s AND called_at < %s",
                    (self.fingerprint, now - LEDGER_RETENTION),
                )
                self._pruned = True
            row = conn.execute(
                _RESERVE,
                {
                    "fp": self.fingerprint, "now": now, "day": day,
                    "day_start": quota_day_start(day), "window": now - timedelta(minutes=1),
                    "offset": self._per_minute - 1, "polite": self._polite_delay,
                    "budget": self._budget, "symbol": symbol, "function": function,
                },
            ).fetchone()  # fmt: skip
        assert row is not None  # the statement always returns its one verdict row
        exhausted, spent, earliest, reserved = row
        if exhausted:
            return f"Alpha Vantage reported the daily quota spent for {day}; the rest waits"
        if spent >= self._budget:
            return (
                f"the daily budget of {self._budget} API calls is spent ({spent} calls on {day},"
                " US/Eastern); raise API_DAILY_BUDGET or wait for tomorrow"
            )
        if reserved is None:
            return float((earliest - now).total_seconds())
        self._local.pending = reserved
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
        self._db.run(
            lambda conn: conn.execute("DELETE FROM api_call_ledger WHERE id = %s", (pending,))
        )

    def next_call_in(self) -> float:
        """Seconds until the spacing, a slow-down or the per-minute cap let the next call go."""
        now = self._clock.now()
        params = {
            "fp": self.fingerprint, "now": now, "polite": self._polite_delay,
            "window": now - timedelta(minutes=1), "offset": self._per_minute - 1,
        }  # fmt: skip
        try:
            row = self._db.run(lambda conn: conn.execute(_NEXT_CALL, params).fetchone())
        except DatabaseError as exc:  # only a log line depends on it
            logger.debug("could not read the next call time: %s", exc)
            return 0.0
        return max(0.0, (row[0] - now).total_seconds()) if row else 0.0

    def report(self, outcome: Outcome) -> None:
        pending = getattr(self._local, "pending", None)
        self._local.pending = None
        now = self._clock.now()

        def record(conn: psycopg.Connection[Any]) -> None:
            if pending is not None:
                conn.execute(
                    "UPDATE api_call_ledger SET outcome = %s WHERE id = %s",
                    (outcome.value, pending),
                )
            if outcome is Outcome.RATE_LIMITED:
                self._slow_down(conn, now)
            elif outcome is Outcome.PREMIUM_PARAMETER:
                _upsert_key_state(conn, self.fingerprint, now, full_history_denied_at=now)

        self._db.run(record)

    def _slow_down(self, conn: psycopg.Connection[Any], now: datetime) -> None:
        # Double the spacing on every rate-limit reply within the window, bounded: hammering a
        # throttled API only burns calls that count against the day.
        cap = max(SLOW_SPACING_CAP_SEC, self._polite_delay)
        first = min(cap, max(SLOW_SPACING_FLOOR_SEC, 2 * self._polite_delay))
        conn.execute(
            "INSERT INTO api_key_state AS s (key_fingerprint, slow_spacing_sec, slow_until,"
            " updated_at) VALUES (%(fp)s, %(first)s, %(until)s, %(now)s)"
            " ON CONFLICT (key_fingerprint) DO UPDATE SET slow_spacing_sec = LEAST(%(cap)s,"
            "  GREATEST(%(first)s, 2 * CASE WHEN s.slow_until > %(now)s"
            "   THEN s.slow_spacing_sec ELSE 0 END)),"
            " slow_until = %(until)s, updated_at = %(now)s",
            {"fp": self.fingerprint, "first": first, "cap": cap, "now": now,
             "until": now + SLOW_WINDOW},
        )  # fmt: skip
        logger.warning("Alpha Vantage throttled key %s: slowing down API calls", self.fingerprint)

    def mark_day_exhausted(self) -> None:
        """The API said today's quota is gone: no further call today, from any process."""
        now = self._clock.now()
        self._db.run(
            lambda conn: _upsert_key_state(conn, self.fingerprint, now, day_exhausted_on=now)
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
            lambda conn: _upsert_key_state(conn, self.fingerprint, now, full_history_denied_at=now)
        )

    def full_history_denied(self) -> bool:
        """True when this key got the premium-parameter reply for outputsize=full lately."""
        now = self._clock.now()
        state = self._db.run(lambda conn: _read_key_state(conn, self.fingerprint))
        denied_at = state[3] if state else None
        return denied_at is not None and now - denied_at < FULL_DENIAL_MEMORY

    def slow_spacing(self) -> float:
        """The rate-limit spacing in force now (0 when none)."""
        now = self._clock.now()
        state = self._db.run(lambda conn: _read_key_state(conn, self.fingerprint))
        if state is None or state[1] is None or state[1] <= now:
            return 0.0
        return state[0]


def _upsert_key_state(
    conn: psycopg.Connection[Any],
    fingerprint: str,
    now: datetime,
    *,
    day_exhausted_on: datetime | None = None,
    full_history_denied_at: datetime | None = None,
) -> None:
    day = quota_day(day_exhausted_on) if day_exhausted_on is not None else None
    conn.execute(
        "INSERT INTO api_key_state AS s (key_fingerprint, day_exhausted_on,"
        " full_history_denied_at, updated_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (key_fingerprint) DO UPDATE SET"
        " day_exhausted_on = COALESCE(EXCLUDED.day_exhausted_on, s.day_exhausted_on),"
        " full_history_denied_at = COALESCE(EXCLUDED.full_history_denied_at,"
        "  s.full_history_denied_at),"
        " updated_at = EXCLUDED.updated_at",
        (fingerprint, day, full_history_denied_at, now),
    )
