"""Environment variables -> one typed, validated Settings object.

The first group of names comes from the original specification and must keep working exactly.
Every value is checked at start-up; a bad one raises SettingsError naming the variable.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from psycopg.conninfo import make_conninfo
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.networks import IPvAnyAddress
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stockpipe.cron import CronError, validate_cron
from stockpipe.errors import StockpipeError
from stockpipe.series import SERIES_NAMES
from stockpipe.settings_check import describe_errors, unknown_name_warnings, warn_once

# Tickers as Alpha Vantage writes them: IBM, BRK.B, SHOP.TRT, RDS-A, 0700.HKG.
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")

OutputSizePolicy = Literal["auto", "compact", "full"]
DataType = Literal["json", "csv"]
# Alpha Vantage's intraday intervals (stockpipe.alphavantage.INTRADAY_INTERVALS; a test keeps
# the two equal: settings sit below the vendor package).
IntradayInterval = Literal["1min", "5min", "15min", "30min", "60min"]
SmtpSecurity = Literal["starttls", "ssl", "plain"]
StockUniverse = Literal["symbols", "listing"]
# The exchanges and asset types LISTING_STATUS writes (stockpipe.alphavantage.listings), as
# the vendor spells them; a name outside these is a typo, caught at start-up.
LISTING_EXCHANGES = ("NYSE", "NASDAQ", "NYSE ARCA", "NYSE MKT", "BATS")
LISTING_ASSET_TYPES = ("Stock", "ETF")
# Good enough to catch a typo (a missing @, a stray space); the SMTP server has the last word.
_EMAIL = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+$")
_HTTP_URL = re.compile(r"^https?://[^\s/]+[^\s]*$")


# Alpha Vantage's intraday history starts in January 2000.
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_INTRADAY_MONTH = "2000-01"


def check_month(value: str) -> str:
    """A YYYY-MM month from 2000-01 on (intraday's first); ValueError saying so otherwise."""
    text = value.strip()
    if not _MONTH.match(text):
        raise ValueError(f"{value!r} is not a month: write YYYY-MM, e.g. 2024-01")
    if text < FIRST_INTRADAY_MONTH:
        raise ValueError(f"{text} is before {FIRST_INTRADAY_MONTH}, where intraday history starts")
    return text


def _choose(value: object, known: tuple[str, ...], what: str, *, empty_ok: bool) -> tuple[str, ...]:
    """A comma-separated choice among `known`, matched without regard to case or spacing and
    returned as the vendor spells it; ValueError naming a typo and the choices."""
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    by_key = {" ".join(name.split()).upper(): name for name in known}
    chosen: list[str] = []
    for item in items:
        key = " ".join(str(item).split()).upper()
        if not key:
            continue
        if key not in by_key:
            raise ValueError(f"{str(item).strip()!r} is not an {what} of LISTING_STATUS; choose"
                             f" from {', '.join(known)}")  # fmt: skip
        if by_key[key] not in chosen:
            chosen.append(by_key[key])
    if not chosen and not empty_ok:
        raise ValueError(f"no {what} given; choose from {', '.join(known)}")
    return tuple(chosen)


class SettingsError(StockpipeError, ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    """Every knob stockpipe reads from the environment (or a `.env` file)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- original specification ---
    api_key: SecretStr = Field(default=SecretStr("demo"), validation_alias="API_KEY")
    stock_symbols: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("IBM",), validation_alias="STOCK_SYMBOLS"
    )
    postgres_host: str | None = Field(default=None, validation_alias="POSTGRES_HOST")
    postgres_port: int = Field(default=5432, ge=1, le=65535, validation_alias="POSTGRES_PORT")
    postgres_user: str | None = Field(default=None, validation_alias="POSTGRES_USER")
    postgres_password: SecretStr | None = Field(default=None, validation_alias="POSTGRES_PASSWORD")
    postgres_db: str | None = Field(default=None, validation_alias="POSTGRES_DB")
    dag_schedule_cron: str = Field(default="0 6 * * *", validation_alias="DAG_SCHEDULE_CRON")
    api_polite_delay_sec: float = Field(default=12.0, ge=0, validation_alias="API_POLITE_DELAY_SEC")
    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    alphavantage_base_url: str = Field(
        default="https://www.alphavantage.co/query", validation_alias="ALPHAVANTAGE_BASE_URL"
    )

    # --- stockpipe's own ---
    # None ("none"): no daily cap, a premium key (the per-minute cap and spacing still hold).
    api_daily_budget: int | None = Field(default=25, ge=0, validation_alias="API_DAILY_BUDGET")
    # None: derived from the rate (stockpipe.quota.concurrency.default_in_flight).
    api_max_in_flight: int | None = Field(
        default=None, ge=1, le=64, validation_alias="API_MAX_IN_FLIGHT"
    )
    api_calls_per_minute: int = Field(default=5, ge=1, validation_alias="API_CALLS_PER_MINUTE")
    api_output_size: OutputSizePolicy = Field(default="auto", validation_alias="API_OUTPUT_SIZE")
    api_datatype: DataType = Field(default="json", validation_alias="API_DATATYPE")
    api_connect_timeout_sec: float = Field(
        default=5.0, gt=0, validation_alias="API_CONNECT_TIMEOUT_SEC"
    )
    api_read_timeout_sec: float = Field(default=30.0, gt=0, validation_alias="API_READ_TIMEOUT_SEC")
    api_max_retries: int = Field(default=4, ge=0, le=20, validation_alias="API_MAX_RETRIES")
    # --- hardening: bounded replies and database waits ---
    api_max_reply_mb: float = Field(default=50.0, gt=0, validation_alias="API_MAX_REPLY_MB")
    postgres_connect_timeout_sec: int = Field(
        default=5, ge=2, le=600, validation_alias="POSTGRES_CONNECT_TIMEOUT_SEC"
    )
    postgres_statement_timeout_sec: int = Field(
        default=300, ge=0, validation_alias="POSTGRES_STATEMENT_TIMEOUT_SEC"
    )
    api_rejected_symbol_retry_days: int = Field(
        default=7, ge=0, validation_alias="API_REJECTED_SYMBOL_RETRY_DAYS"
    )
    # --- history: corporate actions ---
    corporate_actions_refresh_days: int = Field(
        default=7, ge=0, le=366, validation_alias="CORPORATE_ACTIONS_REFRESH_DAYS"
    )
    # Daily, half an hour after the daily refresh (DAG_SCHEDULE_CRON 06:00): the bars get the
    # day's budget first, the actions what is left (symbols not due cost no call); an adjusted
    # series a new action marks is refetched by the next daily refresh.
    corporate_actions_schedule_cron: str = Field(
        default="30 6 * * *", validation_alias="CORPORATE_ACTIONS_SCHEDULE_CRON"
    )
    # --- history: backfill (stockpipe.ingest.backfill) ---
    # None: the calls today's scheduled refreshes need (stockpipe.ingest.backfill.budget)
    backfill_reserve_calls: int | None = Field(
        default=None, ge=0, validation_alias="BACKFILL_RESERVE_CALLS"
    )
    # None: the last 12 complete months
    backfill_intraday_since: str | None = Field(
        default=None, validation_alias="BACKFILL_INTRADAY_SINCE"
    )
    # --- scale-out: a Dagster backfill of many symbols as several runs ---
    # None: one run whatever the number of symbols (Dagster's single-run backfill policy)
    stock_symbols_per_run: int | None = Field(
        default=None, ge=1, validation_alias="STOCK_SYMBOLS_PER_RUN"
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("stockpipe")),
        validation_alias="STOCKPIPE_DATA_DIR",
    )
    embedded_pg_port: int = Field(
        default=54329, ge=1, le=65535, validation_alias="STOCKPIPE_EMBEDDED_PG_PORT"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="STOCKPIPE_LOG_LEVEL"
    )
    # Where servers listen: `make airflow-up` and docker compose's published ports. 127.0.0.1
    # keeps them on this machine; 0.0.0.0 opens them to the network.
    bind: IPvAnyAddress = Field(default=IPv4Address("127.0.0.1"), validation_alias="STOCKPIPE_BIND")

    # --- series (weekly, monthly, intraday) ---
    stock_series: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("daily",), validation_alias="STOCK_SERIES"
    )
    stock_intraday_interval: IntradayInterval = Field(
        default="5min", validation_alias="STOCK_INTRADAY_INTERVAL"
    )
    stock_intraday_extended_hours: bool = Field(
        default=True, validation_alias="STOCK_INTRADAY_EXTENDED_HOURS"
    )
    # None: keep every month; N: drop intraday partitions older than the current New York
    # month and the N before it (stockpipe.store.partitions), and backfill no older month.
    stock_intraday_retention_months: int | None = Field(
        default=None, ge=1, validation_alias="STOCK_INTRADAY_RETENTION_MONTHS"
    )
    stock_adjusted: bool = Field(default=False, validation_alias="STOCK_ADJUSTED")
    weekly_schedule_cron: str | None = Field(default=None, validation_alias="WEEKLY_SCHEDULE_CRON")
    monthly_schedule_cron: str | None = Field(
        default=None, validation_alias="MONTHLY_SCHEDULE_CRON"
    )
    intraday_schedule_cron: str | None = Field(
        default=None, validation_alias="INTRADAY_SCHEDULE_CRON"
    )

    # --- universe (stockpipe.ingest.universe): STOCK_SYMBOLS, or the vendor's listing ---
    stock_universe: StockUniverse = Field(default="symbols", validation_alias="STOCK_UNIVERSE")
    # () = every exchange
    stock_universe_exchanges: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="STOCK_UNIVERSE_EXCHANGES"
    )
    stock_universe_asset_types: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("Stock",), validation_alias="STOCK_UNIVERSE_ASSET_TYPES"
    )

    @field_validator("stock_universe", mode="before")
    @classmethod
    def _check_universe(cls, value: object) -> str:
        text = str(value).strip().lower()
        if text not in ("symbols", "listing"):
            raise ValueError(f"{value!r} is not a universe; choose symbols or listing")
        return text

    @field_validator("stock_universe_exchanges", mode="before")
    @classmethod
    def _split_exchanges(cls, value: object) -> tuple[str, ...]:
        return _choose(value, LISTING_EXCHANGES, "exchange", empty_ok=True)

    @field_validator("stock_universe_asset_types", mode="before")
    @classmethod
    def _split_asset_types(cls, value: object) -> tuple[str, ...]:
        return _choose(value, LISTING_ASSET_TYPES, "asset type", empty_ok=False)

    @field_validator("stock_series", mode="before")
    @classmethod
    def _split_series(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        chosen: list[str] = []
        for item in items:
            name = str(item).strip().lower()
            if not name:
                continue
            if name not in SERIES_NAMES:
                raise ValueError(f"{item!r} is not a series; choose from {', '.join(SERIES_NAMES)}")
            if name not in chosen:
                chosen.append(name)
        if not chosen:
            raise ValueError(f"no series given; choose from {', '.join(SERIES_NAMES)}")
        return tuple(chosen)

    @field_validator("api_daily_budget", mode="before")
    @classmethod
    def _no_daily_cap(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() == "none" else value

    @field_validator("api_max_in_flight", mode="before")
    @classmethod
    def _blank_in_flight_is_derived(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("backfill_reserve_calls", "stock_intraday_retention_months", mode="before")
    @classmethod
    def _blank_reserve_is_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("backfill_intraday_since", mode="before")
    @classmethod
    def _check_since(cls, value: object) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return check_month(str(value))

    @field_validator("weekly_schedule_cron", "monthly_schedule_cron", "intraday_schedule_cron")
    @classmethod
    def _check_series_cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return validate_cron(value)
        except CronError as exc:
            raise ValueError(str(exc)) from exc

    def series_cron(self, series: str) -> str | None:
        """The cron a series' schedule was given in the environment (None: its default)."""
        if series == "daily":
            return self.dag_schedule_cron
        value = getattr(self, f"{series}_schedule_cron", None)
        return value if isinstance(value, str) else None

    # --- alerts (stockpipe.alerts): no channel set, no alerts ---
    alert_slack_webhook_url: SecretStr | None = Field(
        default=None, validation_alias="ALERT_SLACK_WEBHOOK_URL"
    )
    alert_slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias="ALERT_SLACK_BOT_TOKEN"
    )
    alert_slack_channel: str | None = Field(default=None, validation_alias="ALERT_SLACK_CHANNEL")
    alert_slack_api_url: str = Field(
        default="https://slack.com/api", validation_alias="ALERT_SLACK_API_URL"
    )
    alert_email_to: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="ALERT_EMAIL_TO"
    )
    alert_email_from: str = Field(
        default="stockpipe@localhost", validation_alias="ALERT_EMAIL_FROM"
    )
    alert_smtp_host: str | None = Field(default=None, validation_alias="ALERT_SMTP_HOST")
    alert_smtp_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias="ALERT_SMTP_PORT"
    )
    alert_smtp_security: SmtpSecurity = Field(
        default="starttls", validation_alias="ALERT_SMTP_SECURITY"
    )
    alert_smtp_user: str | None = Field(default=None, validation_alias="ALERT_SMTP_USER")
    alert_smtp_password: SecretStr | None = Field(
        default=None, validation_alias="ALERT_SMTP_PASSWORD"
    )
    alert_timeout_sec: float = Field(
        default=10.0, gt=0, le=30, validation_alias="ALERT_TIMEOUT_SEC"
    )
    alert_retries: int = Field(default=3, ge=0, le=10, validation_alias="ALERT_RETRIES")
    alert_consecutive_runs: int = Field(default=3, ge=1, validation_alias="ALERT_CONSECUTIVE_RUNS")
    alert_stale_after_hours: float = Field(
        default=36.0, gt=0, validation_alias="ALERT_STALE_AFTER_HOURS"
    )
    alert_sensor_interval_sec: int = Field(
        default=60, ge=5, validation_alias="ALERT_SENSOR_INTERVAL_SEC"
    )
    ui_url: str = Field(default="http://127.0.0.1:3000", validation_alias="STOCKPIPE_UI_URL")

    @field_validator("stock_symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        symbols: list[str] = []
        empty = [n for n, item in enumerate(items, 1) if not str(item).strip()]
        if empty and len(empty) < len(items):
            # Dropped, as before, but said: a ticker the user meant to type may be missing.
            where = ", ".join(map(str, empty))
            warn_once(
                f"STOCK_SYMBOLS={value!r}: item {where} of {len(items)} is empty and ignored"
                " (a ticker missing between two commas?)"
            )
        for item in items:
            typed = str(item).strip()
            # Checked as typed: upper() would turn "\u0131bm" (dotless i) into IBM, "straße" into
            # STRASSE, and load a ticker nobody asked for.
            if not typed.isascii():
                raise ValueError(
                    f"{typed!r} is not a ticker: only ASCII letters, digits, '.' and '-'"
                )
            symbol = typed.upper()
            if not symbol:
                continue
            if not _TICKER.match(symbol):
                raise ValueError(f"{item!r} is not a ticker (letters, digits, '.', '-')")
            symbols.append(symbol)
        if not symbols:
            raise ValueError("no ticker given; set e.g. STOCK_SYMBOLS=IBM,MSFT")
        # Duplicates dropped, first place kept, in one pass: `not in` a list was quadratic,
        # 1.2 s per load at 10,000 symbols (8 ms now), and a Dagster run loads them several times.
        return tuple(dict.fromkeys(symbols))

    @field_validator("dag_schedule_cron", "corporate_actions_schedule_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        try:
            return validate_cron(value)
        except CronError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("alphavantage_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("alert_slack_api_url", "ui_url")
    @classmethod
    def _check_alert_url(cls, value: str) -> str:
        if not _HTTP_URL.match(value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("alert_slack_webhook_url")
    @classmethod
    def _check_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _HTTP_URL.match(value.get_secret_value().strip()):
            # The URL itself is the credential: name the problem, never echo it.
            raise ValueError(
                "is not an http(s) URL (expected https://hooks.slack.com/services/...)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("alert_email_to", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        addresses = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
        for address in addresses:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return addresses

    @field_validator("alert_email_from")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        if not _EMAIL.match(value.strip()):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.strip()

    @field_validator("alert_slack_bot_token", "alert_smtp_password")
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None or not value.get_secret_value() else value

    @field_validator("alert_slack_channel", "alert_smtp_host", "alert_smtp_user")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _check_alert_pairs(self) -> Settings:
        # Half a channel is a typo, not a choice: stop start-up instead of silently never alerting.
        if (self.alert_slack_bot_token is None) != (self.alert_slack_channel is None):
            missing = (
                "ALERT_SLACK_CHANNEL"
                if self.alert_slack_channel is None
                else ("ALERT_SLACK_BOT_TOKEN")
            )
            raise ValueError(f"{missing}: required with the other of the Slack bot pair")
        if self.alert_email_to and self.alert_smtp_host is None:
            raise ValueError("ALERT_SMTP_HOST: required when ALERT_EMAIL_TO is set")
        if self.alert_smtp_password is not None and self.alert_smtp_user is None:
            raise ValueError("ALERT_SMTP_USER: required when ALERT_SMTP_PASSWORD is set")
        return self

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment; raise SettingsError, one line naming each bad variable, its
        value (unless secret) and what is allowed; warn about names nothing reads."""
        try:
            settings = cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise SettingsError(describe_errors(exc, cls._secret_names())) from None
        env_file = overrides.get("_env_file", cls.model_config.get("env_file"))
        known = [str(field.validation_alias).upper() for field in cls.model_fields.values()]
        path = Path(env_file) if isinstance(env_file, str | Path) else None
        for warning in unknown_name_warnings(known, path):
            warn_once(warning)
        return settings

    @classmethod
    def _secret_names(cls) -> frozenset[str]:
        return frozenset(
            str(field.validation_alias).upper()
            for field in cls.model_fields.values()
            if "SecretStr" in str(field.annotation)
        )

    @property
    def uses_embedded_database(self) -> bool:
        """True when neither DATABASE_URL nor POSTGRES_HOST names a server."""
        return self.database_url is None and self.postgres_host is None

    def postgres_conninfo(self) -> str | None:
        """The libpq connection string of the configured server, or None for embedded."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if self.postgres_host is None:
            return None
        password = self.postgres_password.get_secret_value() if self.postgres_password else None
        return make_conninfo(
            host=self.postgres_host,
            port=str(self.postgres_port),
            user=self.postgres_user or "postgres",
            password=password,
            dbname=self.postgres_db or "postgres",
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never be printed: feed them to redact()."""
        values = [self.api_key.get_secret_value()]
        if self.postgres_password is not None:
            values.append(self.postgres_password.get_secret_value())
        if self.database_url is not None:
            values.append(self.database_url.get_secret_value())
        for alert_secret in (
            self.alert_slack_webhook_url,
            self.alert_slack_bot_token,
            self.alert_smtp_password,
        ):
            if alert_secret is not None:
                values.append(alert_secret.get_secret_value())
        if self.alert_slack_webhook_url is not None:
            # An HTTP error may quote only the path, which holds the webhook's token.
            parts = urlsplit(self.alert_slack_webhook_url.get_secret_value())
            if len(parts.path) > 8:
                values.append(parts.path)
        # "demo" is public and too short to mask safely inside other words.
        return tuple(v for v in values if v and v != "demo")
