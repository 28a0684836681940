"""`stockpipe actions`: splits and dividends fetched when due, every change listed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from stockpipe.cli import main
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.cli.cli_env import SECRET_KEY

SPLIT = {"effective_date": "2020-08-31", "split_factor": "4.0000"}
DIVIDEND = {
    "ex_dividend_date": "2024-05-09",
    "declaration_date": "2024-04-30",
    "record_date": "2024-05-10",
    "payment_date": "None",
    "amount": "1.67",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["actions", *args])


def test_new_actions_are_listed_then_nothing_is_due(fake: FakeAlphaVantage, db: Database) -> None:
    fake.set_actions("IBM", splits=[SPLIT], dividends=[DIVIDEND])
    first = run("--symbols", "IBM")
    assert first.exit_code == 0, first.output
    assert "IBM split 2020-08-31: new 4.0000" in first.output
    assert "IBM dividend 2024-05-09: new 1.67" in first.output
    assert first.output.strip().endswith(
        "corporate actions: 2 loaded, 0 not due, 0 deferred, 0 failed;"
        " 2 new, 0 changed, 0 removed; 2 API calls"
    )
    again = run("--symbols", "IBM")
    assert (
        again.exit_code == 0 and "2 not due" in again.output and "next fetch after" in again.output
    )
    assert SECRET_KEY not in first.output + again.output


def test_force_fetches_now_and_a_restated_amount_is_reported(
    fake: FakeAlphaVantage, db: Database
) -> None:
    fake.set_actions("IBM", splits=[], dividends=[DIVIDEND])
    run("--symbols", "IBM")
    fake.set_actions("IBM", dividends=[{**DIVIDEND, "amount": "1.68"}])
    result = run("--symbols", "IBM", "--force")
    assert result.exit_code == 0, result.output
    assert "IBM dividend 2024-05-09: changed amount 1.67 -> 1.68" in result.output


def test_a_rejected_symbol_makes_the_run_partial(fake: FakeAlphaVantage, db: Database) -> None:
    result = run("--symbols", "IBM,INVALID1")
    assert result.exit_code == 1, result.output
    assert "failed: INVALID1 SPLITS (InvalidCall: Alpha Vantage rejected" in result.output


def test_a_bad_setting_exits_2_naming_it(
    fake: FakeAlphaVantage, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORPORATE_ACTIONS_REFRESH_DAYS", "-3")
    result = run()
    assert result.exit_code == 2 and "CORPORATE_ACTIONS_REFRESH_DAYS" in result.output


def test_the_summary_names_the_adjusted_prices_recomputed_and_the_series_to_refetch(
    fake: FakeAlphaVantage, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCK_ADJUSTED", "true")
    fake.set_actions("IBM", splits=[], dividends=[])
    assert CliRunner().invoke(main, ["ingest", "--symbols", "IBM"]).exit_code == 0
    run("--symbols", "IBM")
    day = db.run(lambda conn: conn.execute("SELECT max(ts)::date FROM stock_data").fetchone())[0]  # type: ignore[index]
    fake.set_actions("IBM", splits=[{"effective_date": day.isoformat(), "split_factor": "2.0000"}])

    result = run("--symbols", "IBM", "--force")

    assert result.exit_code == 0, result.output
    assert f"IBM split {day}: new 2.0000" in result.output
    assert result.output.strip().endswith(
        "corporate actions: 2 loaded, 0 not due, 0 deferred, 0 failed;"
        " 1 new, 0 changed, 0 removed; 2 API calls."
        " adjusted prices recomputed for: IBM."
        " adjusted series refetched on their next refresh: IBM daily"
    )
