"""Alpha Vantage's awkward replies during a run: throttles, bad symbols, premium, bad keys."""

from __future__ import annotations

from stockpipe.ingest import ingest_symbol, ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.quota import SLOW_SPACING_FLOOR_SEC
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage, Fault
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import HISTORY, expected_rows, ledger_count, stored_rows

SYMBOLS = ["IBM", "MSFT", "AAPL"]


def outcomes(db: Database) -> list[tuple[str, str]]:
    return db.run(
        lambda conn: conn.execute(
            "SELECT symbol, outcome FROM api_call_ledger ORDER BY id"
        ).fetchall()
    )


def test_a_rate_limit_reply_mid_run_is_retried_slowly_and_the_data_is_complete(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.inject(Fault.RATE_LIMIT_MINUTE, on_call=2)
    context = make_context()
    summary = ingest_symbols(context, SYMBOLS)

    assert summary.status is RunStatus.SUCCESS
    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("IBM", SymbolStatus.LOADED, 1),
        ("MSFT", SymbolStatus.LOADED, 2),
        ("AAPL", SymbolStatus.LOADED, 1),
    ]
    assert outcomes(db) == [
        ("IBM", "data"), ("MSFT", "rate_limited"), ("MSFT", "data"), ("AAPL", "data"),
    ]  # fmt: skip
    assert context.gate.slow_spacing() == SLOW_SPACING_FLOOR_SEC
    for symbol in SYMBOLS:
        assert stored_rows(db, symbol) == expected_rows(symbol)


def test_an_invalid_symbol_fails_alone_and_is_named(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    summary = ingest_symbols(make_context(), ["IBM", "INVALID1", "MSFT"])

    assert [(r.symbol, r.status) for r in summary.results] == [
        ("IBM", SymbolStatus.LOADED),
        ("INVALID1", SymbolStatus.FAILED),
        ("MSFT", SymbolStatus.LOADED),
    ]
    failed = summary.results[1]
    assert failed.calls == 1
    assert failed.message.startswith("InvalidCall: ")
    assert "Invalid API call" in failed.message
    assert summary.status is RunStatus.PARTIAL
    assert "failed: INVALID1 (InvalidCall: " in summary.message
    assert stored_rows(db, "INVALID1") == []


def test_a_premium_parameter_reply_falls_back_to_compact_and_is_remembered(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(free_tier=True)
    summary = ingest_symbols(make_context(), ["IBM", "MSFT"])

    assert [(r.symbol, r.calls, r.output_size, r.history_limited) for r in summary.results] == [
        ("IBM", 2, "compact", True),
        ("MSFT", 1, "compact", True),
    ]
    assert [(c.symbol, c.outputsize) for c in fake.calls()] == [
        ("IBM", "full"), ("IBM", "compact"), ("MSFT", "compact"),
    ]  # fmt: skip
    assert summary.status is RunStatus.SUCCESS
    assert "history limited" in summary.results[0].message
    assert stored_rows(db, "IBM") == expected_rows("IBM", outputsize="compact")
    assert len(stored_rows(db, "IBM")) == 100 < HISTORY


def test_a_rejected_key_fails_the_run_after_one_call(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    fake.configure(valid_keys=["another-key"])
    summary = ingest_symbols(make_context(), SYMBOLS)

    assert [(r.status, r.calls) for r in summary.results] == [
        (SymbolStatus.FAILED, 1), (SymbolStatus.FAILED, 0), (SymbolStatus.FAILED, 0),
    ]  # fmt: skip
    assert summary.results[0].message.startswith("the API key is invalid or missing; set API_KEY")
    assert summary.results[2].message.startswith("not attempted: ")
    assert summary.status is RunStatus.FAILED
    assert ledger_count(db) == 1


def test_the_demo_key_fails_other_symbols_but_serves_ibm(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    summary = ingest_symbols(make_context(API_KEY="demo"), ["MSFT", "IBM"])
    assert [(r.symbol, r.status) for r in summary.results] == [
        ("MSFT", SymbolStatus.FAILED),
        ("IBM", SymbolStatus.LOADED),
    ]
    assert summary.results[0].message.startswith("DemoKeyMisuse: ")


def test_a_payload_without_one_valid_bar_fails_with_its_reasons(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    bad = {"2024-05-08": {"1. open": "10", "2. high": "9", "3. low": "8", "4. close": "9.5",
                          "5. volume": "100"}}  # fmt: skip
    fake.set_series("IBM", "TIME_SERIES_DAILY", bad)
    result = ingest_symbol(make_context(), "IBM")

    assert (result.status, result.calls, result.inserted) == (SymbolStatus.FAILED, 1, 0)
    assert result.skipped_total == 1
    assert stored_rows(db, "IBM") == []
