"""A reply that never completes fails its own symbol in bounded time; the others load."""

from __future__ import annotations

import pytest
import requests

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import expected_rows, ledger_count, stored_rows


@pytest.mark.timeout(120)
def test_a_trickling_reply_fails_its_symbol_and_the_run_goes_on(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    # Warm the fake up (its first answer loads the exchange calendar), then forget the call.
    requests.get(fake.url, params={"function": "TIME_SERIES_DAILY", "symbol": "X"}, timeout=60)
    fake.reset()
    # One byte every 50 ms: before the whole-reply deadline this run never ended.
    fake.inject(Fault.TRICKLE, symbol="MSFT", delay=0.05)
    context = make_context(API_CONNECT_TIMEOUT_SEC=1, API_READ_TIMEOUT_SEC=2, API_MAX_RETRIES=1)

    summary = ingest_symbols(context, ["IBM", "MSFT", "AAPL"])

    assert summary.status is RunStatus.PARTIAL
    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.FAILED, 2),
        ("AAPL", SymbolStatus.LOADED, 1),
    ]
    assert "no complete reply for MSFT TIME_SERIES_DAILY" in summary.results[1].message
    assert [(c.symbol, c.outcome) for c in fake.calls()] == [
        ("IBM", "data"), ("MSFT", "trickle"), ("MSFT", "trickle"), ("AAPL", "data"),
    ]  # fmt: skip
    assert ledger_count(db) == 4, "both trickles reached the API: they count"
    assert stored_rows(db, "MSFT") == []
    assert stored_rows(db, "AAPL") == expected_rows("AAPL")
