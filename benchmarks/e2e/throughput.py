"""9. Throughput (issue 18): a premium key's per-minute rate used to within 5%, with replies
that take as long as the real API's, many requests in flight, the call gate pacing them.

Each pass is a `stockpipe` ingest in a process of its own (benchmarks.e2e.child), compact
daily answers from the fake with a fixed latency (`delay`) and shared payloads (one rendered
series under every symbol's name: the fake costs nothing), the fake enforcing the per-minute
limit with the real notice. The bound is what the limit allows: calls / limit. The in-flight
count is the default the settings derive (stockpipe.quota.concurrency).

    top tier     1,200/min, 300 ms replies         wall / bound <= 1.05, 0 rate-limit replies
    middle tier    300/min, 300 ms replies         wall / bound <= 1.05
    own cost     no limit, instant replies         >= 3,000 calls/min
    two processes sharing one key at 1,200/min     together <= 1.05 of the bound, never over
                                                   the cap in any 60 s window (fake's log)
    full history 1,200/min, 300 ms replies, every   <= 1.25 of the bound, or the bottleneck
                 symbol new: one `full` call, then  named with a profile (docs/benchmarks.md)
                 the fake's whole history (5,000
                 bars) parsed and upserted
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import orjson

from benchmarks.e2e.children import REPO, run_library
from benchmarks.e2e.harness import UNLIMITED, Bench, Figure

# Symbols per pass by scale: (top tier, middle tier, own cost, each of two processes).
SIZES = {"full": (2000, 500, 2000, 1000), "quick": (200, 100, 300, 100), "tiny": (10, 10, 10, 5)}
# Symbols of the full-history pass by scale (each bench.scale.bars sessions long).
FULL_HISTORY = {"full": 300, "quick": 60, "tiny": 3}
LATENCY = 0.3


def _fake(bench: Bench, per_minute: int | None, delay: float) -> None:
    bench.fake.reset(per_minute=per_minute, delay=delay, shared_payloads=True)


def _busiest_minute(calls: list[dict[str, Any]]) -> int:
    times = sorted(call["time"] for call in calls)
    busiest, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - 60:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


def _span(calls: list[dict[str, Any]], limit: int) -> float:
    """Seconds the run's calls took at the fake, first arrival to last plus one interval (n
    calls take n intervals of the limit): the run's own wall time without its start-up (the
    interpreter, imports, connecting, the first database reads), which the notes give."""
    times = [call["time"] for call in calls]
    return max(times) - min(times) + 60 / limit if times else 0.0


def _limited(calls: list[dict[str, Any]]) -> int:
    return sum(1 for call in calls if call["outcome"].startswith("rate_limit"))


def _tier(bench: Bench, name: str, count: int, limit: int) -> list[Figure]:
    conninfo = bench.fresh_database(f"tier{limit}")
    _fake(bench, limit, LATENCY)
    run = run_library(
        bench, conninfo, "P", count,
        API_CALLS_PER_MINUTE=limit, API_POLITE_DELAY_SEC=0, API_OUTPUT_SIZE="compact",
        API_DAILY_BUDGET="none",
    )  # fmt: skip
    calls = bench.fake.calls()
    bound = len(calls) / limit * 60
    wall = _span(calls, limit)
    ratio = wall / bound
    limited = _limited(calls)
    return [
        Figure(
            "9 throughput", f"{name}: {count} symbols compact, {limit}/min, {LATENCY:g} s",
            f"{wall:.1f} s", f"bound {bound:.1f} s ({len(calls)} calls)",
            ratio, "<= 1.05x", ratio <= 1.05,
            {"calls": len(calls), "statuses": run.report["statuses"], "limited": limited,
             "busiest_minute": _busiest_minute(calls), "inside_process_s": run.report["seconds"]},
        ),
        Figure(
            "9 throughput", f"{name}: rate-limit replies", str(limited), f"{len(calls)} calls",
            None, "0", limited == 0,
        ),
    ]  # fmt: skip


def _own_cost(bench: Bench, count: int) -> Figure:
    conninfo = bench.fresh_database("own")
    _fake(bench, None, 0.0)
    run = run_library(
        bench, conninfo, "O", count, **UNLIMITED, API_OUTPUT_SIZE="compact",
        API_DAILY_BUDGET="none", API_MAX_IN_FLIGHT=4,
    )  # fmt: skip
    per_minute = run.report["calls"] / run.report["seconds"] * 60
    return Figure(
        "9 throughput", f"own cost: {count} symbols compact, no limit, instant replies",
        f"{per_minute:,.0f} calls/min", f"{run.report['seconds']:.1f} s inside the process",
        None, ">= 3,000 calls/min", per_minute >= 3000, {"statuses": run.report["statuses"]},
    )  # fmt: skip


def _two_processes(bench: Bench, count: int, limit: int) -> list[Figure]:
    conninfo = bench.fresh_database("pair")
    _fake(bench, limit, LATENCY)
    env = bench.env(
        conninfo, API_CALLS_PER_MINUTE=limit, API_POLITE_DELAY_SEC=0, API_OUTPUT_SIZE="compact",
        API_DAILY_BUDGET="none",
    )  # fmt: skip
    started = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.e2e.child", prefix, str(count)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for prefix in ("X", "Y")
    ]
    reports = []
    for child in children:
        out, err = child.communicate(timeout=3600)
        if child.returncode != 0:
            raise RuntimeError(f"child failed: {err.decode()[-2000:]}")
        reports.append(orjson.loads(out.splitlines()[-1]))
    wall = time.perf_counter() - started
    calls = bench.fake.calls()
    inside = _span(calls, limit)
    bound = len(calls) / limit * 60
    ratio = inside / bound
    busiest = _busiest_minute(calls)
    return [
        Figure(
            "9 throughput", f"two processes on one key: 2 x {count} symbols, {limit}/min",
            f"{inside:.1f} s", f"bound {bound:.1f} s ({len(calls)} calls)", ratio, "<= 1.05x",
            ratio <= 1.05, {"wall_with_startup_s": wall, "limited": _limited(calls)},
        ),
        Figure(
            "9 throughput", "two processes: busiest 60 s window (fake's log)", str(busiest),
            f"cap {limit}", None, f"<= {limit}", busiest <= limit and _limited(calls) == 0,
        ),
    ]  # fmt: skip


def _full_history(bench: Bench, count: int, limit: int) -> list[Figure]:
    """Every symbol new, so the refresh asks `full` (API_OUTPUT_SIZE=auto) and stores the
    fake's whole history: parsing and upserting, not the calls, are the work. The wall runs
    from the first call's arrival at the fake to the end of the run (storing the last answers
    comes after the last call); the process's start-up is left out, as in the tiers."""
    conninfo = bench.fresh_database("fullhist")
    _fake(bench, limit, LATENCY)
    run = run_library(
        bench, conninfo, "H", count,
        API_CALLS_PER_MINUTE=limit, API_POLITE_DELAY_SEC=0, API_OUTPUT_SIZE="auto",
        API_DAILY_BUDGET="none",
    )  # fmt: skip
    calls = bench.fake.calls()
    full = sum(1 for call in calls if call["outputsize"] == "full")
    bound = len(calls) / limit * 60
    wall = run.report["ended_at"] - min(call["time"] for call in calls)
    ratio = wall / bound
    rows = run.report["inserted"]
    bars = bench.scale.bars
    return [
        Figure(
            "9 throughput",
            f"full history: {count} symbols x {bars:,} bars, {limit}/min, {LATENCY:g} s",
            f"{wall:.1f} s", f"bound {bound:.1f} s ({len(calls)} calls, {full} full)",
            ratio, "<= 1.25x", ratio <= 1.25,
            {"rows": rows, "rows_per_s": rows / wall if wall else 0.0,
             "span_at_fake_s": _span(calls, limit), "statuses": run.report["statuses"],
             "limited": _limited(calls), "peak_rss_kib": run.report["peak_rss_kib"],
             "inside_process_s": run.report["seconds"]},
        ),
        Figure(
            "9 throughput", "full history: rows stored", f"{rows:,}", f"{count} x {bars:,}",
            None, "every bar", rows == count * bars and full == count,
        ),
    ]  # fmt: skip


def run(bench: Bench) -> list[Figure]:
    top, middle, own, pair = SIZES[bench.scale.name]
    return [
        *_tier(bench, "top tier", top, 1200),
        *_tier(bench, "middle tier", middle, 300),
        _own_cost(bench, own),
        *_two_processes(bench, pair, 1200),
        *_full_history(bench, FULL_HISTORY[bench.scale.name], 1200),
    ]
