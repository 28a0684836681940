"""`stockpipe ingest`: summary table, exit codes that tell success, partial and failure."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stockpipe.cli import main
from stockpipe.testing import FakeAlphaVantage
from tests.cli.cli_env import SECRET_KEY


def ingest(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["ingest", *args])
    return result.exit_code, result.output


def test_a_successful_run_prints_the_table_and_exits_0(fake: FakeAlphaVantage) -> None:
    code, output = ingest()
    assert code == 0, output
    assert "ingest: success" in output
    for symbol in ("IBM", "MSFT"):
        row = next(line for line in output.splitlines() if f" {symbol} " in line)
        cells = [cell.strip() for cell in row.split("│")[2:8]]
        assert cells == ["loaded", "1", "150", "0", "0", "0"]
    assert output.rstrip().endswith("2 symbols: 2 loaded; 2 API calls")
    assert SECRET_KEY not in output


def test_a_rerun_when_up_to_date_exits_0_without_calls(fake: FakeAlphaVantage) -> None:
    ingest()
    code, output = ingest()
    assert code == 0
    assert output.rstrip().endswith("2 symbols: 2 up to date; 0 API calls")
    assert len(fake.calls()) == 2


def test_a_failed_symbol_makes_the_run_partial_with_exit_1(fake: FakeAlphaVantage) -> None:
    code, output = ingest("--symbols", "IBM,INVALID1")
    assert code == 1
    assert "ingest: partial" in output
    assert "failed: INVALID1 (InvalidCall: " in output


def test_a_rejected_symbol_is_skipped_next_time_unless_retry_rejected_is_given(
    fake: FakeAlphaVantage,
) -> None:
    ingest("--symbols", "IBM,INVALID1")
    code, output = ingest("--symbols", "IBM,INVALID1")
    assert code == 1
    assert "0 API calls. failed: INVALID1 (Alpha Vantage rejected INVALID1 as an invalid" in output
    assert "Fix or remove it in STOCK_SYMBOLS, or run `stockpipe ingest --retry-rejected`" in output
    assert [c.symbol for c in fake.calls()] == ["IBM", "INVALID1"]

    code, output = ingest("--symbols", "IBM,INVALID1", "--retry-rejected")
    assert code == 1
    assert "1 API calls. failed: INVALID1 (InvalidCall: " in output
    assert [c.symbol for c in fake.calls()][2:] == ["INVALID1"]


def test_deferred_symbols_make_the_run_partial_with_exit_1(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DAILY_BUDGET", "1")
    code, output = ingest()
    assert code == 1
    assert output.rstrip().endswith("deferred: MSFT")


def test_a_run_that_loads_nothing_exits_3(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DAILY_BUDGET", "0")
    code, output = ingest()
    assert code == 3
    assert "ingest: failed" in output
    assert fake.calls() == []


def test_a_bad_symbol_list_is_a_configuration_error_with_exit_2(fake: FakeAlphaVantage) -> None:
    code, output = ingest("--symbols", "IBM,MS FT")
    assert code == 2
    assert "STOCK_SYMBOLS" in output


def test_the_output_size_option_overrides_the_policy(fake: FakeAlphaVantage) -> None:
    code, _ = ingest("--symbols", "IBM", "--output-size", "compact")
    assert code == 0
    assert [c.outputsize for c in fake.calls()] == ["compact"]


def test_the_help_documents_every_exit_code() -> None:
    output = CliRunner().invoke(main, ["ingest", "--help"]).output
    for line in ("0  success", "1  partial", "2  bad configuration", "3  failed"):
        assert line in output
