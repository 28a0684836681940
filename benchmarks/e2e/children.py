"""Run the library ingest or a Dagster `stock_job` as a child process and time it."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.e2e.harness import Bench
from stockpipe import processes
from stockpipe.defs.shards import shard_keys, uses_shards

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ChildRun:
    wall: float  # spawn to exit, interpreter start and imports included
    report: dict[str, Any]


def run_library(bench: Bench, conninfo: str, prefix: str, count: int, **env: object) -> ChildRun:
    started = time.perf_counter()
    done = processes.run(
        [sys.executable, "-m", "benchmarks.e2e.child", prefix, str(count)],
        env=bench.env(conninfo, **env),
        cwd=REPO,
        capture_output=True,
        timeout=3600,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"library child failed: {done.stderr.decode()[-2000:]}")
    return ChildRun(wall, orjson.loads(done.stdout.splitlines()[-1]))


def run_dagster_job(
    bench: Bench, conninfo: str, prefix: str, count: int, **env: object
) -> ChildRun:
    """`dagster job execute` of stock_job over every symbol (a single-run partition range), on
    an instance whose run and event storage is the same PostgreSQL database, as deployed."""
    home = bench.workdir / f"dagster-{prefix}"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    names = [f"{prefix}{index:04d}" for index in range(count)]
    # As the schedule asks: the first to the last partition (shards past PER_SYMBOL_MAX).
    keys = shard_keys() if uses_shards(names, listing=False) else names
    tags = {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
    variables = {"STOCK_SYMBOLS": ",".join(names), "DAGSTER_HOME": str(home), **env}
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "job",
        "execute",
        "-m",
        "stockpipe.definitions",
        "-j",
        "stock_job",
        "--tags",
        orjson.dumps(tags).decode(),
    ]
    started = time.perf_counter()
    done = processes.run(
        command,
        env={**bench.env(conninfo, **variables), "PATH": str(Path(sys.executable).parent)},
        cwd=home,
        capture_output=True,
        timeout=3600,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dagster job execute failed: {done.stderr.decode()[-3000:]}")
    return ChildRun(wall, {})
