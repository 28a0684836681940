"""Environment variables -> one typed, validated Settings object.

The first group of names comes from the original specification and must keep working exactly.
Every value is checked at start-up; a bad one raises SettingsError naming the variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from psycopg.conninfo import make_conninfo
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stockpipe.cron import CronError, validate_cron
from stockpipe.errors import StockpipeError

# Tickers as Alpha Vantage writes them: IBM, BRK.B, SHOP.TRT, RDS-A, 0700.HKG.
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")

OutputSizePolicy = Literal["auto", "compact", "full"]
DataType = Literal["json", "csv"]


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
    api_daily_budget: int = Field(default=25, ge=0, validation_alias="API_DAILY_BUDGET")
    api_calls_per_minute: int = Field(default=5, ge=1, validation_alias="API_CALLS_PER_MINUTE")
    api_output_size: OutputSizePolicy = Field(default="auto", validation_alias="API_OUTPUT_SIZE")
    api_datatype: DataType = Field(default="json", validation_alias="API_DATATYPE")
    api_connect_timeout_sec: float = Field(
        default=5.0, gt=0, validation_alias="API_CONNECT_TIMEOUT_SEC"
    )
    api_read_timeout_sec: float = Field(default=30.0, gt=0, validation_alias="API_READ_TIMEOUT_SEC")
    api_max_retries: int = Field(default=4, ge=0, le=20, validation_alias="API_MAX_RETRIES")
    api_rejected_symbol_retry_days: int = Field(
        default=7, ge=0, validation_alias="API_REJECTED_SYMBOL_RETRY_DAYS"
    )
    # --- history: corporate actions ---
    corporate_actions_refresh_days: int = Field(
        default=7, ge=0, le=366, validation_alias="CORPORATE_ACTIONS_REFRESH_DAYS"
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

    @field_validator("stock_symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        symbols: list[str] = []
        for item in items:
            symbol = str(item).strip().upper()
            if not symbol:
                continue
            if not _TICKER.match(symbol):
                raise ValueError(f"{item!r} is not a ticker (letters, digits, '.', '-')")
            if symbol not in symbols:
                symbols.append(symbol)
        if not symbols:
            raise ValueError("no ticker given; set e.g. STOCK_SYMBOLS=IBM,MSFT")
        return tuple(symbols)

    @field_validator("dag_schedule_cron")
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

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment; raise SettingsError with one line per bad variable."""
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            lines = []
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "settings"
                lines.append(f"{name.upper()}: {error['msg']}")
            raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None

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
        # "demo" is public and too short to mask safely inside other words.
        return tuple(v for v in values if v and v != "demo")
