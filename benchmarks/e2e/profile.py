"""Profile the library ingest with py-spy: where a bulk load spends its time, per thread.

    python -m benchmarks.e2e.profile [--symbols 40] [--out /tmp/ingest.txt]
    python -m benchmarks.e2e.profile --own-cost [--symbols 2000]   # 9 throughput's own-cost pass

Runs the library child (benchmarks.e2e.child) under `py-spy record --threads` against a fresh
database and the fake server, then prints the top functions by share of samples (own time and
inclusive time), for the fetch thread and the main thread.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from benchmarks.e2e.children import REPO
from benchmarks.e2e.harness import SCALES, UNLIMITED, Bench, symbols
from stockpipe import processes


def summarise(collapsed: Path, top: int) -> None:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        thread = frames[0]
        own[f"{thread} | {frames[-1]}"] += count
        for frame in set(frames[1:]):
            inclusive[f"{thread} | {frame}"] += count
    print(f"{total} samples")
    for title, counter in (("own time", own), ("inclusive", inclusive)):
        print(f"--- top {top} by {title}")
        for name, count in counter.most_common(top):
            print(f"{100 * count / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("/tmp/stockpipe-ingest-profile.txt"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--own-cost",
        action="store_true",
        help="as 9 throughput's own-cost pass: compact, shared payloads, 4 in flight",
    )
    args = parser.parse_args()
    env: dict[str, object] = dict(UNLIMITED)
    with Bench(SCALES["quick"]) as bench:
        conninfo = bench.fresh_database("profile")
        if args.own_cost:
            bench.fake.reset(per_minute=None, delay=0.0, shared_payloads=True)
            env.update(API_OUTPUT_SIZE="compact", API_DAILY_BUDGET="none", API_MAX_IN_FLIGHT=4)
        else:
            bench.fake.prerender(symbols("P", args.symbols))  # as in the bulk-load benchmark
        command = [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--threads",
            *(["--idle"] if args.own_cost else []),  # waits count: who waits on whom
            "--format",
            "raw",
            "--rate",
            "200",
            "-o",
            str(args.out),
            "--",
            sys.executable,
            "-m",
            "benchmarks.e2e.child",
            "P",
            str(args.symbols),
        ]
        processes.run(
            command, env=bench.env(conninfo, **env), cwd=REPO, timeout=None
        ).check_returncode()
    summarise(args.out, args.top)


if __name__ == "__main__":
    main()
