"""Whether a symbol needs an API call at all, and which outputsize to ask for.

Pure functions of what is stored and what the calendar says, so the rules are tested without
a database or a server. Besides the sessions after the newest stored bar, a daily plan repairs
the missing sessions inside the stored history (stockpipe.ingest.gaps): those within compact's
reach cost one compact call, older ones a full call where the key may make one.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    # Daily: missing sessions before latest_stored, within compact's reach (`near`) or older.
    near: tuple[date, ...] = ()
    far: tuple[date, ...] = ()

    @property
    def needs_call(self) -> bool:
        return self.output_size is not None

    @property
    def compact_helps(self) -> bool:
        """Whether a compact answer brings anything this plan wants (the sessions after the
        newest stored bar, or a missing one within its reach)."""
        return self.gap != 0 or bool(self.near)


def missing_sessions(latest_stored: date, target: date) -> int:
    """Sessions after the latest stored bar, up to and including `target`."""
    return len(sessions_between(latest_stored + timedelta(days=1), target))


def compact_reach(target: date) -> date:
    """The oldest session a compact call surely holds: the COMPACT_SAFE_GAP-th session back
    from `target` (target counted). The same margin as for the sessions after the newest bar,
    so a late publication or a few sessions the vendor lacks still leave it in the 100 bars."""
    recent = sessions_between(target - timedelta(days=2 * COMPACT_SAFE_GAP), target)
    return recent[-COMPACT_SAFE_GAP] if len(recent) >= COMPACT_SAFE_GAP else recent[0]


def plan_fetch(
    symbol: str,
    *,
    latest_stored: date | None,
    target: date,
    policy: OutputSizePolicy,
    full_denied: bool,
    refetch: bool = False,
    holes: Sequence[date] = (),
) -> FetchPlan:
    """Decide the call for one symbol.

    - `refetch` (an adjusted series after a corporate action: stockpipe.ingest
      .adjusted_refetch): the whole history is wanted again, as if nothing were stored;
    - stored bars already reach `target` and no missing session (`holes`, sessions before the
      newest stored bar without one) is reachable: no call;
    - policy "compact" / "full": that size, as the user forced it (a "full" on a key known to
      be denied is still tried: the user asked for it, and the fallback follows the reply);
    - policy "auto": compact when the sessions after the newest bar fit in compact's window,
      else full unless the key is known to be denied full history, in which case compact and
      `history_limited`;
    - a hole within compact's reach (`near`) calls even when the newest bar is current: compact
      unless full is wanted anyway; an older hole (`far`) calls full, unless the key is known
      to be denied full history or the policy is "compact": then no call is made for it, ever
      (it is reported once, see stockpipe.ingest.gap_memory).
    """
    near: tuple[date, ...] = ()
    far: tuple[date, ...] = ()
    if holes:
        reach = compact_reach(target)
        near = tuple(day for day in holes if day >= reach)
        far = tuple(day for day in holes if day < reach)
    far_reachable = bool(far) and policy != "compact" and not full_denied
    behind = latest_stored is None or latest_stored < target
    if not behind and not near and not far_reachable and not refetch:
        return FetchPlan(symbol, target, latest_stored, 0, None, near=near, far=far)
    gap = -1 if latest_stored is None else missing_sessions(latest_stored, target)
    fits_compact = latest_stored is not None and gap <= COMPACT_SAFE_GAP and not refetch
    if policy == "compact":
        size: OutputSize = "compact"
    elif policy == "full" or far_reachable or (not fits_compact and not full_denied):
        size = "full"
    else:
        size = "compact"
    limited = policy == "auto" and size == "compact" and not fits_compact
    return FetchPlan(symbol, target, latest_stored, gap, size, limited, near=near, far=far)
