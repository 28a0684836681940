"""stock_data_intraday's monthly partitions (migration 0019): conversion of a table that already
holds rows, partitions created ahead of need and for every load's months, and retention.

A month is a New York calendar month: the bars of one trading month (after-hours included,
which reach past midnight UTC) stay in one partition, the month Alpha Vantage serves old
intraday history by.

Converting a table with rows happens outside any long transaction, in steps that each leave a
consistent database, so an interrupted conversion resumes where it stopped (every step looks
at the catalog to see whether it is done):
1. a CHECK (ts < bound) NOT VALID on the table, bound = the New York month two months ahead
   (a catalog change: milliseconds under lock);
2. VALIDATE it: the one scan of every row, under a lock that lets reads and writes go on;
3. in one short transaction: rename the table to stock_data_intraday_legacy, create the
   partitioned parent (migration 0019's function) and attach the old table as the partition
   for everything before the bound. The validated CHECK proves the rows fit, so the attach
   does not scan: writes wait for catalog changes only. No row is copied.
The legacy partition is dropped by retention once all of it is older than the cutoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from stockpipe.market_calendar import new_york_date, new_york_midnight

logger = logging.getLogger(__name__)

PARENT = "stock_data_intraday"
LEGACY = "stock_data_intraday_legacy"
LEGACY_BOUND = "stock_data_intraday_legacy_bound"
MONTHS_AHEAD = 3  # partitions exist this many months past the current one
# DDL waits at most this long for a lock (then retries later), so it never queues every
# reader and writer of the table behind one long query.
LOCK_TIMEOUT = "5s"
_PARTITION_LOCK = 0x73705054  # advisory lock: one process creates or drops partitions at a time


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_{month.year:04d}_{month.month:02d}"


def is_partitioned(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT]
    ).fetchone()
    return row is not None and row[0] == "p"


# --- conversion of a table with rows ------------------------------------------------------


def _legacy_bound(conn: psycopg.Connection[Any]) -> tuple[datetime, bool] | None:
    """The bound of step 1's CHECK and whether it is validated, or None before step 1."""
    row = conn.execute(
        "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint"
        " WHERE conrelid = to_regclass(%s) AND conname = %s",
        [PARENT, LEGACY_BOUND],
    ).fetchone()
    if row is None:
        return None
    bound = conn.execute(
        "SELECT (regexp_match(%s, '''(.*)''::timestamp with time zone'))[1]::timestamptz",
        [row[0]],
    ).fetchone()
    assert bound is not None
    return bound[0], bool(row[1])


def add_bound(conn: psycopg.Connection[Any], now: datetime) -> None:
    """Step 1: CHECK (ts < bound) NOT VALID (new rows are checked from here on)."""
    if _legacy_bound(conn) is not None:
        return
    bound = new_york_midnight(add_months(month_start(new_york_date(now)), 2))
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        conn.execute(
            f"ALTER TABLE {PARENT} ADD CONSTRAINT {LEGACY_BOUND}"
            f" CHECK (ts < '{bound.isoformat()}'::timestamptz) NOT VALID"
        )


def validate_bound(conn: psycopg.Connection[Any], now: datetime) -> None:
    """Step 2: the scan, under SHARE UPDATE EXCLUSIVE (reads and writes go on)."""
    found = _legacy_bound(conn)
    if found is None or found[1]:
        return
    conn.execute(f"ALTER TABLE {PARENT} VALIDATE CONSTRAINT {LEGACY_BOUND}")


def swap_in_parent(conn: psycopg.Connection[Any], now: datetime) -> None:
    """Step 3: rename, create the parent, attach the old table without a scan."""
    found = _legacy_bound(conn)
    if found is None or not found[1]:
        raise RuntimeError("the legacy bound must be validated before the swap")
    bound = found[0]
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        conn.execute(f"LOCK TABLE {PARENT} IN ACCESS EXCLUSIVE MODE")
        conn.execute(f"ALTER TABLE {PARENT} RENAME TO {LEGACY}")
        # Index names are schema-wide: the parent takes the old names.
        conn.execute(
            f"ALTER TABLE {LEGACY} RENAME CONSTRAINT {PARENT}_symbol_interval_ts_key"
            f" TO {LEGACY}_symbol_interval_ts_key"
        )
        conn.execute(f"ALTER TABLE {LEGACY} RENAME CONSTRAINT {PARENT}_pkey TO {LEGACY}_pkey")
        conn.execute(f"ALTER INDEX {PARENT}_updated_at_idx RENAME TO {LEGACY}_updated_at_idx")
        conn.execute("SELECT stockpipe_create_intraday_parent()")
        conn.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {LEGACY}"
            f" FOR VALUES FROM (MINVALUE) TO ('{bound.isoformat()}')"
        )


CONVERSION_STEPS: tuple[Callable[[psycopg.Connection[Any], datetime], None], ...] = (
    add_bound,
    validate_bound,
    swap_in_parent,
)


def finish_conversion(conn: psycopg.Connection[Any], now: datetime | None = None) -> bool:
    """Convert a plain stock_data_intraday with rows (migration 0019 left it) into the
    partitioned one; True if this call did it. `conn` in autocommit mode."""
    if is_partitioned(conn) or conn.execute("SELECT to_regclass(%s)", [PARENT]).fetchone() == (
        None,
    ):
        return False
    moment = now or datetime.now(UTC)
    logger.info("converting %s to monthly partitions (no rows are copied)", PARENT)
    for step in CONVERSION_STEPS:
        step(conn, moment)
    ensure_months(conn, months_ahead(moment))
    logger.info("%s is partitioned by month", PARENT)
    return True


# --- partitions ahead of need, for each load, and retention -------------------------------


def months_ahead(now: datetime) -> list[date]:
    current = month_start(new_york_date(now))
    return [add_months(current, n) for n in range(MONTHS_AHEAD + 1)]


def months_of(moments: Iterable[datetime]) -> set[date]:
    return {month_start(new_york_date(moment)) for moment in moments}


_BOUNDS = f"""
SELECT c.relname,
       CASE WHEN b[1] = 'MINVALUE' THEN NULL ELSE btrim(b[1], '''')::timestamptz END,
       CASE WHEN b[2] = 'MAXVALUE' THEN NULL ELSE btrim(b[2], '''')::timestamptz END
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
CROSS JOIN LATERAL regexp_match(
    pg_get_expr(c.relpartbound, c.oid), 'FROM \\((.*)\\) TO \\((.*)\\)') AS b
WHERE i.inhparent = '{PARENT}'::regclass
ORDER BY 2 NULLS FIRST
"""


def partitions(conn: psycopg.Connection[Any]) -> list[tuple[str, datetime | None, datetime | None]]:
    """(name, lower bound or None for MINVALUE, upper bound) of every partition, oldest first."""
    return [(str(n), lo, hi) for n, lo, hi in conn.execute(_BOUNDS).fetchall()]


def _covered(month: date, bounds: list[tuple[str, datetime | None, datetime | None]]) -> bool:
    start = new_york_midnight(month)
    return any((lo is None or lo <= start) and (hi is None or start < hi) for _, lo, hi in bounds)


def missing_months(conn: psycopg.Connection[Any], months: Iterable[date]) -> list[date]:
    bounds = partitions(conn)
    return sorted(m for m in set(months) if not _covered(m, bounds))


def ensure_months(conn: psycopg.Connection[Any], months: Iterable[date]) -> list[date]:
    """Create the partitions of `months` that no partition covers yet; return those created.
    Each is created as a plain table and then attached, which takes a lock that lets reads
    and writes of the other partitions go on (CREATE .. PARTITION OF would block them)."""
    wanted = set(months)
    if not is_partitioned(conn) or not missing_months(conn, wanted):
        return []
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK])
        created = missing_months(conn, wanted)  # again, under the lock
        for month in created:
            name = partition_name(month)
            start, end = new_york_midnight(month), new_york_midnight(add_months(month, 1))
            conn.execute(
                f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
                " INCLUDING GENERATED INCLUDING INDEXES INCLUDING STORAGE)"
            )
            conn.execute(
                f"ALTER TABLE {PARENT} ATTACH PARTITION {name}"
                f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
    if created:
        logger.info("created %s partition(s): %s", PARENT, ", ".join(map(partition_name, created)))
    return created


def drop_expired(
    conn: psycopg.Connection[Any], retention_months: int, now: datetime | None = None
) -> list[str]:
    """Drop every partition whose rows are all older than the retention: the current New
    York month and the `retention_months` before it are kept. Returns the dropped names."""
    cutoff = new_york_midnight(
        add_months(month_start(new_york_date(now or datetime.now(UTC))), -retention_months)
    )
    dropped = []
    for name, _, upper in partitions(conn):
        if upper is None or upper > cutoff:
            continue
        with conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK])
            conn.execute(f"DROP TABLE {name}")
        dropped.append(name)
    if dropped:
        logger.info(
            "dropped %s partition(s) older than %d month(s): %s",
            PARENT,
            retention_months,
            ", ".join(dropped),
        )
    return dropped
