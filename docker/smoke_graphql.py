"""The compose smoke test's GraphQL client (standard library only, runs on the host):

    python3 docker/smoke_graphql.py run URL JOB TIMEOUT [TAG=VALUE ...]  -> prints the run id
    python3 docker/smoke_graphql.py status URL RUN_ID                    -> prints its status
    python3 docker/smoke_graphql.py wait-job URL JOB TIMEOUT             -> waits until loaded
    python3 docker/smoke_graphql.py unfinished URL JOB                   -> runs not finished

`run` launches the job through the webserver (QUEUED -> the daemon dequeues it -> the code
server's run worker executes it) and exits non-zero unless the run ends in SUCCESS.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on Error { message }
  }
}"""
STATUS = """
query Status($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status } ... on PythonError { message } }
}"""
RUNS = """
query Runs($job: String!) {
  runsOrError(filter: {pipelineName: $job}) { __typename ... on Runs { results { runId status } } }
}"""
JOBS = """
{ repositoriesOrError { ... on RepositoryConnection {
    nodes { name location { name } jobs { name } } } } }"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def query(url: str, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"not an http(s) URL: {url}")
    body = json.dumps({"query": text, "variables": variables or {}}).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url.rstrip("/") + "/graphql", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as exc:  # a 500 says why in its body
        detail = " ".join(exc.read().decode(errors="replace").split())[:400]
        raise SystemExit(f"HTTP {exc.code} from {url}/graphql: {detail}") from None
    if answer.get("errors"):
        raise SystemExit(f"GraphQL errors: {answer['errors']}")
    data: dict[str, Any] = answer["data"]
    return data


def find_job(url: str, job: str) -> tuple[str, str] | None:
    try:
        nodes = query(url, JOBS)["repositoriesOrError"].get("nodes", [])
    except (urllib.error.URLError, OSError):
        return None
    for node in nodes:
        if any(j["name"] == job for j in node["jobs"]):
            return node["location"]["name"], node["name"]
    return None


def wait_job(url: str, job: str, timeout: float) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while (found := find_job(url, job)) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"{job} not served by {url} within {timeout:.0f}s")
        time.sleep(1)
    return found


def status(url: str, run_id: str) -> str:
    result = query(url, STATUS, {"runId": run_id})["runOrError"]
    if result["__typename"] != "Run":
        raise SystemExit(f"runOrError: {result}")
    return str(result["status"])


def unfinished(url: str, job: str) -> list[str]:
    """`run_id status` of every run of `job` that has not finished (queued, started, stuck)."""
    result = query(url, RUNS, {"job": job})["runsOrError"]
    if result["__typename"] != "Runs":
        raise SystemExit(f"runsOrError: {result}")
    return [f"{r['runId']} {r['status']}" for r in result["results"] if r["status"] not in FINISHED]


def run(url: str, job: str, timeout: float, tags: dict[str, str]) -> None:
    location, repository = wait_job(url, job, timeout)
    params = {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": repository,
            "jobName": job,
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = query(url, LAUNCH, {"params": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise SystemExit(f"launchRun: {result}")
    run_id = str(result["run"]["runId"])
    print(run_id, flush=True)
    deadline = time.monotonic() + timeout
    while (current := status(url, run_id)) not in FINISHED:
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} still {current} after {timeout:.0f}s")
        time.sleep(2)
    if current != "SUCCESS":
        raise SystemExit(f"run {run_id} ended {current}")


def main(argv: list[str]) -> None:
    command, url, *rest = argv
    if command == "run":
        job, timeout, *pairs = rest
        run(url, job, float(timeout), dict(pair.split("=", 1) for pair in pairs))
    elif command == "status":
        print(status(url, rest[0]))
    elif command == "unfinished":
        print("\n".join(unfinished(url, rest[0])))
    elif command == "wait-job":
        print("/".join(wait_job(url, rest[0], float(rest[1]))))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
