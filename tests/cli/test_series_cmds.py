"""`stockpipe ingest --series` and `stockpipe status --series`: the other tables from the
command line, with the same exit codes, and what status shows of weeks and intraday bars."""

from __future__ import annotations

from click.testing import CliRunner

from stockpipe.alphavantage import Function
from stockpipe.cli import main
from stockpipe.market_calendar import latest_completed_session, period_last_session
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import generate_series
from tests.cli.cli_env import HISTORY, SECRET_KEY


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def row_of(output: str, symbol: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(f"│ {symbol} "))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_ingest_and_status_of_the_weekly_series(fake: FakeAlphaVantage, db: Database) -> None:
    code, output = run("ingest", "--series", "weekly", "--symbols", "IBM")
    assert code == 0, output
    weeks = generate_series(
        "IBM", Function.WEEKLY, end=latest_completed_session(), history_length=HISTORY
    )
    assert "ingest weekly: success" in output
    assert output.rstrip().endswith("1 symbols: 1 loaded; 1 API calls")

    code, output = run("status", "--series", "weekly", "--symbols", "IBM")

    assert code == 0, output
    assert "stock_data_weekly (latest completed session:" in output
    dates = sorted(weeks)
    newest = latest_completed_session()
    still_open = period_last_session(newest, "week") != newest
    cells = row_of(output, "IBM")
    assert cells[:3] == ["IBM", str(len(weeks)), dates[0]]
    assert cells[3] == dates[-1] + (" (open)" if still_open else "")
    assert cells[4:6] == ["0", "loaded"]
    assert SECRET_KEY not in output
    assert [c.function for c in fake.calls()] == ["TIME_SERIES_WEEKLY"]


def test_intraday_on_a_free_key_fails_and_status_says_a_premium_key_is_needed(
    fake: FakeAlphaVantage,
) -> None:
    fake.configure(free_tier=True)
    code, output = run("ingest", "--series", "intraday", "--interval", "15min")
    assert code == 3, output
    assert "TIME_SERIES_INTRADAY needs a premium Alpha Vantage key" in output

    code, output = run("status", "--series", "intraday")

    assert code == 0, output
    assert "stock_data_intraday (5min)" in output
    assert "the intraday series is skipped without a call until" in output
    assert [(c.function, c.interval) for c in fake.calls()] == [("TIME_SERIES_INTRADAY", "15min")]


def test_an_interval_without_intraday_is_a_usage_error(fake: FakeAlphaVantage) -> None:
    code, output = run("ingest", "--series", "weekly", "--interval", "5min")
    assert code == 2
    assert "--interval applies to --series intraday only" in output
    assert fake.calls() == []
