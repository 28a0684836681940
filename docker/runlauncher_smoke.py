"""scripts/runlauncher-smoke.sh's checks, run with the project's venv (.venv/bin/python): the
webserver's GraphQL API through stockpipe.testing.webserver, the client the tests use.

python docker/runlauncher_smoke.py backfill URL ASSET PER_RUN TIMEOUT PARTITION...
    launch a backfill of ASSET over PARTITION... (symbols or shards), wait until it and its
    runs finish, check them (every run SUCCESS in its own container, ranges of PER_RUN
    consecutive partitions covering PARTITION... exactly once); prints a JSON summary
python docker/runlauncher_smoke.py launch URL JOB FIRST LAST     -> prints the run id
python docker/runlauncher_smoke.py wait URL TIMEOUT RUN_ID...
    wait for the runs; exit 1 unless all SUCCESS; prints a JSON summary (start, end, window)
python docker/runlauncher_smoke.py containers URL SIGHTINGS
    every run's container (its docker/container_id tag) was seen running (SIGHTINGS: the
    script's `docker inspect` lines, "ID<tab>HEALTHCHECK<tab>HEALTH" while it ran) without a
    healthcheck, and none of them exists any more (`docker ps -a`); prints a JSON summary
python docker/runlauncher_smoke.py calls BUDGET PER_MINUTE EXPECTED < calls.json
    the fake's call log: EXPECTED calls (one per symbol), within BUDGET, never more than
    PER_MINUTE in any 60 s at the fake (see calls()); prints a JSON summary
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from stockpipe.cli.webserver_api import FINISHED, RANGE_END_TAG, RANGE_START_TAG, LaunchError
from stockpipe.testing.webserver import WebserverProbe

BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
CONTAINER_TAG = "docker/container_id"  # set by DockerRunLauncher on every run it starts
NO_HEALTHCHECK = {"Test": ["NONE"]}


def max_overlap(runs: list[dict[str, Any]]) -> int:
    """The most runs executing at one instant (from their start and end times)."""
    edges = sorted(
        [(r["startTime"], 1) for r in runs] + [(r["endTime"], -1) for r in runs],
        key=lambda e: (e[0], e[1]),  # an end before a start at the same instant
    )
    current = best = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    start = min(r["startTime"] for r in runs)
    end = max(r["endTime"] for r in runs)
    return {
        "runs": len(runs),
        "window_sec": round(end - start, 2),
        "max_at_once": max_overlap(runs),
        "ranges": sorted(
            f"{r['tags'].get(RANGE_START_TAG)}..{r['tags'].get(RANGE_END_TAG)}" for r in runs
        ),
        "run_seconds": sorted(round(r["endTime"] - r["startTime"], 1) for r in runs),
    }


def backfill(url: str, asset: str, per_run: int, timeout: float, partitions: list[str]) -> None:
    webserver = WebserverProbe(url)
    webserver.wait_for_job("stock_job", timeout)
    backfill_id = webserver.launch_backfill(asset, partitions)
    deadline = time.monotonic() + timeout
    while True:
        status = webserver.backfill_status(backfill_id)
        runs = webserver.runs({"tags": [{"key": "dagster/backfill", "value": backfill_id}]})
        if status in BACKFILL_DONE and all(r["status"] in FINISHED for r in runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"backfill {backfill_id} still {status} after {timeout:.0f}s: {runs}")
        time.sleep(3)
    failed = [f"{r['runId']} {r['status']}" for r in runs if r["status"] != "SUCCESS"]
    if status not in ("COMPLETED", "COMPLETED_SUCCESS") or failed:
        raise SystemExit(f"backfill {backfill_id} ended {status}; runs not SUCCESS: {failed}")
    outside = [r["runId"] for r in runs if CONTAINER_TAG not in r["tags"]]
    if outside:
        raise SystemExit(f"runs without a container of their own: {outside}")
    # The split: consecutive ranges of at most per_run partitions, each in exactly one.
    covered: list[str] = []
    for run in sorted(runs, key=lambda r: partitions.index(r["tags"][RANGE_START_TAG])):
        first = partitions.index(run["tags"][RANGE_START_TAG])
        last = partitions.index(run["tags"][RANGE_END_TAG])
        if last - first + 1 > per_run:
            raise SystemExit(f"run {run['runId']} has {last - first + 1} partitions, > {per_run}")
        covered.extend(partitions[first : last + 1])
    if covered != partitions:
        raise SystemExit(f"the runs cover {len(covered)} partitions, not the {len(partitions)}")
    print(json.dumps({"backfill": backfill_id, **summary(runs)}))


def launch(url: str, job: str, first: str, last: str) -> None:
    webserver = WebserverProbe(url)
    handle = webserver.wait_for_job(job, 120)
    print(webserver.launch(handle, {RANGE_START_TAG: first, RANGE_END_TAG: last}))


def wait(url: str, timeout: float, run_ids: list[str]) -> None:
    webserver = WebserverProbe(url)
    deadline = time.monotonic() + timeout
    while True:
        runs = webserver.runs({"runIds": run_ids})
        if len(runs) == len(run_ids) and all(r["status"] in FINISHED for r in runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"runs not finished after {timeout:.0f}s: {runs}")
        time.sleep(2)
    failed = [f"{r['runId']} {r['status']}" for r in runs if r["status"] != "SUCCESS"]
    if failed:
        raise SystemExit(f"runs not SUCCESS: {failed}")
    print(json.dumps(summary(runs)))


def containers(url: str, sightings_file: str) -> None:
    """Every run of the instance ran in a container seen without a healthcheck (the image's
    one, for the webserver, made run containers "unhealthy") that is gone now."""
    runs = WebserverProbe(url).runs({})
    ids = {r["runId"]: r["tags"].get(CONTAINER_TAG) for r in runs}
    if not runs or None in ids.values():
        raise SystemExit(f"runs without a container: {[r for r, c in ids.items() if c is None]}")
    seen: dict[str, set[tuple[str, str]]] = {}
    unreadable = 0  # a line cut short when the watcher was stopped
    for line in Path(sightings_file).read_text().splitlines():
        fields = line.split("\t")
        if len(fields) != 4:
            unreadable += 1
            continue
        container, healthcheck, health, _command_and_labels = fields
        # The engine fills in the image's intervals; the test decides: ["NONE"] is none at all.
        test = json.dumps((json.loads(healthcheck) or {}).get("Test"))
        seen.setdefault(container, set()).add((test, health))
    unseen = [run for run, container in ids.items() if container not in seen]
    if unseen:
        raise SystemExit(f"the container of runs {unseen} was never seen running")
    states = {state for container in ids.values() for state in seen[container]}
    healthy = {(json.dumps(NO_HEALTHCHECK["Test"]), "none")}
    if states != healthy:
        raise SystemExit(f"run containers had a healthcheck or a health state: {states}")
    existing = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--no-trunc"],  # noqa: S607 (the engine's CLI)
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    left = sorted(set(existing) & set(ids.values()))
    if left:
        raise SystemExit(f"run containers not removed after their run: {left}")
    result = {
        "runs": len(runs),
        "containers": len(set(ids.values())),
        "distinct_states": len(states),
        "unreadable_lines": unreadable,
        "healthcheck": NO_HEALTHCHECK,
        "left": 0,
    }
    print(json.dumps(result))


def calls(budget: int, per_minute: int, expected: int) -> None:
    log = json.load(sys.stdin)  # every call counts against the budget, whatever its reply
    times = sorted(c["time"] for c in log)
    symbols = [c["symbol"] for c in log]
    # The fake counts a call when it arrives, the way the vendor does. The gate gives back a
    # slot its worker woke too late for and claims a fresh one (docs/architecture.md, "The
    # cap as the vendor counts it"), so calls that left late cannot bunch: the cap holds at
    # the fake exactly, not only in the gate's ledger.
    busiest = _busiest(times, 60.0)
    allowed = per_minute
    result = {
        "calls": len(log),
        "distinct_symbols": len(set(symbols)),
        "not_data": sum(1 for c in log if c["outcome"] != "data"),
        "budget": budget,
        "busiest_60s": busiest,
        "per_minute_cap": per_minute,
        "allowed_at_the_fake": allowed,
        "span_sec": round(times[-1] - times[0], 1) if times else 0,
    }
    print(json.dumps(result))
    if len(log) != expected or len(set(symbols)) != expected or result["not_data"]:
        raise SystemExit(f"expected {expected} calls, one per symbol: {result}")
    if len(log) > budget or busiest > allowed:
        raise SystemExit(f"over the budget or the per-minute cap: {result}")


def _busiest(times: list[float], window: float) -> int:
    """The most calls in any `window` seconds (times sorted)."""
    return max(
        (sum(1 for u in times[i:] if u < t + window) for i, t in enumerate(times)), default=0
    )


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "backfill":
        url, asset, per_run, timeout, *partitions = rest
        backfill(url, asset, int(per_run), float(timeout), partitions)
    elif command == "launch":
        launch(*rest)
    elif command == "wait":
        url, timeout, *run_ids = rest
        wait(url, float(timeout), run_ids)
    elif command == "containers":
        containers(*rest)
    elif command == "calls":
        calls(*(int(v) for v in rest))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except LaunchError as exc:  # the webserver unreachable or refusing: one line, exit 1
        raise SystemExit(f"{sys.argv[1]}: {exc}") from None
