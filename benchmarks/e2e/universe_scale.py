"""9. A market-wide universe (issue 18): 10,000 symbols, compact, on replies that cost the fake
nothing (each symbol's compact answer rendered once, before the timed runs).

- `stock_job` through Dagster (sharded partitions, a PostgreSQL-backed instance) against the
  library alone over the same symbols, each a fresh process on a fresh database: <= 1.15x.
- Peak RSS of the library at 10,000 symbols against 1,000: <= 1.2x (work streams per symbol,
  so memory must not grow with the universe).
"""

from __future__ import annotations

import orjson

from benchmarks.e2e.children import ChildRun, run_dagster_job, run_library
from benchmarks.e2e.harness import UNLIMITED, Bench, Figure, row_count, symbols

PREFIX = "U"
COMPACT = {**UNLIMITED, "API_OUTPUT_SIZE": "compact"}
COMPACT_BARS = 100  # rows a compact answer holds


def serve_compact(bench: Bench, names: list[str]) -> None:
    """Forget earlier calls; then every symbol's compact daily answer is one rendered payload
    with its own name in the Meta Data, served as a stored body (a lookup, no generation)."""
    bench.fake.reset()
    template = bench.fake.get("TEMPLATEX", outputsize="compact").decode()
    bench.fake.reset()
    for name in names:
        bench.fake.control(
            "body",
            {
                "symbol": name,
                "function": "TIME_SERIES_DAILY",
                "body": template.replace('"TEMPLATEX"', orjson.dumps(name).decode(), 1),
            },
        )


def _library(bench: Bench, count: int) -> ChildRun:
    names = symbols(PREFIX, count)
    serve_compact(bench, names)
    conninfo = bench.fresh_database(f"universe{count}")
    child = run_library(bench, conninfo, PREFIX, count, **COMPACT)
    if child.report["statuses"].get("loaded") != count:
        raise RuntimeError(f"library run did not load every symbol: {child.report}")
    _expect_rows(conninfo, count)
    return child


def _expect_rows(conninfo: str, count: int) -> None:
    if row_count(conninfo) != count * COMPACT_BARS:
        raise RuntimeError(f"expected {count * COMPACT_BARS} rows, found {row_count(conninfo)}")


def run(bench: Bench) -> list[Figure]:
    small, large = bench.scale.universe_small, bench.scale.universe_large
    baseline = _library(bench, small)
    library = _library(bench, large)
    serve_compact(bench, symbols(PREFIX, large))
    dagster_db = bench.fresh_database("universe_dagster")
    dagster = run_dagster_job(bench, dagster_db, PREFIX, large, **COMPACT)
    _expect_rows(dagster_db, large)
    wall_ratio = dagster.wall / library.wall
    peak_small = baseline.report["peak_rss_kib"] / 1024
    peak_large = library.report["peak_rss_kib"] / 1024
    rss_ratio = peak_large / peak_small
    return [
        Figure(
            "10 universe",
            f"stock_job wall time, {large} symbols compact",
            f"{dagster.wall:.1f} s",
            f"library alone {library.wall:.1f} s",
            wall_ratio,
            "<= 1.15x",
            wall_ratio <= 1.15,
            {"library_inside_s": library.report["seconds"]},
        ),
        Figure(
            "10 universe",
            f"peak RSS, {large} symbols compact",
            f"{peak_large:.0f} MiB",
            f"{small} symbols {peak_small:.0f} MiB",
            rss_ratio,
            "<= 1.2x",
            rss_ratio <= 1.2,
        ),
    ]
