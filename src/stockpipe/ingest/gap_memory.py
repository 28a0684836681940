"""The daily series' gaps between runs (migration 0012), around the rules of
stockpipe.ingest.gaps:

- read: every symbol's missing sessions, in one query for a whole run;
- after a symbol's fetch: the sessions its answer spans but lacks are remembered as ones the
  vendor has no bar for (a halted stock): no longer a gap, never fetched for again. Remembered
  sessions an answer holds after all are stored by the upsert and forgotten here;
- missing sessions no call of this key reaches (older than compact's reach, and the key is
  denied full history or API_OUTPUT_SIZE=compact) are reported once per symbol: a warning and
  the symbol's result message. Later runs spend no call and say nothing more about them;
  `stockpipe status` and the asset check keep showing them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import psycopg

from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.gaps import (
    Answer,
    SessionGaps,
    answer_lacks,
    full_history_allowed,
    premium_only_message,
    session_gaps,
    vendor_missing_message,
)
from stockpipe.ingest.plan import FetchPlan, OutputSize
from stockpipe.ingest.results import SymbolResult, SymbolStatus
from stockpipe.store import Database, DatabaseError
from stockpipe.store.sessions import (
    read_stored_sessions,
    record_session_memory,
    write_session_memory,
)

logger = logging.getLogger("stockpipe.ingest")


def read_gaps(db: Database, symbols: Sequence[str], target: date) -> dict[str, SessionGaps]:
    """Every symbol's missing sessions up to `target`, in one query."""
    stored = read_stored_sessions(db, symbols, today=target)
    return {symbol: session_gaps(symbol, stored.get(symbol), target) for symbol in symbols}


def full_history_allowed_for(ctx: IngestContext) -> bool:
    """Whether the daily refresh may ask this context's key for full history now."""
    return full_history_allowed(ctx.output_size, ctx.gate.full_history_denied())


@dataclass(frozen=True, slots=True)
class GapLearning:
    """What one symbol's fetch taught about its sessions (see the module docstring): the
    memory to write, and the notes for its result."""

    symbol: str
    vendor_missing: list[date] = field(default_factory=list)
    present: set[date] = field(default_factory=set)
    reported: list[date] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warning: str = ""  # premium-only sessions reported for the first time

    def write(self, conn: psycopg.Connection[Any], at: datetime, run_id: str | None) -> None:
        """The memory, inside the caller's transaction (a batch of symbols' writes)."""
        write_session_memory(
            conn, self.symbol, vendor_missing=self.vendor_missing, present=self.present,
            reported=self.reported, at=at, run_id=run_id,
        )  # fmt: skip

    def applied_to(self, result: SymbolResult) -> SymbolResult:
        if not self.notes:
            return result
        return replace(result, message="; ".join([m for m in (result.message, *self.notes) if m]))


def learn_gaps(
    ctx: IngestContext,
    result: SymbolResult,
    plan: FetchPlan,
    gaps: SessionGaps,
    *,
    answer: Answer | None,
    delivered: OutputSize | None,
    full_denied: bool,
) -> GapLearning:
    """What note_gaps records and adds to the result, without writing or logging it."""
    symbol = result.symbol
    loaded = result.status is SymbolStatus.LOADED and answer is not None
    learning = GapLearning(symbol)
    if loaded and answer is not None:
        whole = delivered == "full"
        learning.vendor_missing.extend(answer_lacks(answer, gaps, whole_history=whole))
        learning.present.update(
            day for day in gaps.vendor_missing | gaps.reported if answer.holds(day)
        )
        if learning.vendor_missing:
            learning.notes.append(vendor_missing_message(learning.vendor_missing))
    out_of_reach: Sequence[date] = ()
    if not (loaded and delivered == "full") and not full_history_allowed(
        ctx.output_size, full_denied
    ):
        out_of_reach = plan.far
    learning.reported.extend(day for day in out_of_reach if day not in gaps.reported)
    if learning.reported:
        message = premium_only_message(out_of_reach, ctx.output_size)
        learning.notes.append(message)
        return replace(learning, warning=message)
    return learning


def note_gaps(ctx: IngestContext, result: SymbolResult, learning: GapLearning) -> SymbolResult:
    """Record what one symbol's fetch taught (learn_gaps) in its own transaction; return the
    result with it added to its message. Never raises: a failed write costs at most one more
    call or one more report."""
    if learning.warning:
        logger.warning("%s: %s", result.symbol, learning.warning)
    try:
        record_session_memory(
            ctx.db,
            result.symbol,
            vendor_missing=learning.vendor_missing,
            present=learning.present,
            reported=learning.reported,
            at=ctx.clock.now(),
            run_id=ctx.run_id,
        )
    except DatabaseError as exc:
        logger.error(
            "%s: could not record what this fetch showed of its sessions: %s", result.symbol, exc
        )
    return learning.applied_to(result)
