"""The incident rules, kept in PostgreSQL (tables `alert_incident`, `alert_symbol_streak`).

A condition opens an incident the first time it is seen; while it holds, later runs only bump
the incident's `occurrences`; when it clears, the incident is closed. Only the opening and the
closing are ever sent, so a symbol failing every day for a week makes one alert and one recovery.

    run_failed     a run of the job failed                        cleared by its next success
    symbol_streak  a symbol failed or was deferred in N runs       cleared by a good run of it
    check_failed   an asset check failed                          cleared when it passes again
    stale          a series' newest bar of a symbol is overdue     cleared when it is fresh
                   (subject series/symbol: each series its own incident)

Every transition is written before anything is sent (the *_notified_at columns are the outbox),
so delivery can fail and be tried again without losing or repeating an alert. Delivery is kept
per channel (`alert_delivery`): a channel that was down gets what it missed once it is back,
and a channel that took a transition never gets it twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from stockpipe.alerts.freshness import FreshnessReport
from stockpipe.alerts.model import FinishedRun
from stockpipe.store import Database

RUN_FAILED = "run_failed"
SYMBOL_STREAK = "symbol_streak"
CHECK_FAILED = "check_failed"
STALE = "stale"
RUN_KINDS = (RUN_FAILED, SYMBOL_STREAK, CHECK_FAILED)
# Enough to act on in a chat message; the UI has the rest.
MAX_EXAMPLES = 10
# A run id is only needed while a tick that counted it might run again (its cursor was not
# stored): minutes. A week, as the API call ledger keeps its rows.
RUN_SEEN_RETENTION = timedelta(days=7)
OPEN, CLOSE = "open", "close"


@dataclass(frozen=True, slots=True)
class Transition:
    """An incident that opened or recovered and has not been sent yet."""

    incident_id: int
    kind: str
    subject: str
    recovered: bool
    opened_at: datetime
    closed_at: datetime | None
    occurrences: int
    details: dict[str, Any]
    close_details: dict[str, Any]
    pending_since: datetime  # when this transition was written
    delivered_to: frozenset[str] = frozenset()  # names of the channels that already took it

    @property
    def direction(self) -> str:
        return CLOSE if self.recovered else OPEN

    @property
    def at(self) -> datetime:
        """When it happened: the opening's or the recovery's time."""
        return self.closed_at if self.recovered and self.closed_at else self.opened_at

    @property
    def run_id(self) -> str | None:
        """The run that caused it (opened or cleared it); None for staleness."""
        found = (self.close_details if self.recovered else self.details).get("run_id")
        return str(found) if found else None


def record_run(
    db: Database, run: FinishedRun, *, consecutive_runs: int, seen_at: datetime | None = None
) -> bool:
    """Apply one finished run to every rule; False (and nothing changed) if it was seen before.
    `seen_at`: when the tick saw it (default: when it finished), for pruning."""

    def work(conn: psycopg.Connection[Any]) -> bool:
        seen = conn.execute(
            "INSERT INTO alert_run_seen (run_id, seen_at) VALUES (%s, %s)"
            " ON CONFLICT (run_id) DO NOTHING RETURNING run_id",
            (run.run_id, seen_at or run.finished_at),
        ).fetchone()
        if seen is None:
            return False
        _apply_run_outcome(conn, run)
        _apply_streaks(conn, run, consecutive_runs)
        _apply_checks(conn, run)
        return True

    return db.run(work)


def prune_runs_seen(db: Database, now: datetime) -> int:
    """Forget run ids seen more than RUN_SEEN_RETENTION ago; returns how many."""
    return db.run(
        lambda conn: (
            conn.execute(
                "DELETE FROM alert_run_seen WHERE seen_at < %s", (now - RUN_SEEN_RETENTION,)
            ).rowcount
        )
    )


def record_freshness(db: Database, report: FreshnessReport, at: datetime) -> None:
    """Open an incident per stale symbol of the series; close every other open one of it."""
    stale_subjects = [s.subject for s in report.stale]

    def work(conn: psycopg.Connection[Any]) -> None:
        for item in report.stale:
            details = {
                "series": item.series,
                "table": report.table,
                "symbol": item.symbol,
                "latest": item.latest.isoformat() if item.latest else None,
                "missing_since": item.missing_since.isoformat() if item.missing_since else None,
                "sessions_behind": item.sessions_behind,
                "window_hours": report.window_hours,
            }
            _open(conn, STALE, item.subject, at, details)
        rows = conn.execute(
            "SELECT subject FROM alert_incident WHERE kind = %s AND closed_at IS NULL"
            " AND subject LIKE %s AND NOT subject = ANY(%s)",
            (STALE, f"{report.series}/%", stale_subjects),
        ).fetchall()
        for (subject,) in rows:
            symbol = subject.split("/", 1)[1]
            latest = report.latest.get(symbol)
            close = {"latest": latest.isoformat() if latest else None, "table": report.table}
            if report.note:
                close["note"] = report.note
            elif symbol not in report.latest:
                close["note"] = "no longer in STOCK_SYMBOLS"
            _close(conn, STALE, subject, at, close)

    db.run(work)


def pending(db: Database, kinds: Sequence[str]) -> tuple[list[Transition], list[Transition]]:
    """(to send, to drop), oldest event first. An opening some channel lacks and a recovery
    some channel lacks are each a transition, with the channels that already took it. An
    incident that opened and closed before any channel took its opening is dropped: there is
    nothing to say about it."""

    def read(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        return conn.execute(
            "SELECT i.id, i.kind, i.subject, i.opened_at, i.closed_at, i.occurrences, i.details,"
            " i.close_details, i.open_notified_at, i.close_notified_at, i.pending_since,"
            " COALESCE(array_agg(d.channel) FILTER (WHERE d.transition = 'open'), '{}'),"
            " COALESCE(array_agg(d.channel) FILTER (WHERE d.transition = 'close'), '{}')"
            " FROM alert_incident i LEFT JOIN alert_delivery d ON d.incident_id = i.id"
            " WHERE i.kind = ANY(%s) AND (i.open_notified_at IS NULL"
            "  OR (i.closed_at IS NOT NULL AND i.close_notified_at IS NULL))"
            " GROUP BY i.id ORDER BY i.id",
            (list(kinds),),
        ).fetchall()

    to_send: list[Transition] = []
    to_drop: list[Transition] = []
    for row in db.run(read):
        (incident_id, kind, subject, opened, closed, occurrences, details, close,
         open_notified, close_notified, since, opened_to, closed_to) = row  # fmt: skip
        incident: dict[str, Any] = {
            "incident_id": incident_id, "kind": kind, "subject": subject, "opened_at": opened,
            "closed_at": closed, "occurrences": occurrences, "details": details,
            "close_details": close or {}, "pending_since": since,
        }  # fmt: skip
        if open_notified is None and closed is not None and not opened_to:
            # came and went before any channel heard of it: nothing to say
            to_drop += [Transition(**incident, recovered=r) for r in (False, True)]
            continue
        if open_notified is None:
            to_send.append(
                Transition(**incident, recovered=False, delivered_to=frozenset(opened_to))
            )
        if closed is not None and close_notified is None:
            to_send.append(
                Transition(**incident, recovered=True, delivered_to=frozenset(closed_to))
            )
    to_send.sort(key=lambda t: (t.at, t.incident_id, t.recovered))
    return to_send, to_drop


def record_delivery(
    db: Database, channel: str, transitions: Iterable[Transition], at: datetime
) -> None:
    """This channel took these transitions: it is never sent them again."""
    rows = [(t.incident_id, t.direction, channel, at) for t in transitions]
    if not rows:
        return

    def work(conn: psycopg.Connection[Any]) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO alert_delivery (incident_id, transition, channel, delivered_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )

    db.run(work)


def mark_notified(db: Database, transitions: Iterable[Transition], at: datetime) -> None:
    """Done with these transitions: every channel has them, or they were given up."""
    opened = [t.incident_id for t in transitions if not t.recovered]
    closed = [t.incident_id for t in transitions if t.recovered]
    if not opened and not closed:
        return

    def work(conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            "UPDATE alert_incident SET open_notified_at = COALESCE(open_notified_at, %(at)s)"
            " WHERE id = ANY(%(ids)s)",
            {"at": at, "ids": opened},
        )
        conn.execute(
            "UPDATE alert_incident SET close_notified_at = %(at)s"
            " WHERE id = ANY(%(ids)s) AND closed_at IS NOT NULL",
            {"at": at, "ids": closed},
        )

    db.run(work)


def open_incidents(db: Database) -> list[tuple[str, str, int]]:
    """(kind, subject, occurrences) of every open incident, oldest first."""
    return db.run(
        lambda conn: [
            (str(k), str(s), int(n))
            for k, s, n in conn.execute(
                "SELECT kind, subject, occurrences FROM alert_incident"
                " WHERE closed_at IS NULL ORDER BY id"
            ).fetchall()
        ]
    )


def _apply_run_outcome(conn: psycopg.Connection[Any], run: FinishedRun) -> None:
    if run.succeeded:
        _close(conn, RUN_FAILED, run.job, run.finished_at, {"run_id": run.run_id, "url": run.url})
        return
    details = {
        "job": run.job,
        "run_id": run.run_id,
        "url": run.url,
        "error": run.error,
        "counts": run.counts(),
        "failed": [[s.subject, s.message] for s in run.symbols if s.status == "failed"],
        "deferred": [s.subject for s in run.symbols if s.status == "deferred"],
    }
    _open(conn, RUN_FAILED, run.job, run.finished_at, details)


def _apply_streaks(conn: psycopg.Connection[Any], run: FinishedRun, threshold: int) -> None:
    for outcome in run.symbols:
        if not (outcome.is_bad or outcome.is_good):
            continue  # awaiting publication: neither a failure nor a recovery
        row = conn.execute(
            "INSERT INTO alert_symbol_streak"
            " (subject, consecutive, last_status, last_message, last_run_id, updated_at)"
            " VALUES (%(subject)s, CASE WHEN %(bad)s THEN 1 ELSE 0 END, %(status)s, %(message)s,"
            " %(run)s, %(at)s) ON CONFLICT (subject) DO UPDATE SET"
            " consecutive = CASE WHEN %(bad)s THEN alert_symbol_streak.consecutive + 1 ELSE 0 END,"
            " last_status = EXCLUDED.last_status, last_message = EXCLUDED.last_message,"
            " last_run_id = EXCLUDED.last_run_id, updated_at = EXCLUDED.updated_at"
            " RETURNING consecutive",
            {
                "subject": outcome.subject,
                "bad": outcome.is_bad,
                "status": outcome.status,
                "message": outcome.message,
                "run": run.run_id,
                "at": run.finished_at,
            },
        ).fetchone()
        consecutive = int(row[0]) if row else 0
        if outcome.is_good:
            close = {"run_id": run.run_id, "url": run.url, "status": outcome.status}
            _close(conn, SYMBOL_STREAK, outcome.subject, run.finished_at, close)
        elif consecutive >= threshold:
            details = {
                "asset": outcome.asset,
                "symbol": outcome.symbol,
                "consecutive": consecutive,
                "status": outcome.status,
                "message": outcome.message,
                "run_id": run.run_id,
                "url": run.url,
            }
            _open(conn, SYMBOL_STREAK, outcome.subject, run.finished_at, details)


def _apply_checks(conn: psycopg.Connection[Any], run: FinishedRun) -> None:
    for check in run.checks:
        if check.passed:
            close = {"run_id": run.run_id, "url": run.url, "summary": check.summary}
            _close(conn, CHECK_FAILED, check.subject, run.finished_at, close)
            continue
        details = {
            "asset": check.asset,
            "check": check.check,
            "summary": check.summary,
            "symbols": list(check.symbols),
            "examples": list(check.examples[:MAX_EXAMPLES]),
            "run_id": run.run_id,
            "url": run.url,
        }
        _open(conn, CHECK_FAILED, check.subject, run.finished_at, details)


def _open(
    conn: psycopg.Connection[Any], kind: str, subject: str, at: datetime, details: dict[str, Any]
) -> None:
    # Still open: count it, keep the details the opening alert was (or will be) sent with.
    conn.execute(
        "INSERT INTO alert_incident (kind, subject, opened_at, last_seen_at, details)"
        " VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (kind, subject) WHERE closed_at IS NULL DO UPDATE"
        " SET last_seen_at = EXCLUDED.last_seen_at,"
        " occurrences = alert_incident.occurrences + 1",
        (kind, subject, at, at, Jsonb(details)),
    )


def _close(
    conn: psycopg.Connection[Any], kind: str, subject: str, at: datetime, details: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE alert_incident SET closed_at = %s, close_details = %s, pending_since = now()"
        " WHERE kind = %s AND subject = %s AND closed_at IS NULL",
        (at, Jsonb(details), kind, subject),
    )
