"""scripts/runlauncher-smoke.sh's checks (standard library only, runs on the host):

python3 docker/runlauncher_smoke.py backfill URL ASSET PER_RUN TIMEOUT SYMBOL...
    launch a backfill of ASSET over SYMBOL..., wait until it and its runs finish, check
    them (every run SUCCESS in its own container, ranges of PER_RUN consecutive symbols
    covering SYMBOL... exactly once); prints a JSON summary
python3 docker/runlauncher_smoke.py launch URL JOB FIRST LAST     -> prints the run id
python3 docker/runlauncher_smoke.py wait URL TIMEOUT RUN_ID...
    wait for the runs; exit 1 unless all SUCCESS; prints a JSON summary (start, end, window)
python3 docker/runlauncher_smoke.py calls BUDGET PER_MINUTE EXPECTED < calls.json
    the fake's call log: EXPECTED calls (one per symbol), within BUDGET, never more than
    PER_MINUTE in any 60 s, 5% allowed for late departures (see calls()); prints a JSON summary
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from smoke_graphql import FINISHED, LAUNCH, query, wait_job

BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on Error { message }
  }
}"""
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename ... on PartitionBackfill { id status } ... on PythonError { message }
  }
}"""
RUNS = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
}"""
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
CONTAINER_TAG = "docker/container_id"


def runs_where(url: str, run_filter: dict[str, Any]) -> list[dict[str, Any]]:
    result = query(url, RUNS, {"filter": run_filter})["runsOrError"]
    if result["__typename"] != "Runs":
        raise SystemExit(f"runsOrError: {result}")
    runs: list[dict[str, Any]] = result["results"]
    for run in runs:
        run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
    return runs


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
        "ranges": sorted(f"{r['tags'].get(RANGE_START)}..{r['tags'].get(RANGE_END)}" for r in runs),
        "run_seconds": sorted(round(r["endTime"] - r["startTime"], 1) for r in runs),
    }


def backfill(url: str, asset: str, per_run: int, timeout: float, symbols: list[str]) -> None:
    wait_job(url, "stock_job", timeout)
    params = {
        "partitionNames": symbols,
        "assetSelection": [{"path": [asset]}],
        "fromFailure": False,
        "tags": [],
    }
    result = query(url, BACKFILL, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise SystemExit(f"launchPartitionBackfill: {result}")
    backfill_id = result["backfillId"]
    deadline = time.monotonic() + timeout
    while True:
        state = query(url, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        runs = runs_where(url, {"tags": [{"key": "dagster/backfill", "value": backfill_id}]})
        if state.get("status") in BACKFILL_DONE and all(r["status"] in FINISHED for r in runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"backfill {backfill_id} still {state} after {timeout:.0f}s: {runs}")
        time.sleep(3)
    failed = [f"{r['runId']} {r['status']}" for r in runs if r["status"] != "SUCCESS"]
    if state["status"] not in ("COMPLETED", "COMPLETED_SUCCESS") or failed:
        ended = state["status"]
        raise SystemExit(f"backfill {backfill_id} ended {ended}; runs not SUCCESS: {failed}")
    outside = [r["runId"] for r in runs if CONTAINER_TAG not in r["tags"]]
    if outside:
        raise SystemExit(f"runs without a container of their own: {outside}")
    # The split: consecutive ranges of at most per_run symbols, each symbol in exactly one.
    covered: list[str] = []
    for run in sorted(runs, key=lambda r: symbols.index(r["tags"][RANGE_START])):
        first = symbols.index(run["tags"][RANGE_START])
        last = symbols.index(run["tags"][RANGE_END])
        if last - first + 1 > per_run:
            raise SystemExit(f"run {run['runId']} has {last - first + 1} symbols, over {per_run}")
        covered.extend(symbols[first : last + 1])
    if covered != symbols:
        raise SystemExit(f"the runs cover {len(covered)} symbols, not the {len(symbols)} asked")
    print(json.dumps({"backfill": backfill_id, **summary(runs)}))


def launch(url: str, job: str, first: str, last: str) -> None:
    location, repository = wait_job(url, job, 120)
    params = {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": repository,
            "jobName": job,
        },
        "runConfigData": {},
        "executionMetadata": {
            "tags": [{"key": RANGE_START, "value": first}, {"key": RANGE_END, "value": last}]
        },
    }
    result = query(url, LAUNCH, {"params": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise SystemExit(f"launchRun: {result}")
    print(result["run"]["runId"])


def wait(url: str, timeout: float, run_ids: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        runs = runs_where(url, {"runIds": run_ids})
        if len(runs) == len(run_ids) and all(r["status"] in FINISHED for r in runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"runs not finished after {timeout:.0f}s: {runs}")
        time.sleep(2)
    failed = [f"{r['runId']} {r['status']}" for r in runs if r["status"] != "SUCCESS"]
    if failed:
        raise SystemExit(f"runs not SUCCESS: {failed}")
    print(json.dumps(summary(runs)))


def calls(budget: int, per_minute: int, expected: int) -> None:
    log = json.load(sys.stdin)  # every call counts against the budget, whatever its reply
    times = sorted(c["time"] for c in log)
    symbols = [c["symbol"] for c in log]
    # The gate counts a call when it reserves it; the fake when it arrives. A reserved call
    # can leave late (on the loaded 2-core machine, seconds: 124 in 60 s at the fake against a
    # cap of 120 was seen once), so the fake's busiest minute is
    # allowed 5% over the cap; the ledger itself is checked exactly by the script. Any real
    # overspend (4 runs each keeping their own cap) is 4x and fails either way.
    busiest = _busiest(times, 60.0)
    allowed = per_minute + -(-per_minute * 5 // 100)
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
        url, asset, per_run, timeout, *symbols = rest
        backfill(url, asset, int(per_run), float(timeout), symbols)
    elif command == "launch":
        launch(*rest)
    elif command == "wait":
        url, timeout, *run_ids = rest
        wait(url, float(timeout), run_ids)
    elif command == "calls":
        calls(*(int(v) for v in rest))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
