"""Upsert benchmark: the project's upsert vs execute_values + ON CONFLICT vs plain COPY.

    .venv/bin/python -m benchmarks.upsert                 # 200 symbols x 5,000 days
    .venv/bin/python -m benchmarks.upsert --symbols 20 --days 1000   # quick

Each method loads the same generated bars (one batch per symbol, `raw` included) into a fresh,
migrated database on a throwaway embedded server with durable settings (after one untimed
warm-up COPY), then loads them again unchanged. Plain COPY is the ceiling for a first load; it
cannot re-load (duplicate keys).
"plain COPY, schema 0004" copies into the table as it was before migration 0005 added the
generated `fingerprint` column: the write cost of that column, which every load pays.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import psycopg
import psycopg2
import psycopg2.extras
from tests.fixtures.postgres import create_database

from benchmarks.e2e.harness import machine
from stockpipe.bars import Bar
from stockpipe.store import Database, migrate, upsert_bars
from stockpipe.store.embedded import EmbeddedServer, free_port
from stockpipe.store.upsert import _copy

_BASELINE_SQL = """
INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw,
                        adjusted_close, dividend_amount, split_coefficient)
VALUES %s
ON CONFLICT (symbol, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, raw = EXCLUDED.raw, adjusted_close = EXCLUDED.adjusted_close,
    dividend_amount = EXCLUDED.dividend_amount, split_coefficient = EXCLUDED.split_coefficient,
    updated_at = now()"""


def generate(symbols: int, days: int) -> list[list[Bar]]:
    start = datetime(2000, 1, 3, tzinfo=UTC)
    batches = []
    for s in range(symbols):
        symbol = f"SYM{s:04d}"
        batch = []
        for d in range(days):
            cents = 10_000 + (s * 7 + d * 13) % 5_000
            close = Decimal(cents).scaleb(-2).quantize(Decimal("0.0001"))
            raw = {
                "1. open": str(close - 1),
                "2. high": str(close + 2),
                "3. low": str(close - 2),
                "4. close": str(close),
                "5. adjusted close": str(close),
                "6. volume": str(1_000_000 + d),
                "7. dividend amount": "0.0000",
                "8. split coefficient": "1.0",
            }
            batch.append(
                Bar(
                    symbol=symbol,
                    interval="1d",
                    ts=start + timedelta(days=d),
                    open=close - 1,
                    high=close + 2,
                    low=close - 2,
                    close=close,
                    volume=1_000_000 + d,
                    raw=orjson.dumps(raw),
                    adjusted_close=close,
                    dividend_amount=Decimal("0.0000"),
                    split_coefficient=Decimal("1.0"),
                )
            )
        batches.append(batch)
    return batches


def load_upsert(conninfo: str, batches: list[list[Bar]]) -> None:
    with Database.from_conninfo(conninfo, migrate=False) as db:
        for batch in batches:
            upsert_bars(db, batch)


def load_copy(conninfo: str, batches: list[list[Bar]]) -> None:
    with psycopg.connect(conninfo) as conn:
        for batch in batches:
            with conn.transaction():
                _copy(conn, "stock_data", batch)


def load_baseline(conninfo: str, batches: list[list[Bar]]) -> None:
    conn = psycopg2.connect(conninfo)
    try:
        with conn.cursor() as cur:
            for batch in batches:
                rows = [
                    (
                        b.symbol,
                        b.ts,
                        b.open,
                        b.high,
                        b.low,
                        b.close,
                        b.volume,
                        b.raw.decode(),
                        b.adjusted_close,
                        b.dividend_amount,
                        b.split_coefficient,
                    )
                    for b in batch
                ]
                psycopg2.extras.execute_values(
                    cur,
                    _BASELINE_SQL,
                    rows,
                    template="(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
                    page_size=1000,
                )
                conn.commit()
    finally:
        conn.close()


def checkpoint(conninfo: str) -> None:
    # Flush the previous load's WAL first, so no method pays for another's checkpoint.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def timed(
    load: Callable[[str, list[list[Bar]]], None], conninfo: str, batches: list[list[Bar]]
) -> float:
    checkpoint(conninfo)
    started = time.perf_counter()
    load(conninfo, batches)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="Upsert benchmark (storage layer)")
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--days", type=int, default=5000)
    args = parser.parse_args()
    batches = generate(args.symbols, args.days)
    # The generated bars live all run long: keep the cyclic GC from walking them in every load.
    gc.collect()
    gc.freeze()
    rows = args.symbols * args.days
    print(f"{args.symbols} symbols x {args.days} days = {rows:,} rows; {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(pgdata=Path(tmp) / "pgdata", port=free_port()).start()
        try:
            # Untimed warm-up: without it whichever method ran first looked ~40% slower (plain
            # COPY 63-67k rows/s first, 103k after a warm-up), most likely because a fresh
            # cluster creates and zero-fills WAL segments that later loads recycle.
            warm_up = create_database(server.conninfo(), "warmup")
            migrate(warm_up)
            timed(load_copy, warm_up, batches)
            results: dict[str, float] = {}
            for name, load, schema in (
                ("copy", load_copy, None),
                ("copy0004", load_copy, "0004"),
                ("upsert", load_upsert, None),
                ("baseline", load_baseline, None),
            ):
                conninfo = create_database(server.conninfo(), name)
                migrate(conninfo, target=schema)
                results[f"{name} first"] = timed(load, conninfo, batches)
                if not name.startswith("copy"):
                    results[f"{name} reload"] = timed(load, conninfo, batches)
                print(
                    f"  {name}: "
                    + ", ".join(
                        f"{k.split()[1]} {rows / v:,.0f} rows/s"
                        for k, v in results.items()
                        if k.split()[0] == name
                    ),
                    flush=True,
                )
        finally:
            server.stop()
    rate = {k: rows / v for k, v in results.items()}
    print()
    print("| load | rows/s | vs plain COPY | vs execute_values |")
    print("|---|---|---|---|")
    labels = {
        "copy first": "plain COPY, first load (ceiling)",
        "copy0004 first": "plain COPY, schema 0004 (no fingerprint column), first load",
        "upsert first": "stockpipe upsert, first load",
        "baseline first": "execute_values + ON CONFLICT, first load",
        "upsert reload": "stockpipe upsert, unchanged reload",
        "baseline reload": "execute_values + ON CONFLICT, unchanged reload",
    }
    for key, label in labels.items():
        vs_copy = rate[key] / rate["copy first"]
        vs_baseline = rate[key] / rate["baseline " + key.split()[-1]]
        print(f"| {label} | {rate[key]:,.0f} | {vs_copy:.2f}x | {vs_baseline:.2f}x |")


if __name__ == "__main__":
    main()
