"""Every SQL statement of the call gate (stockpipe.quota): `api_call_ledger`, `api_key_state`.

Keys appear only by their fingerprint (stockpipe.quota.day.key_fingerprint). The functions take
an open connection: the gate runs several of them in one transaction, under the key's lock.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

import psycopg

# First argument of the two-key pg_advisory_xact_lock: keeps our locks apart from other users'.
_LOCK_NAMESPACE = 0x51554F54  # "QUOT"

# Claim up to `want` call slots for the key, in one statement (run under the key's advisory
# lock, after it: see PostgresCallGate._claim). The key's `next_start_at` is the earliest start
# of its next call (a GCRA "theoretical arrival time"): slots start there (or now, if later),
# `step` apart (the spacing, or a throttle slow-down while in force), and it moves past the
# last slot granted. Nothing is granted when the API said today's quota is gone or a run of a
# higher class is active; with a daily budget, at most what it leaves after `reserve`. Every
# slot is a ledger row from now on (called_at: its start; once reported, when the call left:
# record_outcomes), so a crash over-counts, never under.
_CLAIM = """
WITH state AS (
    SELECT next_start_at, slow_spacing_sec, slow_until, day_exhausted_on
    FROM api_key_state WHERE key_fingerprint = %(fp)s
), verdict AS (
    SELECT
        COALESCE((SELECT day_exhausted_on FROM state) = %(day)s, FALSE) AS exhausted,
        CASE WHEN %(budget)s::bigint IS NULL THEN 0 ELSE
            (SELECT count(*) FROM api_call_ledger
             WHERE key_fingerprint = %(fp)s AND called_at >= %(day_start)s) END AS spent,
        GREATEST(%(now)s, (SELECT next_start_at FROM state)) AS base,
        GREATEST(%(step)s, COALESCE((SELECT slow_spacing_sec FROM state
                                     WHERE slow_until > %(now)s), 0)) AS step,
        (SELECT max(active_until) FROM api_call_claimant
         WHERE key_fingerprint = %(fp)s AND call_class < %(class)s
           AND active_until > %(now)s) AS higher_until
), granted AS (
    SELECT v.*, CASE
        WHEN exhausted OR higher_until IS NOT NULL THEN 0
        WHEN %(budget)s::bigint IS NULL THEN %(want)s
        ELSE GREATEST(0, LEAST(%(want)s, %(budget)s::bigint - %(reserve)s - spent)) END AS n
    FROM verdict v
), moved AS (
    INSERT INTO api_key_state AS s (key_fingerprint, next_start_at, updated_at)
    SELECT %(fp)s, base + make_interval(secs => n * step), %(now)s FROM granted WHERE n > 0
    ON CONFLICT (key_fingerprint) DO UPDATE
    SET next_start_at = EXCLUDED.next_start_at, updated_at = EXCLUDED.updated_at
), slots AS (
    INSERT INTO api_call_ledger (key_fingerprint, called_at)
    SELECT %(fp)s, base + make_interval(secs => i * step)
    FROM granted, generate_series(0, n - 1) AS i
    RETURNING id, called_at
)
SELECT exhausted, spent, higher_until,
       (SELECT array_agg(id ORDER BY called_at) FROM slots),
       (SELECT array_agg(called_at ORDER BY called_at) FROM slots)
FROM granted"""
# When the next call may start (read-only): the key's next start, no earlier than now.
_NEXT_START = """SELECT GREATEST(%(now)s, next_start_at) FROM api_key_state
WHERE key_fingerprint = %(fp)s"""


class Claim(NamedTuple):
    exhausted: bool  # Alpha Vantage said today's quota is gone
    spent: int  # calls reserved today before this claim (0 without a daily budget)
    higher_until: datetime | None  # a run of a higher class is active until then
    slots: list[tuple[int, datetime]]  # (ledger id, start) of each slot granted, in order


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


def claim_slots(
    conn: psycopg.Connection[Any],
    *,
    fingerprint: str,
    now: datetime,
    day: date,
    day_start: datetime,
    step_sec: float,
    budget: int | None,
    want: int,
    reserve: int = 0,
    call_class: int = 0,
) -> Claim:
    """Claim up to `want` slots for a caller of `call_class` (0 is the highest), which may
    spend today's budget (None: no daily cap) only down to `reserve` and gets nothing while a
    higher class is active. Run it under lock_key, in the same transaction."""
    row = conn.execute(
        _CLAIM,
        {
            "fp": fingerprint, "now": now, "day": day, "day_start": day_start,
            "step": step_sec, "budget": budget, "want": want, "reserve": reserve,
            "class": call_class,
        },
    ).fetchone()  # fmt: skip
    assert row is not None  # the statement always returns its one verdict row
    slots = list(zip(row[3] or [], row[4] or [], strict=True))
    return Claim(bool(row[0]), int(row[1]), row[2], slots)


def next_start(conn: psycopg.Connection[Any], fingerprint: str, now: datetime) -> datetime:
    row = conn.execute(_NEXT_START, {"fp": fingerprint, "now": now}).fetchone()
    return row[0] if row and row[0] is not None else now


def unreserve(
    conn: psycopg.Connection[Any],
    ledger_ids: list[int],
    *,
    fingerprint: str | None = None,
    rewind_to: datetime | None = None,
) -> None:
    """Slots never used (their call never left the machine, or a run ended with them). With
    `rewind_to` (the start of the one slot given back): when no slot starts after it, the key's
    next start moves back to it, so a call that never happened costs no spacing either."""
    conn.execute("DELETE FROM api_call_ledger WHERE id = ANY(%s)", (ledger_ids,))
    if fingerprint is not None and rewind_to is not None:
        conn.execute(
            "UPDATE api_key_state SET next_start_at = %(at)s WHERE key_fingerprint = %(fp)s"
            " AND next_start_at > %(at)s AND NOT EXISTS (SELECT 1 FROM api_call_ledger"
            "  WHERE key_fingerprint = %(fp)s AND called_at >= %(at)s)",
            {"fp": fingerprint, "at": rewind_to},
        )


# (ledger id, outcome, symbol, function, when the call left): one call made.
Outcome = tuple[int, str, str | None, str | None, datetime]


def record_outcomes(conn: psycopg.Connection[Any], outcomes: list[Outcome]) -> None:
    """The calls made, in one statement: each row's outcome and labels, and its time becomes
    the moment the call left (its slot's start until then: never earlier, at most
    LATE_SLOT_SEC later), so the ledger counts calls as the vendor receives them."""
    if not outcomes:
        return
    ids, values, symbols, functions, sent = (list(column) for column in zip(*outcomes, strict=True))
    conn.execute(
        "UPDATE api_call_ledger AS l SET outcome = v.outcome, symbol = v.symbol,"
        " function = v.function, called_at = v.sent_at FROM unnest(%s::bigint[], %s::text[],"
        " %s::text[], %s::text[], %s::timestamptz[]) AS v(id, outcome, symbol, function, sent_at)"
        " WHERE l.id = v.id",
        (ids, values, symbols, functions, sent),
    )


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
) -> float:
    """After a throttle reply: double the key's slow-down spacing (from `first_sec`, at most
    `cap_sec`) while one is in force, else start at `first_sec`, in force until `until`; and
    push the key's next start back by that spacing, for every worker of every process. The
    spacing now in force."""
    row = conn.execute(
        "INSERT INTO api_key_state AS s (key_fingerprint, slow_spacing_sec, slow_until,"
        " next_start_at, updated_at) VALUES (%(fp)s, %(first)s, %(until)s,"
        " %(now)s + make_interval(secs => %(first)s), %(now)s)"
        " ON CONFLICT (key_fingerprint) DO UPDATE SET slow_spacing_sec = LEAST(%(cap)s,"
        "  GREATEST(%(first)s, 2 * CASE WHEN s.slow_until > %(now)s"
        "   THEN s.slow_spacing_sec ELSE 0 END)),"
        " next_start_at = GREATEST(s.next_start_at, %(now)s + make_interval(secs => LEAST(%(cap)s,"
        "  GREATEST(%(first)s, 2 * CASE WHEN s.slow_until > %(now)s"
        "   THEN s.slow_spacing_sec ELSE 0 END)))),"
        " slow_until = %(until)s, updated_at = %(now)s RETURNING slow_spacing_sec",
        {"fp": fingerprint, "first": first_sec, "cap": cap_sec, "now": now, "until": until},
    ).fetchone()
    return float(row[0]) if row else first_sec


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


def higher_run_until(
    conn: psycopg.Connection[Any], fingerprint: str, call_class: int, now: datetime
) -> datetime | None:
    """Until when a run of a class above `call_class` is registered active on the key, if any."""
    row = conn.execute(
        "SELECT max(active_until) FROM api_call_claimant WHERE key_fingerprint = %s"
        " AND call_class < %s AND active_until > %s",
        (fingerprint, call_class, now),
    ).fetchone()
    return row[0] if row else None


def drop_claimant(conn: psycopg.Connection[Any], fingerprint: str, holder: str) -> None:
    """The run is over; also sweeps registrations that lapsed long ago."""
    conn.execute(
        "DELETE FROM api_call_claimant WHERE key_fingerprint = %s"
        " AND (holder = %s OR active_until < now() - interval '1 day')",
        (fingerprint, holder),
    )
