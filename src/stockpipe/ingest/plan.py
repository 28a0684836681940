"""Whether a symbol needs an API call at all, and which outputsize to ask for.

Pure functions of what is stored and what the calendar says, so the rules are tested without
a database or a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from stockpipe.market_calendar import sessions_between
from stockpipe.settings import OutputSizePolicy

OutputSize = Literal["compact", "full"]

# compact returns the latest 100 bars. Ask for it only while the gap to fill stays well inside
# that, so a late publication or a calendar disagreement never leaves a hole between the
# stored history and the new bars.
COMPACT_BARS = 100
COMPACT_SAFE_GAP = 90


@dataclass(frozen=True, slots=True)
class FetchPlan:
    symbol: str
    target: date  # the latest completed session: what "up to date" means today
    latest_stored: date | None
    gap: int  # sessions after latest_stored up to and including target (None stored: -1)
    output_size: OutputSize | None  # None: no call needed
    # Full history was wanted but this key only gets compact: what is stored stays partial.
    history_limited: bool = False
    # Intraday: the start (UTC) of the newest bar complete when planned; `target` is its session.
    target_ts: datetime | None = None

    @property
    def needs_call(self) -> bool:
        return self.output_size is not None


def missing_sessions(latest_stored: date, target: date) -> int:
    """Sessions after the latest stored bar, up to and including `target`."""
    return len(sessions_between(latest_stored + timedelta(days=1), target))


def plan_fetch(
    symbol: str,
    *,
    latest_stored: date | None,
    target: date,
    policy: OutputSizePolicy,
    full_denied: bool,
    refetch: bool = False,
) -> FetchPlan:
    """Decide the call for one symbol.

    - `refetch` (an adjusted series after a corporate action: stockpipe.ingest
      .adjusted_refetch): the whole history is wanted again, as if nothing were stored;
    - stored bars already reach `target`: no call;
    - policy "compact" / "full": that size, as the user forced it (a "full" on a key known to
      be denied is still tried: the user asked for it, and the fallback follows the reply);
    - policy "auto": compact when the gap fits in compact's window, else full unless the key
      is known to be denied full history, in which case compact and `history_limited`.
    """
    if latest_stored is not None and latest_stored >= target and not refetch:
        return FetchPlan(symbol, target, latest_stored, 0, None)
    gap = -1 if latest_stored is None else missing_sessions(latest_stored, target)
    fits_compact = latest_stored is not None and gap <= COMPACT_SAFE_GAP and not refetch
    if policy == "compact":
        return FetchPlan(symbol, target, latest_stored, gap, "compact")
    if policy == "full" or (not fits_compact and not full_denied):
        return FetchPlan(symbol, target, latest_stored, gap, "full")
    return FetchPlan(symbol, target, latest_stored, gap, "compact", not fits_compact)
