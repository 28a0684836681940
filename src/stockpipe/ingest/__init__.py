"""The pipeline, orchestrator-free: plan -> fetch -> parse -> upsert -> record.

The CLI, the Dagster assets and the Airflow DAGs all call `ingest_symbols` (or
`ingest_symbol`) with an `IngestContext`; nothing here imports an orchestrator.

    run.py          many symbols: order, the fetch-ahead overlap, the run summary
    steps.py        one symbol: prepare (plan + fetch) and finish (store + record)
    context.py      settings, database, gated client and clock in one object
    plan.py         whether a symbol needs a call, and which output size
    gaps.py         missing daily sessions, which call reaches them (pure)
    gap_memory.py   sessions the vendor lacks, premium-only gaps reported once (migration 0012)
    overlap.py      the fetch-ahead thread
    state.py        per-symbol memory between runs (deferred first, last result)
    rejection.py    symbols Alpha Vantage rejected, skipped for a while without a call
    publication.py  sessions Alpha Vantage had not published yet, not asked again for an hour
    results.py      typed results of a symbol and a run
    overview.py     the per-symbol overview behind `stockpipe status`
    backfill/       the history a key can reach, a unit per call, within the budget left
"""

from stockpipe.ingest.context import IngestContext
from stockpipe.ingest.run import ingest_symbol, ingest_symbols

__all__ = ["IngestContext", "ingest_symbol", "ingest_symbols"]
