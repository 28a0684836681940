"""One call per sensor tick: record what happened, then send what opened or recovered."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from stockpipe.alerts import incidents
from stockpipe.alerts.channels import Channel
from stockpipe.alerts.delivery import ChannelOutcome, RetryPolicy, deliver_in_order
from stockpipe.alerts.freshness import series_freshness, unscheduled
from stockpipe.alerts.incidents import RUN_KINDS, STALE, Transition
from stockpipe.alerts.model import FinishedRun
from stockpipe.alerts.render import Message, batches, render_batch
from stockpipe.store import Database

logger = logging.getLogger(__name__)

# A transition a channel did not take for a day is given up for that channel, with an error in
# the log, so one broken channel does not make every later tick wait through its retries
# forever (the channels that were up have it already).
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
        moment = now or datetime.now(UTC)
        incidents.prune_runs_seen(self.db, moment)
        new = sum(
            incidents.record_run(
                self.db, run, consecutive_runs=self.consecutive_runs, seen_at=moment
            )
            for run in runs
        )
        self.send_pending(RUN_KINDS, now=moment)
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
        """Send every channel what it has not taken yet; returns one outcome per attempt."""
        moment = now or datetime.now(UTC)
        to_send, to_drop = incidents.pending(self.db, kinds)
        incidents.mark_notified(self.db, to_drop, moment)
        if not self.channels:
            incidents.mark_notified(self.db, to_send, moment)  # nowhere to send them
            return []
        plans = [
            (
                channel,
                _messages([t for t in to_send if channel.name not in t.delivered_to], self.secrets),
            )
            for channel in self.channels
        ]
        results = deliver_in_order(
            [(channel, [message for message, _ in plan]) for channel, plan in plans],
            self.policy,
            secrets=self.secrets,
        )
        outcomes: list[ChannelOutcome] = []
        took: dict[tuple[int, bool], set[str]] = {}
        for (channel, plan), tried in zip(plans, results, strict=True):
            outcomes.extend(tried)
            delivered = [
                t for (_, batch), r in zip(plan, tried, strict=False) if r.delivered for t in batch
            ]
            incidents.record_delivery(self.db, channel.name, delivered, moment)
            for t in delivered:
                took.setdefault(_key(t), set()).add(channel.name)
        self._finish(to_send, took, moment)
        return outcomes

    def _finish(
        self, sent: list[Transition], took: dict[tuple[int, bool], set[str]], moment: datetime
    ) -> None:
        """A transition every channel has is done; one a channel did not take for a day is
        given up for that channel, with an error in the log."""
        names = {channel.name for channel in self.channels}
        done: list[Transition] = []
        for t in sent:
            missing = names - t.delivered_to - took.get(_key(t), set())
            if not missing:
                done.append(t)
            elif moment - t.pending_since > GIVE_UP_AFTER:
                what = "recovery" if t.recovered else "alert"
                logger.error(
                    "%s of %s %s dropped: %s did not take it for a day",
                    what, t.kind, t.subject, " and ".join(sorted(missing)),
                )  # fmt: skip
                done.append(t)
        incidents.mark_notified(self.db, done, moment)


def _key(t: Transition) -> tuple[int, bool]:
    return (t.incident_id, t.recovered)


def _messages(
    transitions: list[Transition], secrets: list[str]
) -> list[tuple[Message, list[Transition]]]:
    """Each message with the transitions it carries (stockpipe.alerts.render.batches)."""
    return [(render_batch(batch, secrets), batch) for batch in batches(transitions)]
