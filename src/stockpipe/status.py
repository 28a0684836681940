"""The status of one symbol's ingest: shared by the pipeline (stockpipe.ingest.results) and the
store's memory of it (stockpipe.store.symbol_state), so it lives below both."""

from __future__ import annotations

from enum import StrEnum


class SymbolStatus(StrEnum):
    LOADED = "loaded"  # a call was made and its bars were upserted
    UP_TO_DATE = "up_to_date"  # the stored bars already hold the latest completed session
    # no call could be spent (budget or rate limit), or none is worth it yet (the target session
    # is not published: stockpipe.ingest.publication): first in line next run
    DEFERRED = "deferred"
    FAILED = "failed"  # a permanent error, or a transient one that outlived its retries
