"""A database that never answers cannot hold start-up or a run: connect and statement timeouts."""

from __future__ import annotations

import logging

import pytest

from stockpipe.settings import Settings
from stockpipe.store import Database, DatabaseError, TransientDatabaseError
from stockpipe.testing import SilentServer


@pytest.mark.timeout(90)
def test_a_server_that_accepts_and_never_answers_fails_fast_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Before: psycopg's 130 s connect timeout, tried six times: about 13 minutes of silence.
    with SilentServer() as silent:
        settings = Settings.load(
            _env_file=None,
            POSTGRES_HOST="127.0.0.1",
            POSTGRES_PORT=silent.port,
            POSTGRES_PASSWORD="never-shown-pw-41",
            POSTGRES_CONNECT_TIMEOUT_SEC=2,
        )
        with caplog.at_level(logging.WARNING), pytest.raises(TransientDatabaseError) as caught:
            Database.from_settings(settings, connect_retries=1)
        accepted = silent.accepted

    assert accepted == 2, "one attempt and one retry, each cut off by the connect timeout"
    where = f"postgres://postgres@127.0.0.1:{silent.port}/postgres"
    # The first failure is logged when it happens, with libpq's reason.
    assert [r.getMessage().split("; retry")[0] for r in caplog.records] == [
        f"connecting on {where} failed (connection timeout expired)"
    ]
    assert str(caught.value) == (
        f"cannot connect to PostgreSQL at {where} after 2 attempts: connection timeout expired;"
        " is PostgreSQL running there? Check POSTGRES_HOST and POSTGRES_PORT"
        " (unset POSTGRES_HOST to use the embedded database)"
    )
    assert "never-shown-pw-41" not in str(caught.value)


def test_a_connect_timeout_written_into_database_url_is_kept() -> None:
    from stockpipe.store.db import _with_connect_timeout

    assert "connect_timeout=30" in _with_connect_timeout("host=h connect_timeout=30", 5)
    assert "connect_timeout=5" in _with_connect_timeout("host=h dbname=d", 5)


@pytest.mark.timeout(60)
def test_a_statement_longer_than_the_statement_timeout_fails_that_work_only(
    pg_conninfo: str,
) -> None:
    with Database.from_conninfo(pg_conninfo, migrate=False, statement_timeout_sec=1) as db:
        with pytest.raises(DatabaseError) as caught:
            db.run(lambda conn: conn.execute("SELECT pg_sleep(30)"))
        assert not isinstance(caught.value, TransientDatabaseError), "not retried 5 times"
        assert "canceling statement due to statement timeout" in str(caught.value)
        assert "POSTGRES_STATEMENT_TIMEOUT_SEC" in str(caught.value)
        # The pool's next unit of work is not affected.
        assert db.run(lambda conn: conn.execute("SELECT 1").fetchone()) == (1,)
