"""The few calls of the webserver's GraphQL API the tests make, as plain HTTP POSTs: what an
operator's script or the compose smoke test does, no Dagster client library involved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}
"""

RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status tags { key value } }
    ... on PythonError { message }
  }
}
"""

JOBS = """
{
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
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

JOB_RUNS = """
query JobRuns($job: String!) {
  runsOrError(filter: {pipelineName: $job}) {
    __typename
    ... on Runs { results { runId status tags { key value } } }
    ... on PythonError { message }
  }
}
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

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass(frozen=True)
class Repository:
    location: str
    name: str


class DagsterGraphQL:
    def __init__(self, base_url: str) -> None:
        self.url = base_url.rstrip("/") + "/graphql"

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            self.url, json={"query": text, "variables": variables or {}}, timeout=30
        )
        if response.status_code != 200 and "json" not in response.headers.get("content-type", ""):
            response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    def jobs(self) -> dict[str, Repository]:
        """Job name -> the repository that holds it ({} while no location has loaded)."""
        result = self.query(JOBS)["repositoriesOrError"]
        if result["__typename"] != "RepositoryConnection":
            return {}
        return {
            job["name"]: Repository(node["location"]["name"], node["name"])
            for node in result["nodes"]
            for job in node["jobs"]
        }

    def launch_run(self, job: str, repository: Repository, tags: dict[str, str]) -> str:
        params = {
            "selector": {
                "repositoryLocationName": repository.location,
                "repositoryName": repository.name,
                "jobName": job,
            },
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        result = self.query(LAUNCH_RUN, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise AssertionError(f"launchRun answered {result}")
        return str(result["run"]["runId"])

    def run_status(self, run_id: str) -> str:
        result = self.query(RUN_STATUS, {"runId": run_id})["runOrError"]
        if result["__typename"] != "Run":
            raise AssertionError(f"runOrError answered {result}")
        return str(result["status"])

    def runs(self, job: str) -> list[dict[str, Any]]:
        """Every run of `job`, newest first: runId, status and tags (as a dict)."""
        result = self.query(JOB_RUNS, {"job": job})["runsOrError"]
        if result["__typename"] != "Runs":
            raise AssertionError(f"runsOrError answered {result}")
        return [
            {**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}}
            for run in result["results"]
        ]

    def schedules(self, repository: Repository) -> dict[str, dict[str, Any]]:
        selector = {
            "repositoryLocationName": repository.location,
            "repositoryName": repository.name,
        }
        result = self.query(SCHEDULES, {"selector": selector})["schedulesOrError"]
        if result["__typename"] != "Schedules":
            raise AssertionError(f"schedulesOrError answered {result}")
        return {schedule["name"]: schedule for schedule in result["results"]}

    def unhealthy_daemons(self) -> list[str]:
        statuses = self.query(DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
        return [s["daemonType"] for s in statuses if s["required"] and not s["healthy"]]

    def sensor_ticks(self, repository: Repository, sensor: str) -> list[str]:
        """Statuses of the sensor's latest ticks, newest first ([] before its first tick)."""
        selector = {
            "repositoryLocationName": repository.location,
            "repositoryName": repository.name,
            "sensorName": sensor,
        }
        result = self.query(SENSOR_TICKS, {"selector": selector})["sensorOrError"]
        if result["__typename"] != "Sensor":
            raise AssertionError(f"sensorOrError answered {result}")
        return [tick["status"] for tick in result["sensorState"]["ticks"]]
