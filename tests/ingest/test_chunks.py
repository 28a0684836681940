"""Chunks of a symbol universe: bounded in number, in the order the library takes symbols."""

from __future__ import annotations

import pytest

from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.chunks import DEFAULT_MAX_CHUNKS, plan_chunks, split_into_chunks
from stockpipe.store import Database
from tests.ingest.conftest import ContextFactory

AIRFLOW_MAX_MAP_LENGTH = 1024  # Airflow's default [core] max_map_length


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, []),
        (1, [1]),
        (25, [25]),
        (30, [25, 5]),
        (6400, [25] * 256),
        (10_000, [40] * 250),
        (6401, [26] * 246 + [5]),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else None,
)
def test_chunks_hold_25_symbols_until_the_chunk_count_would_pass_its_bound(
    count: int, sizes: list[int]
):
    symbols = [f"S{n:05d}" for n in range(count)]

    chunks = split_into_chunks(symbols)

    assert [len(c) for c in chunks] == sizes
    assert [s for c in chunks for s in c] == symbols  # every symbol once, order kept


def test_a_universe_of_a_hundred_thousand_symbols_stays_under_max_map_length():
    chunks = split_into_chunks([f"S{n:06d}" for n in range(100_000)])

    assert len(chunks) <= DEFAULT_MAX_CHUNKS < AIRFLOW_MAX_MAP_LENGTH


def test_duplicates_are_dropped_keeping_the_first_place():
    assert split_into_chunks(["IBM", "MSFT", "IBM", "AAPL"], per_chunk=2) == [
        ["IBM", "MSFT"],
        ["AAPL"],
    ]


@pytest.mark.parametrize(
    "arguments", [{"per_chunk": 0}, {"max_chunks": 0}], ids=["no symbol a chunk", "no chunk"]
)
def test_a_bound_below_one_is_rejected(arguments: dict[str, int]):
    with pytest.raises(ValueError, match="must be >= 1"):
        split_into_chunks(["IBM"], **arguments)


def test_chunks_follow_the_library_order_so_deferred_symbols_lead_the_next_run(
    db: Database, make_context: ContextFactory
):
    # A budget of 1: AAA loads, BBB and CCC are deferred; DDD was never asked for.
    ingest_symbols(make_context(API_DAILY_BUDGET=1), ["AAA", "BBB", "CCC"])

    chunks = plan_chunks(db, ["AAA", "BBB", "CCC", "DDD"], per_chunk=2)

    # Deferred first (longest waiting first), then never loaded, then the stored one.
    assert chunks == [["BBB", "CCC"], ["DDD", "AAA"]]
