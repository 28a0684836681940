"""What Dagster's event log costs per reported partition on PostgreSQL run/event storage (the
deployed dagster.yaml): a step that yields N per-symbol materializations against one that
yields a shard's 64 events, each with a table of its symbols, and one that yields nothing.

    .venv/bin/python -m benchmarks.event_log --symbols 2000

Each variant runs as one execute_in_process on an instance whose storage is a fresh database of
a throwaway embedded server; the figure is (wall - empty run's wall) / events.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from benchmarks.e2e.harness import machine
from stockpipe.defs.assets import symbol_event
from stockpipe.defs.shards import shard_event, shard_keys, shard_of
from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.store.embedded import start_throwaway_server

REPO = Path(__file__).resolve().parents[1]
KEY = dg.AssetKey("stock_data")


def results(count: int) -> list[SymbolResult]:
    return [
        SymbolResult(
            f"S{index:05d}", SymbolStatus.LOADED, calls=1, inserted=1, latest_bar=date(2026, 12, 4)
        )
        for index in range(count)
    ]


def per_symbol(count: int) -> Iterator[dg.AssetMaterialization | dg.AssetObservation]:
    for result in results(count):
        yield symbol_event(KEY, result)


def per_shard(count: int) -> Iterator[dg.AssetMaterialization | dg.AssetObservation]:
    by_shard: dict[str, list[SymbolResult]] = {key: [] for key in shard_keys()}
    for result in results(count):
        by_shard[shard_of(result.symbol)].append(result)
    for key, members in by_shard.items():
        yield shard_event(KEY, key, members)


def timed(
    instance: dg.DagsterInstance, events: list[dg.AssetMaterialization | dg.AssetObservation]
) -> float:
    @dg.op(out=dg.Out(dg.Nothing, is_required=False))
    def report() -> Iterator[dg.AssetMaterialization | dg.AssetObservation]:
        yield from events

    @dg.job(executor_def=dg.in_process_executor)
    def reporting() -> None:
        report()

    started = time.perf_counter()
    assert reporting.execute_in_process(instance=instance).success
    return time.perf_counter() - started


def instance_on(conninfo: str, home: Path) -> dg.DagsterInstance:
    """The deployed instance (deploy/dagster.yaml: PostgreSQL run, event and schedule storage
    from POSTGRES_*) on this database."""
    parts = conninfo_to_dict(conninfo)
    os.environ.update(
        POSTGRES_HOST=str(parts["host"]),
        POSTGRES_PORT=str(parts["port"]),
        POSTGRES_USER=str(parts["user"]),
        POSTGRES_PASSWORD=str(parts["password"]),
        POSTGRES_DB=str(parts["dbname"]),
    )
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--symbols", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stockpipe-eventlog-") as tmp:
        server = start_throwaway_server(Path(tmp) / "pg", password=secrets.token_hex(8))
        try:
            figures = {}
            for name, events in (
                ("empty", []),
                ("per symbol", list(per_symbol(args.symbols))),
                ("per shard", list(per_shard(args.symbols))),
            ):
                dbname = f"eventlog_{name.replace(' ', '_')}"
                with psycopg.connect(server.conninfo(), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{dbname}"')
                conninfo = make_conninfo(server.conninfo(), dbname=dbname)
                home = Path(tmp) / dbname
                home.mkdir()
                with instance_on(conninfo, home) as instance:
                    figures[name] = (len(events), timed(instance, events))
        finally:
            server.stop()
    empty = figures["empty"][1]
    print(f"machine: {machine()}; {args.symbols} symbols; empty run {empty:.2f} s")
    for name in ("per symbol", "per shard"):
        count, wall = figures[name]
        print(
            f"{name}: {count} events, run {wall:.2f} s, "
            f"{(wall - empty) / count * 1000:.1f} ms per event, {wall - empty:.2f} s in all"
        )


if __name__ == "__main__":
    main()
