"""Priority classes: who gets the key's calls first when several callers want them.

The day's budget and the key's slots are spent in one order, whatever order the runs start in
(an orchestrator's missed ticks all start together after downtime):

    REFRESH   the scheduled refreshes of the bars (and `stockpipe ingest`)
    ACTIONS   corporate actions (SPLITS, DIVIDENDS)
    BACKFILL  the history backfill

The gate enforces it with two rules, both in PostgreSQL so they hold across processes:

- Budget: a caller of a lower class may only spend what is left of today's budget after the
  calls the higher classes still need today (its `reserve`, read from the database again at
  least every few seconds and before any refusal: the symbols whose refresh is due today and
  has not run yet, and for the backfill also the corporate actions due). A refresh never waits
  for a reserve: it has the whole budget.
- Slots: while a run of a higher class is active on the key (it registered, and renews its
  registration on every call; a killed run's registration lapses after ACTIVE_TTL), a lower
  class takes no slot at all: it waits, polling, and goes on once the higher run is over.
"""

from __future__ import annotations

from datetime import timedelta
from enum import IntEnum


class CallClass(IntEnum):
    REFRESH = 0
    ACTIONS = 1
    BACKFILL = 2

    @property
    def label(self) -> str:
        return {0: "scheduled refreshes", 1: "corporate actions", 2: "backfill"}[self.value]


# A run's registration lapses this long after its last call or registration (a killed process
# blocks lower classes no longer than that); renewed on every acquire and report.
ACTIVE_TTL = timedelta(seconds=120)
# How often a lower class waiting for a higher run to finish asks again.
ACTIVE_POLL_SEC = 2.0
