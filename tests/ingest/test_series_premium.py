"""A series this key only gets premium replies for fails once, is remembered per key like a
rejected symbol (no call on later runs), and never blocks another series."""

from __future__ import annotations

from collections.abc import Sequence

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolResult, SymbolStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import FakeClock, ledger_count

NEEDS_PREMIUM = (
    "TIME_SERIES_INTRADAY needs a premium Alpha Vantage key: this key got a premium-only reply;"
    " the intraday series is not called again for this key until the retry day."
    " Upgrade the key or drop intraday from STOCK_SERIES"
)
SKIPPED = (
    "TIME_SERIES_INTRADAY needs a premium Alpha Vantage key: this key got a premium-only reply"
    " on 2024-05-08; the intraday series is skipped without a call until 2024-05-15. Upgrade"
    " the key, drop intraday from STOCK_SERIES, or run"
    " `stockpipe ingest --series intraday --retry-rejected`"
)


def outcome(results: Sequence[SymbolResult]) -> list[tuple[str, SymbolStatus, int, str]]:
    return [(r.symbol, r.status, r.calls, r.message) for r in results]


def test_a_premium_only_series_fails_once_then_costs_no_call_until_its_retry_day(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory, clock: FakeClock
) -> None:
    fake.configure(free_tier=True)

    first = ingest_symbols(make_context(), ["IBM", "MSFT"], series="intraday")

    assert first.status is RunStatus.FAILED
    assert outcome(first.results) == [
        ("IBM", SymbolStatus.FAILED, 1, NEEDS_PREMIUM),
        ("MSFT", SymbolStatus.FAILED, 0, NEEDS_PREMIUM),
    ]

    clock.advance(hours=20)
    second = ingest_symbols(make_context(), ["IBM", "MSFT"], series="intraday")

    assert outcome(second.results) == [
        ("IBM", SymbolStatus.FAILED, 0, SKIPPED),
        ("MSFT", SymbolStatus.FAILED, 0, SKIPPED),
    ]
    assert (len(fake.calls()), ledger_count(db)) == (1, 1)

    clock.advance(days=7)  # 2024-05-15: the retry day
    third = ingest_symbols(make_context(), ["IBM"], series="intraday")
    assert [(r.status, r.calls) for r in third.results] == [(SymbolStatus.FAILED, 1)]
    assert len(fake.calls()) == 2


def test_a_failing_series_does_not_block_another(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(free_tier=True)
    ingest_symbols(make_context(), ["IBM"], series="intraday")

    weekly = ingest_symbols(make_context(), ["IBM"], series="weekly")
    daily = ingest_symbols(make_context(), ["IBM"])

    assert [(r.status, r.calls) for r in weekly.results] == [(SymbolStatus.LOADED, 1)]
    assert [(r.status, r.calls) for r in daily.results] == [(SymbolStatus.LOADED, 2)]
    assert daily.results[0].history_limited  # the free key's daily full -> compact fallback
    assert weekly.status is RunStatus.SUCCESS


def test_retry_rejected_tries_at_once_and_a_success_clears_the_memory(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(free_tier=True)
    ingest_symbols(make_context(), ["IBM"], series="intraday")
    fake.configure(free_tier=False)  # the key was upgraded

    retried = ingest_symbols(make_context(), ["IBM"], series="intraday", retry_rejected=True)
    afterwards = ingest_symbols(make_context(), ["MSFT"], series="intraday")

    assert [(r.status, r.calls) for r in retried.results] == [(SymbolStatus.LOADED, 1)]
    assert [(r.status, r.calls) for r in afterwards.results] == [(SymbolStatus.LOADED, 1)]
    denials = db.run(
        lambda conn: conn.execute("SELECT count(*) FROM api_key_series_denial").fetchone()
    )
    assert denials == (0,)


def test_the_denial_is_kept_per_key(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(free_tier=True)
    ingest_symbols(make_context(), ["IBM"], series="intraday")
    fake.configure(free_tier=False)

    other_key = ingest_symbols(
        make_context(API_KEY="another-key-not-secret-0002"), ["IBM"], series="intraday"
    )

    assert [(r.status, r.calls) for r in other_key.results] == [(SymbolStatus.LOADED, 1)]
