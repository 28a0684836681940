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
so delivery can fail and be tried again without losing or repeating an alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
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


def record_run(db: Database, run: FinishedRun, *, consecutive_runs: int) -> bool:
    """Apply one finished run to every rule; False (and nothing changed) if it was seen before."""

    def work(conn: psycopg.Connection[Any]) -> bool:
        seen = conn.execute(
            "INSERT INTO alert_run_seen (run_id, seen_at) VALUES (%s, %s)"
            " ON CONFLICT (run_id) DO NOTHING RETURNING run_id",
            (run.run_id, run.finished_at),
        ).fetchone()
        if seen is None:
            return False
        _apply_run_outcome(conn, run)
        _apply_streaks(conn, run, consecutive_runs)
        _apply_checks(conn, run)
        return True

    return db.run(work)


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
    """(to send, to drop): an incident that opened and closed before either was sent is dropped."""

    def read(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        return conn.execute(
            "SELECT id, kind, subject, opened_at, closed_at, occurrences, details,"
            " close_details, open_notified_at, pending_since FROM alert_incident"
            " WHERE kind = ANY(%s) AND (open_notified_at IS NULL"
            "  OR (closed_at IS NOT NULL AND close_notified_at IS NULL))"
            " ORDER BY id",
            (list(kinds),),
        ).fetchall()

    to_send: list[Transition] = []
    to_drop: list[Transition] = []
    for row in db.run(read):
        incident_id, kind, subject, opened, closed, occurrences, details, close, notified, since = (
            row
        )
        transition = Transition(
            incident_id, kind, subject, closed is not None and notified is not None,
            opened, closed, occurrences, details, close or {}, since,
        )  # fmt: skip
        if notified is None and closed is not None:
            to_drop.append(transition)  # came and went between two ticks: nothing to say
        else:
            to_send.append(transition)
    return to_send, to_drop


def mark_notified(db: Database, transitions: Iterable[Transition], at: datetime) -> None:
    ids = [t.incident_id for t in transitions]
    if not ids:
        return

    def work(conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            "UPDATE alert_incident SET open_notified_at = COALESCE(open_notified_at, %(at)s),"
            " close_notified_at = CASE WHEN closed_at IS NOT NULL THEN %(at)s END"
            " WHERE id = ANY(%(ids)s)",
            {"at": at, "ids": ids},
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
