"""`stockpipe universe` (refresh and show, --dry-run without a call) and the universe as
`stockpipe ingest` and `stockpipe status` follow it, on the fake's listing of today."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner, Result

from stockpipe.cli import main
from stockpipe.market_calendar import latest_completed_session
from stockpipe.quota import quota_day
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage, Fault
from stockpipe.testing.listings import ListedCompany
from tests.cli.cli_env import SECRET_KEY

TODAY = latest_completed_session()  # the fake's day: listings and delistings happen on it


def api_day() -> date:
    """Alpha Vantage's day (US/Eastern), which a refresh is stored under (a Saturday's refresh
    lists Friday's session)."""
    return quota_day(datetime.now(UTC))


def companies() -> list[ListedCompany]:
    return [
        ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
        ListedCompany("GONE", "Gone Away Inc", "NASDAQ", "Stock", date(2016, 1, 4), TODAY),
        ListedCompany("NEWC", "Newcomer Holdings", "NASDAQ", "Stock", TODAY),
        ListedCompany("ETFX", "Index ETF Trust", "NYSE ARCA", "ETF", date(2014, 1, 2)),
    ]


@pytest.fixture
def listed(fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch) -> FakeAlphaVantage:
    fake.set_listing(companies())
    monkeypatch.setenv("STOCK_UNIVERSE", "listing")
    return fake


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def listing_calls(fake: FakeAlphaVantage) -> int:
    return sum(1 for c in fake.calls() if c.function == "LISTING_STATUS")


def test_a_dry_run_makes_no_call_and_says_what_a_refresh_would_cost(
    listed: FakeAlphaVantage, db: Database
) -> None:
    result = run("universe", "--dry-run")
    assert result.exit_code == 0, result.output
    assert listed.calls() == []
    assert "dry run: no call made; no listing stored yet." in result.output
    assert f"a refresh is due for {api_day()}: 2 API calls (state=active, state=delisted);" in (
        result.output
    )
    assert "0 tracked symbols with no bars yet would be loaded" in result.output


def test_universe_refreshes_once_a_day_and_shows_counts_listings_and_delistings(
    listed: FakeAlphaVantage, db: Database
) -> None:
    result = run("universe", "--since", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    assert listing_calls(listed) == 2
    lines = [line.replace("│", " ") for line in result.output.splitlines()]
    assert any(line.split() == ["NASDAQ", "Stock", "1", "yes"] for line in lines), result.output
    assert any(line.split() == ["NYSE", "Stock", "1", "yes"] for line in lines)
    assert any(line.split() == ["NYSE", "ARCA", "ETF", "1", "no"] for line in lines)
    assert "tracked: 2 symbols" in result.output
    assert (
        f"listed since {TODAY}: 1: NEWC Newcomer Holdings (NASDAQ, Stock, IPO {TODAY})"
        in result.output
    )
    assert (
        f"delisted since {TODAY}: 1: GONE Gone Away Inc (NASDAQ, Stock, IPO 2016-01-04,"
        f" delisted {TODAY})" in result.output
    )
    assert f"universe listing refreshed for {api_day()}: 3 active, 1 delisted listings;" in (
        result.output
    )
    again = run("universe")
    assert again.exit_code == 0 and listing_calls(listed) == 2
    assert f"universe listing not_due: the listing was refreshed on {api_day()}" in again.output
    assert SECRET_KEY not in result.output + again.output


def test_ingest_follows_the_listing_and_status_shows_the_delisted_symbol_with_its_date(
    listed: FakeAlphaVantage, db: Database
) -> None:
    # GONE's history, stored while it traded (its bars end before its delisting date).
    assert run("ingest", "--symbols", "GONE").exit_code == 0
    ingest = run("ingest")
    assert ingest.exit_code == 0, ingest.output
    called = [c.symbol for c in listed.calls() if c.function == "TIME_SERIES_DAILY"]
    assert called[0] == "GONE" and sorted(called[1:]) == ["KEEP", "NEWC"]
    assert listing_calls(listed) == 2
    status = run("status")
    assert status.exit_code == 0, status.output
    assert (
        f"GONE: delisted on {TODAY} (Gone Away Inc, NASDAQ); its history is kept and it costs"
        " no further call" in status.output
    )
    dry = run("universe", "--dry-run")
    assert f"the listing was refreshed for {api_day()}: the next run makes no listing call" in (
        dry.output
    )
    assert (
        "1 symbols with stored bars are no longer tracked and cost no call (history kept):"
        f" GONE (delisted {TODAY})" in dry.output
    )
    assert "0 tracked symbols with no bars yet would be loaded" in dry.output


def test_a_failed_refresh_keeps_the_stored_listing_and_exits_1(
    listed: FakeAlphaVantage, db: Database
) -> None:
    assert run("universe").exit_code == 0
    listed.inject(Fault.RATE_LIMIT_DAY, function="LISTING_STATUS")
    result = run("universe", "--force")
    assert result.exit_code == 1, result.output
    assert "universe listing failed: LISTING_STATUS failed: Alpha Vantage rate limit:" in (
        result.output
    )
    assert "the stored listing is kept and the refresh is tried again next run" in result.output
    assert "tracked: 2 symbols" in result.output


def test_ingest_without_any_listing_fails_with_the_reason(
    listed: FakeAlphaVantage, db: Database
) -> None:
    listed.inject(Fault.INVALID_CALL, function="LISTING_STATUS")
    result = run("ingest")
    assert result.exit_code == 3, result.output
    last = result.output.splitlines()[-1]
    assert last.startswith(
        "stockpipe ingest: STOCK_UNIVERSE=listing: no listing stored yet, and LISTING_STATUS"
        " failed: Alpha Vantage rejected LISTING_STATUS state=active as an invalid API call"
    )
    assert last.endswith("; the next run tries again")
    assert [c.function for c in listed.calls()] == ["LISTING_STATUS"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STOCK_UNIVERSE", "all", "STOCK_UNIVERSE='all': 'all' is not a universe;"
         " choose symbols or listing"),
        ("STOCK_UNIVERSE_EXCHANGES", "NYSE,NASDQ", "STOCK_UNIVERSE_EXCHANGES='NYSE,NASDQ':"
         " 'NASDQ' is not an exchange of LISTING_STATUS; choose from NYSE, NASDAQ, NYSE ARCA,"
         " NYSE MKT, BATS"),
        ("STOCK_UNIVERSE_ASSET_TYPES", ",", "STOCK_UNIVERSE_ASSET_TYPES=',': no asset"
         " type given; choose from Stock, ETF"),
    ],
    ids=["a universe that does not exist", "a misspelt exchange", "no asset type"],
)  # fmt: skip
def test_a_bad_universe_setting_exits_2_naming_it(
    fake: FakeAlphaVantage, monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
    message: str,
) -> None:  # fmt: skip
    monkeypatch.setenv(variable, value)
    result = run("universe")
    assert result.exit_code == 2
    assert result.output == f"stockpipe: invalid configuration: {message}\n"
    assert fake.calls() == []
