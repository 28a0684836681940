"""3. Rate-limit efficiency: the fake enforces a per-minute limit the way Alpha Vantage does
(HTTP 200 and a notice); the ingest, told the same limit and the matching polite delay, should
use nearly all of it and never be told off.

Two passes: compact payloads (100 bars, the daily top-up, where the limit is what binds) and
full histories (where loading 5,000 bars per call may be slower than the limit allows).
"""

from __future__ import annotations

from benchmarks.e2e.harness import Bench, Figure, symbols
from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.store import Database


def _pass(bench: Bench, output_size: str, prefix: str) -> list[Figure]:
    limit, count = bench.scale.rate_per_minute, bench.scale.rate_symbols
    conninfo = bench.fresh_database("rate")
    bench.fake.reset(per_minute=limit)
    settings = bench.settings(
        conninfo,
        API_CALLS_PER_MINUTE=limit,
        API_POLITE_DELAY_SEC=60 / limit,
        API_OUTPUT_SIZE=output_size,
    )
    db = Database.from_conninfo(conninfo, migrate=False)
    with IngestContext(settings, db, owns_db=True) as ctx:
        summary = ingest_symbols(ctx, symbols(prefix, count))
    calls = bench.fake.calls()
    limited = sum(1 for call in calls if call["outcome"].startswith("rate_limit"))
    span = calls[-1]["time"] - calls[0]["time"] if len(calls) > 1 else 0.0
    # n calls span n-1 intervals: the rate the limit is about.
    per_minute = (len(calls) - 1) / span * 60 if span > 0 else 0.0
    ratio = per_minute / limit
    return [
        Figure(
            "3 rate limit",
            f"calls/min, {count} symbols, {output_size}",
            f"{per_minute:.1f}",
            f"limit {limit}/min",
            ratio,
            ">= 0.95x",
            ratio >= 0.95,
            {"calls": len(calls), "summary_calls": summary.calls, "span_s": span},
        ),
        Figure(
            "3 rate limit",
            f"rate-limit replies received, {output_size}",
            str(limited),
            f"{len(calls)} calls",
            None,
            "0",
            limited == 0,
        ),
    ]


def run(bench: Bench) -> list[Figure]:
    return _pass(bench, "compact", "R") + _pass(bench, "full", "F")
