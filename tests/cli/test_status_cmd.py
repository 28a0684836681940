"""`stockpipe status`: rows, first and last bar, missing sessions, last result, calls vs budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner

from stockpipe.cli import main
from stockpipe.ingest.state import load_states
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.quota import PostgresCallGate, quota_day
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.store.sessions import record_session_memory
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import action_rows
from tests.cli.cli_env import HISTORY, SECRET_KEY

NOW = datetime.now(UTC)  # only when no rejection was stored: the comparison then fails anyway


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.output


def row_of(output: str, symbol: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(f"│ {symbol} "))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_status_shows_rows_range_missing_sessions_and_last_result(
    fake: FakeAlphaVantage, db: Database
) -> None:
    run("ingest", "--symbols", "IBM,MSFT,INVALID1")
    sessions = sessions_between(date(2020, 1, 1), latest_completed_session())
    first, last = sessions[-HISTORY], sessions[-1]
    # Punch a hole into MSFT: one session in the middle goes missing.
    hole = sessions[-50]
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM stock_data WHERE symbol = 'MSFT'"
            " AND (ts AT TIME ZONE 'America/New_York')::date = %s",
            (hole,),
        )
    )

    output = run("status", "--symbols", "IBM,MSFT,INVALID1,NEVER")

    assert row_of(output, "IBM")[:6] == ["IBM", "150", str(first), str(last), "0", "loaded"]
    assert row_of(output, "MSFT")[:6] == ["MSFT", "149", str(first), str(last), "1", "loaded"]
    assert row_of(output, "INVALID1")[:6] == ["INVALID1", "0", "-", "-", "-", "failed (rejected)"]
    rejected_on = quota_day(load_states(db, ["INVALID1"])["INVALID1"].rejected_at or NOW)
    assert (
        f"INVALID1: rejected by Alpha Vantage as an invalid symbol on {rejected_on}; no call"
        f" before {rejected_on + timedelta(days=7)}. Fix or remove it in STOCK_SYMBOLS, or run"
        " `stockpipe ingest --retry-rejected`"
    ) in output
    assert row_of(output, "NEVER")[:6] == ["NEVER", "0", "-", "-", "-", "never run"]
    assert "API calls today: 3 of 25 (22 left;" in output
    assert SECRET_KEY not in output


def test_status_lists_configured_and_stored_symbols_by_default(fake: FakeAlphaVantage) -> None:
    run("ingest", "--symbols", "AAPL")
    output = run("status")
    assert [row_of(output, s)[0] for s in ("IBM", "MSFT", "AAPL")] == ["IBM", "MSFT", "AAPL"]
    assert row_of(output, "IBM")[5] == "never run"
    assert "API calls today: 1 of 25 (24 left;" in output


def test_status_changes_lists_the_corrected_bars_with_old_and_new_values(
    fake: FakeAlphaVantage, db: Database
) -> None:
    run("ingest", "--symbols", "IBM")
    sessions = sessions_between(date(2020, 1, 1), latest_completed_session())
    # The vendor restates its last three bars (a split it had missed), and our newest bar is
    # gone, so the next ingest fetches again and finds two stored bars changed.
    missed = {"effective_date": str(sessions[-3]), "split_factor": "2.0000"}
    fake.set_actions("IBM", splits=[missed, *action_rows("IBM", sessions[-1])[0]])
    db.run(lambda conn: conn.execute("DELETE FROM stock_data WHERE ts = %s", [_ny(sessions[-1])]))
    run("ingest", "--symbols", "IBM")

    output = run("status", "--symbols", "IBM", "--changes")

    lines = [line for line in output.splitlines() if "->" in line and line.startswith("│ IBM")]
    assert [line.split("│")[2].strip() for line in lines] == [str(sessions[-2]), str(sessions[-3])]
    assert all("close" in line and "volume" in line for line in lines), output
    assert "no stored bar was ever changed" not in output
    assert "corrected bars" not in run("status", "--symbols", "IBM")


def _ny(day: date) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo("America/New_York"))


def test_status_lists_each_symbols_missing_sessions_by_what_repairs_them(
    fake: FakeAlphaVantage, db: Database
) -> None:
    run("ingest", "--symbols", "IBM,MSFT")  # full history: 150 sessions each
    sessions = sessions_between(date(2020, 1, 1), latest_completed_session())
    near, far, halted = sessions[-10], sessions[-120:-118], sessions[-20]
    delete = (
        "DELETE FROM stock_data WHERE symbol = %s"
        " AND (ts AT TIME ZONE 'America/New_York')::date = ANY(%s)"
    )
    db.run(lambda conn: conn.execute(delete, ("IBM", [near, *far])))
    db.run(lambda conn: conn.execute(delete, ("MSFT", [halted])))
    record_session_memory(db, "MSFT", vendor_missing=[halted], at=datetime.now(UTC))

    output = run("status", "--symbols", "IBM,MSFT")

    assert row_of(output, "IBM")[4] == "3"
    assert row_of(output, "MSFT")[4] == "0"  # the vendor has no bar for its one hole
    assert (
        f"IBM: 3 missing sessions: {far[0]}..{far[1]} (2) (repairable: the next daily refresh,"
        f" full); {near} (repairable: the next daily refresh, compact)"
    ) in output
    assert (
        f"MSFT: Alpha Vantage has no bar for 1 session ({halted}): remembered, not counted as"
        " missing, not fetched again"
    ) in output

    PostgresCallGate(db, Settings.load()).mark_full_history_denied()  # a free key found out
    denied = run("status", "--symbols", "IBM,MSFT")

    assert (
        f"IBM: 3 missing sessions: {far[0]}..{far[1]} (2) (premium (full) history only);"
        f" {near} (repairable: the next daily refresh, compact)"
    ) in denied


@pytest.fixture
def machine_in_los_angeles(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is Los Angeles for this test (TZ + tzset), UTC-ish again after."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_status_changes_shows_new_york_trading_dates_on_a_machine_west_of_new_york(
    fake: FakeAlphaVantage, db: Database, machine_in_los_angeles: None
) -> None:
    assert datetime(2026, 11, 30, 5, tzinfo=UTC).astimezone().day == 29  # the trap is set
    run("ingest", "--symbols", "IBM")
    sessions = sessions_between(date(2020, 1, 1), latest_completed_session())
    missed = {"effective_date": str(sessions[-3]), "split_factor": "2.0000"}
    fake.set_actions("IBM", splits=[missed, *action_rows("IBM", sessions[-1])[0]])
    db.run(lambda conn: conn.execute("DELETE FROM stock_data WHERE ts = %s", [_ny(sessions[-1])]))
    run("ingest", "--symbols", "IBM")

    output = run("status", "--symbols", "IBM", "--changes")

    lines = [line for line in output.splitlines() if "->" in line and line.startswith("│ IBM")]
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
    # Before: New York midnight in Los Angeles, the day before (a Sunday for 2026-11-30).
    assert [row[1] for row in cells] == [str(sessions[-2]), str(sessions[-3])]
    # A time of day names its zone.
    assert all(row[2].endswith((" PST", " PDT")) for row in cells), cells
    ibm = row_of(run("status", "--symbols", "IBM"), "IBM")
    assert ibm[2:4] == [str(sessions[-HISTORY]), str(sessions[-1])]
    assert ibm[6].endswith((" PST", " PDT")), ibm


def test_a_long_status_prints_plain_lines_with_the_same_cells(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockpipe.cli import status_cmd

    run("ingest", "--symbols", "IBM,INVALID1")
    boxed = run("status", "--symbols", "IBM,INVALID1,NEVER")
    monkeypatch.setattr(status_cmd, "RICH_UP_TO", 2)  # 3 rows: more than rich gets

    plain = run("status", "--symbols", "IBM,INVALID1,NEVER")

    assert "┏" in boxed and "┏" not in plain
    assert f"stock_data (latest completed session: {latest_completed_session()})" in plain
    for symbol in ("IBM", "INVALID1", "NEVER"):  # the message whole on its line, not folded
        assert row_of(plain, symbol)[:7] == row_of(boxed, symbol)[:7]
        assert row_of(plain, symbol)[7].startswith(row_of(boxed, symbol)[7])
    assert "; skipped without a call until " in row_of(plain, "INVALID1")[7]
    assert "API calls today: 2 of 25 (23 left;" in plain
