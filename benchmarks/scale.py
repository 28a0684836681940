"""Database at scale (issue 19): big generated tables, the upgrade onto them, and the reads and
loads a run makes, each timed.

    .venv/bin/python -m benchmarks.scale                # 400 x 2,500 daily + ~1M intraday rows
    .venv/bin/python -m benchmarks.scale --full         # 10,000 x 2,500 daily, ~25M intraday
    .venv/bin/python -m benchmarks.scale --symbols 20 --sessions 60 --intraday-symbols 4 \\
        --intraday-sessions 2 --no-write                # tiny (the smoke test)

What it does, on a throwaway embedded server (or --admin-conninfo):
1. a database at the migration before 0018 (the schema before this issue) filled by server-side SQL
   (generate_series, INSERT .. SELECT): `stock_data` with symbols x sessions daily bars (a few
   holes), `stock_data_intraday` with 1-minute bars of the regular session;
2. the upgrade to the newest migration while two writers keep writing one bar at a time into
   stock_data and stock_data_intraday: the longest any write waited is what the upgrade
   blocked writes for;
3. the daily gap read (planner and missing-sessions check): the first, full read; a read
   through the marks; a read after a top-up of one session for every symbol (a daily run);
4. the other per-run reads, every asset check, `stockpipe status` for one symbol and for all;
5. the upsert's first-load and unchanged-reload rows/s into the big tables against the same
   loads into an empty database, in the same run (median of three rounds);
6. table and index sizes.
The figures are printed and written between markers into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import make_conninfo
from tests.fixtures.postgres import create_database, drop_database

from benchmarks.e2e.harness import load_average, machine
from stockpipe.bars import Bar
from stockpipe.market_calendar import latest_completed_session, new_york_midnight, sessions_between
from stockpipe.series import DAILY, INTRADAY, INTRADAY_TABLE
from stockpipe.store import Database, migrate, upsert_bars
from stockpipe.store.embedded import EmbeddedServer, free_port
from stockpipe.store.migrate import applied_versions, available_migrations
from stockpipe.store.partitions import PARENT

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
FIRST_OF_THIS_ISSUE = "0018"
SESSION_MINUTES = 390  # 09:30-16:00 New York
_RUN = int(time.time()) % 1_000_000  # the upsert's new symbols are new in a kept database too


@dataclass
class Report:
    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, value: str) -> None:
        self.lines.append((what, value))
        print(f"  {what}: {value}", flush=True)


@contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def symbol(index: int) -> str:
    return f"S{index:05d}"


# --- generation, server-side ----------------------------------------------------------------

_DAILY_SQL = """
INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw)
SELECT 'S' || lpad(s::text, 5, '0'), d.ts, v.p - 1, v.p + 2, v.p - 2, v.p, 1000000 + s + d.i,
       jsonb_build_object('1. open', (v.p - 1)::text, '2. high', (v.p + 2)::text,
                          '3. low', (v.p - 2)::text, '4. close', v.p::text,
                          '5. volume', (1000000 + s + d.i)::text)
FROM generate_series(%(first)s::int, %(last)s::int) AS s
CROSS JOIN unnest(%(sessions)s::timestamptz[]) WITH ORDINALITY AS d(ts, i)
CROSS JOIN LATERAL (SELECT round(100 + ((s * 7 + d.i * 13) %% 5000) / 100.0, 4) AS p) AS v
WHERE (s * 31 + d.i * 17) %% 1999 <> 0  -- about one bar in 2,000 missing: holes to find
ORDER BY 1, 2
"""

_INTRADAY_SQL = """
INSERT INTO stock_data_intraday (symbol, interval, ts, open, high, low, close, volume, raw)
SELECT 'S' || lpad(s::text, 5, '0'), '1min',
       d.ts + interval '570 minutes' + m * interval '1 minute',
       v.p - 1, v.p + 2, v.p - 2, v.p, 1000 + m,
       jsonb_build_object('1. open', (v.p - 1)::text, '2. high', (v.p + 2)::text,
                          '3. low', (v.p - 2)::text, '4. close', v.p::text,
                          '5. volume', (1000 + m)::text)
FROM generate_series(%(first)s::int, %(last)s::int) AS s
CROSS JOIN unnest(%(sessions)s::timestamptz[]) AS d(ts)
CROSS JOIN generate_series(0, 389) AS m
CROSS JOIN LATERAL (SELECT round(100 + ((s * 7 + m * 13) %% 5000) / 100.0, 4) AS p) AS v
ORDER BY 1, 3
"""


def generate(
    conninfo: str, sql: str, symbols: int, sessions: list[datetime], step: int, table: str
) -> None:
    """Chunks of `step` symbols, two sessions at a time (the machine has two cores)."""

    def chunk(first: int) -> None:
        last = min(symbols, first + step - 1)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql, {"first": first, "last": last, "sessions": sessions})

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(chunk, range(1, symbols + 1, step)))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {table}")


# --- the upgrade under writers ----------------------------------------------------------------


class Writer(threading.Thread):
    """Writes one bar at a time (a new key each) and keeps the longest wait."""

    def __init__(self, conninfo: str, statement: str, start: datetime) -> None:
        super().__init__(daemon=True)
        self.conninfo, self.statement, self.start_ts = conninfo, statement, start
        self.stop = threading.Event()
        self.longest = 0.0
        self.writes = 0
        self.failures: list[str] = []

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stop.is_set():
                ts = self.start_ts + timedelta(minutes=self.writes)
                began = time.perf_counter()
                try:
                    conn.execute(self.statement, [ts])
                except psycopg.Error as exc:
                    self.failures.append(str(exc).splitlines()[0])
                self.longest = max(self.longest, time.perf_counter() - began)
                self.writes += 1
                time.sleep(0.01)


def upgrade_under_writers(conninfo: str, report: Report) -> None:
    daily = Writer(
        conninfo,
        "INSERT INTO stock_data (symbol, ts, close) VALUES ('WRITER', %s, 1)"
        " ON CONFLICT (symbol, ts) DO UPDATE SET close = 2",
        datetime(1990, 1, 1, tzinfo=UTC),
    )
    intraday = Writer(
        conninfo,
        "INSERT INTO stock_data_intraday (symbol, interval, ts, close) VALUES"
        " ('WRITER', '1min', %s, 1) ON CONFLICT (symbol, interval, ts) DO UPDATE SET close = 2",
        datetime(2000, 1, 3, tzinfo=UTC),
    )
    for writer in (daily, intraday):
        writer.start()
    time.sleep(1.0)  # the writers' own pace first
    with timer() as took:
        applied = migrate(conninfo)
    time.sleep(1.0)
    for writer in (daily, intraday):
        writer.stop.set()
        writer.join()
    report.add(
        f"upgrade {', '.join(applied) or '(no migration)'} (whole migrate call)", seconds(took[0])
    )
    for name, writer in (("stock_data", daily), ("stock_data_intraday", intraday)):
        failed = (
            f", {len(writer.failures)} failed ({writer.failures[0]})" if writer.failures else ""
        )
        report.add(
            f"longest single-bar write into {name} during the upgrade",
            f"{seconds(writer.longest)} ({writer.writes} writes{failed})",
        )


# --- reads ----------------------------------------------------------------------------------


def timed(report: Report, what: str, work: Callable[[], object]) -> object:
    with timer() as took:
        result = work()
    report.add(what, seconds(took[0]))
    return result


def gap_reads(db: Database, symbols: list[str], today: date, topup: date, report: Report) -> None:
    from stockpipe.store.sessions import read_stored_sessions

    def read(day: date) -> Callable[[], object]:
        return lambda: read_stored_sessions(db, symbols, today=day)

    midnight = new_york_midnight(topup)
    # A database kept from an earlier run (--keep) starts as a new one would: no top-up, no mark.
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM stock_data WHERE (symbol, ts) IN"
            " (SELECT s, %s::timestamptz FROM unnest(%s::text[]) AS s)",
            [midnight, symbols],
        )
    )
    db.run(lambda conn: conn.execute("UPDATE daily_session_mark SET verified_ts = NULL"))
    full = timed(report, "gap read, first (full, leaves the marks)", read(today))
    marked = timed(report, "gap read through the marks, nothing new", read(today))
    assert full == marked, "a read through the marks answered differently"
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO stock_data (symbol, ts, close) SELECT s, %s, 1 FROM unnest(%s::text[]) s",
            [midnight, symbols],
        )
    )
    timed(report, "gap read after a one-session top-up of every symbol (a daily run)", read(topup))
    again = timed(report, "gap read right after it (the run's missing_sessions check)", read(topup))
    db.run(lambda conn: conn.execute("UPDATE daily_session_mark SET verified_ts = NULL"))
    assert again == read(topup)(), "marks and a full read disagree after the top-up"
    holes = sum(len(s.holes) for s in again.values())  # type: ignore[attr-defined]
    report.add("holes found (generated ~1 bar in 2,000 missing)", f"{holes:,}")


def run_reads(db: Database, symbols: list[str], intraday: list[str], report: Report) -> None:
    from stockpipe.ingest.publication import remembered_unpublished
    from stockpipe.ingest.rejection import remembered_rejections
    from stockpipe.store.bars_read import latest_bar_ts_by_symbol
    from stockpipe.store.symbol_state import order_symbols

    timed(report, "planner: order_symbols", lambda: order_symbols(db, symbols))
    timed(report, "planner: remembered rejections", lambda: remembered_rejections(db, symbols))
    timed(report, "planner: remembered unpublished", lambda: remembered_unpublished(db, symbols))
    timed(
        report,
        "planner (intraday): newest bar per symbol",
        lambda: latest_bar_ts_by_symbol(db, intraday, table=INTRADAY_TABLE, interval="1min"),
    )


def checks(db: Database, symbols: list[str], intraday: list[str], report: Report) -> None:
    from stockpipe.ingest.gap_memory import read_gaps
    from stockpipe.store import quality

    session = latest_completed_session()
    for series, names, interval in ((DAILY, symbols, None), (INTRADAY, intraday, "1min")):
        label = f"check {series.table.name}"
        for name, check in (
            ("ohlc_sanity", lambda c, s=series, n=names, i=interval: quality.check_ohlc_sanity(
                c, n, series=s, interval=i)),
            ("no_duplicate_keys", lambda c, s=series, n=names, i=interval:
                quality.check_no_duplicate_keys(c, n, series=s, interval=i)),
            ("freshness", lambda c, s=series, n=names, i=interval: quality.check_freshness(
                c, n, session, series=s, interval=i)),
        ):  # fmt: skip
            timed(report, f"{label} {name}", lambda check=check: db.run(check))
    timed(report, "check stock_data missing_sessions", lambda: read_gaps(db, symbols, session))


def status_reads(db: Database, symbols: list[str], report: Report) -> None:
    """What `stockpipe status` reads, in this process (the command's own start-up aside)."""
    from stockpipe.ingest.overview import stored_symbols, symbol_overview

    target = latest_completed_session()
    for series in (DAILY, INTRADAY):
        interval = "1min" if series is INTRADAY else None
        for what, wanted in (("one symbol", symbols[:1]), ("all symbols", None)):

            def read(
                wanted: list[str] | None = wanted, series: Any = series, interval: Any = interval
            ) -> object:
                chosen = wanted if wanted is not None else stored_symbols(db, series)
                return symbol_overview(db, chosen, target=target, series=series, interval=interval)

            timed(report, f"status reads, {series.name}, {what} (stored symbols + overview)", read)


def status(conninfo: str, symbols: list[str], report: Report) -> None:
    env = {**os.environ, "DATABASE_URL": conninfo, "STOCK_SYMBOLS": symbols[0]}
    command = [str(Path(sys.executable).with_name("stockpipe")), "status"]
    for what, extra in (
        ("one symbol", ["--symbols", symbols[0]]),
        (f"all {len(symbols):,} symbols", []),
        ("one symbol, intraday", ["--series", "intraday", "--symbols", symbols[0]]),
    ):
        with timer() as took:
            done = subprocess.run(
                [*command, *extra], env=env, capture_output=True, text=True, check=False
            )
        if done.returncode != 0:
            raise RuntimeError(f"stockpipe status {extra}: {done.stderr.strip()}")
        report.add(f"`stockpipe status` {what} (whole process)", seconds(took[0]))


# --- upsert speed: big table against empty, same run ----------------------------------------


def daily_batches(first: int, count: int, sessions: list[datetime]) -> list[list[Bar]]:
    batches = []
    for s in range(first, first + count):
        batch = []
        for i, ts in enumerate(sessions):
            price = Decimal(10_000 + (s * 7 + i * 13) % 5_000).scaleb(-2)
            raw = {"1. open": str(price - 1), "4. close": str(price), "5. volume": str(i)}
            batch.append(
                Bar(f"N{_RUN}_{s}", "1d", ts, price - 1, price + 2, price - 2, price, i,
                    orjson.dumps(raw))
            )  # fmt: skip
        batches.append(batch)
    return batches


def intraday_batches(first: int, count: int, sessions: list[datetime]) -> list[list[Bar]]:
    batches = []
    for s in range(first, first + count):
        batch = []
        for day in sessions:
            for m in range(SESSION_MINUTES):
                price = Decimal(10_000 + (s * 7 + m * 13) % 5_000).scaleb(-2)
                raw = {"1. open": str(price - 1), "4. close": str(price), "5. volume": str(m)}
                ts = day + timedelta(minutes=570 + m)
                batch.append(
                    Bar(f"N{_RUN}_{s}", "1min", ts, price - 1, price + 2, price - 2, price, m,
                        orjson.dumps(raw))
                )  # fmt: skip
        batches.append(batch)
    return batches


def load_rate(db: Database, batches: list[list[Bar]], intraday: bool) -> tuple[float, float]:
    table = {"table": INTRADAY_TABLE} if intraday else {}
    rows = sum(len(b) for b in batches)
    rates = []
    for _ in range(2):  # first load, then the same bars again
        started = time.perf_counter()
        for batch in batches:
            upsert_bars(db, batch, unique=True, **table)  # type: ignore[arg-type]
        rates.append(rows / (time.perf_counter() - started))
    return rates[0], rates[1]


def upsert_speed(big: Database, empty: Database, args: argparse.Namespace, report: Report) -> None:
    days = sessions_between(date(2000, 1, 3), date(2024, 12, 31))[-args.upsert_sessions :]
    daily = [new_york_midnight(d) for d in days]
    week = [new_york_midnight(d) for d in sessions_between(date(2024, 6, 3), date(2024, 6, 7))]
    for label, intraday, make in (
        ("stock_data", False, lambda first: daily_batches(first, args.upsert_symbols, daily)),
        ("stock_data_intraday", True, lambda first: intraday_batches(first, 2, week)),
    ):  # fmt: skip
        results: dict[str, list[tuple[float, float]]] = {"big": [], "empty": []}
        for round_ in range(3):
            for name, db in (("empty", empty), ("big", big)):
                first = round_ * 1000 + (0 if name == "empty" else 500)
                results[name].append(load_rate(db, make(first), intraday))
        for kind, index in (("first load", 0), ("unchanged reload", 1)):
            rate_big = statistics.median(r[index] for r in results["big"])
            rate_empty = statistics.median(r[index] for r in results["empty"])
            report.add(
                f"upsert into {label}, {kind}: big table vs empty (rows/s, slowdown)",
                f"{rate_big:,.0f} vs {rate_empty:,.0f} ({rate_empty / rate_big:.2f}x)",
            )


def sizes(conninfo: str, report: Report) -> None:
    with psycopg.connect(conninfo) as conn:
        for table in ("stock_data", "stock_data_intraday"):
            rows = conn.execute(
                "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid), c.reltuples"
                " FROM pg_class c WHERE c.relname = %s OR c.oid IN"
                " (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))"
                " ORDER BY 1",
                [table, table],
            ).fetchall()
            heap = sum(int(r[1]) for r in rows)
            indexes = conn.execute(
                "SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid"
                " JOIN pg_class t ON t.oid = x.indrelid"
                " WHERE t.relname = %s OR t.oid IN"
                " (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))",
                [table, table],
            ).fetchall()
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            parts = len(rows) - 1 if table == "stock_data_intraday" else 0
            report.add(
                f"{table}: rows, table (heap + TOAST), all indexes",
                f"{count[0] if count else 0:,} rows, {_mb(heap)}, "
                f"{_mb(sum(int(i[1]) for i in indexes))}"
                + (f" ({parts} partitions)" if parts else ""),
            )
            by_name: dict[str, int] = {}
            for name, size in indexes:
                key = str(name)
                key = key if not key.startswith("stock_data_intraday_2") else "(monthly partitions)"
                by_name[key] = by_name.get(key, 0) + int(size)
            for name, size in sorted(by_name.items()):
                report.add(f"  index {name}", _mb(size))


# --- should stock_data be partitioned too? ---------------------------------------------------

_COPY_COLUMNS = "symbol, ts, open, high, low, close, volume, raw"
_YEARLY_PARTITIONS = """
SELECT format('CREATE TABLE sd_yearly_%%s PARTITION OF sd_yearly FOR VALUES FROM (%%L) TO (%%L)',
              y, make_timestamptz(y, 1, 1, 0, 0, 0, 'America/New_York'),
              make_timestamptz(y + 1, 1, 1, 0, 0, 0, 'America/New_York'))
FROM generate_series(%s::int, %s::int) AS y
"""


def partition_decision(conninfo: str, symbols: list[str], report: Report) -> None:
    """The same rows (a sample of symbols, all their history) in a plain table and in one
    partitioned by year, and the statements a run makes on stock_data against each."""
    sample = symbols
    with psycopg.connect(conninfo, autocommit=True) as conn:
        first, last = conn.execute(
            "SELECT extract(year FROM min(ts))::int, extract(year FROM max(ts))::int + 1"
            " FROM stock_data WHERE symbol = ANY(%s)",
            [sample],
        ).fetchone() or (2000, 2030)
        conn.execute("DROP TABLE IF EXISTS sd_plain, sd_yearly")
        conn.execute(f"CREATE TABLE sd_plain AS SELECT {_COPY_COLUMNS} FROM stock_data WHERE false")
        conn.execute("CREATE TABLE sd_yearly (LIKE sd_plain) PARTITION BY RANGE (ts)")
        for (statement,) in conn.execute(_YEARLY_PARTITIONS, [first, last]).fetchall():
            conn.execute(statement)
        for table in ("sd_plain", "sd_yearly"):
            conn.execute(f"ALTER TABLE {table} ADD UNIQUE (symbol, ts)")
            conn.execute(
                f"INSERT INTO {table} SELECT {_COPY_COLUMNS} FROM stock_data"
                " WHERE symbol = ANY(%s) ORDER BY symbol, ts",
                [sample],
            )
            conn.execute(f"VACUUM ANALYZE {table}")
        since = conn.execute("SELECT max(ts) FROM sd_plain").fetchone()
        newest = since[0] if since else datetime.now(UTC)
        statements = {
            "one symbol's whole history (status, fingerprints of a full reload)": (
                "SELECT ts, close FROM {t} WHERE symbol = %s ORDER BY ts", [sample[0]]),
            f"newest bar of {len(sample):,} symbols (the upsert's fast path, planner)": (
                "SELECT s, (SELECT max(ts) FROM {t} WHERE symbol = s) FROM unnest(%s::text[]) s",
                [sample]),
            f"bars since a mark for {len(sample):,} symbols (the gap read's tail)": (
                "SELECT s, b.ts FROM unnest(%s::text[]) s CROSS JOIN LATERAL"
                " (SELECT ts FROM {t} WHERE symbol = s AND ts >= %s) b", [sample, newest]),
            f"a new session for {len(sample):,} symbols (the daily top-up)": (
                "INSERT INTO {t} (symbol, ts, close) SELECT s, %s, 1 FROM unnest(%s::text[]) s",
                [newest + timedelta(days=1), sample]),
        }  # fmt: skip
        for what, (statement, params) in statements.items():
            took = {}
            for table in ("sd_plain", "sd_yearly"):
                runs = []
                for _ in range(7):
                    started = time.perf_counter()
                    cursor = conn.execute(statement.format(t=table), params)
                    if cursor.description is not None:
                        cursor.fetchall()
                    runs.append(time.perf_counter() - started)
                    conn.execute(f"DELETE FROM {table} WHERE ts > %s", [newest])
                took[table] = statistics.median(runs)
            report.add(
                f"stock_data by year vs plain: {what}",
                f"{seconds(took['sd_yearly'])} vs {seconds(took['sd_plain'])}"
                f" ({took['sd_yearly'] / took['sd_plain']:.2f}x)",
            )
        conn.execute("DROP TABLE sd_plain, sd_yearly")


def _mb(size: int) -> str:
    return f"{size / 1_048_576:,.0f} MB"


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--full", action="store_true", help="the issue's 25M + 25M rows")
    parser.add_argument("--symbols", type=int, default=400)
    parser.add_argument("--sessions", type=int, default=2500)
    parser.add_argument("--intraday-symbols", type=int, default=100)
    parser.add_argument("--intraday-sessions", type=int, default=26)
    parser.add_argument("--upsert-symbols", type=int, default=10)
    parser.add_argument("--upsert-sessions", type=int, default=2500)
    parser.add_argument("--admin-conninfo", help="a server to use instead of a throwaway one")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the server's data here; a later run with the same --keep reuses the"
        " generated and upgraded database (measures the reads and loads again only)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated, of {', '.join(PARTS)} (default: all)",
    )
    parser.add_argument(
        "--decision-symbols", type=int, default=1000, help="sample for the partitioning decision"
    )
    args = parser.parse_args(argv)
    args.parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if args.parts - set(PARTS):
        parser.error(f"unknown parts {sorted(args.parts - set(PARTS))}; known: {PARTS}")
    if args.full:
        args.symbols, args.sessions = 10_000, 2_500
        args.intraday_symbols, args.intraday_sessions = 1_000, 64
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        admin = args.admin_conninfo
        if admin is None:
            pgdata = args.keep / "pgdata" if args.keep else Path(tmp) / "pgdata"
            server = EmbeddedServer(pgdata=pgdata, port=free_port()).start()
            admin = server.conninfo()
        try:
            run(admin, args, report)
        finally:
            if server is not None:
                server.stop()
    text = markdown(report, argv, args, load_before)
    print(text)
    if not args.no_write:
        write(DOCS, text)
        print(f"written to {DOCS}")
    return 0


def run(admin: str, args: argparse.Namespace, report: Report) -> None:
    target = latest_completed_session()
    days = sessions_between(date(1999, 11, 1), target)
    history = [new_york_midnight(d) for d in days[-args.sessions - 1 : -1]]
    intraday_days = [new_york_midnight(d) for d in days[-args.intraday_sessions - 1 : -1]]
    big = _kept(admin) if args.keep else None
    if big is None:
        big = generate_and_upgrade(admin, args, report, history, intraday_days)
    elif max(applied_versions_of(big)) < FIRST_OF_THIS_ISSUE:
        # A kept run stopped before its upgrade: stock_data is complete (its generation ends
        # with a VACUUM), the intraday table is made again.
        report.add("database", "stock_data kept from an interrupted run; intraday made again")
        with psycopg.connect(big, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {PARENT}")
        generate_intraday(big, args, report, intraday_days)
        upgrade_under_writers(big, report)
    else:
        report.add("database", "reused from an earlier run with --keep (generation, upgrade)")
        if "upgrade" in args.parts:
            upgrade_under_writers(big, report)  # what this release adds since (late indexes)
    symbols = [symbol(i) for i in range(1, args.symbols + 1)]
    intraday = symbols[: args.intraday_symbols]
    db = Database.from_conninfo(big, migrate=False)
    empty_info = create_database(admin, "empty")
    empty = Database.from_conninfo(empty_info)
    try:
        parts = args.parts
        if "gaps" in parts:
            gap_reads(db, symbols, days[-2], target, report)
        if "reads" in parts:
            run_reads(db, symbols, intraday, report)
        if "checks" in parts:
            checks(db, symbols, intraday, report)
        if "status" in parts:
            status_reads(db, symbols, report)
            status(big, symbols, report)
        if "upsert" in parts:
            upsert_speed(db, empty, args, report)
        if "sizes" in parts:
            sizes(big, report)
        if "decision" in parts:
            partition_decision(big, symbols[: args.decision_symbols], report)
    finally:
        db.close()
        empty.close()
        drop_database(admin, empty_info)


def generate_intraday(
    big: str, args: argparse.Namespace, report: Report, intraday_days: list[datetime]
) -> None:
    intraday_rows = args.intraday_symbols * args.intraday_sessions * SESSION_MINUTES
    step = max(1, 600_000 // (args.intraday_sessions * SESSION_MINUTES))
    with timer() as took:
        generate(big, _INTRADAY_SQL, args.intraday_symbols, intraday_days, step, PARENT)
    report.add(f"generate stock_data_intraday ({intraday_rows:,} bars, SQL)", seconds(took[0]))


KEPT = "stockpipe_scale_kept"
PARTS = ("upgrade", "gaps", "reads", "checks", "status", "upsert", "sizes", "decision")


def _before_this_issue() -> str:
    """The newest migration before this issue's (0015-0017 belong to other branches)."""
    return max(m.version for m in available_migrations() if m.version < FIRST_OF_THIS_ISSUE)


def applied_versions_of(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        return sorted(applied_versions(conn))


def _kept(admin: str) -> str | None:
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [KEPT]).fetchone()
    return make_conninfo(admin, dbname=KEPT) if found else None


def generate_and_upgrade(
    admin: str,
    args: argparse.Namespace,
    report: Report,
    history: list[datetime],
    intraday_days: list[datetime],
) -> str:
    if args.keep:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {KEPT}")
        big = make_conninfo(admin, dbname=KEPT)
    else:
        big = create_database(admin, "scale")
    migrate(big, target=_before_this_issue())
    daily_rows = args.symbols * args.sessions
    with timer() as took:
        generate(
            big, _DAILY_SQL, args.symbols, history, max(1, 600_000 // args.sessions), "stock_data"
        )
    report.add(f"generate stock_data ({daily_rows:,} bars, SQL)", seconds(took[0]))
    generate_intraday(big, args, report, intraday_days)
    upgrade_under_writers(big, report)
    return big


def markdown(
    report: Report, argv: list[str] | None, args: argparse.Namespace, load_before: str
) -> str:
    command = "python -m benchmarks.scale " + " ".join(argv if argv is not None else sys.argv[1:])
    rows = "\n".join(f"| {what} | {value} |" for what, value in report.lines)
    return (
        f"{BEGIN}\n"
        f"Measured with `{command.strip()}` ({args.symbols:,} symbols x {args.sessions:,} daily"
        f" sessions; {args.intraday_symbols:,} symbols x {args.intraday_sessions} sessions x"
        f" 390 one-minute bars), {machine()}, load average before {load_before}, after"
        f" {load_average()}.\n\n| measure | result |\n|---|---|\n{rows}\n{END}\n"
    )


def write(path: Path, text: str) -> None:
    current = path.read_text() if path.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        path.write_text(head + text + tail)
    else:
        path.write_text(current.rstrip("\n") + "\n\n## Database at scale (issue 19)\n\n" + text)


if __name__ == "__main__":
    sys.exit(main())
