"""Settings: every variable parsed, every bad value rejected with its name."""

from __future__ import annotations

import pytest

from stockpipe.settings import Settings, SettingsError


def test_defaults_match_the_documented_contract() -> None:
    settings = Settings.load()
    assert settings.api_key.get_secret_value() == "demo"
    assert settings.stock_symbols == ("IBM",)
    assert settings.dag_schedule_cron == "0 6 * * *"
    assert settings.api_polite_delay_sec == 12
    assert settings.alphavantage_base_url == "https://www.alphavantage.co/query"
    assert settings.api_daily_budget == 25
    assert settings.uses_embedded_database
    assert settings.postgres_conninfo() is None


def test_symbols_are_split_upper_cased_and_deduplicated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCK_SYMBOLS", " ibm, msft,,IBM ,brk.b")
    assert Settings.load().stock_symbols == ("IBM", "MSFT", "BRK.B")


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("STOCK_SYMBOLS", "IBM,MS FT", "STOCK_SYMBOLS"),
        ("STOCK_SYMBOLS", " , ", "no ticker given"),
        ("DAG_SCHEDULE_CRON", "0 25 * * *", "hour field: '25' is not in 0-23"),
        ("DAG_SCHEDULE_CRON", "every day", "has 2 fields; expected 5"),
        ("CORPORATE_ACTIONS_SCHEDULE_CRON", "30 5 * *", "CORPORATE_ACTIONS_SCHEDULE_CRON"),
        ("API_POLITE_DELAY_SEC", "-1", "API_POLITE_DELAY_SEC"),
        ("API_DAILY_BUDGET", "lots", "API_DAILY_BUDGET"),
        ("API_OUTPUT_SIZE", "huge", "API_OUTPUT_SIZE"),
        ("POSTGRES_PORT", "70000", "POSTGRES_PORT"),
        ("ALPHAVANTAGE_BASE_URL", "ftp://x", "is not an http(s) URL"),
        ("API_MAX_REPLY_MB", "0", "API_MAX_REPLY_MB"),
        ("POSTGRES_CONNECT_TIMEOUT_SEC", "1", "POSTGRES_CONNECT_TIMEOUT_SEC"),
        ("POSTGRES_STATEMENT_TIMEOUT_SEC", "-5", "POSTGRES_STATEMENT_TIMEOUT_SEC"),
        ("STOCK_SYMBOLS_PER_RUN", "0", "STOCK_SYMBOLS_PER_RUN"),
    ],
    ids=str,
)
def test_a_bad_value_is_rejected_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="invalid configuration") as info:
        Settings.load()
    assert fragment in str(info.value)


def test_postgres_group_builds_a_conninfo_and_lists_the_password_as_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POSTGRES_HOST", "db.example")
    monkeypatch.setenv("POSTGRES_USER", "stock")
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("POSTGRES_DB", "stocks")
    settings = Settings.load()
    conninfo = settings.postgres_conninfo()
    assert conninfo is not None
    assert "host=db.example" in conninfo and "dbname=stocks" in conninfo
    assert "s3cret-pw" in settings.secrets
    assert "s3cret-pw" not in repr(settings)


def test_database_url_wins_over_the_postgres_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_HOST", "ignored")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw123@h:5/db")
    assert Settings.load().postgres_conninfo() == "postgresql://u:pw123@h:5/db"


@pytest.mark.parametrize(
    ("typed", "would_have_become"),
    [
        pytest.param("\u0131bm", "IBM", id="a dotless i would have loaded IBM"),
        pytest.param("stra\u00dfe", "STRASSE", id="a sharp s would have become STRASSE"),
    ],
)
def test_a_non_ascii_ticker_is_rejected_as_typed(
    monkeypatch: pytest.MonkeyPatch, typed: str, would_have_become: str
) -> None:
    assert typed.upper() == would_have_become  # what was accepted before
    monkeypatch.setenv("STOCK_SYMBOLS", f"MSFT,{typed}")
    with pytest.raises(SettingsError) as info:
        Settings.load()
    assert f"STOCK_SYMBOLS: Value error, {typed!r} is not a ticker" in str(info.value)


def test_the_series_settings_default_to_daily_five_minutes_and_extended_hours() -> None:
    settings = Settings.load()
    assert settings.stock_series == ("daily",)
    assert settings.stock_intraday_interval == "5min"
    assert settings.stock_intraday_extended_hours is True
    assert settings.series_cron("weekly") is None
    assert settings.series_cron("daily") == "0 6 * * *"


def test_the_intraday_intervals_are_alpha_vantages() -> None:
    from typing import get_args

    from stockpipe.alphavantage import INTRADAY_INTERVALS
    from stockpipe.settings import IntradayInterval

    assert get_args(IntradayInterval) == INTRADAY_INTERVALS


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STOCK_SERIES", "daily,hourly", "'hourly' is not a series; choose from daily, weekly"),
        ("STOCK_SERIES", " , ", "no series given"),
        ("STOCK_INTRADAY_INTERVAL", "2min", "Input should be '1min'"),
        ("STOCK_INTRADAY_EXTENDED_HOURS", "maybe", "valid boolean"),
        ("WEEKLY_SCHEDULE_CRON", "0 6 * *", "has 4 fields"),
        ("INTRADAY_SCHEDULE_CRON", "*/15 4-25 * * 1-5", "hour field"),
    ],
    ids=[
        "an unknown series is rejected",
        "an empty series list is rejected",
        "an interval Alpha Vantage lacks is rejected",
        "a non-boolean extended hours is rejected",
        "a weekly cron with four fields is rejected",
        "an intraday cron with hour 25 is rejected",
    ],
)
def test_bad_series_settings_are_rejected_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings.load()
    assert f"{variable}: " in str(caught.value)
    assert message in str(caught.value)


def test_series_are_split_lower_cased_and_deduplicated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCK_SERIES", "Daily, weekly,daily ,INTRADAY")
    assert Settings.load().stock_series == ("daily", "weekly", "intraday")


@pytest.mark.parametrize(
    "value",
    [pytest.param("-1", id="negative"), pytest.param("weekly", id="not a number")],
)
def test_a_bad_corporate_actions_refresh_period_is_rejected_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CORPORATE_ACTIONS_REFRESH_DAYS", value)
    with pytest.raises(SettingsError, match="CORPORATE_ACTIONS_REFRESH_DAYS"):
        Settings.load()


def test_corporate_actions_are_refreshed_weekly_by_default() -> None:
    assert Settings.load(_env_file=None).corporate_actions_refresh_days == 7


def test_the_corporate_actions_schedule_runs_after_the_daily_refresh_by_default() -> None:
    settings = Settings.load(_env_file=None)
    assert (settings.corporate_actions_schedule_cron, settings.dag_schedule_cron) == (
        "30 6 * * *",
        "0 6 * * *",
    )
