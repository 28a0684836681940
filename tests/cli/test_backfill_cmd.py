"""`stockpipe backfill`: the plan without a call, a budget-bound run that pauses (exit 1) and
resumes to complete (exit 0), a line per unit when stderr is not a terminal, bad options."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from stockpipe.cli import main
from stockpipe.ingest.backfill.units import months_since
from stockpipe.market_calendar import new_york_date
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.cli.cli_env import SECRET_KEY

SERIES = ("--series", "weekly", "--series", "monthly", "--series", "daily")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["backfill", *args])


def test_dry_run_prints_the_plan_and_spends_nothing(
    fake: FakeAlphaVantage, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DAILY_BUDGET", "4")
    monkeypatch.setenv("BACKFILL_RESERVE_CALLS", "2")
    result = run("--dry-run", *SERIES)
    assert result.exit_code == 0, result.output
    assert "to fetch: IBM weekly full" in result.output
    assert "to fetch: MSFT daily full" in result.output
    # 6 units at 2 calls a day (4 - 2 reserved): 3 days.
    assert result.output.strip().splitlines()[-1] == (
        "plan: 6 calls for 6 units; 0/6 units done, 6 left (6 calls), 0 unreachable;"
        " 0 calls spent, 2 left today; 3 days at 2 calls/day"
    )
    assert fake.calls() == []


def test_a_paused_backfill_exits_1_and_the_next_run_completes_it(
    fake: FakeAlphaVantage, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DAILY_BUDGET", "3")
    monkeypatch.setenv("BACKFILL_RESERVE_CALLS", "0")
    first = run(*SERIES)
    assert first.exit_code == 1, first.output
    assert "backfill paused: 3/6 units done, 3 left (3 calls)" in first.output
    assert "stopped: today's backfill budget is spent" in first.output
    # Not a terminal: one line per unit on stderr, with the calls left and the days needed.
    assert (
        "backfill IBM weekly full: done | 1/6 units done, 5 left (5 calls), 0 unreachable;"
        " 1 call spent, 2 left today; 2 days at 3 calls/day"
    ) in first.stderr
    assert len(fake.calls()) == 3

    monkeypatch.setenv("API_DAILY_BUDGET", "6")  # as if the next day had come
    second = run(*SERIES)
    assert second.exit_code == 0, second.output
    assert "backfill complete: 6/6 units done, 0 left (0 calls)" in second.output
    assert len(fake.calls()) == 6
    assert len({(c.function, c.symbol) for c in fake.calls()}) == 6
    third = run(*SERIES)
    assert third.exit_code == 0 and len(fake.calls()) == 6
    assert SECRET_KEY not in first.output + second.output + third.output


def test_symbols_and_since_narrow_the_plan(fake: FakeAlphaVantage, db: Database) -> None:
    # The command runs on the real clock: the two complete months before the current one.
    today = new_york_date(datetime.now(UTC))
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1) - timedelta(days=1)
    since = f"{first:%Y-%m}"
    result = run("--dry-run", "--symbols", "aapl", "--series", "intraday", "--since", since)
    assert result.exit_code == 0, result.output
    fetched = [line for line in result.output.splitlines() if line.startswith("to fetch:")]
    assert fetched == [
        f"to fetch: AAPL intraday 5min {month}" for month in reversed(months_since(since, today))
    ]
    assert len(fetched) == 2
    assert "IBM" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2026-13"), "is not a month"),
        (("--since", "1999-12"), "before 2000-01"),
        (("--symbols", "BAD TICKER"), "not a ticker"),
    ],
)
def test_bad_options_exit_2(
    fake: FakeAlphaVantage, db: Database, args: tuple[str, ...], message: str
) -> None:
    result = run("--dry-run", *args)
    assert result.exit_code == 2
    assert message in result.output
