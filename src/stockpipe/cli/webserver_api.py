"""The Dagster webserver's GraphQL API, as far as `stockpipe launch` needs it: find a job, read
its partition keys, launch a run, read the run's status.

Plain HTTP POSTs (requests), no Dagster import: the same calls an operator's script would make,
and they work against any running instance the webserver fronts (`stockpipe up`, compose),
whatever this machine has installed. Every failure is a `LaunchError` whose message says what
to do and whose `exit_code` the command exits with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from stockpipe.alphavantage.network import describe_failure
from stockpipe.errors import StockpipeError

TIMEOUT = (5.0, 30.0)  # connect, read: a webserver on this machine or the compose network
FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# Dagster reads a run's partition range from these tags (what a single-run backfill and the
# schedules set): the first and last symbol make one run cover every symbol.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

JOBS = """
{
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
  }
}
"""
PARTITION_KEYS = """
query PartitionKeys($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { partitionKeysOrError { partitionKeys } }
    ... on PythonError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""
LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on Error { message }
  }
}
"""
RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on PythonError { message }
    ... on RunNotFoundError { message }
  }
}
"""


class LaunchError(StockpipeError):
    """A launch that could not be made or followed; `exit_code` tells which kind."""

    exit_code = 3


class UnknownJob(LaunchError):
    """The webserver serves no job of that name: a usage error."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class JobHandle:
    name: str
    location: str
    repository: str

    def selector(self) -> dict[str, str]:
        return {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            "pipelineName": self.name,
        }


class Webserver:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session = requests.Session()

    def run_url(self, run_id: str) -> str:
        return f"{self.url}/runs/{run_id}"

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        endpoint = f"{self.url}/graphql"
        try:
            response = self._session.post(
                endpoint, json={"query": text, "variables": variables or {}}, timeout=TIMEOUT
            )
        except requests.ConnectionError as exc:
            raise LaunchError(
                f"the Dagster webserver at {self.url} is unreachable ({describe_failure(exc)});"
                " start it with `stockpipe up` or `docker compose up`, or give its address with"
                " --url (default: STOCKPIPE_UI_URL)"
            ) from None
        except requests.Timeout:
            raise LaunchError(
                f"the Dagster webserver at {self.url} did not answer within {TIMEOUT[1]:g}s"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise LaunchError(
                f"{endpoint} answered HTTP {response.status_code} without a GraphQL reply:"
                " is --url the Dagster UI's address?"
            )
        if body.get("errors"):
            first = body["errors"][0]
            message = first.get("message", first) if isinstance(first, dict) else first
            raise LaunchError(f"the webserver refused the query: {message}")
        data: dict[str, Any] = body["data"]
        return data

    def jobs(self) -> dict[str, JobHandle]:
        """Every job the webserver serves, by name."""
        result = self.query(JOBS)["repositoriesOrError"]
        if result["__typename"] != "RepositoryConnection":
            raise LaunchError(f"the webserver cannot list its jobs: {result.get('message')}")
        return {
            job["name"]: JobHandle(job["name"], node["location"]["name"], node["name"])
            for node in result["nodes"]
            for job in node["jobs"]
        }

    def job(self, name: str) -> JobHandle:
        jobs = self.jobs()
        if name in jobs:
            return jobs[name]
        if not jobs:
            raise LaunchError(
                f"the webserver at {self.url} serves no job yet: its code location is still"
                " loading or failed to load (see Deployment in the UI)"
            )
        raise UnknownJob(f"unknown job {name!r}; the webserver serves: {', '.join(sorted(jobs))}")

    def partition_keys(self, job: JobHandle) -> list[str]:
        result = self.query(PARTITION_KEYS, {"selector": job.selector()})["pipelineOrError"]
        if result["__typename"] != "Pipeline":
            raise LaunchError(f"cannot read the partitions of {job.name}: {result.get('message')}")
        keys: list[str] = result["partitionKeysOrError"]["partitionKeys"]
        return keys

    def launch(self, job: JobHandle, tags: dict[str, str]) -> str:
        """Launch a run of `job` (queued for the daemon); its run id."""
        params = {
            "selector": job.selector(),
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        result = self.query(LAUNCH_RUN, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or result["__typename"]
            raise LaunchError(f"the webserver did not launch {job.name}: {detail}")
        return str(result["run"]["runId"])

    def run_status(self, run_id: str) -> str:
        result = self.query(RUN_STATUS, {"runId": run_id})["runOrError"]
        if result["__typename"] != "Run":
            raise LaunchError(f"cannot read run {run_id}: {result.get('message')}")
        return str(result["status"])


def all_partitions_tags(keys: list[str]) -> dict[str, str]:
    """Tags that make one run cover every partition (every symbol); none for a job without."""
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]} if keys else {}
