"""Every SQL statement of the call gate (stockpipe.quota): `api_call_ledger`, `api_key_state`.

Keys appear only by their fingerprint (stockpipe.quota.day.key_fingerprint). The functions take
an open connection: the gate runs several of them in one transaction, under the key's lock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import psycopg

# First argument of the two-key pg_advisory_xact_lock: keeps our locks apart from other users'.
_LOCK_NAMESPACE = 0x51554F54  # "QUOT"

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
        {_EARLIEST} AS earliest,
        (SELECT max(active_until) FROM api_call_claimant
         WHERE key_fingerprint = %(fp)s AND call_class < %(class)s
           AND active_until > %(now)s) AS higher_until
), reserved AS (
    INSERT INTO api_call_ledger (key_fingerprint, called_at, symbol, function)
    SELECT %(fp)s, %(now)s, %(symbol)s, %(function)s FROM verdict
    WHERE NOT exhausted AND spent + %(reserve)s < %(budget)s AND earliest <= %(now)s
      AND higher_until IS NULL
    RETURNING id
)
SELECT exhausted, spent, earliest, higher_until, (SELECT id FROM reserved) FROM verdict"""
# When the spacing and the per-minute window would let the next call through (read-only).
_NEXT_CALL = f"WITH {_STATE} SELECT {_EARLIEST}"


class Verdict(NamedTuple):
    exhausted: bool  # Alpha Vantage said today's quota is gone
    spent: int  # calls reserved today, before this one
    earliest: datetime  # when a call may start
    higher_until: datetime | None  # a run of a higher class is active until then
    reserved: int | None  # the new ledger id; None when nothing was reserved


class KeyState(NamedTuple):
    slow_spacing_sec: float
    slow_until: datetime | None
    day_exhausted_on: date | None
    full_history_denied_at: datetime | None
    full_history_granted_at: datetime | None


def lock_key(conn: psycopg.Connection[Any], lock_key: int) -> None:
    """Serialise the key's reservations until the transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, lock_key))


def prune_ledger(conn: psycopg.Connection[Any], fingerprint: str, before: datetime) -> None:
    conn.execute(
        "DELETE FROM api_call_ledger WHERE key_fingerprint = %s AND called_at < %s",
        (fingerprint, before),
    )


def try_reserve(
    conn: psycopg.Connection[Any],
    *,
    fingerprint: str,
    now: datetime,
    day: date,
    day_start: datetime,
    per_minute: int,
    polite_sec: float,
    budget: int,
    reserve: int = 0,
    call_class: int = 0,
    symbol: str | None,
    function: str | None,
) -> Verdict:
    """Reserve one call for a caller of `call_class` (0 is the highest), which may spend
    today's budget only down to `reserve` and takes no slot while a higher class is active."""
    row = conn.execute(
        _RESERVE,
        {
            "fp": fingerprint, "now": now, "day": day, "day_start": day_start,
            "window": now - timedelta(minutes=1), "offset": per_minute - 1,
            "polite": polite_sec, "budget": budget, "reserve": reserve, "class": call_class,
            "symbol": symbol, "function": function,
        },
    ).fetchone()  # fmt: skip
    assert row is not None  # the statement always returns its one verdict row
    return Verdict(bool(row[0]), int(row[1]), row[2], row[3], row[4])


def next_call_at(
    conn: psycopg.Connection[Any],
    *,
    fingerprint: str,
    now: datetime,
    per_minute: int,
    polite_sec: float,
) -> datetime | None:
    params = {
        "fp": fingerprint, "now": now, "polite": polite_sec,
        "window": now - timedelta(minutes=1), "offset": per_minute - 1,
    }  # fmt: skip
    row = conn.execute(_NEXT_CALL, params).fetchone()
    return row[0] if row else None


def unreserve(conn: psycopg.Connection[Any], ledger_id: int) -> None:
    conn.execute("DELETE FROM api_call_ledger WHERE id = %s", (ledger_id,))


def record_outcome(conn: psycopg.Connection[Any], ledger_id: int, outcome: str) -> None:
    conn.execute("UPDATE api_call_ledger SET outcome = %s WHERE id = %s", (outcome, ledger_id))


def count_calls_since(conn: psycopg.Connection[Any], fingerprint: str, since: datetime) -> int:
    row = conn.execute(
        "SELECT count(*) FROM api_call_ledger WHERE key_fingerprint = %s AND called_at >= %s",
        (fingerprint, since),
    ).fetchone()
    return int(row[0]) if row else 0


def read_key_state(conn: psycopg.Connection[Any], fingerprint: str) -> KeyState | None:
    row = conn.execute(
        "SELECT slow_spacing_sec, slow_until, day_exhausted_on, full_history_denied_at,"
        " full_history_granted_at FROM api_key_state WHERE key_fingerprint = %s",
        (fingerprint,),
    ).fetchone()
    return KeyState(float(row[0]), row[1], row[2], row[3], row[4]) if row else None


def slow_down(
    conn: psycopg.Connection[Any],
    fingerprint: str,
    now: datetime,
    *,
    first_sec: float,
    cap_sec: float,
    until: datetime,
) -> None:
    """Double the key's slow-down spacing (from `first_sec`, at most `cap_sec`) while one is
    in force, else start at `first_sec`; in force until `until`."""
    conn.execute(
        "INSERT INTO api_key_state AS s (key_fingerprint, slow_spacing_sec, slow_until,"
        " updated_at) VALUES (%(fp)s, %(first)s, %(until)s, %(now)s)"
        " ON CONFLICT (key_fingerprint) DO UPDATE SET slow_spacing_sec = LEAST(%(cap)s,"
        "  GREATEST(%(first)s, 2 * CASE WHEN s.slow_until > %(now)s"
        "   THEN s.slow_spacing_sec ELSE 0 END)),"
        " slow_until = %(until)s, updated_at = %(now)s",
        {"fp": fingerprint, "first": first_sec, "cap": cap_sec, "now": now, "until": until},
    )


def upsert_key_state(
    conn: psycopg.Connection[Any],
    fingerprint: str,
    now: datetime,
    *,
    day_exhausted_on: date | None = None,
    full_history_denied_at: datetime | None = None,
) -> None:
    """Record what a reply taught about the key; None leaves a field as it is."""
    conn.execute(
        "INSERT INTO api_key_state AS s (key_fingerprint, day_exhausted_on,"
        " full_history_denied_at, updated_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (key_fingerprint) DO UPDATE SET"
        " day_exhausted_on = COALESCE(EXCLUDED.day_exhausted_on, s.day_exhausted_on),"
        " full_history_denied_at = COALESCE(EXCLUDED.full_history_denied_at,"
        "  s.full_history_denied_at),"
        " updated_at = EXCLUDED.updated_at",
        (fingerprint, day_exhausted_on, full_history_denied_at, now),
    )


def grant_full_history(conn: psycopg.Connection[Any], fingerprint: str, now: datetime) -> bool:
    """A full reply succeeded: clear the key's full-history denial and note when. True when a
    denial was in place (the key was upgraded since)."""
    row = conn.execute(
        "INSERT INTO api_key_state AS s (key_fingerprint, full_history_granted_at, updated_at)"
        " VALUES (%(fp)s, %(now)s, %(now)s) ON CONFLICT (key_fingerprint) DO UPDATE SET"
        " full_history_denied_at = NULL, full_history_granted_at = %(now)s, updated_at = %(now)s"
        " RETURNING (SELECT full_history_denied_at IS NOT NULL FROM api_key_state"
        "  WHERE key_fingerprint = %(fp)s)",
        {"fp": fingerprint, "now": now},
    ).fetchone()
    return bool(row and row[0])


def renew_claimant(
    conn: psycopg.Connection[Any], fingerprint: str, holder: str, call_class: int, until: datetime
) -> None:
    """Register (or renew) a run of `call_class` as active on the key until `until`."""
    conn.execute(
        "INSERT INTO api_call_claimant (key_fingerprint, holder, call_class, active_until)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (key_fingerprint, holder) DO UPDATE"
        " SET call_class = EXCLUDED.call_class, active_until = EXCLUDED.active_until",
        (fingerprint, holder, call_class, until),
    )


def drop_claimant(conn: psycopg.Connection[Any], fingerprint: str, holder: str) -> None:
    """The run is over; also sweeps registrations that lapsed long ago."""
    conn.execute(
        "DELETE FROM api_call_claimant WHERE key_fingerprint = %s"
        " AND (holder = %s OR active_until < now() - interval '1 day')",
        (fingerprint, holder),
    )
