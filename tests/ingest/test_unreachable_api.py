"""An API that cannot be reached costs nothing: no ledger row, the rest of the run deferred."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.store import Database
from stockpipe.store.embedded import free_port
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import FakeClock, ledger_count, make_settings

UNREACHABLE = "Alpha Vantage is unreachable at 127.0.0.1: "
HINT = "check the network or ALPHAVANTAGE_BASE_URL"


@pytest.fixture
def dead_api_context(db: Database, clock: FakeClock) -> Iterator[IngestContext]:
    """A context whose ALPHAVANTAGE_BASE_URL is a closed port on 127.0.0.1: refused at once."""
    settings = make_settings(
        ALPHAVANTAGE_BASE_URL=f"http://127.0.0.1:{free_port()}/query", API_MAX_RETRIES=4
    )
    with IngestContext(settings, db, clock=clock) as context:
        yield context


@pytest.mark.timeout(120)
def test_a_refused_api_spends_no_call_and_defers_the_whole_run(
    db: Database, dead_api_context: IngestContext
) -> None:
    summary = ingest_symbols(dead_api_context, ["IBM", "MSFT", "AAPL"])

    # Before: 5 attempts reserved per symbol, 15 of the day's 25 "spent" on a dead network.
    assert ledger_count(db) == 0
    assert summary.status is RunStatus.FAILED
    assert summary.calls == 0
    first, *rest = summary.results
    assert (first.symbol, first.status, first.calls) == ("IBM", SymbolStatus.DEFERRED, 0)
    assert first.message.startswith(UNREACHABLE)
    assert "Connection refused (5 attempts, no call spent)" in first.message
    assert first.message.endswith(HINT)
    assert [(r.symbol, r.status, r.calls) for r in rest] == [
        ("MSFT", SymbolStatus.DEFERRED, 0),
        ("AAPL", SymbolStatus.DEFERRED, 0),
    ]
    assert all(r.message == f"not attempted: {first.message}" for r in rest)
    # The run's one line (Dagster's failure description, the CLI's last line) says why.
    assert summary.message == (
        f"3 symbols: 3 deferred; 0 API calls. deferred: IBM, MSFT, AAPL. {first.message}"
    )


def test_the_ledger_counts_exactly_the_calls_the_api_received(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    dead_api_context: IngestContext,
) -> None:
    # The fake's own log is the witness of what reached an API; the same budget is then
    # used against a dead endpoint and must not grow.
    loaded = ingest_symbols(make_context(), ["IBM"])
    assert loaded.status is RunStatus.SUCCESS
    deferred = ingest_symbols(dead_api_context, ["MSFT", "AAPL"])

    assert [r.status for r in deferred.results] == [SymbolStatus.DEFERRED] * 2
    assert len(fake.calls()) == 1
    assert ledger_count(db) == len(fake.calls())
