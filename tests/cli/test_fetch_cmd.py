"""`stockpipe fetch` against the fake Alpha Vantage server, through click's CliRunner."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from stockpipe.alphavantage import Function
from stockpipe.cli import main
from stockpipe.testing import FakeAlphaVantage, Fault

BAR = {
    "1. open": "165.4500",
    "2. high": "166.2700",
    "3. low": "164.3000",
    "4. close": "165.7100",
    "5. volume": "3807545",
}


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    # The command installs its own stderr handler on the root logger.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_fetch_prints_the_bars_and_the_skip_counts(fake_av_env: FakeAlphaVantage) -> None:
    bad = {**BAR, "5. volume": "-1"}
    fake_av_env.set_series("IBM", Function.DAILY, {"2024-05-03": BAR, "2024-05-02": bad})
    result = CliRunner().invoke(main, ["fetch", "ibm"])
    assert result.exit_code == 0, result.output
    # A daily bar is its trading date, under the footer's exchange zone (not `05:00 UTC`).
    assert "│ 2024-05-03 │" in result.output and "04:00" not in result.output
    assert "date" in result.output and "UTC" not in result.output
    assert "165.4500" in result.output and "3807545" in result.output
    assert "1 valid bars (showing 1)" in result.output
    assert "skipped: negative_volume=1" in result.output
    assert fake_av_env.api_key not in result.output
    assert [(c.function, c.symbol) for c in fake_av_env.calls()] == [("TIME_SERIES_DAILY", "IBM")]


def test_fetch_reads_csv_and_adjusted_functions(fake_av_env: FakeAlphaVantage) -> None:
    args = ["fetch", "MSFT", "--function", "weekly-adjusted", "--format", "csv", "--limit", "3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "adjusted close" in result.output
    assert "(showing 3)" in result.output and "skipped: none" in result.output
    (call,) = fake_av_env.calls()
    assert (call.function, call.datatype) == ("TIME_SERIES_WEEKLY_ADJUSTED", "csv")


def test_fetch_passes_intraday_options(fake_av_env: FakeAlphaVantage) -> None:
    args = ["fetch", "IBM", "--function", "intraday", "--interval", "60min", "--month", "2024-02"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (call,) = fake_av_env.calls()
    assert (call.interval, call.month) == ("60min", "2024-02")


def test_a_permanent_error_is_one_line_and_exit_code_one(fake_av_env: FakeAlphaVantage) -> None:
    fake_av_env.inject(Fault.PREMIUM_PARAMETER)
    result = CliRunner().invoke(main, ["fetch", "IBM", "--outputsize", "full"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "stockpipe fetch: PremiumParameter: outputsize=full needs a premium key for "
        "TIME_SERIES_DAILY; use compact (API_OUTPUT_SIZE=compact) or upgrade"
    )
    assert len(fake_av_env.calls()) == 1
    assert fake_av_env.api_key not in result.output


def test_an_interval_without_intraday_is_a_usage_error(fake_av_env: FakeAlphaVantage) -> None:
    result = CliRunner().invoke(main, ["fetch", "IBM", "--interval", "5min"])
    assert result.exit_code == 2
    assert "interval and month apply to intraday only" in result.output
    assert fake_av_env.calls() == []


def test_fetch_shows_weekly_bars_as_dates_and_intraday_bars_in_exchange_time(
    fake_av_env: FakeAlphaVantage,
) -> None:
    fake_av_env.set_series("IBM", Function.WEEKLY, {"2024-05-03": BAR})
    weekly = CliRunner().invoke(main, ["fetch", "IBM", "--function", "weekly"])
    assert weekly.exit_code == 0, weekly.output
    assert "│ 2024-05-03 │" in weekly.output and ":00" not in weekly.output.split("valid bars")[0]

    fake_av_env.set_series("IBM", Function.INTRADAY, {"2024-05-03 09:35:00": BAR})
    intraday = CliRunner().invoke(main, ["fetch", "IBM", "--function", "intraday"])
    assert intraday.exit_code == 0, intraday.output
    assert "│ 2024-05-03 09:35 EDT │" in intraday.output
