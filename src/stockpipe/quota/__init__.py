"""The call gate: one answer from PostgreSQL, shared by every thread, process and orchestrator,
says whether and when an Alpha Vantage call may start (the daily budget, the spacing, the
per-minute cap, the slow-down after a throttle reply) and records what replies taught about the
key (the day's quota spent, full history denied).

    day.py       Alpha Vantage's day (US/Eastern) and the key's fingerprint
    gate.py      PostgresCallGate, the CallGate the ingest, backfill and corporate actions use
    classes.py   priority classes: refreshes, then corporate actions, then the backfill
    budget.py    today's spend as `stockpipe status` and the backfill read it

Its SQL is in stockpipe.store.call_gate. Imports run down: ingest -> quota -> store,
alphavantage; nothing below imports this package.
"""

from stockpipe.quota.budget import FULL_DENIAL_MEMORY, BudgetInfo, budget_info, calls_today
from stockpipe.quota.classes import CallClass
from stockpipe.quota.day import QUOTA_ZONE, key_fingerprint, quota_day, quota_day_start
from stockpipe.quota.gate import (
    LEDGER_RETENTION,
    SLOW_SPACING_CAP_SEC,
    SLOW_SPACING_FLOOR_SEC,
    SLOW_WINDOW,
    CallTally,
    PostgresCallGate,
)

__all__ = [
    "FULL_DENIAL_MEMORY",
    "LEDGER_RETENTION",
    "QUOTA_ZONE",
    "SLOW_SPACING_CAP_SEC",
    "SLOW_SPACING_FLOOR_SEC",
    "SLOW_WINDOW",
    "BudgetInfo",
    "CallClass",
    "CallTally",
    "PostgresCallGate",
    "budget_info",
    "calls_today",
    "key_fingerprint",
    "quota_day",
    "quota_day_start",
]
