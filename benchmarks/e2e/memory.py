"""5. Memory: peak RSS of the library ingest for few and for many symbols, each in its own
process on its own fresh database. Work streams per symbol, so the peak must not grow with
the length of the list."""

from __future__ import annotations

from benchmarks.e2e.children import run_library
from benchmarks.e2e.harness import UNLIMITED, Bench, Figure


def run(bench: Bench) -> list[Figure]:
    peaks: dict[int, float] = {}
    for count in (bench.scale.memory_small, bench.scale.memory_large):
        conninfo = bench.fresh_database(f"memory{count}")
        bench.fake.reset()
        child = run_library(bench, conninfo, "M", count, **UNLIMITED)
        if child.report["statuses"].get("loaded") != count:
            raise RuntimeError(f"memory run did not load every symbol: {child.report}")
        peaks[count] = child.report["peak_rss_kib"] / 1024
    small, large = bench.scale.memory_small, bench.scale.memory_large
    ratio = peaks[large] / peaks[small]
    return [
        Figure(
            "5 memory",
            f"peak RSS, {large} symbols",
            f"{peaks[large]:.0f} MiB",
            f"{small} symbols {peaks[small]:.0f} MiB",
            ratio,
            "<= 1.2x",
            ratio <= 1.2,
        )
    ]
