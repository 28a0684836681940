"""Split a universe of symbols into chunks that an orchestrator runs one after another.

Airflow maps one task per chunk (stockpipe.airflow); a chunk is the unit of retry and of
progress in its UI. Two rules make the split safe for thousands of symbols:

- the chunk count stays bounded (`max_chunks`, well under Airflow's `max_map_length` of 1024):
  past `per_chunk * max_chunks` symbols the chunks grow instead of multiplying;
- the symbols are split in the library's own order (deferred first, then never loaded, then
  stalest, rejected last: `order_symbols`), not the configured one. Chunks run in map order, so
  with a budget smaller than the universe the symbols a spent budget left behind yesterday
  go first today, instead of the last chunks starving forever.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from stockpipe.ingest.state import order_symbols
from stockpipe.store import Database, DatabaseError

logger = logging.getLogger(__name__)

# 25 is the free tier's daily budget: one chunk is about one day's calls on a free key.
DEFAULT_PER_CHUNK = 25
# A quarter of Airflow's default max_map_length (1024): up to 6,400 symbols the chunks hold 25,
# past that they grow (10,000 symbols: 250 chunks of 40).
DEFAULT_MAX_CHUNKS = 256


def split_into_chunks(
    symbols: Sequence[str],
    *,
    per_chunk: int = DEFAULT_PER_CHUNK,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
) -> list[list[str]]:
    """`symbols` (duplicates dropped, order kept) in at most `max_chunks` chunks, all of one
    size of at least `per_chunk` symbols but the last, which holds what is left."""
    if per_chunk < 1 or max_chunks < 1:
        raise ValueError(f"per_chunk and max_chunks must be >= 1, got {per_chunk}, {max_chunks}")
    unique = list(dict.fromkeys(symbols))
    size = max(per_chunk, math.ceil(len(unique) / max_chunks))
    return [unique[start : start + size] for start in range(0, len(unique), size)]


def plan_chunks(
    db: Database,
    symbols: Sequence[str],
    *,
    per_chunk: int = DEFAULT_PER_CHUNK,
    max_chunks: int = DEFAULT_MAX_CHUNKS,
) -> list[list[str]]:
    """The chunks of `symbols`, in the order the next run should take them."""
    try:
        ordered = order_symbols(db, symbols)
    except DatabaseError as exc:
        # Same fallback as ingest_symbols: the given order still ingests every symbol.
        logger.error("could not read symbol state, keeping the given order: %s", exc)
        ordered = list(symbols)
    chunks = split_into_chunks(ordered, per_chunk=per_chunk, max_chunks=max_chunks)
    logger.info(
        "%d symbols in %d chunks of up to %d",
        sum(map(len, chunks)),
        len(chunks),
        len(chunks[0]) if chunks else 0,
    )
    return chunks
