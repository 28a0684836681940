"""upsert_bars under faults: server restarts, killed loaders, loaders racing each other."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from stockpipe import processes
from stockpipe.store import Database, UpsertResult, bar_count, upsert_bars
from stockpipe.store.embedded import EmbeddedServer
from stockpipe.store.upsert import dedupe, upsert_bars_in
from tests.store.bars import make_bar, make_bars


def table(db: Database) -> list[tuple[object, ...]]:
    query = "SELECT symbol, ts, close, volume FROM stock_data ORDER BY symbol, ts"
    return db.run(lambda conn: conn.execute(query).fetchall())


def restart_server(server: EmbeddedServer | None, pg_server: str, pid: int) -> None:
    if server is None:
        pytest.skip("TEST_DATABASE_URL names an external server we cannot restart")
    server.restart()


def terminate_backend(server: EmbeddedServer | None, pg_server: str, pid: int) -> None:
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.parametrize(
    "fault",
    [restart_server, terminate_backend],
    ids=["the server restarts", "the backend is terminated"],
)
def test_a_load_interrupted_mid_transaction_is_retried_with_nothing_lost_or_doubled(
    db: Database,
    pg_server: str,
    embedded_pg_server: EmbeddedServer | None,
    fault: Callable[[EmbeddedServer | None, str, int], None],
) -> None:
    upsert_bars(db, make_bars(("IBM",), days=50))
    bars = dedupe([*make_bars(("IBM", "MSFT"), days=300), make_bar("IBM", 3, close="7.0")])
    inside, faulted = threading.Event(), threading.Event()
    attempts: list[UpsertResult] = []

    def load(conn: psycopg.Connection[Any]) -> UpsertResult:
        result = upsert_bars_in(conn, bars)
        attempts.append(result)
        if len(attempts) == 1:
            inside.set()
            assert faulted.wait(timeout=60)
            conn.execute("SELECT 1")  # the connection is gone: this raises
        return result

    outcome: list[UpsertResult] = []
    loader = threading.Thread(target=lambda: outcome.append(db.run(load)))
    loader.start()
    assert inside.wait(timeout=60)
    fault(embedded_pg_server, pg_server, _backend_of_open_transaction(pg_server))
    faulted.set()
    loader.join(timeout=60)

    assert len(attempts) == 2
    assert outcome == [UpsertResult(inserted=550, updated=1, unchanged=49)]
    assert bar_count(db) == 600
    assert bar_count(db, "MSFT") == 300


def _backend_of_open_transaction(pg_server: str) -> int:
    with psycopg.connect(pg_server, autocommit=True) as admin:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction'"
            " AND datname LIKE 'stockpipe_test_%%' ORDER BY xact_start LIMIT 1"
        ).fetchone()
    assert row is not None
    return int(row[0])


REPO_ROOT = Path(__file__).resolve().parents[2]
_KILLED_LOADER = """
import sys
from stockpipe.store import Database
from stockpipe.store.upsert import upsert_bars_in
from tests.store.bars import make_bars

db = Database.from_conninfo(sys.argv[1], migrate=False)

def load(conn):
    upsert_bars_in(conn, make_bars(("IBM", "MSFT", "AAPL"), days=2000))
    print("inside the transaction", flush=True)
    sys.stdin.read()  # hold the transaction open until we are killed

db.run(load)
"""


def test_a_loader_killed_mid_transaction_leaves_nothing_partial(
    db: Database, pg_conninfo: str
) -> None:
    upsert_bars(db, make_bars(("IBM",), days=10))
    before = table(db)
    child = processes.spawn(
        [sys.executable, "-c", _KILLED_LOADER, pg_conninfo],
        cwd=REPO_ROOT,  # the child imports tests.store.bars; a test's own cwd is its tmp_path
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "inside the transaction"
    finally:
        child.kill()  # mid-transaction, with no chance to roll back
        processes.stop(child)
    assert child.returncode == -9
    assert table(db) == before
    # The dead loader's locks are released: the next load goes through whole.
    result = upsert_bars(db, make_bars(("IBM", "MSFT"), days=20))
    assert result == UpsertResult(inserted=30, updated=0, unchanged=10)


def race(db: Database, *batches: list[Any]) -> list[UpsertResult]:
    """Start one loader thread per batch at the same instant; their results."""
    start = threading.Barrier(len(batches))
    results: list[UpsertResult] = []
    errors: list[BaseException] = []

    def load(bars: list[Any]) -> None:
        try:
            start.wait(timeout=30)
            results.append(upsert_bars(db, bars))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_two_concurrent_loaders_on_overlapping_rows_leave_the_exact_union(db: Database) -> None:
    first = make_bars(("IBM", "MSFT"), days=400)
    second = [b for b in make_bars(("MSFT", "AAPL", "IBM"), days=600) if b.ts.day % 2 == 0]
    expected_keys = {(b.symbol, b.ts) for b in [*first, *second]}
    for _round in range(3):
        db.run(lambda conn: conn.execute("TRUNCATE stock_data"))
        results = race(db, first, second)
        assert sum(r.inserted for r in results) == len(expected_keys)
        assert sum(r.updated for r in results) == 0
        rows = table(db)
        assert len(rows) == len(expected_keys)
        assert {(r[0], r[1]) for r in rows} == expected_keys
    # And again over a full table: both take the merge path, nothing is written.
    results = race(db, first, second)
    assert sum(r.written for r in results) == 0
