"""How the universe maps onto Dagster partitions: one per symbol for a short STOCK_SYMBOLS list,
a fixed set of shards for the listing or a long list (docs/architecture.md, "Partitions at
10,000 symbols").

- Per symbol (STOCK_UNIVERSE=symbols with at most PER_SYMBOL_MAX symbols): each symbol is a
  partition, materialized with its own counts, as always. The list is an environment variable,
  so it only changes with a restart, and a few dozen events per run cost well under a second.
- Shards (STOCK_UNIVERSE=listing, or a longer list): SHARD_COUNT fixed partitions `shard-00` ..
  `shard-63`; a symbol belongs to the shard its CRC-32 names, so the mapping needs no table, is
  the same in every process and never moves a symbol when the universe grows or shrinks. The
  universe is read when a run starts, so a new listing is ingested and shown on its first day
  without a restart or a sensor. Each shard is one event per run, with a table of its symbols
  (status, calls, rows, newest bar, message): per-symbol state in the UI at 64 event-log writes
  a run instead of 10,000 (about 23 ms each on PostgreSQL).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from stockpipe.ingest.results import SymbolResult, SymbolStatus

SHARD_COUNT = 64
# A longer STOCK_SYMBOLS list is sharded: 100 events cost about 2.3 s a run at 23 ms each.
PER_SYMBOL_MAX = 100
SHARD_PREFIX = "shard-"
# The metadata entry holding a shard's table of symbols; stockpipe.defs.alert_runs reads it.
SYMBOLS_ENTRY = "symbols"

_REPORTED = (SymbolStatus.LOADED, SymbolStatus.UP_TO_DATE)
_COLUMNS = (
    dg.TableColumn("symbol", "string"),
    dg.TableColumn("status", "string"),
    dg.TableColumn("calls", "int"),
    dg.TableColumn("rows_inserted", "int"),
    dg.TableColumn("rows_updated", "int"),
    dg.TableColumn("rows_skipped", "int"),
    dg.TableColumn("latest_bar", "string"),
    dg.TableColumn("awaiting_publication", "bool"),
    dg.TableColumn("message", "string"),
)


def shard_keys() -> list[str]:
    return [f"{SHARD_PREFIX}{index:02d}" for index in range(SHARD_COUNT)]


def shard_of(symbol: str) -> str:
    """The shard a symbol always belongs to (CRC-32, not hash(): that one is salted per
    process)."""
    return f"{SHARD_PREFIX}{zlib.crc32(symbol.encode()) % SHARD_COUNT:02d}"


def is_sharded(keys: Sequence[str]) -> bool:
    """Whether a partitions definition's keys are the shards (a symbol never starts so)."""
    return list(keys) == shard_keys()


def uses_shards(symbols: Sequence[str], *, listing: bool) -> bool:
    return listing or len(symbols) > PER_SYMBOL_MAX


def in_shards(symbols: Iterable[str], shards: Iterable[str]) -> list[str]:
    """The symbols that fall in `shards`, shard by shard (so a shard's event can be reported as
    soon as its last symbol is done), alphabetical within a shard."""
    wanted = set(shards)
    chosen = [symbol for symbol in symbols if shard_of(symbol) in wanted]
    return sorted(chosen, key=lambda symbol: (shard_of(symbol), symbol))


def shard_event(
    asset_key: dg.AssetKey, shard: str, results: Sequence[SymbolResult]
) -> dg.AssetMaterialization | dg.AssetObservation:
    """One shard's event: a materialization when any of its symbols is stored and current (or
    it holds none today), else an observation; either way a table row per symbol."""
    stored = sum(result.status in _REPORTED for result in results)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    metadata: dict[str, dg.MetadataValue] = {
        "symbol_count": dg.MetadataValue.int(len(results)),
        "by_status": dg.MetadataValue.json(counts),
        "calls": dg.MetadataValue.int(sum(result.calls for result in results)),
        "rows_inserted": dg.MetadataValue.int(sum(result.inserted for result in results)),
        "rows_updated": dg.MetadataValue.int(sum(result.updated for result in results)),
        SYMBOLS_ENTRY: dg.MetadataValue.table(
            records=[_record(result) for result in results],
            schema=dg.TableSchema(columns=list(_COLUMNS)),
        ),
    }
    noun = "symbol" if len(results) == 1 else "symbols"
    description = f"{len(results)} {noun}: {summary}" if results else "no symbol of the universe"
    event = dg.AssetMaterialization if stored or not results else dg.AssetObservation
    return event(asset_key=asset_key, partition=shard, description=description, metadata=metadata)


def _record(result: SymbolResult) -> dg.TableRecord:
    return dg.TableRecord(
        {
            "symbol": result.symbol,
            "status": result.status.value,
            "calls": result.calls,
            "rows_inserted": result.inserted,
            "rows_updated": result.updated,
            "rows_skipped": result.skipped_total,
            "latest_bar": result.latest_bar.isoformat() if result.latest_bar else "none",
            "awaiting_publication": result.awaiting_publication,
            "message": result.message,
        }
    )


def symbol_rows(metadata: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-symbol rows of a shard event's metadata (empty for any other event)."""
    table = metadata.get(SYMBOLS_ENTRY)
    records = getattr(table, "records", None)
    if not records:
        return []
    return [record.data for record in records]
