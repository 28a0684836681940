"""Two runs started at once share one budget: together they never spend more than it."""

from __future__ import annotations

import threading

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunSummary, SymbolStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import ledger_count

RUNS = (["IBM", "MSFT", "AAPL", "NVDA"], ["AMZN", "GOOG", "META", "TSLA"])


def test_two_runs_started_at_once_never_exceed_the_budget_together(
    db: Database, pg_conninfo: str, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    start = threading.Barrier(len(RUNS))
    summaries: list[RunSummary | None] = [None] * len(RUNS)

    def run(slot: int) -> None:
        # Each run has a pool of its own, as two processes would.
        with Database.from_conninfo(pg_conninfo, migrate=False) as own:
            context = make_context(own, API_DAILY_BUDGET=3)
            start.wait(timeout=30)
            summaries[slot] = ingest_symbols(context, RUNS[slot])

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(len(RUNS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    results = [r for summary in summaries if summary for r in summary.results]
    assert len(results) == 8
    loaded = [r for r in results if r.status is SymbolStatus.LOADED]
    deferred = [r for r in results if r.status is SymbolStatus.DEFERRED]
    assert (len(loaded), len(deferred)) == (3, 5)
    assert sum(r.calls for r in results) == 3
    assert ledger_count(db) == 3
    assert len(fake.calls()) == 3
