"""Corporate actions (SPLITS, DIVIDENDS) per symbol, on their own cadence, within the budget.

Splits and dividends change rarely, so each (symbol, function) is fetched again only once
CORPORATE_ACTIONS_REFRESH_DAYS have passed since its last success (table
corporate_action_refresh, apart from the daily bars' symbol_state). Calls go through the
context's gated client: the same daily budget, spacing and ledger as the bars. Like the bar
ingest, one symbol's failure is that symbol's result only; once the budget is gone (or the key
is rejected) the rest is deferred without a call and is due again next run.

A rejection that would repeat on every call (an invalid symbol, a premium-only function for
this key) waits for the next refresh instead of spending a call every run.

Each answer replaces what is stored for that symbol and function (stockpipe.store
.corporate_actions); new, changed and removed actions come back in the result, and the adjusted
view (stock_data_adjusted) reflects them at once: the summary names the symbols whose adjusted
prices moved. Where the series are stored adjusted (STOCK_ADJUSTED), a change since an earlier
fetch also marks the symbol's stored adjusted series for a refetch (stockpipe.ingest
.adjusted_refetch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from stockpipe.alphavantage import (
    ActionFunction,
    AlphaVantageError,
    DemoKeyMisuse,
    InvalidApiKey,
    PremiumEndpoint,
    PremiumParameter,
    RateLimited,
)
from stockpipe.ingest import universe
from stockpipe.ingest.adjusted_refetch import mark_adjusted_series
from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.due_today import refresh_need
from stockpipe.ingest.overlap import fanned_out
from stockpipe.ingest.rejection import is_symbol_rejection
from stockpipe.ingest.results import RunStatus
from stockpipe.quota import CallClass
from stockpipe.store import DatabaseError
from stockpipe.store.adjusted_refetch import symbols_with_bars_around
from stockpipe.store.corporate_actions import (
    ActionChange,
    RefreshState,
    StoredActions,
    load_refresh_states,
    record_refresh,
    store_dividends,
    store_splits,
)

logger = logging.getLogger(__name__)

FUNCTIONS = (ActionFunction.SPLITS, ActionFunction.DIVIDENDS)
# Stored statuses after which the next call waits for the cadence, not for the next run.
_WAITS_FOR_CADENCE = ("loaded", "rejected", "premium")


class ActionStatus(StrEnum):
    LOADED = "loaded"  # fetched and stored
    NOT_DUE = "not_due"  # fetched less than CORPORATE_ACTIONS_REFRESH_DAYS ago: no call
    DEFERRED = "deferred"  # no call could be spent (budget, rate limit): due next run
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ActionsResult:
    symbol: str
    function: ActionFunction
    status: ActionStatus
    calls: int = 0
    changes: tuple[ActionChange, ...] = ()
    unchanged: int = 0
    skipped: int = 0  # malformed rows of the answer, not stored
    next_due: datetime | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class ActionsSummary:
    results: tuple[ActionsResult, ...]
    # Symbols whose stock_data_adjusted values the changes moved (bars on both sides of an
    # action's date), and the stored adjusted series marked for a refetch: (symbol, series).
    adjusted_symbols: tuple[str, ...] = ()
    refetch: tuple[tuple[str, str], ...] = ()

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.results)

    @property
    def changes(self) -> tuple[ActionChange, ...]:
        return tuple(c for r in self.results for c in r.changes)

    def count(self, status: ActionStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def status(self) -> RunStatus:
        """As for the bar ingest: success when every item is loaded or not due."""
        good = self.count(ActionStatus.LOADED) + self.count(ActionStatus.NOT_DUE)
        if good == len(self.results):
            return RunStatus.SUCCESS
        return RunStatus.PARTIAL if good else RunStatus.FAILED

    @property
    def message(self) -> str:
        tally = ", ".join(f"{self.count(s)} {s.value.replace('_', ' ')}" for s in ActionStatus)
        changes = self.changes
        kinds = ", ".join(
            f"{sum(1 for c in changes if c.change == k)} {k}" for k in ("new", "changed", "removed")
        )
        parts = [f"corporate actions: {tally}; {kinds}; {self.calls} API calls"]
        if self.adjusted_symbols:
            parts.append("adjusted prices recomputed for: " + ", ".join(self.adjusted_symbols))
        if self.refetch:
            parts.append(
                "adjusted series refetched on their next refresh: "
                + ", ".join(f"{symbol} {series}" for symbol, series in self.refetch)
            )
        failed = [r for r in self.results if r.status is ActionStatus.FAILED]
        if failed:
            parts.append(
                "failed: " + "; ".join(f"{r.symbol} {r.function} ({r.message})" for r in failed)
            )
        return ". ".join(parts)


def next_due(state: RefreshState | None, refresh_days: int) -> datetime | None:
    """When the (symbol, function) should be fetched again; None: now (never fetched, or the
    last attempt was deferred or failed in a way worth retrying)."""
    if state is None or state.last_status not in _WAITS_FOR_CADENCE:
        return None
    since = state.last_success_at if state.last_status == "loaded" else state.last_attempt_at
    return None if since is None else since + timedelta(days=refresh_days)


def actions_need(ctx: IngestContext, symbols: Sequence[str] | None = None) -> int:
    """Calls the corporate actions of the universe need now: one per (symbol, function) never
    fetched or due again by CORPORATE_ACTIONS_REFRESH_DAYS (what the backfill keeps for
    them, stockpipe.quota.classes)."""
    if symbols is None:
        symbols = universe.symbols(ctx.db, ctx.settings)
    symbols = list(dict.fromkeys(symbols))
    states = load_refresh_states(ctx.db, symbols)
    days, now = ctx.settings.corporate_actions_refresh_days, ctx.clock.now()
    return sum(
        1
        for symbol in symbols
        for function in FUNCTIONS
        if (next_due(states.get((symbol, function.value)), days) or now) <= now
    )


def refresh_corporate_actions(
    ctx: IngestContext,
    symbols: Sequence[str],
    *,
    force: bool = False,
    on_result: Callable[[ActionsResult], None] | None = None,
) -> ActionsSummary:
    """Fetch and store the splits and dividends of every symbol that is due (all with
    `force`). Never raises for a symbol's own failure; a database that cannot be read at the
    start raises DatabaseError.

    The calls are spent as the corporate actions' priority class (stockpipe.quota.classes):
    what today's scheduled refreshes still need stays theirs, and no call starts while a
    refresh is running on the key."""
    with ctx.gate.serving(CallClass.ACTIONS, reserve=lambda: refresh_need(ctx)):
        return _refresh_all(ctx, symbols, force=force, on_result=on_result)


def _refresh_all(
    ctx: IngestContext,
    symbols: Sequence[str],
    *,
    force: bool,
    on_result: Callable[[ActionsResult], None] | None,
) -> ActionsSummary:
    unique = list(dict.fromkeys(symbols))
    states = load_refresh_states(ctx.db, unique)
    days = ctx.settings.corporate_actions_refresh_days
    halts: list[tuple[ActionStatus, str]] = []  # the first a worker met stops the others
    work = [(symbol, function) for symbol in unique for function in FUNCTIONS]

    def one(item: tuple[int, tuple[str, ActionFunction]]) -> tuple[int, ActionsResult, bool]:
        """The item's place, its result, and whether its changes are news (an earlier fetch)."""
        index, (symbol, function) = item
        state = states.get((symbol, function.value))
        due = None if force else next_due(state, days)
        if due is not None and ctx.clock.now() < due:
            return index, ActionsResult(symbol, function, ActionStatus.NOT_DUE, next_due=due), False
        if halts:
            status, message = halts[0]
            result = ActionsResult(symbol, function, status, message=message)
            _record(ctx, result, "deferred" if status is ActionStatus.DEFERRED else "failed")
            return index, result, False
        result, halt = _refresh_one(ctx, symbol, function)
        if halt is not None:
            halts.append(halt)
        return index, result, state is not None and state.last_success_at is not None

    # Up to API_MAX_IN_FLIGHT calls at once, each worker storing its own answer (a few rows);
    # the call gate paces their starts and keeps the class's share of the budget.
    finished: list[tuple[int, ActionsResult]] = []
    news: list[ActionChange] = []  # changes against an earlier successful fetch
    done = fanned_out(list(enumerate(work)), one, workers=ctx.in_flight, name="stockpipe-actions")
    try:
        for index, result, is_news in done:
            finished.append((index, result))
            if is_news:
                news.extend(result.changes)
            if on_result is not None:
                on_result(result)
    finally:
        done.close()
    results = [result for _, result in sorted(finished, key=lambda pair: pair[0])]
    changes = [c for r in results for c in r.changes]
    summary = ActionsSummary(
        tuple(results),
        adjusted_symbols=_adjusted_symbols(ctx, changes),
        refetch=mark_adjusted_series(ctx, news),
    )
    logger.info("%s", summary.message)
    # Each change is shown once where the caller shows them (the CLI's list, Dagster's metadata
    # table, the Airflow task's return value); at INFO they doubled `stockpipe actions`' output.
    for change in summary.changes:
        logger.debug("corporate action %s", change.describe())
    return summary


def _adjusted_symbols(ctx: IngestContext, changes: Sequence[ActionChange]) -> tuple[str, ...]:
    """The symbols whose stock_data_adjusted values `changes` moved (the view computes them
    when read: nothing to recompute, only to report)."""
    try:
        return tuple(symbols_with_bars_around(ctx.db, [(c.symbol, c.day) for c in changes]))
    except DatabaseError as exc:  # report every symbol with a change rather than none
        logger.error("could not read which adjusted prices the actions moved: %s", exc)
        return tuple(dict.fromkeys(c.symbol for c in changes))


def _refresh_one(
    ctx: IngestContext, symbol: str, function: ActionFunction
) -> tuple[ActionsResult, tuple[ActionStatus, str] | None]:
    """One fetch and store; the halt it imposes on the rest of the run, if any."""
    halt: tuple[ActionStatus, str] | None = None
    status, message, stored_as = ActionStatus.FAILED, "", "failed"
    stored, skipped = StoredActions(), 0
    with ctx.gate.attribute(symbol, function.value) as tally:
        try:
            stored, skipped = _fetch_and_store(ctx, symbol, function)
            status, message, stored_as = ActionStatus.LOADED, _note(stored, function), "loaded"
        except RateLimited as exc:
            ctx.gate.note_rate_limit(exc)
            halt = (ActionStatus.DEFERRED, f"not attempted: {exc.message}")
            status, message, stored_as = ActionStatus.DEFERRED, exc.message, "deferred"
        except InvalidApiKey as exc:
            halt = (ActionStatus.FAILED, f"not attempted: {exc.message}")
            message = exc.message
        except (PremiumEndpoint, PremiumParameter, DemoKeyMisuse) as exc:
            message, stored_as = exc.message, "premium"
        except AlphaVantageError as exc:
            message = f"{type(exc).__name__}: {exc.message}"
            stored_as = "rejected" if is_symbol_rejection(exc) else "failed"
        except DatabaseError as exc:
            message = f"database: {exc}"
        except Exception as exc:  # a bug must not stop the other symbols; it is logged whole
            logger.exception("%s %s: unexpected error", symbol, function)
            message = f"unexpected {type(exc).__name__}: {exc}"
    result = ActionsResult(
        symbol, function, status, calls=tally.calls, changes=stored.changes,
        unchanged=stored.unchanged, skipped=skipped, message=message,
    )  # fmt: skip
    _record(ctx, result, stored_as)
    return result, halt


def _fetch_and_store(
    ctx: IngestContext, symbol: str, function: ActionFunction
) -> tuple[StoredActions, int]:
    """What storing the answer did, and how many of its rows were malformed."""
    if function is ActionFunction.SPLITS:
        splits = ctx.client.fetch_splits(symbol)
        return store_splits(ctx.db, symbol, splits.items), sum(splits.skipped.values())
    dividends = ctx.client.fetch_dividends(symbol)
    return store_dividends(ctx.db, symbol, dividends.items), sum(dividends.skipped.values())


def _note(stored: StoredActions, function: ActionFunction) -> str:
    if not stored.kept_on_empty:
        return ""
    return (
        f"Alpha Vantage listed no {function.value.lower()}; kept the {stored.kept_on_empty}"
        " stored (an empty answer never deletes history)"
    )


def _record(ctx: IngestContext, result: ActionsResult, stored_as: str) -> None:
    try:
        record_refresh(
            ctx.db, result.symbol, result.function.value, stored_as, result.message,
            succeeded=stored_as == "loaded", at=ctx.clock.now(),
        )  # fmt: skip
    except DatabaseError as exc:
        logger.error("%s %s: could not record the refresh: %s", result.symbol, result.function, exc)
