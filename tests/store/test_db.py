"""Database: permanent faults fail at once and say where; transient ones are retried."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe.store import Database, DatabaseError, TransientDatabaseError
from stockpipe.store.embedded import free_port, start_throwaway_server
from stockpipe.store.errors import describe_conninfo


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    server = start_throwaway_server(tmp_path_factory.mktemp("pwserver"), password="Corr3ct-h0rse")
    yield server
    server.stop()


def test_a_wrong_password_fails_at_once_naming_the_server_but_not_the_password(
    password_server,  # type: ignore[no-untyped-def]
) -> None:
    conninfo = make_conninfo(password_server.conninfo(), password="wr0ng-Battery")
    with pytest.raises(DatabaseError) as caught:
        Database.from_conninfo(conninfo)
    message = str(caught.value)
    assert not isinstance(caught.value, TransientDatabaseError)
    assert f"postgres://postgres@127.0.0.1:{password_server.port}/postgres" in message
    assert "password authentication failed" in message
    assert "wr0ng-Battery" not in message
    assert "wr0ng-Battery" not in repr(caught.value)
    assert caught.value.__cause__ is None  # the driver's error is not chained along


def test_the_right_password_connects_with_scram(password_server) -> None:  # type: ignore[no-untyped-def]
    with Database.from_conninfo(password_server.conninfo(), migrate=False) as db:
        method = db.run(lambda conn: conn.execute("SHOW password_encryption").fetchone())
        assert method == ("scram-sha-256",)
        assert "Corr3ct-h0rse" not in db.describe() + repr(db)


def test_a_missing_database_fails_at_once_naming_it(pg_server: str) -> None:
    conninfo = make_conninfo(pg_server, dbname="stockpipe_no_such_db")
    with pytest.raises(DatabaseError, match='database "stockpipe_no_such_db" does not exist') as e:
        Database.from_conninfo(conninfo)
    assert "/stockpipe_no_such_db" in str(e.value)
    assert not isinstance(e.value, TransientDatabaseError)


def test_a_server_that_never_answers_is_transient_and_gives_up_after_the_retries() -> None:
    conninfo = make_conninfo(host="127.0.0.1", port=str(free_port()), user="u", dbname="d")
    with pytest.raises(TransientDatabaseError, match=r"postgres://u@127\.0\.0\.1:\d+/d"):
        Database.from_conninfo(conninfo, connect_retries=1)


def test_a_missing_privilege_is_permanent(db: Database) -> None:
    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        conn.execute("SET ROLE pg_read_all_data")
        conn.execute("INSERT INTO stock_data (symbol, ts) VALUES ('X', now())")

    calls = []
    with pytest.raises(DatabaseError, match="permission denied for table stock_data"):
        db.run(lambda conn: calls.append(1) or work(conn))
    assert calls == [1]


def test_a_serialization_failure_is_retried_and_then_succeeds(db: Database) -> None:
    attempts = []

    def work(conn: psycopg.Connection) -> str:  # type: ignore[type-arg]
        attempts.append(1)
        if len(attempts) < 3:
            conn.execute("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END $$")
        return "done"

    assert db.run(work) == "done"
    assert len(attempts) == 3


def test_a_killed_backend_is_retried_on_a_fresh_connection(db: Database, pg_server: str) -> None:
    attempts = []

    def work(conn: psycopg.Connection) -> int:  # type: ignore[type-arg]
        attempts.append(1)
        pid = conn.info.backend_pid
        if len(attempts) == 1:
            with psycopg.connect(pg_server, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            conn.execute("SELECT 1")
        return pid

    pid = db.run(work)
    assert len(attempts) == 2
    assert pid != 0


def test_the_description_never_carries_the_password() -> None:
    conninfo = "postgresql://alice:s3cr3t@db.example:6543/prices"
    assert describe_conninfo(conninfo) == "postgres://alice@db.example:6543/prices"
    assert conninfo_to_dict(conninfo)["password"] == "s3cr3t"


def test_a_database_is_usable_from_several_threads_at_once(db: Database) -> None:
    results: list[int] = []

    def work() -> None:
        row = db.run(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone())
        results.append(int(row[0]) if row else 0)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8 and all(results)
