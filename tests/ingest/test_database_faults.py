"""A database fault that outlives the retries fails its symbol only, with a clear message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import RunStatus, SymbolStatus
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import stored_rows


@pytest.fixture
def read_only_bars(pg_conninfo: str) -> Iterator[Database]:
    """A Database whose role may keep quota and symbol state but never write stock_data:
    a permanent fault (permission denied) on the upsert, from a real server."""
    role = f"stockpipe_ro_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'not-a-secret'")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        state_tables = "api_call_ledger, api_key_state, api_call_claimant, symbol_state"
        conn.execute(f"GRANT INSERT, UPDATE, DELETE ON {state_tables} TO {role}")
        conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    conninfo = make_conninfo(pg_conninfo, user=role, password="not-a-secret")
    try:
        with Database.from_conninfo(conninfo, migrate=False) as database:
            yield database
    finally:
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def test_a_failed_upsert_fails_its_symbol_and_the_run_goes_on(
    db: Database,
    read_only_bars: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
) -> None:
    ingest_symbols(make_context(), ["MSFT"])  # stored with full rights: up to date

    summary = ingest_symbols(make_context(read_only_bars), ["IBM", "MSFT"])

    assert [(r.symbol, r.status, r.calls) for r in summary.results] == [
        ("IBM", SymbolStatus.FAILED, 1),
        ("MSFT", SymbolStatus.UP_TO_DATE, 0),
    ]
    message = summary.results[0].message
    assert message.startswith("database: ")
    assert "permission denied for table stock_data" in message
    assert "not-a-secret" not in message
    assert summary.status is RunStatus.PARTIAL
    assert stored_rows(db, "IBM") == []
