"""The backfill started while a higher class's run has calls in flight (issue 18, the budget
order with requests in flight): those calls count as spent and, until the run records them,
still as needed, so the reserve read then leaves nothing. The backfill waits for that run
instead of stopping before its first call, and then spends what is really left."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.backfill import BackfillStatus, run_backfill
from stockpipe.quota import CallClass, PostgresCallGate
from stockpipe.quota.classes import ACTIVE_POLL_SEC
from stockpipe.store import Database
from stockpipe.store.corporate_actions import record_refresh
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import FakeClock

SYMBOLS = ["IBM", "MSFT"]
# The refresh's 2 calls, the corporate actions' 4, the backfill's 2 daily `full` units.
BUDGET = 2 + 4 + 2


class ActionsFinishWhileWaited(FakeClock):
    """The first time a caller waits for a higher-class run, that run records its calls and
    ends (what the other process would do meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_first_poll: list[Callable[[], None]] = []

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if seconds == ACTIVE_POLL_SEC and self.on_first_poll:
            self.on_first_poll.pop()()


def test_the_backfill_waits_for_a_run_with_calls_in_flight_then_spends_what_is_left(
    make_context: ContextFactory, fake: FakeAlphaVantage, db: Database
) -> None:
    clock = ActionsFinishWhileWaited()
    env = {"API_DAILY_BUDGET": BUDGET, "STOCK_SYMBOLS": ",".join(SYMBOLS)}
    ctx = make_context(at=clock, STOCK_SERIES="daily", API_OUTPUT_SIZE="compact", **env)
    ingest_symbols(ctx, SYMBOLS)  # today's refresh: 2 calls, done

    # The corporate actions run in another process: IBM's two calls are in flight (reserved,
    # not yet recorded). The backfill's reserve is then MSFT's 2 and IBM's 2 again: 8 - 4 - 4.
    actions = PostgresCallGate(db, ctx.settings, clock=clock)
    run = ExitStack()
    run.enter_context(actions.serving(CallClass.ACTIONS))
    actions.acquire()
    actions.acquire()

    def actions_finish() -> None:
        for function in ("SPLITS", "DIVIDENDS"):
            record_refresh(db, "IBM", function, "loaded", "", succeeded=True, at=clock.now())
        run.close()

    clock.on_first_poll.append(actions_finish)
    try:
        summary = run_backfill(ctx)
    finally:
        run.close()

    assert not clock.on_first_poll  # the backfill did wait for the actions run
    assert (summary.calls, summary.status) == (2, BackfillStatus.COMPLETE)
    assert sorted((c.symbol, c.outputsize) for c in fake.calls()[len(SYMBOLS) :]) == [
        ("IBM", "full"),
        ("MSFT", "full"),
    ]
