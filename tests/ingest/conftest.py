"""Fixtures of the ingest tests: the fake Alpha Vantage server pinned to a known day, and
contexts wired to it and to the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stockpipe.ingest import IngestContext
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from tests.ingest.helpers import HISTORY, TARGET, FakeClock, make_settings


@pytest.fixture
def fake() -> Iterator[FakeAlphaVantage]:
    with FakeAlphaVantage(end_date=TARGET, history_length=HISTORY) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


ContextFactory = Callable[..., IngestContext]


@pytest.fixture
def make_context(
    db: Database, fake: FakeAlphaVantage, clock: FakeClock
) -> Iterator[ContextFactory]:
    """make_context(db=None, at=clock, **env): an IngestContext on the test db and fake server."""
    opened: list[IngestContext] = []

    def build(
        database: Database | None = None, *, at: FakeClock | None = None, **env: Any
    ) -> IngestContext:
        settings = make_settings(ALPHAVANTAGE_BASE_URL=fake.url, **env)
        context = IngestContext(settings, database or db, clock=at or clock)
        opened.append(context)
        return context

    yield build
    for context in opened:
        context.close()
