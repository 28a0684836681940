"""Corporate actions with several requests in flight (issue 18): the results keep the order of
the symbols, the day's budget is spent exactly, and what it leaves out is deferred without a
call, whichever worker met the end of it."""

from __future__ import annotations

from collections import Counter

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.corporate_actions import ActionStatus, refresh_corporate_actions
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import ledger_count

SYMBOLS = ["IBM", "MSFT", "AAPL", "NVDA"]


def test_four_in_flight_spend_the_budget_exactly_and_keep_the_order(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    ctx = make_context(API_MAX_IN_FLIGHT=4, API_DAILY_BUDGET=4 + 5, STOCK_SYMBOLS=",".join(SYMBOLS))
    ingest_symbols(ctx, SYMBOLS)  # today's refresh first: 4 calls, nothing kept back after it
    summary = refresh_corporate_actions(ctx, SYMBOLS)

    assert [(r.symbol, r.function.value) for r in summary.results] == [
        (symbol, function) for symbol in SYMBOLS for function in ("SPLITS", "DIVIDENDS")
    ]
    assert Counter(r.status for r in summary.results) == {
        ActionStatus.LOADED: 5,
        ActionStatus.DEFERRED: 3,
    }
    assert all(r.calls == 0 for r in summary.results if r.status is ActionStatus.DEFERRED)
    assert ledger_count(db) == len(fake.calls()) == 4 + 5
