"""Per-symbol memory between runs (table `symbol_state`, one row per symbol and series): last
result, and who goes first.

Deferred symbols are fetched first on the next run of their series, then symbols with no bars
at all, then the stalest; so a small daily budget rotates through a long symbol list instead of
starving its tail. Symbols Alpha Vantage rejected come after all of those
(stockpipe.ingest.rejection). The SQL lives in stockpipe.store.symbol_state.
"""

from __future__ import annotations

from datetime import datetime

from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.series import DAILY, Series
from stockpipe.store import Database
from stockpipe.store.symbol_state import (
    StateUpdate,
    SymbolState,
    load_states,
    order_symbols,
    record_state,
)

__all__ = ["SymbolState", "load_states", "order_symbols", "record_result"]


def record_result(db: Database, result: SymbolResult, at: datetime, series: Series = DAILY) -> None:
    """Store one symbol's outcome of `series` (see stockpipe.store.symbol_state.record_state)."""
    record_state(db, state_update(result), at, series)


def state_update(result: SymbolResult) -> StateUpdate:
    """What symbol_state keeps of one result."""
    return StateUpdate(
        symbol=result.symbol,
        status=result.status,
        message=result.message,
        calls=result.calls,
        history_limited=result.history_limited,
        full_loaded=result.status is SymbolStatus.LOADED and result.output_size == "full",
        rejected=result.rejected and result.calls > 0,
    )
