"""`stockpipe launch`: a run of a series' job for every symbol, on the running instance.

What the UI's Materialize all does, from a terminal or a script: through the webserver's
GraphQL API (stockpipe.cli.webserver_api) the run is queued, the daemon starts it, the code
server executes it, exactly like a scheduled run. Works against `stockpipe up` / `make up` and
docker compose alike. Prints the run's URL on stdout (nothing else: scripts read it); with
--wait, follows the run to its end and exits by its result.
"""

from __future__ import annotations

import sys
import time
from typing import NoReturn

import click

from stockpipe.cli import load_settings_or_exit
from stockpipe.cli.options import series_option
from stockpipe.cli.webserver_api import FINISHED, LaunchError, Webserver, all_partitions_tags
from stockpipe.series import job_name, series_named

_POLL_SEC = 2.0
_EPILOG = """\b
Exit codes:
  0  launched (with --wait: the run succeeded)
  1  with --wait: the run failed or was canceled
  2  bad usage or configuration: an unknown job, a bad variable
  3  the webserver is unreachable or refused the launch; with --wait, the run did not end
     within --timeout
"""


@click.command(name="launch", epilog=_EPILOG)
@series_option
@click.option(
    "--job",
    default=None,
    help="Launch this job instead of a series' (corporate_actions_job, backfill_job, ...).",
)
@click.option(
    "--url",
    default=None,
    help="The Dagster UI's address [default: STOCKPIPE_UI_URL, http://127.0.0.1:3000].",
)
@click.option("--wait", is_flag=True, help="Follow the run to its end; exit 1 unless it succeeds.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=3600.0,
    show_default=True,
    help="With --wait: the longest to wait for the run, in seconds.",
)
@click.pass_context
def command(
    ctx: click.Context,
    *,
    series: str,
    job: str | None,
    url: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Launch a run of a series' job for every symbol on the running instance (`stockpipe up`,
    docker compose) and print its URL."""
    series_given = ctx.get_parameter_source("series") is not click.core.ParameterSource.DEFAULT
    if job is not None and series_given:
        raise click.UsageError("give --series or --job, not both")
    name = job or job_name(series_named(series))
    webserver = Webserver(url or load_settings_or_exit().ui_url)
    try:
        handle = webserver.job(name)
        keys = webserver.partition_keys(handle)
        run_id = webserver.launch(handle, all_partitions_tags(keys))
    except LaunchError as exc:
        _fail(exc)
    click.echo(webserver.run_url(run_id))
    scope = f"{len(keys)} symbols ({keys[0]} to {keys[-1]})" if keys else "its whole scope"
    click.echo(f"launched {name} for {scope}: run {run_id}", err=True)
    if wait:
        sys.exit(_follow(webserver, run_id, timeout))


def _follow(webserver: Webserver, run_id: str, timeout: float) -> int:
    """Poll the run until it ends (its status changes on stderr); the exit code."""
    deadline = time.monotonic() + timeout
    shown = ""
    while True:
        try:
            status = webserver.run_status(run_id)
        except LaunchError as exc:
            _fail(exc)
        if status != shown:
            click.echo(f"run {run_id}: {status}", err=True)
            shown = status
        if status in FINISHED:
            return 0 if status == "SUCCESS" else 1
        if time.monotonic() >= deadline:
            click.echo(
                f"stockpipe: run {run_id} is still {status} after {timeout:g}s; it goes on:"
                f" follow it at {webserver.run_url(run_id)}",
                err=True,
            )
            return 3
        time.sleep(_POLL_SEC)


def _fail(exc: LaunchError) -> NoReturn:
    click.echo(f"stockpipe: {exc}", err=True)
    sys.exit(exc.exit_code)
