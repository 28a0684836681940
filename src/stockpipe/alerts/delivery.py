"""Send messages to every channel, each retried with backoff; never raises.

Channels are tried in parallel, so a Slack outage does not hold up the e-mail: a sensor tick
spends at most one channel's worst case (retries x timeout + the backoff sleeps), not the sum.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from stockpipe.alerts.channels import Channel
from stockpipe.alerts.render import Message
from stockpipe.redact import redact

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retries` more attempts after the first, waiting first_delay, 2x, 4x... (capped).

    `deadline_sec` bounds the whole series for one channel: no retry starts after it. A
    sensor tick has 60 s before Dagster gives up on it, so the sensors set one.
    """

    retries: int = 3
    first_delay_sec: float = 1.0
    max_delay_sec: float = 10.0
    deadline_sec: float | None = None

    def delay(self, retry: int) -> float:
        return float(min(self.max_delay_sec, self.first_delay_sec * 2 ** (retry - 1)))


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    channel: str
    delivered: bool
    attempts: int
    error: str = ""  # the last failure's reason, secrets masked


def deliver(
    message: Message,
    channels: Sequence[Channel],
    policy: RetryPolicy,
    *,
    secrets: Iterable[str | None] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> list[ChannelOutcome]:
    """One outcome per channel, in the given order."""
    wanted = [s for s in secrets if s]
    if len(channels) <= 1:
        return [_send_with_retries(c, message, policy, wanted, sleep) for c in channels]
    with ThreadPoolExecutor(max_workers=len(channels), thread_name_prefix="alert") as pool:
        futures = [
            pool.submit(_send_with_retries, c, message, policy, wanted, sleep) for c in channels
        ]
        return [future.result() for future in futures]


def deliver_in_order(
    plans: Sequence[tuple[Channel, Sequence[Message]]],
    policy: RetryPolicy,
    *,
    secrets: Iterable[str | None] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> list[list[ChannelOutcome]]:
    """Each channel sends its own messages in order, the channels in parallel; per channel one
    outcome per message it tried. A channel stops at the first message that failed all its
    retries: it is down for this tick, so a dead SMTP server costs one series of retries per
    tick, not one per message, and nothing arrives out of order."""
    wanted = [s for s in secrets if s]

    def series(channel: Channel, messages: Sequence[Message]) -> list[ChannelOutcome]:
        outcomes: list[ChannelOutcome] = []
        for message in messages:
            outcomes.append(_send_with_retries(channel, message, policy, wanted, sleep))
            if not outcomes[-1].delivered:
                break
        return outcomes

    busy = [(c, m) for c, m in plans if m]
    if len(busy) <= 1:
        return [series(c, m) for c, m in plans]
    with ThreadPoolExecutor(max_workers=len(busy), thread_name_prefix="alert") as pool:
        futures = [pool.submit(series, c, m) for c, m in plans]
        return [future.result() for future in futures]


def _send_with_retries(
    channel: Channel,
    message: Message,
    policy: RetryPolicy,
    secrets: list[str],
    sleep: Callable[[float], None],
) -> ChannelOutcome:
    attempts = policy.retries + 1
    reason = ""
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            channel.send(message)
        except Exception as exc:  # any failure of a channel is reported, never raised
            reason = redact(f"{exc}" or type(exc).__name__, secrets)
            if attempt < attempts and _past(policy, started, policy.delay(attempt)):
                logger.error(
                    "alert %r to %s failed (attempt %d of %d): %s; no time left to retry",
                    message.title, channel.name, attempt, attempts, reason,
                )  # fmt: skip
                return ChannelOutcome(channel.name, False, attempt, reason)
            if attempt < attempts:
                wait = policy.delay(attempt)
                logger.warning(
                    "alert %r to %s failed (attempt %d of %d): %s; retrying in %.1f s",
                    message.title, channel.name, attempt, attempts, reason, wait,
                )  # fmt: skip
                sleep(wait)
            continue
        if attempt > 1:
            logger.info(
                "alert %r to %s delivered at attempt %d", message.title, channel.name, attempt
            )
        return ChannelOutcome(channel.name, True, attempt)
    logger.error(
        "alert %r to %s not delivered after %d attempts: %s",
        message.title, channel.name, attempts, reason,
    )  # fmt: skip
    return ChannelOutcome(channel.name, False, attempts, reason)


def _past(policy: RetryPolicy, started: float, wait: float) -> bool:
    if policy.deadline_sec is None:
        return False
    return time.monotonic() - started + wait > policy.deadline_sec
