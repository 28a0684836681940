"""2. The bulk load as a `stock_job` run (Dagster, PostgreSQL-backed instance) against the
library alone; both in a fresh process on a fresh database, timed from spawn to exit."""

from __future__ import annotations

from benchmarks.e2e.children import run_dagster_job, run_library
from benchmarks.e2e.harness import UNLIMITED, Bench, Figure, row_count


def run(bench: Bench) -> list[Figure]:
    count = bench.scale.symbols
    expected = count * bench.scale.bars
    library_db = bench.fresh_database("library")
    bench.fake.reset()
    library = run_library(bench, library_db, "D", count, **UNLIMITED)
    dagster_db = bench.fresh_database("dagster")
    bench.fake.reset()
    dagster = run_dagster_job(bench, dagster_db, "D", count, **UNLIMITED)
    for conninfo in (library_db, dagster_db):
        if row_count(conninfo) != expected:
            raise RuntimeError(f"expected {expected} rows, found {row_count(conninfo)}")
    ratio = dagster.wall / library.wall
    return [
        Figure(
            "2 through Dagster",
            f"stock_job wall time, {count} symbols",
            f"{dagster.wall:.1f} s",
            f"library alone {library.wall:.1f} s",
            ratio,
            "<= 1.5x",
            ratio <= 1.5,
            {"library_inside_s": library.report["seconds"]},
        )
    ]
