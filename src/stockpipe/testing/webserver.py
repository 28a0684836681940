"""The Dagster webserver's GraphQL API as the checks read it: stockpipe's own client
(stockpipe.cli.webserver_api, what `stockpipe launch` uses) plus what only a test or a smoke
script asks: runs with their tags and times, a backfill, schedules, daemon health, sensor ticks.

One client for the end-to-end tests (tests/e2e) and the smoke scripts (scripts/*-smoke.sh run
it with the project's venv), so a query is written once. From a shell:

    python -m stockpipe.testing.webserver wait-job URL JOB TIMEOUT  -> waits until it is served
    python -m stockpipe.testing.webserver status URL RUN_ID         -> prints the run's status
    python -m stockpipe.testing.webserver unfinished URL JOB        -> runs of JOB not finished

A failure is one line on stderr and exit 1.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

from stockpipe.cli.webserver_api import FINISHED, JobHandle, LaunchError, Webserver

RUNS = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId jobName status startTime endTime tags { key value } } }
    ... on PythonError { message }
  }
}
"""
LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on Error { message }
  }
}
"""
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}
"""
SCHEDULES = """
query Schedules($selector: RepositorySelector!) {
  schedulesOrError(repositorySelector: $selector) {
    __typename
    ... on Schedules { results { name cronSchedule scheduleState { status } } }
    ... on PythonError { message }
  }
}
"""
DAEMONS = """
{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }
"""
SENSOR_TICKS = """
query SensorTicks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 5) { status } } }
    ... on PythonError { message }
  }
}
"""


def _repository(job: JobHandle) -> dict[str, str]:
    return {"repositoryLocationName": job.location, "repositoryName": job.repository}


class WebserverProbe(Webserver):
    def runs(self, run_filter: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Runs matching a GraphQL RunsFilter (`{"pipelineName": ...}`, `{"runIds": [...]}`,
        `{"tags": [...]}`), newest first: runId, jobName, status, startTime, endTime, tags (a
        dict)."""
        result = self.query(RUNS, {"filter": dict(run_filter)})["runsOrError"]
        if result["__typename"] != "Runs":
            raise LaunchError(f"cannot list runs: {result.get('message')}")
        return [
            {**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}}
            for run in result["results"]
        ]

    def unfinished(self, job: str) -> list[str]:
        """`run_id status` of every run of `job` not finished (queued, started, stuck)."""
        runs = self.runs({"pipelineName": job})
        return [f"{r['runId']} {r['status']}" for r in runs if r["status"] not in FINISHED]

    def wait_for_job(self, name: str, timeout: float) -> JobHandle:
        """The job once the webserver serves it (it answers before its code location loads)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                jobs = self.jobs()
            except LaunchError as exc:  # not listening yet, or the location failed
                jobs, why = {}, str(exc)
            else:
                why = f"it serves {sorted(jobs) or 'no job yet'}"
            if name in jobs:
                return jobs[name]
            if time.monotonic() > deadline:
                raise LaunchError(f"{name} not served by {self.url} within {timeout:g}s: {why}")
            time.sleep(1)

    def launch_backfill(self, asset: str, partitions: list[str]) -> str:
        """A backfill of `asset` over `partitions` (the daemon splits it into runs); its id."""
        params = {
            "partitionNames": partitions,
            "assetSelection": [{"path": [asset]}],
            "fromFailure": False,
            "tags": [],
        }
        result = self.query(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            detail = result.get("message") or result["__typename"]
            raise LaunchError(f"the webserver did not launch the backfill: {detail}")
        return str(result["backfillId"])

    def backfill_status(self, backfill_id: str) -> str:
        result = self.query(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if result["__typename"] != "PartitionBackfill":
            raise LaunchError(f"cannot read backfill {backfill_id}: {result.get('message')}")
        return str(result["status"])

    def schedules(self, job: JobHandle) -> dict[str, dict[str, Any]]:
        """The schedules of the repository that holds `job`, by name."""
        result = self.query(SCHEDULES, {"selector": _repository(job)})["schedulesOrError"]
        if result["__typename"] != "Schedules":
            raise LaunchError(f"cannot list schedules: {result.get('message')}")
        return {schedule["name"]: schedule for schedule in result["results"]}

    def unhealthy_daemons(self) -> list[str]:
        statuses = self.query(DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
        return [s["daemonType"] for s in statuses if s["required"] and not s["healthy"]]

    def sensor_ticks(self, job: JobHandle, sensor: str) -> list[str]:
        """Statuses of the latest ticks of `sensor` (in the repository that holds `job`),
        newest first ([] before its first tick)."""
        selector = {**_repository(job), "sensorName": sensor}
        result = self.query(SENSOR_TICKS, {"selector": selector})["sensorOrError"]
        if result["__typename"] != "Sensor":
            raise LaunchError(f"cannot read sensor {sensor}: {result.get('message')}")
        return [tick["status"] for tick in result["sensorState"]["ticks"]]


def main(argv: list[str]) -> None:
    usage = (__doc__ or "").split("From a shell:")[-1]
    match argv:
        case ["wait-job", url, job, timeout]:
            handle = WebserverProbe(url).wait_for_job(job, float(timeout))
            print(f"{handle.location}/{handle.repository}")
        case ["status", url, run_id]:
            print(WebserverProbe(url).run_status(run_id))
        case ["unfinished", url, job]:
            print("\n".join(WebserverProbe(url).unfinished(job)))
        case _:
            raise SystemExit(f"usage:{usage}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (LaunchError, ValueError) as exc:  # ValueError: a TIMEOUT that is no number
        raise SystemExit(f"{sys.argv[1]}: {exc}") from None
