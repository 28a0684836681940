"""Issue 17, "an upgraded key stays free": a key refused `outputsize=full` and later upgraded is
believed on its first successful full reply, whichever command made it."""

from __future__ import annotations

from click.testing import CliRunner

from stockpipe.cli import main
from stockpipe.quota import budget_info
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage

COMPACT_ONLY = "this key gets compact history only (outputsize=full is premium)"


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.output


def daily_calls(fake: FakeAlphaVantage) -> list[tuple[str, str | None, str]]:
    return [
        (c.symbol, c.outputsize, c.outcome)
        for c in fake.calls()
        if c.function == "TIME_SERIES_DAILY"
    ]


def test_a_full_reply_after_an_upgrade_clears_the_denial_for_status_and_new_symbols(
    fake: FakeAlphaVantage, db: Database
) -> None:
    fake.configure(free_tier=True)
    run("ingest", "--symbols", "IBM")  # no history: full asked, refused, compact instead
    assert daily_calls(fake) == [
        ("IBM", "full", "premium_parameter"),
        ("IBM", "compact", "data"),
    ]
    assert COMPACT_ONLY in run("status", "--symbols", "IBM")

    fake.configure(free_tier=False)  # the user upgrades the key
    run("backfill", "--series", "daily", "--symbols", "IBM", "--retry-unreachable")

    assert daily_calls(fake)[2:] == [("IBM", "full", "data")]
    info = budget_info(db, Settings.load())
    assert not info.full_history_denied
    assert info.full_history_granted_at is not None
    status = run("status", "--symbols", "IBM")
    assert COMPACT_ONLY not in status
    assert "this key gets full history (outputsize=full answered" in status

    # Symbols added later get their full history at once, by the refresh and by the backfill
    # (before the fix: compact, and the backfill's daily unit recorded unreachable, no call).
    run("ingest", "--symbols", "MSFT")
    run("backfill", "--series", "daily", "--symbols", "AAPL")
    assert daily_calls(fake)[3:] == [("MSFT", "full", "data"), ("AAPL", "full", "data")]


def test_a_refresh_full_reply_clears_the_denial_too(fake: FakeAlphaVantage, db: Database) -> None:
    fake.configure(free_tier=True)
    run("ingest", "--symbols", "IBM")
    fake.configure(free_tier=False)
    db.run(lambda conn: conn.execute("DELETE FROM stock_data"))
    run("ingest", "--symbols", "IBM", "--output-size", "full")
    assert daily_calls(fake)[-1] == ("IBM", "full", "data")
    assert not budget_info(db, Settings.load()).full_history_denied
