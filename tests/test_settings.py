"""Settings: every variable parsed, every bad value rejected with its name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
    assert f"STOCK_SYMBOLS='MSFT,{typed}': {typed!r} is not a ticker" in str(info.value)


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
        ("STOCK_INTRADAY_INTERVAL", "2min", "should be '1min'"),
        ("STOCK_INTRADAY_EXTENDED_HOURS", "maybe", "valid boolean"),
        ("STOCK_INTRADAY_RETENTION_MONTHS", "0", "greater than or equal to 1"),
        ("WEEKLY_SCHEDULE_CRON", "0 6 * *", "has 4 fields"),
        ("INTRADAY_SCHEDULE_CRON", "*/15 4-25 * * 1-5", "hour field"),
    ],
    ids=[
        "an unknown series is rejected",
        "an empty series list is rejected",
        "an interval Alpha Vantage lacks is rejected",
        "a non-boolean extended hours is rejected",
        "a retention of zero months is rejected",
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
    assert f"{variable}={value!r}: " in str(caught.value)
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


def test_the_universe_is_stock_symbols_unless_the_listing_is_asked_for() -> None:
    settings = Settings.load()
    assert settings.stock_universe == "symbols"
    assert settings.stock_universe_exchanges == ()
    assert settings.stock_universe_asset_types == ("Stock",)


def test_universe_filters_are_matched_without_case_or_spacing_and_spelt_as_the_vendor_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STOCK_UNIVERSE", " Listing ")
    monkeypatch.setenv("STOCK_UNIVERSE_EXCHANGES", "nasdaq, nyse   arca,NASDAQ")
    monkeypatch.setenv("STOCK_UNIVERSE_ASSET_TYPES", "etf,STOCK")
    settings = Settings.load()
    assert settings.stock_universe == "listing"
    assert settings.stock_universe_exchanges == ("NASDAQ", "NYSE ARCA")
    assert settings.stock_universe_asset_types == ("ETF", "Stock")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STOCK_UNIVERSE", "every", "'every' is not a universe; choose symbols or listing"),
        ("STOCK_UNIVERSE_EXCHANGES", "LSE", "'LSE' is not an exchange of LISTING_STATUS"),
        ("STOCK_UNIVERSE_ASSET_TYPES", "Bond", "'Bond' is not an asset type of LISTING_STATUS"),
        ("STOCK_UNIVERSE_ASSET_TYPES", "", "no asset type given; choose from Stock, ETF"),
    ],
    ids=["an unknown universe", "an exchange LISTING_STATUS never names", "a bond",
         "no asset type at all"],
)  # fmt: skip
def test_a_bad_universe_setting_is_rejected_in_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        Settings.load()
    line = str(raised.value)
    assert line.startswith(f"invalid configuration: {variable}=") and message in line
    assert "\n" not in line and "Value error" not in line


# --- what the user is told: one line per bad value, warnings for what would pass unnoticed ---


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """Warnings are said once per process: start this test with none said yet."""
    from stockpipe import settings_check

    monkeypatch.setattr(settings_check, "_warned", set())
    caplog.set_level("WARNING", logger="stockpipe.settings")
    return caplog


def warnings_said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "stockpipe.settings"]


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "API_DAILY_BUDGET",
            "lots",
            "API_DAILY_BUDGET='lots': should be a valid integer, unable to parse string as an"
            " integer",
        ),
        ("API_DAILY_BUDGET", "-1", "API_DAILY_BUDGET='-1': should be greater than or equal to 0"),
        (
            "STOCK_SYMBOLS",
            "IBM,MS FT",
            "STOCK_SYMBOLS='IBM,MS FT': 'MS FT' is not a ticker (letters, digits, '.', '-')",
        ),
        (
            "API_OUTPUT_SIZE",
            "huge",
            "API_OUTPUT_SIZE='huge': should be 'auto', 'compact' or 'full'",
        ),
    ],
    ids=["a word for a number", "a negative budget", "a ticker with a space", "an unknown policy"],
)
def test_a_bad_value_is_one_line_naming_the_variable_the_value_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        Settings.load()
    assert str(info.value) == f"invalid configuration: {line}"


def test_two_bad_values_stay_on_one_line() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load(API_DAILY_BUDGET="-1", API_MAX_RETRIES="99")
    assert str(info.value) == (
        "invalid configuration: API_DAILY_BUDGET='-1': should be greater than or equal to 0;"
        " API_MAX_RETRIES='99': should be less than or equal to 20"
    )


def test_the_command_line_prints_the_bad_value_in_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {**os.environ, "API_DAILY_BUDGET": "-1", "STOCKPIPE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "stockpipe"), "status"],
        check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "stockpipe: invalid configuration: API_DAILY_BUDGET='-1': should be greater than or"
        " equal to 0\n",
    )


@pytest.mark.parametrize(
    ("typed", "warning"),
    [
        ("AAPL,,MSFT ", "STOCK_SYMBOLS='AAPL,,MSFT ': item 2 of 3 is empty and ignored"),
        ("AAPL,MSFT,", "STOCK_SYMBOLS='AAPL,MSFT,': item 3 of 3 is empty and ignored"),
        (",IBM, ,KO", "STOCK_SYMBOLS=',IBM, ,KO': item 1, 3 of 4 is empty and ignored"),
    ],
    ids=["two commas in a row", "a trailing comma", "a leading comma and a blank item"],
)
def test_an_empty_ticker_is_dropped_with_a_warning_naming_its_position(
    monkeypatch: pytest.MonkeyPatch, fresh_warnings: pytest.LogCaptureFixture, typed: str,
    warning: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("STOCK_SYMBOLS", typed)
    symbols = Settings.load().stock_symbols
    assert "" not in symbols
    assert warnings_said(fresh_warnings) == [f"{warning} (a ticker missing between two commas?)"]
    Settings.load()
    assert len(warnings_said(fresh_warnings)) == 1, "said once per process"


def test_a_clean_symbol_list_says_nothing(
    monkeypatch: pytest.MonkeyPatch, fresh_warnings: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STOCK_SYMBOLS", "AAPL, MSFT ")
    assert Settings.load().stock_symbols == ("AAPL", "MSFT")
    assert warnings_said(fresh_warnings) == []


def test_a_misspelt_name_in_dot_env_is_reported_with_the_closest_setting(
    tmp_path: Path, fresh_warnings: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".env").write_text(
        "API_DAILY_BUGDET=500\nSTOCKPIPE_LOGLEVEL=DEBUG\nPOSTGRES_TUNING=x\nEDITOR=vi\n"
    )
    settings = Settings.load()
    assert settings.api_daily_budget == 25  # the typo still does nothing: it is only said
    assert warnings_said(fresh_warnings) == [
        "API_DAILY_BUGDET in .env is not a stockpipe setting and is ignored;"
        " did you mean API_DAILY_BUDGET?",
        "STOCKPIPE_LOGLEVEL in .env is not a stockpipe setting and is ignored;"
        " did you mean STOCKPIPE_LOG_LEVEL?",
        "POSTGRES_TUNING in .env is not a stockpipe setting and is ignored",
    ]


def test_a_misspelt_name_in_the_environment_is_reported_only_when_close_to_a_setting(
    monkeypatch: pytest.MonkeyPatch, fresh_warnings: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("API_DAILY_BUGDET", "500")
    monkeypatch.setenv("POSTGRES_INITDB_ARGS", "--data-checksums")  # the postgres image's
    Settings.load()
    assert warnings_said(fresh_warnings) == [
        "API_DAILY_BUGDET in the environment is not a stockpipe setting and is ignored;"
        " did you mean API_DAILY_BUDGET?"
    ]


def test_every_name_in_env_example_is_known() -> None:
    from stockpipe.settings_check import unknown_name_warnings

    example = Path(__file__).resolve().parents[1] / ".env.example"
    known = [str(f.validation_alias).upper() for f in Settings.model_fields.values()]
    assert unknown_name_warnings(known, example, environ={}) == []
