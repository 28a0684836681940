"""The library's ingest in a process of its own: what a `stockpipe ingest` costs in wall time
and peak memory, measured without the harness's own allocations in the way.

    python -m benchmarks.e2e.child PREFIX COUNT     # settings from the environment

Prints one JSON object on stdout: seconds inside, peak RSS (KiB), calls, rows, statuses, and
the wall-clock time it ended.
"""

from __future__ import annotations

import logging
import resource
import sys
import time

import orjson

from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.settings import Settings


def main() -> None:
    prefix, count = sys.argv[1], int(sys.argv[2])
    logging.basicConfig(level=logging.WARNING)
    symbols = [f"{prefix}{index:04d}" for index in range(count)]
    started = time.perf_counter()
    with IngestContext.from_settings(Settings.load(_env_file=None)) as ctx:
        summary = ingest_symbols(ctx, symbols)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    report = {
        "seconds": seconds,
        "peak_rss_kib": peak_kib,
        "calls": summary.calls,
        "inserted": summary.inserted,
        "statuses": {status.value: n for status, n in summary.counts.items()},
        "ended_at": time.time(),  # on the fake's clock: its log times calls with time.time()
    }
    sys.stdout.write(orjson.dumps(report).decode() + "\n")


if __name__ == "__main__":
    main()
