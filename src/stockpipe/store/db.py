"""Pooled connections to the stockpipe database, and the one way to run work on them: `run`."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from stockpipe.closing import ClosesOnExit
from stockpipe.store.embedded import EmbeddedServer
from stockpipe.store.errors import (
    DatabaseError,
    cannot_connect,
    describe_conninfo,
    gist,
    is_transient,
    login_refused,
    wrap,
)
from stockpipe.store.migrate import migrate as apply_migrations
from stockpipe.store.partitions import drop_expired

if TYPE_CHECKING:
    from stockpipe.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
EMBEDDED_DBNAME = "stockpipe"
_CONNECT_TIMEOUT_SEC = 10.0
_BACKOFF_FIRST_SEC = 0.2
_BACKOFF_MAX_SEC = 5.0


def embedded_server_for(settings: Settings) -> EmbeddedServer:
    """The user's embedded server: data under `data_dir/pgdata`, kept between runs."""
    return EmbeddedServer(pgdata=settings.data_dir / "pgdata", port=settings.embedded_pg_port)


def serve_and_migrate(settings: Settings) -> tuple[EmbeddedServer | None, str]:
    """For a long-running stack (`stockpipe up`, `make airflow-up`): start the embedded server
    when no server is configured, apply the migrations, and return the server (None for an
    external one; the caller stops it) and the conninfo of stockpipe's database. An external
    server gets the same connect timeout, retries and error as every other command."""
    server: EmbeddedServer | None = None
    if settings.uses_embedded_database:
        server = embedded_server_for(settings).start()
        server.ensure_database(EMBEDDED_DBNAME)
        conninfo = server.conninfo(EMBEDDED_DBNAME)
    else:
        conninfo = settings.postgres_conninfo() or ""
        conninfo = _with_connect_timeout(conninfo, settings.postgres_connect_timeout_sec)
    # An embedded server stays up when this fails, as after any command: another process
    # may be using it.
    first_contact(conninfo, migrate=True, retries=5, what_to_check=settings_to_check(settings))
    return server, conninfo


def settings_to_check(settings: Settings) -> Callable[[str], str]:
    """What to tell the user to check when the server cannot be reached or refuses the login:
    the variables they set (DATABASE_URL or the POSTGRES_* group), never their values' secrets."""

    def advice(reason: str) -> str:
        if settings.database_url is not None:
            return "check DATABASE_URL"
        if settings.uses_embedded_database:
            return (
                "the embedded server did not answer; check STOCKPIPE_EMBEDDED_PG_PORT and"
                " STOCKPIPE_DATA_DIR, or stop it with `stockpipe db stop` and try again"
            )
        if login_refused(reason):
            return "check POSTGRES_USER and POSTGRES_PASSWORD"
        if "database" in reason and "does not exist" in reason:
            return "check POSTGRES_DB"
        return (
            "is PostgreSQL running there? Check POSTGRES_HOST and POSTGRES_PORT"
            " (unset POSTGRES_HOST to use the embedded database)"
        )

    return advice


def _no_settings_advice(reason: str) -> str:
    if login_refused(reason):
        return "check the user and password"
    return "check the connection string"


def first_contact(
    conninfo: str,
    *,
    migrate: bool,
    retries: int,
    what_to_check: Callable[[str], str] = _no_settings_advice,
) -> None:
    """Connect (retrying a server that may be starting), then apply pending migrations: the
    start of every command. A connection that never comes raises one DatabaseError line that
    says where, why and which settings to check."""

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(conninfo, autocommit=True)

    def give_up(exc: BaseException, attempts: int) -> DatabaseError:
        return cannot_connect(exc, conninfo, attempts=attempts, what_to_check=what_to_check)

    def contact() -> None:
        with _with_retries(connect, conninfo, "connecting", retries=retries, give_up=give_up) as c:
            if migrate:
                applied = apply_migrations(c)
                if applied:
                    logger.info("database schema migrated: applied %s", ", ".join(applied))

    # A transient fault during the migrations (a server restart) starts over with a new
    # connection; a connection that never comes has already raised its own error.
    _with_retries(contact, conninfo, "migrating", retries=retries)


class Database(ClosesOnExit):
    """A connection pool plus retry policy. Use `run` for every unit of work."""

    def __init__(self, conninfo: str, pool: ConnectionPool[Any]) -> None:
        self.conninfo = conninfo  # holds the password: never log it, use describe()
        self.pool = pool

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        min_size: int = 1,
        max_size: int = 4,
        connect_retries: int = 5,
    ) -> Database:
        """Connect to the configured server, or start (or reuse) the embedded one."""
        conninfo = settings.postgres_conninfo()
        if conninfo is not None and not settings.uses_embedded_database:
            conninfo = _with_connect_timeout(conninfo, settings.postgres_connect_timeout_sec)
        if conninfo is None or settings.uses_embedded_database:
            server = embedded_server_for(settings).start()
            server.ensure_database(EMBEDDED_DBNAME)
            conninfo = server.conninfo(EMBEDDED_DBNAME)
            logger.info(
                "using the embedded PostgreSQL; look inside with: %s",
                server.psql_command(EMBEDDED_DBNAME),
            )
        database = cls.from_conninfo(
            conninfo,
            migrate=migrate,
            min_size=min_size,
            max_size=max_size,
            connect_retries=connect_retries,
            statement_timeout_sec=settings.postgres_statement_timeout_sec,
            what_to_check=settings_to_check(settings),
        )
        retention = settings.stock_intraday_retention_months
        if migrate and retention is not None:
            try:
                database.run(lambda conn: drop_expired(conn, retention), retries=0)
            except DatabaseError as exc:  # a lock not granted in time: the next start retries
                logger.warning("intraday retention skipped this time: %s", exc)
        return database

    @classmethod
    def from_conninfo(
        cls,
        conninfo: str,
        *,
        migrate: bool = True,
        min_size: int = 1,
        max_size: int = 4,
        connect_retries: int = 5,
        statement_timeout_sec: int = 0,
        what_to_check: Callable[[str], str] = _no_settings_advice,
    ) -> Database:
        """Check the server answers (permanent faults raise at once), migrate, open the pool.

        `statement_timeout_sec` (0: none) bounds every statement run through the pool, so a
        lock never released or a server that stops answering mid-run fails that unit of work
        instead of holding the run; migrations run without it (they may rewrite big tables)."""

        first_contact(
            conninfo, migrate=migrate, retries=connect_retries, what_to_check=what_to_check
        )
        pool: ConnectionPool[Any] = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=_CONNECT_TIMEOUT_SEC,
            # A pooled connection may have died with a server restart: test it before use.
            check=ConnectionPool.check_connection,
            name="stockpipe",
            configure=_statement_timeout(statement_timeout_sec),
        )
        pool.open(wait=False)
        return cls(conninfo, pool)

    def describe(self) -> str:
        return describe_conninfo(self.conninfo)

    def __repr__(self) -> str:
        return f"Database({self.describe()})"

    def run(self, work: Callable[[psycopg.Connection[Any]], T], *, retries: int = 5) -> T:
        """Run `work` in one transaction; retry it whole on transient faults."""

        def attempt() -> T:
            with self.pool.connection() as conn, conn.transaction():
                return work(conn)

        return _with_retries(attempt, self.conninfo, "database work", retries=retries)

    def close(self) -> None:
        self.pool.close()


def _with_connect_timeout(conninfo: str, seconds: int) -> str:
    """libpq waits for ever by default (psycopg: 130 s, again for every address): a server
    that accepts TCP and never answers held start-up for minutes without a word. A
    connect_timeout the user wrote into DATABASE_URL wins."""
    try:
        if "connect_timeout" in conninfo_to_dict(conninfo):
            return conninfo
        return make_conninfo(conninfo, connect_timeout=str(seconds))
    except psycopg.ProgrammingError:
        return conninfo  # unparseable: connecting says so, with the password masked


def _statement_timeout(seconds: int) -> Callable[[psycopg.Connection[Any]], None] | None:
    if seconds <= 0:
        return None

    def configure(conn: psycopg.Connection[Any]) -> None:
        # SET (not SET LOCAL) outlives the transaction; the commit leaves the connection idle,
        # as the pool requires.
        conn.execute(f"SET statement_timeout = '{int(seconds)}s'")
        conn.commit()

    return configure


def _with_retries(
    attempt: Callable[[], T],
    conninfo: str,
    doing: str,
    *,
    retries: int,
    give_up: Callable[[BaseException, int], DatabaseError] | None = None,
) -> T:
    failures = 0
    while True:
        try:
            return attempt()
        except DatabaseError:
            raise
        except (psycopg.Error, OSError, TimeoutError) as exc:
            failures += 1
            if not is_transient(exc) or failures > retries:
                raise (give_up(exc, failures) if give_up else wrap(exc, conninfo, doing)) from None
            delay = min(_BACKOFF_MAX_SEC, _BACKOFF_FIRST_SEC * 2 ** (failures - 1))
            delay *= random.uniform(0.5, 1.0)  # jitter: concurrent retriers do not stampede
            # Logged at once, with libpq's reason ("connection timeout expired", "Connection
            # refused"): a silent wait of minutes is what made people kill the process.
            logger.warning(
                "%s on %s failed (%s); retry %d/%d in %.1fs",
                doing,
                describe_conninfo(conninfo),
                gist(exc, conninfo),
                failures,
                retries,
                delay,
            )
            time.sleep(delay)
