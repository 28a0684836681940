"""Series a key only gets premium-only replies for: remembered, then skipped without a call.

Intraday (and, on a free key, an adjusted daily function) may answer "premium endpoint" for
every symbol. Asking again each run would spend a call of a 25-a-day budget on the same answer
forever, so the first such reply fails the series for the rest of the run and is stored per
key (table api_key_series_denial, by the key's fingerprint). Later runs report the series'
symbols FAILED with a message saying a premium key is needed, at no call, until
API_REJECTED_SYMBOL_RETRY_DAYS have passed (like a rejected symbol; `--retry-rejected` tries at
once). A successful fetch of the series clears the memory: the key was upgraded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stockpipe.quota import key_fingerprint, quota_day
from stockpipe.series import Series
from stockpipe.settings import Settings
from stockpipe.store import Database, DatabaseError
from stockpipe.store.key_denial import clear_denial, load_denial, record_denial

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeriesDenial:
    series: str
    function: str
    at: datetime
    reason: str

    @property
    def day(self) -> date:
        return quota_day(self.at)

    def retry_day(self, retry_days: int) -> date:
        return self.day + timedelta(days=retry_days)


def premium_message(series: Series, function: str) -> str:
    return (
        f"{function} needs a premium Alpha Vantage key: this key got a premium-only reply;"
        f" the {series.name} series is not called again for this key until the retry day."
        f" Upgrade the key or drop {series.name} from STOCK_SERIES"
    )


def skipped_message(denial: SeriesDenial, retry_day: date) -> str:
    return (
        f"{denial.function} needs a premium Alpha Vantage key: this key got a premium-only reply"
        f" on {denial.day}; the {denial.series} series is skipped without a call until"
        f" {retry_day}. Upgrade the key, drop {denial.series} from STOCK_SERIES, or run"
        f" `stockpipe ingest --series {denial.series} --retry-rejected`"
    )


def _fingerprint(settings: Settings) -> str:
    return key_fingerprint(settings.api_key.get_secret_value())


def active_denial(
    db: Database, settings: Settings, series: Series, now: datetime
) -> tuple[SeriesDenial | None, str | None]:
    """The stored denial of `series` for the configured key, and the message that skips the
    series now (None once the retry day has come). An unreadable database means none."""
    try:
        row = load_denial(db, _fingerprint(settings), series.name)
    except DatabaseError as exc:
        logger.error("could not read premium denials: %s", exc)
        return None, None
    if row is None:
        return None, None
    denial = SeriesDenial(series.name, row[1], row[0], row[2])
    retry_day = denial.retry_day(settings.api_rejected_symbol_retry_days)
    if quota_day(now) >= retry_day:
        return denial, None
    return denial, skipped_message(denial, retry_day)


def remember_denial(
    db: Database, settings: Settings, series: Series, *, function: str, reason: str, at: datetime
) -> None:
    try:
        record_denial(
            db, _fingerprint(settings), series.name, function=function, reason=reason, at=at
        )
    except DatabaseError as exc:  # it costs one more call next run: only log it
        logger.error("could not record that %s needs a premium key: %s", series.name, exc)


def forget_denial(db: Database, settings: Settings, series: Series) -> None:
    try:
        clear_denial(db, _fingerprint(settings), series.name)
    except DatabaseError as exc:
        logger.error("could not clear the premium denial of %s: %s", series.name, exc)
