"""Store the fetched symbols waiting for the run's storing thread in one transaction.

With many requests in flight the fetches outrun one thread that stores each symbol in its own
transactions (its bars, then its state, its gap memory, its unpublished session: each a commit
and several round trips). `finish_batch` stores every result waiting at once (a single one when
the storing keeps up): all their bars in one upsert (one lock, one read of the stored maxima,
one COPY of the new rows), and their symbol_state rows, gap memory and unpublished sessions in
the same transaction, before anything is reported.

Crash safety: the transaction commits whole or not at all, so a symbol whose bars are stored
also has its state, and one whose bars are not is fetched again next run (its call is in the
ledger already: over-counted, never under). The rare bookkeeping of a load (a refetch mark
forgotten, the daily history recorded as a backfill unit) follows the commit, each on its own:
lost to a kill in between, it costs one more call later, as it always did.

A batch of several symbols that fails (a permanent database error, a bug, a database that
stayed away through the retries) is stored again symbol by symbol (stockpipe.ingest.steps
.finish), so one symbol's failure stays that symbol's, with the same result and message as
without batching. A batch of one that fails fails its symbol with the error at once, its state
recorded as without batching.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg

from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.gap_memory import GapLearning
from stockpipe.ingest.publication import unpublished_now
from stockpipe.ingest.results import SymbolResult
from stockpipe.ingest.series_run import SeriesRun
from stockpipe.ingest.state import state_update
from stockpipe.ingest.steps import (
    Prepared,
    fetched_result,
    finish,
    gaps_learned,
    log_result,
    settle_loaded,
    store_failed,
    stored_result,
)
from stockpipe.store import DatabaseError
from stockpipe.store.symbol_state import mark_unpublished_in, record_states_in
from stockpipe.store.upsert import Rows, ensure_partitions, rows_of, upsert_each_in

logger = logging.getLogger("stockpipe.ingest")


def finish_batch(
    ctx: IngestContext, batch: Sequence[Prepared], run: SeriesRun
) -> list[SymbolResult]:
    """`finish` for every symbol of `batch` (distinct symbols), in one transaction; the results
    in the batch's order. Never raises."""
    if not batch:
        return []
    if len({prepared.symbol for prepared in batch}) < len(batch):
        return [finish(ctx, prepared, run) for prepared in batch]
    try:
        results, learned = _store_together(ctx, batch, run)
    except DatabaseError as exc:
        if len(batch) == 1:  # its own failure: storing it again would fail (or wait) again
            return [finish(ctx, store_failed(batch[0], exc), run)]
        logger.warning(
            "storing %d symbols together failed (%s); storing them one by one", len(batch), exc
        )
        return [finish(ctx, prepared, run) for prepared in batch]
    except Exception:  # a bug must not stop the run: each symbol alone, as without batching
        logger.exception("storing %d symbols together failed; storing them one by one", len(batch))
        return [finish(ctx, prepared, run) for prepared in batch]
    now = ctx.clock.now()
    for prepared, result, learning in zip(batch, results, learned, strict=True):
        if learning is not None and learning.warning:
            logger.warning("%s: %s", result.symbol, learning.warning)
        settle_loaded(ctx, prepared, result, run, now)
        log_result(run, result)
    return results


def _store_together(
    ctx: IngestContext, batch: Sequence[Prepared], run: SeriesRun
) -> tuple[list[SymbolResult], list[GapLearning | None]]:
    table = run.series.table
    groups: list[Rows] = []
    for prepared in batch:
        if prepared.result is None:
            assert prepared.plan is not None and prepared.series is not None
            target = prepared.plan.target
            bars = run.storable(prepared.series.bars, target)
            groups.append(rows_of(bars, table, run.extras(target), unique=True))
    ensure_partitions(ctx.db, table, [bar for group in groups for bar in group.bars])
    at = ctx.clock.now()

    def work(
        conn: psycopg.Connection[Any],
    ) -> tuple[list[SymbolResult], list[GapLearning | None]]:
        upserted = iter(upsert_each_in(conn, groups, table, run_id=ctx.run_id))
        stored = iter(groups)
        results: list[SymbolResult] = []
        learned: list[GapLearning | None] = []
        for prepared in batch:
            if prepared.result is None:
                result = stored_result(prepared, run, next(stored).bars, next(upserted))
            else:
                result = fetched_result(prepared)
            learning = gaps_learned(ctx, prepared, result)
            if learning is not None:
                learning.write(conn, at, ctx.run_id)
                result = learning.applied_to(result)
            results.append(result)
            learned.append(learning)
        record_states_in(conn, [state_update(result) for result in results], at, run.series)
        if not run.intraday:
            marks = [
                (result.symbol, prepared.plan.target)
                for prepared, result in zip(batch, results, strict=True)
                if prepared.plan is not None and unpublished_now(result, prepared.plan.target)
            ]
            mark_unpublished_in(conn, marks, at, run.series)
        return results, learned

    return ctx.db.run(work)
