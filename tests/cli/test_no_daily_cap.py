"""API_DAILY_BUDGET=none (a premium key): no daily cap, every call still in the ledger, and
`stockpipe status` says so instead of a count against a budget."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stockpipe.cli import main
from stockpipe.testing import FakeAlphaVantage


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_status_shows_the_calls_without_a_cap(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DAILY_BUDGET", "none")
    run("ingest", "--symbols", "IBM,MSFT")
    status = run("status", "--symbols", "IBM,MSFT")
    assert "API calls today: 2 (no daily cap; Alpha Vantage day" in status
    assert len(fake.calls()) == 2


def test_a_misspelt_no_cap_is_refused_with_the_variable_named(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DAILY_BUDGET", "unlimited")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code != 0
    assert "API_DAILY_BUDGET" in result.output
    assert fake.calls() == []
