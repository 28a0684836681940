"""What every end-to-end benchmark needs: a PostgreSQL server with a fresh database per
measurement, the fake Alpha Vantage server as its own process, settings that point at both,
and one shape for results.

The fake runs in a separate process so real HTTP crosses a socket and the server's payload
generation never competes for the GIL of the process being measured.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import psycopg
import requests
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe import processes
from stockpipe.settings import Settings
from stockpipe.store import migrate
from stockpipe.store.embedded import EmbeddedServer, free_port, start_throwaway_server

API_KEY = "bench-key-not-secret"
# Bulk loads must never wait on our own quota: no spacing, a cap no run reaches.
UNLIMITED = {"API_POLITE_DELAY_SEC": 0, "API_CALLS_PER_MINUTE": 1_000_000}


@dataclass(frozen=True)
class Scale:
    """How big each benchmark runs: `full` is the issue's figures, `quick` for development,
    `tiny` only proves the code still runs (smoke test)."""

    name: str
    symbols: int  # bulk load and Dagster run
    bars: int  # daily bars per symbol (the fake's full-history length)
    rate_symbols: int
    rate_per_minute: int
    economy_symbols: int
    memory_small: int
    memory_large: int
    parse_repeats: int
    intraday_symbols: int = 40  # intraday load: one month of 1min bars per symbol
    backfill_symbols: int = 20  # backfill: daily, weekly, monthly and intraday months each
    backfill_months: int = 12
    universe_small: int = 1_000  # a market-wide universe, compact: memory's baseline
    universe_large: int = 10_000  # ... the Dagster run and memory at scale


SCALES = {
    "full": Scale("full", 500, 5000, 150, 300, 100, 50, 500, 20),
    "quick": Scale(
        "quick",
        40,
        5000,
        30,
        300,
        20,
        5,
        50,
        5,
        backfill_symbols=5,
        backfill_months=3,
        universe_small=100,
        universe_large=1_000,
    ),
    "tiny": Scale(
        "tiny",
        3,
        120,
        3,
        6000,
        2,
        1,
        3,
        1,
        intraday_symbols=2,
        backfill_symbols=2,
        backfill_months=2,
        universe_small=2,
        universe_large=3,
    ),
}


@dataclass
class Figure:
    """One line of the results table: a measure, its in-run baseline, and the verdict."""

    benchmark: str
    measure: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None  # None: informational, no target
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else ("pass" if self.passed else "MISS")


def machine() -> str:
    mem_kib = 0
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return f"{os.cpu_count()} cores, {mem_kib / 1024 / 1024:.0f} GiB RAM"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def symbols(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{index:04d}" for index in range(count)]


class FakeProcess:
    """`python -m stockpipe.testing.fake_alphavantage` on a free port, steered over HTTP."""

    def __init__(self, history_length: int, log_path: Path) -> None:
        self.port = free_port()
        self._log = log_path.open("wb")
        self.popen = processes.spawn(  # our own module, arguments we built
            [
                sys.executable,
                "-m",
                "stockpipe.testing.fake_alphavantage",
                "--port",
                str(self.port),
                "--history-length",
                str(history_length),
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline().decode().strip()
        if not line.startswith("ALPHAVANTAGE_BASE_URL="):
            self.stop()
            raise RuntimeError(f"fake Alpha Vantage did not start: {line!r}, see {log_path}")
        self.url = line.removeprefix("ALPHAVANTAGE_BASE_URL=")
        self.root = self.url.removesuffix("/query")
        self.session = requests.Session()
        # The first answer loads the exchange calendar (about a second): not part of any run.
        self.get("WARMUP", outputsize="compact")

    def get(self, symbol: str, *, outputsize: str = "full") -> bytes:
        params = {"function": "TIME_SERIES_DAILY", "symbol": symbol, "outputsize": outputsize}
        response = self.session.get(self.url, params={**params, "apikey": API_KEY}, timeout=60)
        response.raise_for_status()
        return response.content

    def control(self, name: str, payload: dict[str, Any] | None = None) -> None:
        response = self.session.post(f"{self.root}/_control/{name}", json=payload or {}, timeout=30)
        response.raise_for_status()

    def reset(self, **config: Any) -> None:
        """Forget calls and limits; then apply `config` (per_minute, end_date, ...)."""
        self.control("reset")
        if config:
            self.control("configure", config)

    def prerender(self, symbols: list[str], **shape: str) -> None:
        """Have the fake render these symbols' full daily histories (or the answer `shape`
        names: function, interval, extended_hours) now and serve them from memory: the real
        API's payload generation is not our CPU, so it stays off the cores of a timed run. An
        empty list frees them."""
        response = self.session.post(
            f"{self.root}/_control/prerender", json={"symbols": symbols, **shape}, timeout=1800
        )
        response.raise_for_status()

    def calls(self) -> list[dict[str, Any]]:
        response = self.session.get(f"{self.root}/_control/calls", timeout=30)
        response.raise_for_status()
        calls: list[dict[str, Any]] = orjson.loads(response.content)
        return [call for call in calls if call["symbol"] != "WARMUP"]

    def stop(self) -> None:
        processes.stop(self.popen, grace=10, name="fake Alpha Vantage")
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self._log.close()


class Bench:
    """Database server + fake server for one benchmark session.

    PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL (an admin conninfo that may create
    databases), else `admin_conninfo`, else a throwaway embedded server (fsync off, like the
    tests: we measure our code, not the disk of a shared machine).
    """

    def __init__(self, scale: Scale, *, admin_conninfo: str | None = None) -> None:
        self.scale = scale
        self._tmp = tempfile.TemporaryDirectory(prefix="stockpipe-bench-")
        self.workdir = Path(self._tmp.name)
        self._server: EmbeddedServer | None = None
        admin = (
            os.environ.get("BENCH_DATABASE_URL")
            or os.environ.get("TEST_DATABASE_URL")
            or admin_conninfo
        )
        if admin is None:
            self._server = start_throwaway_server(
                self.workdir / "postgres", password=secrets.token_hex(12)
            )
            admin = self._server.conninfo()
        self.admin_conninfo = admin
        self.database_label = "embedded throwaway server" if self._server else "given server"
        self.fake = FakeProcess(scale.bars, self.workdir / "fake.log")

    def __enter__(self) -> Bench:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.fake.stop()
        for conninfo in getattr(self, "_databases", []):
            drop_database(self.admin_conninfo, conninfo)
        if self._server is not None:
            self._server.stop()
        self._tmp.cleanup()

    def fresh_database(self, label: str) -> str:
        """A new, migrated database; dropped when the session closes."""
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conninfo = make_conninfo(self.admin_conninfo, dbname=name)
        self.__dict__.setdefault("_databases", []).append(conninfo)
        migrate(conninfo)
        return conninfo

    def env(self, conninfo: str, **variables: object) -> dict[str, str]:
        """Environment of a stockpipe process on `conninfo` and the fake server."""
        parts = conninfo_to_dict(conninfo)
        values: dict[str, object] = {
            "API_KEY": API_KEY,
            "ALPHAVANTAGE_BASE_URL": self.fake.url,
            "API_DAILY_BUDGET": 1_000_000,
            "API_OUTPUT_SIZE": "auto",
            "STOCKPIPE_LOG_LEVEL": "WARNING",
            # POSTGRES_* rather than DATABASE_URL: Dagster's instance reads the same ones.
            "POSTGRES_HOST": parts.get("host", "127.0.0.1"),
            "POSTGRES_PORT": parts.get("port", "5432"),
            "POSTGRES_USER": parts.get("user", "postgres"),
            "POSTGRES_PASSWORD": parts.get("password", ""),
            "POSTGRES_DB": parts["dbname"],
            **variables,
        }
        return {name: str(value) for name, value in values.items()}

    def settings(self, conninfo: str, **variables: object) -> Settings:
        env = self.env(conninfo, **variables)
        env.pop("STOCKPIPE_LOG_LEVEL")
        return Settings.load(_env_file=None, **env)


def drop_database(admin_conninfo: str, conninfo: str) -> None:
    name = str(conninfo_to_dict(conninfo)["dbname"])
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def row_count(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM stock_data").fetchone()
    return int(row[0]) if row else 0


class ShiftedClock:
    """Real time flowing from a chosen moment: 'today' can be any session while the quota's
    spacing and the ledger still see time pass."""

    def __init__(self, at: datetime) -> None:
        self._offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
