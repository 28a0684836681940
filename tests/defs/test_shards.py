"""stockpipe.defs.shards: which partitions a universe gets, where a symbol lives, and what a
shard's event says."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from stockpipe.defs.shards import (
    PER_SYMBOL_MAX,
    SHARD_COUNT,
    in_shards,
    shard_event,
    shard_keys,
    shard_of,
    symbol_rows,
)
from stockpipe.ingest.results import SymbolResult, SymbolStatus
from tests.defs.conftest import load_definitions

KEY = dg.AssetKey("stock_data")


def partition_keys() -> list[str]:
    partitions = load_definitions().resolve_job_def("stock_job").partitions_def
    assert partitions is not None
    return partitions.get_partition_keys()  # type: ignore[call-arg]


def test_a_symbol_always_lands_in_the_same_shard() -> None:
    # Pinned: a change here would move every stored symbol's history to another shard.
    assert [shard_of(s) for s in ("IBM", "AAPL", "KEEP", "MSFT")] == [
        "shard-55", "shard-28", "shard-63", "shard-59",
    ]  # fmt: skip
    assert len(shard_keys()) == SHARD_COUNT == 64
    assert {shard_of(f"S{i:05d}") for i in range(10_000)} == set(shard_keys())


def test_symbols_are_kept_to_the_chosen_shards_grouped_by_shard() -> None:
    symbols = ["IBM", "AAPL", "KEEP", "MSFT"]

    assert in_shards(symbols, ["shard-63", "shard-28"]) == ["AAPL", "KEEP"]
    assert in_shards(symbols, []) == []


@pytest.mark.parametrize(
    ("count", "sharded"),
    [(PER_SYMBOL_MAX, False), (PER_SYMBOL_MAX + 1, True)],
    ids=["a list of 100 symbols keeps a partition each", "a list of 101 is sharded"],
)
def test_a_long_symbol_list_is_sharded(
    placeholder_env: pytest.MonkeyPatch, count: int, sharded: bool
) -> None:
    names = [f"S{i:03d}" for i in range(count)]
    placeholder_env.setenv("STOCK_SYMBOLS", ",".join(names))

    assert partition_keys() == (shard_keys() if sharded else names)


def test_a_shard_whose_symbols_all_failed_is_observed_with_their_rows() -> None:
    failed = SymbolResult("IBM", SymbolStatus.FAILED, calls=1, message="HTTP 500")
    deferred = SymbolResult("AAPL", SymbolStatus.DEFERRED, message="budget spent")

    event = shard_event(KEY, "shard-01", [failed, deferred])

    assert isinstance(event, dg.AssetObservation)
    assert event.description == "2 symbols: 1 deferred, 1 failed"
    assert [(r["symbol"], r["status"], r["message"]) for r in symbol_rows(event.metadata)] == [
        ("IBM", "failed", "HTTP 500"),
        ("AAPL", "deferred", "budget spent"),
    ]


def test_one_current_symbol_materializes_its_shard() -> None:
    loaded = SymbolResult(
        "IBM", SymbolStatus.LOADED, calls=1, inserted=3, latest_bar=date(2026, 12, 4)
    )
    failed = SymbolResult("AAPL", SymbolStatus.FAILED, calls=1, message="HTTP 500")

    event = shard_event(KEY, "shard-02", [loaded, failed])

    assert isinstance(event, dg.AssetMaterialization)
    assert event.metadata["rows_inserted"] == dg.MetadataValue.int(3)
    assert symbol_rows(event.metadata)[0]["latest_bar"] == "2026-12-04"
