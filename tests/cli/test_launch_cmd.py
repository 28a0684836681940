"""`stockpipe launch` when it cannot launch: one line saying what to check, and its exit code.
Launching for real, against the running topology, is tests/e2e/test_launch_cmd.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stockpipe.cli import main
from stockpipe.store.embedded import free_port
from stockpipe.testing import FakeAlphaVantage

ADVICE = (
    "start it with `stockpipe up` or `docker compose up`, or give its address with --url"
    " (default: STOCKPIPE_UI_URL)"
)


def test_an_unreachable_webserver_is_one_line_and_exit_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    result = CliRunner().invoke(main, ["launch", "--url", url])

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"stockpipe: the Dagster webserver at {url} is unreachable (Failed to establish a new"
        f" connection: [Errno 111] Connection refused); {ADVICE}\n"
    )


def test_without_url_the_address_is_stockpipe_ui_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("STOCKPIPE_UI_URL", url)

    result = CliRunner().invoke(main, ["launch", "--series", "weekly"])

    assert result.exit_code == 3
    assert result.stderr.startswith(f"stockpipe: the Dagster webserver at {url} is unreachable")


def test_a_server_that_is_not_dagster_says_so_and_exit_3(fake_av: FakeAlphaVantage) -> None:
    url = fake_av.url.removesuffix("/query")  # real HTTP, but no GraphQL endpoint

    result = CliRunner().invoke(main, ["launch", "--url", url + "/"])

    assert result.exit_code == 3
    assert result.stderr == (
        f"stockpipe: {url}/graphql answered HTTP 404 without a GraphQL reply: is --url the"
        " Dagster UI's address?\n"
    )


def test_a_series_and_a_job_at_once_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        main, ["launch", "--series", "weekly", "--job", "backfill_job", "--url", "http://x"]
    )

    assert result.exit_code == 2
    assert "Error: give --series or --job, not both" in result.stderr


def test_an_unknown_series_is_a_usage_error_naming_the_choices() -> None:
    result = CliRunner().invoke(main, ["launch", "--series", "hourly", "--url", "http://x"])

    assert result.exit_code == 2
    assert "'hourly' is not one of 'daily', 'weekly', 'monthly', 'intraday'" in result.stderr
