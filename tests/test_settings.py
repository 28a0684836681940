"""Settings: every variable parsed, every bad value rejected with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpipe.settings import Settings, SettingsError
from tests.fixtures.environment import isolate_from_environment


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_from_environment(monkeypatch, tmp_path)


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
        ("API_POLITE_DELAY_SEC", "-1", "API_POLITE_DELAY_SEC"),
        ("API_DAILY_BUDGET", "lots", "API_DAILY_BUDGET"),
        ("API_OUTPUT_SIZE", "huge", "API_OUTPUT_SIZE"),
        ("POSTGRES_PORT", "70000", "POSTGRES_PORT"),
        ("ALPHAVANTAGE_BASE_URL", "ftp://x", "is not an http(s) URL"),
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
