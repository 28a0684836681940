"""What can go wrong talking to PostgreSQL, sorted into "try again" and "tell the user now"."""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import PoolTimeout

from stockpipe.errors import StockpipeError


class DatabaseError(StockpipeError):
    """A database fault that retrying will not fix (or that outlived its retries)."""


class TransientDatabaseError(DatabaseError):
    """A fault that may pass: the last one seen after every retry was spent."""


class MigrationError(DatabaseError):
    """The schema on the server does not match the migrations this release ships."""


# SQLSTATEs worth another try: the server restarted or shut us out for a moment, or two
# transactions collided and one was picked to lose.
_TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "57P01",  # admin_shutdown (pg_ctl restart, pg_terminate_backend)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up / shutting down)
        "53300",  # too_many_connections
        "55P03",  # lock_not_available
    }
)
# Classes that will fail the same way however often we ask: credentials, missing database,
# missing privilege, bad configuration.
_PERMANENT_SQLSTATE_PREFIXES = ("28", "3D", "42501", "42P01")


def is_transient(exc: BaseException) -> bool:
    """True when the same work may succeed on a fresh connection a moment later."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    sqlstate = exc.sqlstate
    if sqlstate is not None:
        if sqlstate.startswith(_PERMANENT_SQLSTATE_PREFIXES):
            return False
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    if isinstance(exc, pg_errors.ProgrammingError | pg_errors.DataError):
        return False
    # No SQLSTATE: the socket died or the server refused the connection (it may be
    # restarting). libpq reports a failed login with a message but no SQLSTATE, so look.
    if isinstance(exc, psycopg.OperationalError):
        return not _looks_permanent(str(exc))
    return False


def _looks_permanent(message: str) -> bool:
    lowered = message.lower()
    return any(
        marker in lowered
        for marker in (
            "password authentication failed",
            "no password supplied",
            "does not exist",
            "permission denied",
            "no pg_hba.conf entry",
        )
    )


def describe_conninfo(conninfo: str) -> str:
    """`postgres://user@host:port/dbname`, never the password: safe for logs and messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgres://<unparseable connection string>"
    user = params.get("user") or "?"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or user
    return f"postgres://{user}@{host}:{port}/{dbname}"


def scrub(message: str, conninfo: str) -> str:
    """Remove the connection's password from a message, whatever libpq chose to quote."""
    try:
        password = conninfo_to_dict(conninfo).get("password")
    except psycopg.ProgrammingError:
        password = None
    if password:
        message = message.replace(str(password), "********")
    return message


def gist(exc: BaseException, conninfo: str) -> str:
    """The reason of a fault in one line, password masked (see connect_reason)."""
    return connect_reason(exc, conninfo)


def wrap(exc: BaseException, conninfo: str, doing: str) -> DatabaseError:
    """A DatabaseError naming the server, database and user, with the password masked."""
    cls = TransientDatabaseError if is_transient(exc) else DatabaseError
    detail = scrub(str(exc).strip(), conninfo) or type(exc).__name__
    if isinstance(exc, pg_errors.QueryCanceled) and "statement timeout" in detail:
        detail += " (POSTGRES_STATEMENT_TIMEOUT_SEC bounds one statement)"
    return cls(f"{doing} on {describe_conninfo(conninfo)} failed: {detail}")


# libpq's first words before the reason: 'connection to server at "127.0.0.1", port 59432
# failed: ' (once per address tried) and psycopg's 'connection failed: '.
_LIBPQ_PREFIX = re.compile(
    r'^(?:connection failed: )?(?:connection to server (?:at|on) "[^"]*"(?: \([^)]*\))?'
    r"(?:, port \d+)? failed: )?(?:FATAL:\s+)?"
)


def connect_reason(exc: BaseException, conninfo: str) -> str:
    """Why a connection failed, in libpq's words without its framing: "Connection refused",
    "connection timeout expired", 'password authentication failed for user "x"'."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    # libpq adds a hint line ("Is the server running on that host and accepting TCP/IP
    # connections?") and one line per address tried: the last address's own line says why.
    reasons = [_LIBPQ_PREFIX.sub("", line) for line in lines if not line.startswith("Is the ")]
    reason = reasons[-1] if reasons else type(exc).__name__
    return scrub(reason, conninfo)


def cannot_connect(
    exc: BaseException, conninfo: str, *, attempts: int, what_to_check: Callable[[str], str]
) -> DatabaseError:
    """The one-line error of a server stockpipe could not connect to: where, how often, why,
    and the settings to check (`what_to_check`); never the password."""
    cls = TransientDatabaseError if is_transient(exc) else DatabaseError
    where = describe_conninfo(conninfo)
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    reason = connect_reason(exc, conninfo)
    return cls(f"cannot connect to PostgreSQL at {where}{tries}: {reason}; {what_to_check(reason)}")


def login_refused(reason: str) -> bool:
    """The server answered and refused these credentials (not: no server there)."""
    lowered = reason.lower()
    return any(
        marker in lowered
        for marker in ("password authentication failed", "no password supplied", "role ")
    )
