"""Every SQL statement on `api_key_series_denial`: series a key only got premium replies for.

Keyed by the key's fingerprint (stockpipe.quota.key_fingerprint), never the key.
"""

from __future__ import annotations

from datetime import datetime

from stockpipe.store.db import Database


def load_denial(db: Database, fingerprint: str, series: str) -> tuple[datetime, str, str] | None:
    """(denied_at, function, reason) of the key's denial for `series`, if any."""
    row = db.run(
        lambda conn: conn.execute(
            "SELECT denied_at, function, reason FROM api_key_series_denial"
            " WHERE key_fingerprint = %s AND series = %s",
            (fingerprint, series),
        ).fetchone()
    )
    return (row[0], str(row[1]), str(row[2])) if row else None


def record_denial(
    db: Database, fingerprint: str, series: str, *, function: str, reason: str, at: datetime
) -> None:
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO api_key_series_denial (key_fingerprint, series, function, denied_at,"
            " reason) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key_fingerprint, series) DO UPDATE"
            " SET function = EXCLUDED.function, denied_at = EXCLUDED.denied_at,"
            " reason = EXCLUDED.reason",
            (fingerprint, series, function, at, reason),
        )
    )


def clear_denial(db: Database, fingerprint: str, series: str) -> None:
    """The key got data for the series: it is no longer denied (an upgraded key)."""
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM api_key_series_denial WHERE key_fingerprint = %s AND series = %s",
            (fingerprint, series),
        )
    )
