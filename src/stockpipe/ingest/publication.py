"""Sessions Alpha Vantage had not published yet: remembered, then not asked again for a while.

Alpha Vantage publishes a session's daily bar some time after the close. A run in between
spends a call, stores the older bars it got, and the symbol still lacks the session; without
memory every further run would spend one more call per symbol for nothing, and a few evening
re-runs of `stockpipe ingest` would burn a 25-a-day budget. So the session asked for and the
time of the call are kept in symbol_state; a run within PUBLICATION_WAIT for the same session
reports the symbol DEFERRED without a call. Once the wait is over, or the target session has
moved on, the symbol is fetched as usual.

Such a deferral is not a problem of the run: the previous run, which spent the call and got
the same answer, counted as a success (LOADED). So `awaiting_publication` results count as
good for RunSummary.status (exit code 0, no Dagster failure) while still saying DEFERRED.
This is separate from rejected symbols (stockpipe.ingest.rejection) and from `--retry-rejected`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.market_calendar import NEW_YORK
from stockpipe.series import DAILY, Series
from stockpipe.store import Database, DatabaseError
from stockpipe.store.symbol_state import load_unpublished, mark_unpublished

logger = logging.getLogger(__name__)

# Alpha Vantage usually has the daily bar within an hour or so of the close; asking more often
# than this only spends calls on the same "not yet" answer.
PUBLICATION_WAIT = timedelta(minutes=60)


@dataclass(frozen=True, slots=True)
class Unpublished:
    symbol: str
    session: date  # the session the call asked for and did not get
    asked_at: datetime

    @property
    def ask_again_at(self) -> datetime:
        return self.asked_at + PUBLICATION_WAIT


def waiting_for(unpublished: Unpublished | None, target: date, now: datetime) -> bool:
    """Whether a call for `target` now would only repeat a recent "not published yet"."""
    return (
        unpublished is not None and unpublished.session == target and now < unpublished.ask_again_at
    )


def wait_message(unpublished: Unpublished) -> str:
    def clock(moment: datetime) -> str:
        return moment.astimezone(NEW_YORK).strftime("%H:%M")

    return (
        f"Alpha Vantage had no bar for {unpublished.session} at {clock(unpublished.asked_at)}"
        f" New York time; asking again after {clock(unpublished.ask_again_at)}"
    )


def note_publication(
    db: Database, result: SymbolResult, target: date, at: datetime, series: Series = DAILY
) -> None:
    """After record_result (so the symbol's row exists): if a call at `at` loaded bars that
    still lack `target`, remember it. A reached target needs no clearing: no call is planned
    then, and a later target never matches. A failure is only logged: it costs one more call."""
    if not unpublished_now(result, target):
        return
    try:
        mark_unpublished(db, result.symbol, target, at, series)
    except DatabaseError as exc:
        logger.error(
            "%s: could not record that %s is not published yet: %s", result.symbol, target, exc
        )


def unpublished_now(result: SymbolResult, target: date) -> bool:
    """Whether `result` loaded bars that still lack `target`: a session to remember."""
    return result.status is SymbolStatus.LOADED and (result.latest_bar or target) < target


def remembered_unpublished(
    db: Database, symbols: Iterable[str], series: Series = DAILY
) -> dict[str, Unpublished]:
    """The remembered unpublished sessions among `symbols`, by symbol; an unreachable database
    means none (each symbol's own read then reports the outage as its failure)."""
    try:
        return {row[0]: Unpublished(*row) for row in load_unpublished(db, symbols, series)}
    except DatabaseError as exc:
        logger.error("could not read unpublished sessions: %s", exc)
        return {}
