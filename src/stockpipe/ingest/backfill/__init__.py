"""The backfill: load as much history as the key can reach, within the budget the scheduled
refreshes leave, a unit at a time, resumable.

    units.py     the plan: the distinct units still needed (pure)
    budget.py    the reserve for the scheduled refreshes, the gate capped below it
    fetch.py     one unit: one call, upsert, record (backfill_unit)
    run.py       plan -> spend today's share -> stop cleanly; resume next run
    progress.py  what callers display: units done/left, calls left today, days needed
    results.py   typed results of a unit and a run

Orchestrator-free: `stockpipe backfill` and the Dagster `backfill_job` call `run_backfill`.
"""

from stockpipe.ingest.backfill.progress import BackfillProgress, BudgetView
from stockpipe.ingest.backfill.results import (
    BackfillStatus,
    BackfillSummary,
    SymbolTally,
    UnitResult,
    UnitStatus,
)
from stockpipe.ingest.backfill.run import Preview, Scope, preview_backfill, run_backfill
from stockpipe.ingest.backfill.units import Plan, Unit

__all__ = [
    "BackfillProgress",
    "BackfillStatus",
    "BackfillSummary",
    "BudgetView",
    "Plan",
    "Preview",
    "Scope",
    "SymbolTally",
    "Unit",
    "UnitResult",
    "UnitStatus",
    "preview_backfill",
    "run_backfill",
]
