"""One call per sensor tick: record what happened, then send what opened or recovered."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from stockpipe.alerts import incidents
from stockpipe.alerts.channels import Channel
from stockpipe.alerts.delivery import ChannelOutcome, RetryPolicy, deliver
from stockpipe.alerts.freshness import series_freshness, unscheduled
from stockpipe.alerts.incidents import RUN_KINDS, STALE, Transition
from stockpipe.alerts.model import FinishedRun
from stockpipe.alerts.render import Message, render
from stockpipe.store import Database

logger = logging.getLogger(__name__)

# A transition no channel took for a day is dropped with an error in the log, so one broken
# channel does not make every later tick wait through its retries forever.
GIVE_UP_AFTER = timedelta(days=1)


class AlertService:
    def __init__(
        self,
        db: Database,
        channels: Sequence[Channel],
        *,
        policy: RetryPolicy,
        consecutive_runs: int,
        stale_after_hours: float,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.db = db
        self.channels = list(channels)
        self.policy = policy
        self.consecutive_runs = consecutive_runs
        self.stale_after_hours = stale_after_hours
        self.secrets = [s for s in secrets if s]

    def observe_runs(self, runs: Iterable[FinishedRun], *, now: datetime | None = None) -> int:
        """Apply finished runs in order, then send; returns how many were new."""
        new = sum(
            incidents.record_run(self.db, run, consecutive_runs=self.consecutive_runs)
            for run in runs
        )
        self.send_pending(RUN_KINDS, now=now)
        return new

    def observe_freshness(
        self,
        symbols: Sequence[str],
        *,
        series: Sequence[str] = ("daily",),
        interval: str = "5min",
        now: datetime | None = None,
    ) -> int:
        """Check every configured symbol's newest bar in each scheduled series, then send;
        returns how many (series, symbol) pairs are stale."""
        moment = now or datetime.now(UTC)
        window = self.stale_after_hours
        reports = [
            series_freshness(
                self.db, name, symbols, window_hours=window, now=moment, interval=interval
            )
            for name in series
        ]
        for report in [*reports, *unscheduled(series, window)]:
            incidents.record_freshness(self.db, report, moment)
        self.send_pending((STALE,), now=moment)
        return sum(len(report.stale) for report in reports)

    def send_pending(
        self, kinds: Sequence[str], *, now: datetime | None = None
    ) -> list[ChannelOutcome]:
        moment = now or datetime.now(UTC)
        to_send, to_drop = incidents.pending(self.db, kinds)
        incidents.mark_notified(self.db, to_drop, moment)
        outcomes: list[ChannelOutcome] = []
        # A channel that failed once in this tick is not tried again until the next one: a
        # dead SMTP server costs one series of retries per tick, not one per message.
        down: set[str] = set()
        for message, members in _messages(to_send, self.secrets):
            channels = [c for c in self.channels if c.name not in down]
            if self.channels and not channels:
                break  # every channel is down: the rest waits for the next tick
            results = deliver(message, channels, self.policy, secrets=self.secrets)
            down.update(r.channel for r in results if not r.delivered)
            outcomes.extend(results)
            if any(r.delivered for r in results) or not self.channels:
                incidents.mark_notified(self.db, members, moment)
            elif all(moment - t.pending_since > GIVE_UP_AFTER for t in members):
                logger.error("alert %r dropped: no channel took it for a day", message.title)
                incidents.mark_notified(self.db, members, moment)
        return outcomes


def _messages(
    transitions: list[Transition], secrets: list[str]
) -> list[tuple[Message, list[Transition]]]:
    """Each message with the transitions it carries (run failures alone, the rest grouped)."""
    batches: list[list[Transition]] = []
    grouped: dict[tuple[str, bool], list[Transition]] = {}
    for t in transitions:
        if t.kind == incidents.RUN_FAILED:
            batches.append([t])
        else:
            key = (t.kind, t.recovered)
            if key not in grouped:
                grouped[key] = []
                batches.append(grouped[key])
            grouped[key].append(t)
    return [(render(batch, secrets)[0], batch) for batch in batches]
