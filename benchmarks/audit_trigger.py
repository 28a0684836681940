"""What the corrections audit (trigger stock_data_record_changes, migration 0011) costs a reload
that changes every bar, the worst case: the same upsert with the trigger enabled and disabled.

    .venv/bin/python -m benchmarks.audit_trigger --symbols 40 --days 2000 --rounds 3

Two databases on one throwaway embedded server get the same first load; then each round reloads
every bar with a changed close (alternating between two sets of values, so every reload changes
every row), trigger on and off in turn. An unchanged reload updates no row, so it never fires.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import orjson
from tests.fixtures.postgres import create_database

from benchmarks.e2e.harness import machine
from benchmarks.upsert import generate
from stockpipe.bars import Bar
from stockpipe.store import Database, migrate, upsert_bars
from stockpipe.store.embedded import EmbeddedServer, free_port


def corrected(batches: list[list[Bar]], cents: int) -> list[list[Bar]]:
    """Every bar with its close moved by `cents` hundredths (raw follows, as a vendor's would)."""
    out = []
    for batch in batches:
        changed = []
        for bar in batch:
            close = bar.close + Decimal(cents).scaleb(-2)
            raw = orjson.loads(bar.raw) | {"4. close": str(close)}
            changed.append(bar._replace(close=close, high=bar.high + 1, raw=orjson.dumps(raw)))
        out.append(changed)
    return out


def reload(conninfo: str, batches: list[list[Bar]]) -> float:
    with Database.from_conninfo(conninfo, migrate=False) as db:
        db.run(lambda conn: conn.execute("CHECKPOINT"))
        started = time.perf_counter()
        for batch in batches:
            upsert_bars(db, batch, run_id="bench")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--symbols", type=int, default=40)
    parser.add_argument("--days", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = generate(args.symbols, args.days)
    variants = [corrected(base, 1), corrected(base, 2)]
    rows = args.symbols * args.days
    print(
        f"{args.symbols} symbols x {args.days} days = {rows:,} changed rows per reload; {machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(pgdata=Path(tmp) / "pgdata", port=free_port()).start()
        try:
            databases = {}
            for name in ("on", "off"):
                conninfo = databases[name] = create_database(server.conninfo(), f"audit_{name}")
                migrate(conninfo)
                reload(conninfo, base)
            with Database.from_conninfo(databases["off"], migrate=False) as db:
                db.run(
                    lambda conn: conn.execute(
                        "ALTER TABLE stock_data DISABLE TRIGGER stock_data_record_changes"
                    )
                )
            times: dict[str, list[float]] = {"on": [], "off": []}
            for round_ in range(args.rounds):
                batches = variants[round_ % 2]
                order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
                for name in order:
                    times[name].append(reload(databases[name], batches))
            with Database.from_conninfo(databases["on"], migrate=False) as db:
                audited = db.run(
                    lambda conn: conn.execute("SELECT count(*) FROM stock_data_changes").fetchone()
                )
        finally:
            server.stop()
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    print(f"  trigger on : {rows / on:,.0f} rows/s (median of {args.rounds}: {on:.2f} s)")
    print(f"  trigger off: {rows / off:,.0f} rows/s (median of {args.rounds}: {off:.2f} s)")
    print(f"  cost: {on / off:.2f}x the time, {(on - off) / rows * 1e6:.1f} us per changed row")
    print(f"  audit rows written: {audited[0] if audited else '?':,}")


if __name__ == "__main__":
    main()
